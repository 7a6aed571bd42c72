"""Healthy runs of every kind of guest end on a line the catalog knows ("a run that completes
without errors must not end unknown"), and a clean power-off does not turn a stalled or failed
boot into a success. Real lines; each names where it was seen (the format samples cite the same).
"""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines

KERNEL = "[    1.763464] Run /init as init process"  # samples/qemu-busybox-init-askfirst/serial.log

#: the last lines healthy guests print, each with where it was seen
HEALTHY_ENDS = {
    "busybox askfirst": [KERNEL, "", "Please press Enter to activate this console. "],
    "busybox getty, no host name": [KERNEL, "", "(none) login: "],  # samples/qemu-busybox-getty-no-hostname
    "FreeBSD getty": ["Copyright (c) 1992-2023 The FreeBSD Project.", "FreeBSD/amd64 (lwaftr1) (ttyu0)", "",
                      "login:"],  # search-index file id 2479168634 (the copyright: freebsd-boot sample)
    "SUSE issue": [KERNEL, "Welcome to openSUSE Leap Micro 6.0  (x86_64) - Kernel 6.4.0-17-default (ttyS0).", "",
                   "SSH host key: SHA256:wSeKb6ioyRESh0dR9pdDI5UixWJWQNkpr4iSpUA6IIc (RSA)"],  # file id 2362409304
    "NixOS issue": [KERNEL, "", "<<< Welcome to NixOS 21.05.1970.11c662074e2 (x86_64) - hvc0 >>>", "",
                    "Run 'nixos-help' for the NixOS manual."],  # file id 48201376949
    "Arch issue": [KERNEL, "[  OK  ] Reached target Login Prompts.", "", "Arch Linux 6.7.1-arch1-1 (ttyS0)"],
    "CoreOS issue": [KERNEL, "This is localhost (Linux x86_64 4.0.3) 02:59:17",
                     "SSH host key: 92:2e:78:25:8e:81:f3:74:61:c7:3b:79:db:3b:0f:c2 (DSA)"],  # file id 10884432815
    "systemd default.target": [KERNEL, "[  OK  ] Reached target basic.target - Basic System.",
                               "[  OK  ] Reached target default.target - Multi-User System."],
    "EC2 Windows": ["2020/08/13 17:28:12Z: SSM: Amazon SSM Agent v2.3.842.0",
                    "2020/08/13 17:28:13Z: Message: Windows is Ready to use"],  # file id 9574813195
    "GCE Windows": ["------------------------------------------------------------",
                    "Instance setup finished. instance-1 is ready to use.",
                    "------------------------------------------------------------"],  # file id 19822712774
    "Talos": ["[  302.315792] [talos] boot sequence: done: 4m17.856857358s"],  # file id 12996942710
    "Hermit": ["[0][INFO] Welcome to HermitCore-rs 0.6.1", "[0][INFO] HermitCore is running on common system!",
               "Hello World!", "[0][INFO] Shutting down system"],  # file id 23397757710
    "Rumprun server": ["rump kernel bare metal bootstrap", '=== calling "rumprun" main() ===', "",
                       "This is the Rumprun Hello World ..."],  # samples/kvm-rumprun-solo5-hvt-hello-success
    "CTest": [KERNEL, "100% tests passed, 0 tests failed out of 2"],  # ctest 3.25.1
    "Zephyr ztest": ["------ TESTSUITE SUMMARY END ------", "",
                     "PROJECT EXECUTION SUCCESSFUL"],  # file id 3239221499
    "cloud-config final message": [KERNEL, "[   25.611062] cloud-init[1203]: The system is finally up, after "
                                   "25.47 seconds"],  # cloud-init's documented final_message, rendered
    "BSD halt": ["Copyright (c) 1992-2023 The FreeBSD Project.", "Uptime: 10m54s",
                 "The operating system has halted.", "Please press any key to reboot."],  # file id 1846267723
}


@pytest.mark.parametrize("name", sorted(HEALTHY_ENDS))
def test_a_healthy_run_ends_in_success_not_unknown(catalog, name):
    report = run_lines(catalog, HEALTHY_ENDS[name])
    assert report.outcome == "success", report.boots[-1].reason
    assert "boot.success" in {f.category for f in report.findings()}


#: samples/qemu-systemd-batch-poweroff/serial.log
POWEROFF = ["[  OK  ] Reached target shutdown.target - System Shutdown.",
            "[  OK  ] Reached target final.target - Late Shutdown Services.",
            "[  OK  ] Finished systemd-poweroff.service - System Power Off.",
            "[  OK  ] Reached target poweroff.target - System Power Off.",
            "[    4.951356] ACPI: PM: Preparing to enter system sleep state S5",
            "[    4.952030] reboot: Power down"]
#: https://github.com/gardenlinux/gardenlinux/issues/4173 (the start-job-running rule's sample)
WAITING = "[   ***] (2 of 2) Job dev-mapper-var.device/start running (1min 18s / 1min 30s)"
#: samples/qemu-systemd-batch-poweroff/serial.log
WORK_DONE = ["         Starting work.service - Batch work...", "[  OK  ] Finished work.service - Batch work."]


def test_a_batch_vm_that_did_its_work_and_powered_off_succeeded(catalog):
    report = run_lines(catalog, [KERNEL, *WORK_DONE, *POWEROFF])
    assert report.outcome == "success"
    cut = run_lines(catalog, [KERNEL, *WORK_DONE, *POWEROFF[:4]])  # a capture cut before the kernel's line
    assert cut.outcome == "success"


def test_a_stalled_boot_powered_off_from_outside_stays_a_stall(catalog):
    """A shutdown ends a wait, it does not get past it: someone stopping a machine stuck on a
    start job does not make its boot a success."""
    report = run_lines(catalog, [KERNEL, WAITING, *POWEROFF])
    assert report.outcome == "stall", report.boots[-1].reason
    stalls = [f for f in report.findings() if f.category == "boot.stall"]
    assert stalls and stalls[0].verdict == "stall"
    # the same wait that ended (the boot went on: a unit finished after it) decides nothing
    assert run_lines(catalog, [KERNEL, WAITING, *WORK_DONE, *POWEROFF]).outcome == "success"


def test_a_ready_line_then_a_failure_stays_a_failure(catalog):
    """The outcome of a boot that reached its target and later failed stays failure."""
    report = run_lines(catalog, [*HEALTHY_ENDS["Hermit"][:2], "",
                                 "thread 'main' (5611) panicked at p.rs:1:58:",  # rustc 1.95.0's output
                                 "index out of bounds: the len is 0 but the index is 3"])
    assert report.outcome == "failure"
    assert "unikernel.crash" in {f.category for f in report.findings()}


@pytest.mark.parametrize("lines", [
    ["rump kernel bare metal bootstrap", '=== calling "rumprun" main() ==='],  # nothing from the program yet
    [KERNEL, "Welcome to the kit"],  # a banner that names no system and no tty
    [KERNEL, "Last login: Thu Jun 22 15:59:36 on ttyu0"],  # file id 17999539482, after a login
    [KERNEL, "67% tests passed, 1 tests failed out of 3"],  # ctest 3.25.1 with a failing test
    [KERNEL, "# fail 1"],  # node v20.20.2 --test with a failing test
    [KERNEL, "PROJECT EXECUTION FAILED"],  # Zephyr's ztest with a failing test
    # Ignition's stage ending is progress, not the real root coming up (file id 24701850037)
    [KERNEL, "Oct 22 01:11:33 localhost ignition[1056]: INFO     : Ignition finished successfully"],
])
def test_lines_that_prove_no_healthy_end_leave_the_boot_undecided(catalog, lines):
    assert run_lines(catalog, lines).outcome == "unknown"


def test_hostile_bytes_around_a_prompt_are_shown_inert(catalog):
    """A prompt wrapped in terminal escapes and junk bytes is still a prompt (the terminal shows
    it so), quoted without the escapes; cut short or garbled, it is none."""
    report = run_lines(catalog, [KERNEL, b"\x1b]0;evil\x07login:\x1b[2J \x00\xff"])
    assert report.outcome == "success"
    [ready] = [f for f in report.findings() if f.category == "boot.success"]
    assert all(ch not in e.text for e in ready.evidence for ch in "\x1b\x07\x00")
    for junk in (b"Please press Enter\x1b[31m to", b"\x00log\xffin: ", b"x" * 70000 + b" logins: "):
        assert run_lines(catalog, [KERNEL, junk]).outcome == "unknown", junk[:40]
