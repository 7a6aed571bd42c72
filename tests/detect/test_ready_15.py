"""The healthy ends of parsers/formats/ready-15.yaml (and procd's "- init complete -"): each ends a
run in success, its look-alikes decide nothing, and order still counts (a ready line does not undo
a failure after it, nor a stall before a power-off). Lines are the format samples' (real where
they cite a page, else built from the program's format string, as the format file says)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines

KERNEL = "[    1.763464] Run /init as init process"  # samples/qemu-busybox-init-askfirst/serial.log

HEALTHY_ENDS = {
    "Fedora CoreOS issue": [KERNEL, "Fedora CoreOS 42.20250422.dev.0", "",
                            "Ignition: ran on 2025/02/16 00:00:39 UTC (this boot)",
                            "Ignition: user-provided config was applied"],
    "FCOS issue, a later boot": [KERNEL, "Ignition: ran on 2026/06/27 18:55:07 UTC (at least 2 boots ago)"],
    "FCOS live, no config": [KERNEL, "\x1b[0;33mIgnition: no config provided by user\x1b[0m"],
    "Ubuntu development release issue": [KERNEL, "Ubuntu karmic (development branch) ubuntu tty1"],
    "Azure agent provisioned": [KERNEL, "2020/10/28 17:46:52.586765 INFO Daemon Finished provisioning"],
    "Azure agent, a later boot": [KERNEL, "2020/10/28 17:46:52.586765 INFO Daemon Provisioning already completed, skipping."],
    "GCE OS Config agent": [KERNEL, "2024-05-19T07:20:23.5078Z OSConfigAgent Info: OSConfig Agent (version "
                            "20240320.00.0+win@1) started."],
    "Proxmox VE issue": [KERNEL, "Welcome to the Proxmox Virtual Environment. Please use your web browser to",
                         "configure this server - connect to:", "", "  https://192.168.1.8:8006/"],
    "Ubuntu Core console-conf": [KERNEL, "Press enter to configure."],
    "VyOS issue": [KERNEL, "[   81.809709] vyos-config[861]: Configuration success", "", "Welcome to VyOS - vyos ttyS0"],
    "Cisco IOS": ["System serial number: FOC0947Z0ZS", "", "Press RETURN to get started!"],
    "MikroTik CHR": [KERNEL, "MikroTik 6.48.3 (stable)", "MikroTik Login: "],
    "Android": ["[   17.443373] init: Service 'bootanim' (pid 253) exited with status 0",
                "[   17.496829] init: processing action (sys.boot_completed=1)"],
    "Redis 6 as PID 1": [KERNEL, "1:M 15 Dec 2021 07:23:35.718 # Server initialized",
                         "1:M 15 Dec 2021 07:23:35.718 * Ready to accept connections"],
    "Redis 3": [KERNEL, "8696:M 19 Jun 20:54:18.224 * The server is now ready to accept connections on port 6379"],
    "CirrOS issue": [KERNEL, "=== cirros: current=0.3.5 uptime=1.75 ===", "",
                     "login as 'cirros' user. default password: 'cubswin:)'. use 'sudo' for root."],
    "Yocto Poky issue": [KERNEL, "INIT: Entering runlevel: 5", "Starting syslogd/klogd: done", "",
                         "Poky (Yocto Project Reference Distro) 4.0.20 qemuarm64 /dev/ttyAMA0"],
    "OpenWrt procd": ["[    4.057281] init: - preinit -", "[    9.8] procd: - init -", "[   15.2] procd: - init complete -"],
}


@pytest.mark.parametrize("name", sorted(HEALTHY_ENDS))
def test_a_healthy_run_ends_in_success(catalog, name):
    report = run_lines(catalog, HEALTHY_ENDS[name])
    assert report.outcome == "success", report.boots[-1].reason
    assert "boot.success" in {f.category for f in report.findings()}


@pytest.mark.parametrize("line", [
    "[    5.123456] ignition[812]: Ignition finished successfully",  # Ignition itself, in the initramfs
    "No SSH authorized keys provided by Ignition or Afterburn",
    "Ignition: warning at $.systemd.units.0: unit is not enabled",
    "Ubuntu (development branch)",
    "2020/10/28 17:46:52.586765 INFO Daemon Wait for ssh host key to be generated.",
    "2020/10/28 17:46:52.586765 ERROR Daemon Provisioning failed: [ProvisionError] timeout",
    "Welcome to the Proxmox Virtual Environment installer",
    "2024-05-19T07:20:23.5078Z OSConfigAgent Info: OSConfig Agent (version 20240320.00.0+win@1) shutting down.",
    "OSConfig Agent (version 20240320.00) Init",
    "Press enter to configure the network",
    "Welcome to VyOS!",  # the post-login banner
    "Press RETURN to get started",  # cut short
    "Last Login: Mon Jan  1 00:00:00 2024",
    "MikroTik 6.48.3 (stable)",
    "1:M 15 Dec 2021 07:23:35.718 # Server initialized",
    "redis_1  | 1:M 08 Mar 09:56:55.767 * Ready to accept connections soon",
    "Serving HTTP on 0.0.0.0 port 8080 (http://0.0.0.0:8080/) ...",  # a shell session, not a boot
    "[    9.8] procd: - init -",
    "[    5.1] init: processing action (sys.boot_completed=0)",
    "[    5.1] init: processing action (sys.boot_completed_ignored=1)",
    "=== cirros: current=0.3.5 uptime=10.57 ===",  # before cirros-status's gateway check
    "Welcome to Poky (Yocto Project Reference Distro) 4.0.18 (kirkstone)!",  # systemd's greeting, early
])
def test_look_alikes_decide_nothing(catalog, line):
    assert run_lines(catalog, [KERNEL, line]).outcome == "unknown", line


#: the init-not-found rules' sample shape (kernel/init/main.c's panic)
PANIC = "[    2.104455] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel."


@pytest.mark.parametrize("ready", [
    "Ignition: user-provided config was applied",
    "2020/10/28 17:46:52.586765 INFO Daemon Finished provisioning",
    "Press RETURN to get started!",
    "1:M 15 Dec 2021 07:23:35.718 * Ready to accept connections",
    "[   15.2] procd: - init complete -",
])
def test_a_ready_line_before_a_panic_does_not_undo_it(catalog, ready):
    report = run_lines(catalog, [KERNEL, ready, PANIC])
    assert report.outcome == "failure", (ready, report.boots[-1].reason)


#: a module under test oopsing in a shell (search-index file id 24130780424's shape, cut to its end)
OOPS = ["[  364.438100] Internal error: Oops: 96000045 [#1] PREEMPT SMP",
        "[  364.439973] Code: d2800001 d2800000 d503233f d50323bf (b900003f) ",
        "[  364.440392] ---[ end trace b96b4741ceb35c8e ]---", "Segmentation fault", ""]


def test_getty_after_an_oops_in_a_shell_is_the_system_running(catalog):
    """getty prints its issue again when the shell the oops killed exits: as a prompt would, it
    shows the system running, so the oops (a survivable report) is a warning, not the verdict."""
    for issue in ("Poky (Yocto Project Reference Distro) 4.0.28 qemuarm64 /dev/ttyAMA0", "qemuarm64 login: "):
        report = run_lines(catalog, [*OOPS, issue])
        assert report.outcome == "success", (issue, report.boots[-1].reason)
        assert {f.severity for f in report.findings() if f.category == "kernel.oops"} == {"warning"}
    assert run_lines(catalog, OOPS).outcome == "failure"
