"""What a view of a boot can show (consolewatch/detect/views.py), as a user meets it with the shipped
catalog: a watchdog's report stamped in the kernel's first minutes is the boot waiting forever
(a stall) even in a pasted excerpt, one stamped hours later in an excerpt is a running system's
(unknown); a syslog or journal excerpt cannot show the boot stopping, whatever failed in it.

Lines are real; each names where it was seen (the rule samples in parsers/ cite the same).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found
from tests.detect.findings import serial_lines as _serial

#: https://github.com/lf-edge/eve/pull/2653 (parsers/detectors/kernel.yaml soft-lockup)
LOCKUP_129S = "[  129.338433][    C1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [002-logging:310]"
#: https://github.com/aabc/ipt-ratelimit/issues/3 (a host up for a day)
HARD_LOCKUP_1D = "[86185.359253] Watchdog detected hard LOCKUP on cpu 1"
#: https://github.com/open-power/skiboot/issues/194
HARD_LOCKUP_252S = "[  252.718655] Watchdog CPU:59 Hard LOCKUP"

#: https://github.com/dracutdevs/dracut/issues/259 (a journal: btrfs log replay failing, then /sysroot)
JOURNAL_SYSROOT = ["Jul 28 02:50:18 fedora-uefi kernel: BTRFS: error (device sda4) in btrfs_replay_log:2475: "
                   "errno=-5 IO failure (Failed to recover log tree)",
                   "Jul 28 02:50:18 fedora-uefi systemd[1]: Failed to mount /sysroot."]
#: https://github.com/coreos/bugs/issues/1919 (journal) and https://github.com/ibm-openbmc/dev/issues/3324 (console)
JOURNAL_LOCAL_FS = ["Mar 25 00:04:28 ad10.prod.com systemd[1]: Dependency failed for Local File Systems."]
CONSOLE_LOCAL_FS = ["[FAILED] Failed to mount /home.", "See 'systemctl status home.mount' for details.",
                    "[DEPEND] Dependency failed for Local File Systems."]
#: public page in the search index (file id 28987634517): a Proxmox host's journal, in its locale
JOURNAL_EMERGENCY = ["oct 10 18:05:51 pve systemd[1]: Reached target emergency.target - Emergency Mode."]


def test_a_watchdog_report_in_the_kernels_first_minutes_is_the_boot_waiting_forever(catalog):
    whole = _serial("qemu-kernel-soft-lockup")
    pasted = whole[next(i for i, x in enumerate(whole) if "BUG: soft lockup" in x):]  # the report onwards
    for lines in ([LOCKUP_129S], pasted):
        a = run_lines(catalog, lines)
        assert a.outcome == "stall", lines
        [oops] = _found(a)["kernel.oops"]
        assert (oops.severity, oops.verdict) == ("error", "stall")


def test_the_same_report_hours_after_the_kernel_started_is_a_running_systems_and_decides_nothing(catalog):
    for line in (HARD_LOCKUP_1D, HARD_LOCKUP_252S):
        a = run_lines(catalog, [line])
        assert a.outcome == "unknown", line
        [oops] = _found(a)["kernel.oops"]
        assert (oops.rule, oops.severity, oops.verdict) == ("hard-lockup", "error", "none")  # still reported
    # in a console that shows the boot (its /init), the same late report ends a boot that waits
    boot = _serial("qemu-kernel-rcu-stall")[341]  # "[    1.511034] Run /init as init process"
    assert run_lines(catalog, [boot, HARD_LOCKUP_252S]).outcome == "stall"


def test_a_failure_message_in_an_excerpt_of_the_first_seconds_is_no_wait_and_needs_the_boot_in_view(catalog):
    """An agent's fetch failing (wget run here against a Python http.server answering 500, as in
    test_metadata_fetchers.py) after kernel lines of samples/qemu-kernel-rcu-stall: the kernel's
    clock says these are the boot's first seconds, but a single failure is no wait; with nothing of
    the boot in view (no milestone) the boot may have gone on after it."""
    kernel = _serial("qemu-kernel-rcu-stall")[342:344]  # cwfault's module lines, 1.6 s: no milestone
    fetch = ["Connecting to 169.254.169.254 (169.254.169.254:80)",
             "wget: server returned error: HTTP/1.0 500 Internal Server Error"]
    excerpt = run_lines(catalog, kernel + fetch)
    assert excerpt.outcome == "unknown"
    assert "network.metadata-unreachable" in _found(excerpt)
    seen = run_lines(catalog, [_serial("qemu-kernel-rcu-stall")[341], *kernel, *fetch])  # /init: the boot
    assert seen.outcome == "failure"


def test_a_journal_excerpt_cannot_show_the_boot_stopping_whatever_failed_in_it(catalog):
    a = run_lines(catalog, JOURNAL_SYSROOT)
    assert a.outcome == "unknown"
    fs = _found(a)["disk.fs-error"]
    assert fs and all(f.verdict == "none" for f in fs)
    assert {f.severity for f in fs} >= {"error"}  # reported at the rule's severity, not demoted
    journal = run_lines(catalog, JOURNAL_LOCAL_FS)
    assert journal.outcome == "unknown" and "init.unit-failed" in _found(journal)
    # the same failure on the console the boot printed to stops it
    assert run_lines(catalog, CONSOLE_LOCAL_FS).outcome == "failure"


def test_an_emergency_shell_in_a_journal_is_the_stop_itself(catalog):
    a = run_lines(catalog, JOURNAL_EMERGENCY)
    assert a.outcome == "failure"
    assert "init.emergency-mode" in _found(a)


#: https://github.com/pgj/freebsd-wifibox/issues/131: an Alpine guest's BusyBox syslogd, which
#: writes the facility and priority between the host and the program
BUSYBOX_SYSLOG = ["Oct  7 17:02:36 wifibox daemon.err radvd[1269]: exiting, failed to read config file",
                  "Oct  7 17:02:36 wifibox daemon.err /etc/init.d/radvd[1268]: start-stop-daemon: failed to start "
                  "`/usr/sbin/radvd'",
                  "Oct  7 17:02:36 wifibox daemon.err /etc/init.d/radvd[1250]: ERROR: radvd failed to start"]
#: https://github.com/docker/for-mac/issues/91: the Moby VM's kernel log after a Go time with its
#: zone's name (the VM's lines as Docker for Mac's log quotes them after its "<Error>: VM: " prefix)
MOBY_VM_LOG = ["2016-08-03 04:35:57 +0000 UTC kern.error kernel: INFO: rcu_sched self-detected stall on CPU",
               "2016-08-03 04:35:57 +0000 UTC kern.error kernel: rcu_sched kthread starved for 15299 jiffies! "
               "g166424 c166423 f0x0 s3 ->state=0x1"]


def test_a_syslog_with_facility_and_priority_is_a_log_file_too(catalog):
    """BusyBox's, OpenWrt's and LinuxKit's syslog daemons write `facility.priority` before the program:
    their lines are log lines (a date, the program), so an excerpt of them shows nothing of the boot,
    and a failure or stall in it decides nothing, as in any syslog or journal excerpt."""
    from consolewatch.detect import views
    from consolewatch.model import Evidence, Finding

    a = run_lines(catalog, BUSYBOX_SYSLOG)
    assert "init.unit-failed" in _found(a)  # the OpenRC service's failure, read from its message
    assert a.outcome == "unknown"
    for lines in (BUSYBOX_SYSLOG, MOBY_VM_LOG):
        f = Finding("r", "kernel.oops", "error", "t", 1, tuple(Evidence(i + 1, t) for i, t in enumerate(lines)), "",
                    verdict="failure")
        assert views.logged(f)
    b = run_lines(catalog, MOBY_VM_LOG)
    assert b.outcome == "unknown" and "kernel.oops" in _found(b)
