"""The healthy ends of parsers/formats/ready-12.yaml (and getty's issue line without "an"): each
ends a run in success, its look-alikes decide nothing, and order still counts (a ready line does
not undo a failure that stopped the boot; a power-off does not turn a stall into a success).
Lines are the format samples' (real where they cite a page, else built from the program's format
string, as the format file says)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines

KERNEL = "[    1.763464] Run /init as init process"  # samples/qemu-busybox-init-askfirst/serial.log

HEALTHY_ENDS = {
    "Fedora 42 issue": [KERNEL, "Fedora Linux 42 (Adams)", "Kernel 6.16.5-200.fc42.x86_64 on x86_64 (ttyS0)"],
    "Alpine issue": [KERNEL, "", "Welcome to Alpine Linux 3.23"],
    "Cockpit issue.d": [KERNEL, "", "Web console: https://localhost:9090/"],
    "Cockpit inactive issue.d": [KERNEL, "CentOS Stream 9", "Kernel 5.14.0-284.el9.x86_64 on an x86_64", "",
                                 "Activate the web console with: systemctl enable --now cockpit.socket"],
    "systemd-ssh-issue": [KERNEL, "", "Try contacting this VM's SSH server via 'ssh vsock%3' from host."],
    "cloud-init 0.6": [KERNEL, "ec2: -----END SSH HOST KEY FINGERPRINTS-----",
                       "cloud-init boot finished at Wed, 02 May 2012 00:58:58 +0000. Up 210.02 seconds"],
    "GCE startup scripts": [KERNEL, "2023-07-31T18:30:50.378487+00:00 localhost google_metadata_script_runner[740]: "
                            "Finished running startup scripts."],
    "rcutorture": [KERNEL, "[  181.246270] rcu-torture:--- End of test: SUCCESS: nreaders=1 nfakewriters=4"],
    "kselftest 5.x counts": [KERNEL, "ok 12 selftests: timers: posix_timers", "# Pass 12 Fail 0 Xfail 0 Xpass 0 Skip 1 Error 0"],
    "LTP runltp": [KERNEL, "INFO: ltp-pan reported all tests PASS"],
    "BusyBox poweroff": [KERNEL, "The system is going down NOW!", "Sent SIGTERM to all processes",
                         "Sent SIGKILL to all processes", "Requesting system poweroff"],
    "kernel halt for a power-off": [KERNEL, "~ # poweroff -f",
                                    "[    4.123668] reboot: Power off not available: System halted instead"],
    "FreeBSD ACPI power-off": ["Copyright (c) 1992-2023 The FreeBSD Project.", "Uptime: 1m12s",
                               "acpi0: Powering system off"],
}


@pytest.mark.parametrize("name", sorted(HEALTHY_ENDS))
def test_a_healthy_run_ends_in_success(catalog, name):
    report = run_lines(catalog, HEALTHY_ENDS[name])
    assert report.outcome == "success", report.boots[-1].reason
    assert "boot.success" in {f.category for f in report.findings()}


@pytest.mark.parametrize("line", [
    "[  OK  ] Listening on sshd.socket - OpenSSH Server Socket.",  # systemd's socket units, early boot
    "Server listening on 0.0.0.0 port 22.",
    "sshd[1123]: Server listening on 0.0.0.0 port 22.",  # sshd starts before the boot's later waits
    "sshd[1123]: error: Bind to port 22 on 0.0.0.0 failed: Address already in use.",
    "[  181.2] rcu-torture:--- End of test: FAILURE: nreaders=1",
    "[  181.2] rcu-torture:--- End of test: RCU_HOTPLUG: nreaders=1",
    "# Pass 11 Fail 1 Xfail 0 Xpass 0 Skip 0 Error 0",
    "INFO: ltp-pan reported some tests FAIL",
    "acpi0: power-off failed - AE_ERROR",
    "Finished running shutdown scripts.",  # the agent at shutdown: no boot shown
    "Kernel panic on an unknown CPU",  # 'Kernel ... on' prose, not the issue line
    "Welcome to Alpine!",  # Alpine's motd after a login, not the issue
    "Web console: disabled",
    "Activate the web console",  # cut short
])
def test_look_alikes_decide_nothing(catalog, line):
    assert run_lines(catalog, [KERNEL, line]).outcome == "unknown", line


def test_a_reboot_request_is_no_healthy_end(catalog):
    assert run_lines(catalog, [KERNEL, "Requesting system reboot"]).outcome != "success"


#: https://github.com/gardenlinux/gardenlinux/issues/4173 (the start-job-running rule's sample)
WAITING = "[   ***] (2 of 2) Job dev-mapper-var.device/start running (1min 18s / 1min 30s)"
#: the init-not-found rules' sample shape (kernel/init/main.c's panic)
PANIC = "[    2.104455] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel."


def test_a_power_off_after_a_stall_stays_a_stall(catalog):
    for end in ("Requesting system poweroff", "acpi0: Powering system off",
                "[    4.123668] reboot: Power off not available: System halted instead"):
        report = run_lines(catalog, [KERNEL, WAITING, end])
        assert report.outcome == "stall", (end, report.boots[-1].reason)


def test_a_ready_line_before_a_panic_does_not_undo_it(catalog):
    for ready in ("Welcome to Alpine Linux 3.23", "Web console: https://localhost:9090/",
                  "[  181.246270] rcu-torture:--- End of test: SUCCESS: nreaders=1"):
        report = run_lines(catalog, [KERNEL, ready, PANIC])
        assert report.outcome == "failure", (ready, report.boots[-1].reason)
