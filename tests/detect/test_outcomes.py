"""Which findings stop a boot, and which evidence means waiting forever (samples/blind/README.md:
"Waiting forever is a stall; an error that stopped the boot is a failure; a capture that ends
before the boot does, with nothing that stopped it, is unknown"), with the shipped catalog.

Lines are real console lines; each names where it was seen (the rule samples cite the same).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines

#: samples/qemu/fs-error/serial.log; samples/qemu-ext4-errors-remount-ro/serial.log
EXT4 = ("[    2.573407] EXT4-fs error (device nvme0n1p1): __ext4_find_entry:1696: inode #2: comm swapper/0: "
        "checksumming directory block 0")
REMOUNT_RO = "[    3.798469] EXT4-fs (nvme0n1p1): Remounting filesystem read-only"
#: https://github.com/IRATI/stack/issues/396; samples/qemu-kernel-soft-lockup/serial.log
WALL = ["Message from syslogd@m at Oct  3 16:41:40 ...",
        " kernel:[ 1044.858108] BUG: soft lockup - CPU#5 stuck for 23s! [modprobe:4176]"]
LOCKUP = "[   11.789822] watchdog: BUG: soft lockup - CPU#0 stuck for 8s! [insmod:83]"
#: search index file id 45400316007 (an EC2 Ubuntu 18.04 console); samples/aws-ubuntu-cloudinit-authkey-module-failed
SCRIPTS_USER = ("2020-04-08 17:22:20,751 - util.py[WARNING]: Running module scripts-user (<module "
                "'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/config/"
                "cc_scripts_user.py'>) failed")
FINISHED = ("Cloud-init v. 19.4-33-gbb4131a2-0ubuntu1~18.04.1 finished at Wed, 08 Apr 2020 17:22:21 +0000. "
            "Datasource DataSourceEc2Local.")
AUTHKEY = ("2014-11-12 05:43:10,646 - util.py[WARNING]: Running ssh-authkey-fingerprints (<module "
           "'cloudinit.config.cc_ssh_authkey_fingerprints' from '/usr/lib/python2.7/dist-packages/cloudinit/"
           "config/cc_ssh_authkey_fingerprints.pyc'>) failed")
#: https://github.com/Azure/WALinuxAgent/issues/676
WAAGENT = ("2017/04/19 11:37:53.856294 ERROR Event: name=WALA, op=Provision, message=Failed to copy "
           "ovf-env.xml: (000008)(000007)Failed to get dvd device")


def _by_category(a, category):
    return [f for f in a.findings() if f.category == category]


def test_an_ext4_error_report_alone_does_not_stop_the_boot_its_read_only_remount_does(catalog):
    report = run_lines(catalog, [EXT4])
    assert report.outcome == "unknown"
    assert {f.severity for f in _by_category(report, "disk.fs-error")} == {"error"}  # still reported
    assert run_lines(catalog, [EXT4, REMOUNT_RO]).outcome == "failure"


def test_a_lockup_broadcast_by_syslogd_comes_from_a_running_system_not_a_stalled_boot(catalog):
    wall = run_lines(catalog, WALL)
    assert wall.outcome == "unknown"
    [f] = _by_category(wall, "kernel.oops")
    assert (f.rule, f.severity) == ("lockup-broadcast-by-syslogd", "warning")
    # the console's own report in a boot seen from its start (samples/qemu-kernel-soft-lockup/serial.log):
    # the boot stops there; so does the report alone, stamped 11 s after the kernel started (test_views.py)
    banner = "[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org)"
    assert run_lines(catalog, [banner, LOCKUP]).outcome == "stall"
    assert run_lines(catalog, [LOCKUP]).outcome == "stall"


def test_a_provisioning_failure_the_boot_went_past_leaves_it_neither_failed_nor_a_success(catalog):
    scripts = run_lines(catalog, [SCRIPTS_USER, FINISHED])
    assert scripts.outcome == "unknown"
    assert "not as it was asked to be" in scripts.boots[-1].reason
    assert [f.rule for f in _by_category(scripts, "cloudinit.error") if f.suppressed_by is None] == [
        "cloudinit-user-scripts-failed"]
    assert "boot.success" not in {f.category for f in scripts.findings()}
    assert run_lines(catalog, [AUTHKEY, FINISHED]).outcome == "success"  # a cosmetic module failing
    agent = run_lines(catalog, [WAAGENT])
    assert agent.outcome == "unknown"
    assert [f.rule for f in _by_category(agent, "cloudinit.error")] == ["waagent-provisioning-failed"]


def test_unikernels_running_their_application_or_crashing(catalog):
    # samples/kvm-solo5-hvt-dumpcore-abort/console.log, cut as the test program starts
    solo5 = ["____/\\___/ _|\\___/____/", "Solo5: Bindings version v0.4.1-208-g0f901b7",
             "Solo5: Memory map: 512 MB addressable:", "Solo5:   reserved @ (0x0 - 0xfffff)",
             "Solo5:       text @ (0x100000 - 0x103fff)", "Solo5:     rodata @ (0x104000 - 0x105fff)",
             "Solo5:       data @ (0x106000 - 0x10afff)", "Solo5:       heap >= 0x10b000 < stack < 0x20000000"]
    assert run_lines(catalog, solo5).outcome == "unknown"  # nothing of the program yet
    assert run_lines(catalog, solo5 + ["", "**** Solo5 standalone test_dumpcore ****"]).outcome == "success"
    assert run_lines(catalog, solo5 + ["**** Solo5 standalone test_dumpcore ****",
                                       "Solo5: solo5_abort() called"]).outcome == "failure"
    # search index file id 8179490764: memory-hog on OSv 0.09
    assert run_lines(catalog, ["OSv v0.09", "eth0: 192.168.122.15", "I'm a memory hog!"]).outcome == "success"
    # https://github.com/nanovms/nanos/issues/137: an early Nanos, its address, then a fault
    nanos = run_lines(catalog, ["assigned: 10.0.2.15  ", "enq", "Page fault      ", "interrupt: 000000000000000e"])
    assert nanos.outcome == "failure"
    assert {f.category for f in nanos.findings()} >= {"unikernel.crash"}
    # search index file id 49601452933: real lines, joined here into one as some log collectors flatten them
    flat = run_lines(catalog, ["en1: Interface is up Powered by Unikraft Pandora (0.15.0~689db89) "
                               "[    1.017321] CRIT: Unikraft crash - Pandora (0.15.0~689db89) "
                               "[    1.017876] CRIT: Thread \"perl\"@0x40b5e7020"])
    assert flat.outcome == "failure"
    assert [f.rule for f in _by_category(flat, "unikernel.crash")] == ["unikraft-crash-screen"]


#: samples/qemu/oom/serial.log
OOM_KILL = ("[    5.209067] Out of memory: Killed process 83 (awk) total-vm:254168kB, anon-rss:192708kB, "
            "file-rss:0kB, shmem-rss:1148kB, UID:0 pgtables:424kB oom_score_adj:0")
OOM_INVOKED = ("[    5.192628] awk invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), "
               "order=0, oom_score_adj=0")
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log
UNIT_STARTED = "[  OK  ] Started Dynamic System Tuning Daemon."
#: samples/aws-nixos-reboot-kill-init-panic
PANIC = "[    0.880011] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"


def test_an_oom_kill_the_boot_went_on_after_is_reported_not_the_verdict(catalog):
    ended = run_lines(catalog, [OOM_INVOKED, OOM_KILL])
    assert ended.outcome == "failure"  # nothing after the kill: the boot went no further
    went_on = run_lines(catalog, [OOM_INVOKED, OOM_KILL, UNIT_STARTED])
    assert went_on.outcome == "unknown"
    [f] = _by_category(went_on, "kernel.oom")  # one event, one finding, still an error
    assert (f.severity, f.verdict, len(f.evidence)) == ("error", "none", 2)
    assert run_lines(catalog, [UNIT_STARTED, OOM_INVOKED, OOM_KILL]).outcome == "failure"  # progress before it proves nothing
    assert run_lines(catalog, [OOM_KILL, UNIT_STARTED, PANIC]).outcome == "failure"


#: samples/qemu-kernel-oops-fatal-exception/serial.log
OOPS = ["[    2.215971] BUG: kernel NULL pointer dereference, address: 0000000000000000",
        "[    2.216692] Oops: 0002 [#1] PREEMPT SMP NOPTI"]


def test_an_oops_the_boot_went_on_after_did_not_stop_it(catalog):
    assert run_lines(catalog, OOPS).outcome == "failure"  # the capture ends with it: it stopped the boot
    went_on = run_lines(catalog, [*OOPS, UNIT_STARTED])
    assert went_on.outcome == "unknown"
    assert {(f.category, f.severity) for f in went_on.findings()} == {("kernel.oops", "error")}


#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log line 1
START_JOB = "[**    ] A start job is running for LSB: Bri... networking (1min 22s / 5min 6s)"


def test_a_wait_the_boot_went_on_after_was_not_forever(catalog):
    waiting = run_lines(catalog, [START_JOB])
    assert waiting.outcome == "stall"  # the capture ends waiting
    went_on = run_lines(catalog, [START_JOB, UNIT_STARTED])
    assert went_on.outcome == "unknown"
    assert "boot.stall" in {f.category for f in went_on.findings()}  # still reported
