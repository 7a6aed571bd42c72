"""Message families the round-5 study cases showed missing (issue 10), as a user meets them with
the shipped catalog: the verdict and the categories `analyze` prints, and nothing on the healthy
look-alikes.

Each line names where it was seen: a QEMU boot of tests/qemu/kernel_faults.py (stored under
samples/), a local OVMF boot, a page in the search index (by file id; the rule samples cite the
same), or, where no console here shows the message, the source that prints it (said so).
"""

from __future__ import annotations

import time
from pathlib import Path

import consolewatch
from consolewatch import definitions
from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found
from tests.detect.findings import serial_lines as _serial

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: synthetic: the printfs of parse_mount and parse_dir_ask in FreeBSD sys/kern/vfs_mountroot.c (main, 2024)
FREEBSD_TRY = "Trying to mount root from ufs:/dev/vtbd0p2 [rw]..."
FREEBSD_WAIT = "mountroot: waiting for device /dev/vtbd0p2..."
FREEBSD_PROMPT = ["", "Loader variables:", "  vfs.root.mountfrom=ufs:/dev/vtbd0p2", "",
                  "Manual root filesystem specification:", "  <fstype>:<device> [options]", "", "mountroot> "]
#: qemu 7.2 with Debian ovmf 2022.11-6+deb12u2, -boot order=n, no boot file on the TFTP server (local run)
PXE = [">>Start PXE over IPv4.", "  Station IP address is 10.0.2.15", "  Server IP address is 10.0.2.2",
       "  NBP filename is bootx64.efi", "  NBP filesize is 0 Bytes", "  PXE-E23: Client received TFTP error from server.",
       'BdsDxe: failed to load Boot0001 "UEFI PXEv4 (MAC:525400123456)" from PciRoot(0x0)/Pci(0x1,0x0)/'
       "MAC(525400123456,0x1)/IPv4(0.0.0.0,0x0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0): Not Found"]
#: https://github.com/cloudius-systems/osv/issues/304 (OSv's abort(): the message, a blank line, the backtrace)
OSV_ASSERT = ["Assertion failed: owner.load(std::memory_order_relaxed) == sched::thread::current() "
              "(/data/tgrabiec/osv/core/lfmutex.cc: unlock: 220)", "", "[backtrace]",
              "0x0000000000394eaf <lockfree::mutex::unlock()+431>"]
#: samples/qemu-btrfs-superblock-checksum/serial.log
BTRFS_REPORT = "[    3.978744] BTRFS error (device vda): superblock checksum mismatch"
BTRFS_OPEN = "[    3.979888] BTRFS error (device vda): open_ctree failed: -22"
#: synthetic: LOG.warning in cloud-init cloudinit/sources/DataSourceNoCloud.py (main, 24.x) with its log prefix
NOCLOUD_SEED = "2024-05-02 10:11:12,345 - DataSourceNoCloud.py[WARNING]: device /dev/sr0 with label=cidata not a valid seed."


# -- boots that come up and restart ----------------------------------------------------------------


def test_boots_that_come_up_and_restart_again_and_again_are_a_loop_the_capture_ends_inside():
    a = consolewatch.analyze([SAMPLES / "qemu-ready-then-supervisor-reboot" / "serial.log"])
    assert a.outcome == "failure" and len(a.boots) == 4
    [loop] = [f for f in a.capture_findings if f.category == "boot.loop"]
    assert loop.rule == "boot-loop-after-ready" and loop.severity == "critical"
    assert [e.text for e in loop.evidence] == ["[    7.232594] reboot: Restarting system",
                                               "[    6.733674] reboot: Restarting system",
                                               "[    6.779025] reboot: Restarting system"]
    assert loop.fields["boots"] == "3" and "reboot: Restarting system" in loop.fields["cause"]


def test_a_loop_the_machine_came_out_of_is_history_and_two_restarts_are_no_loop(catalog):
    lines = _serial("qemu-ready-then-supervisor-reboot")
    starts = [i for i, line in enumerate(lines) if line.startswith("SeaBIOS")]
    first_boot_up = lines[: lines.index("consolewatch-guest: ready") + 3]  # up to its login prompt
    recovered = run_lines(catalog, lines[: starts[3]] + first_boot_up)
    assert recovered.outcome == "success"
    assert [f.severity for f in recovered.capture_findings if f.category == "boot.loop"] == ["warning"]
    two = run_lines(catalog, lines[: starts[2] + 2])  # two boots came up and restarted, a third begins
    assert two.outcome == "unknown" and not [f for f in two.capture_findings if f.category == "boot.loop"]


def test_a_capture_condition_counting_how_boots_ended_needs_min_boots(tmp_path):
    (tmp_path / "detectors").mkdir()
    (tmp_path / "detectors" / "x.yaml").write_text(
        "rules:\n  - id: x-loop\n    title: t\n    category: boot.loop\n    severity: error\n"
        "    match: {capture: {max_lines: 0, ended_by: [next-boot]}}\n    remediation: {default: d}\n"
        "    samples: {match: [{lines: [], source: s}], no_match: [{line: a, source: s}]}\n")
    problems = definitions.load([tmp_path]).problems
    assert any("ended_by" in str(p) and "min_boots" in str(p) for p in problems)


# -- init hands over to a program that is not there ------------------------------------------------


def test_init_that_execs_a_missing_program_is_init_not_found_before_the_panic():
    a = consolewatch.analyze([SAMPLES / "qemu-init-execs-missing-service" / "serial.log"])
    found = _found(a)
    assert a.outcome == "failure" and set(found) == {"init.not-found", "kernel.panic"}
    [cause] = found["init.not-found"]
    assert cause.rule == "init-exec-program-failed" and "/opt/svc/bin/svcd" in cause.remediation
    assert all(f.suppressed_by for f in found["kernel.panic"])  # the symptom, muted (and still listed)
    assert "init-exec-program-failed" in {f.suppressed_by for f in found["kernel.panic"]}
    assert a.findings()[0].category == "init.not-found"  # cause first


def test_a_program_without_its_execute_bit_is_named_and_a_script_error_without_the_panic_is_not(catalog):
    lines = _serial("qemu-init-execs-non-executable")
    a = run_lines(catalog, lines)
    assert "Permission denied" in _found(a)["init.not-found"][0].remediation
    # the same shell error in a script that goes on (no panic): nothing to say
    quiet = run_lines(catalog, lines[: lines.index("/init: exec: line 8: /opt/svc/start: Permission denied") + 1])
    assert "init.not-found" not in _found(quiet)


# -- FreeBSD's root mount ---------------------------------------------------------------------------


def test_freebsd_waiting_in_vain_for_its_root_device_is_root_not_found(catalog):
    a = run_lines(catalog, [FREEBSD_TRY, FREEBSD_WAIT, "Mounting from ufs:/dev/vtbd0p2 failed with error 19.",
                            *FREEBSD_PROMPT])
    # the kernel then waits at mountroot> for someone to type a device: a stall (samples/blind/
    # README.md, round 11's convention; bsd-mountroot-prompt-waiting says the same of the prompt alone)
    assert a.outcome == "stall" and set(_found(a)) == {"disk.root-not-found"}
    assert "/dev/vtbd0p2" in _found(a)["disk.root-not-found"][0].remediation


def test_freebsd_trying_the_next_root_candidate_is_not_a_failure(catalog):
    a = run_lines(catalog, ["Trying to mount root from ufs:/dev/ada0p2 [rw]...",
                            "Mounting from ufs:/dev/ada0p2 failed with error 19.", FREEBSD_TRY])
    assert not [f for f in a.findings() if f.severity in ("error", "critical")]


def test_freebsd_root_mount_errors_name_a_bad_file_system_or_a_missing_module(catalog):
    bad = run_lines(catalog, [FREEBSD_TRY, "Mounting from ufs:/dev/vtbd0p2 failed with error 22.", "mountroot> "])
    assert set(_found(bad)) == {"disk.fs-error"} and bad.outcome == "failure"
    zfs = run_lines(catalog, ["Trying to mount root from zfs:zroot/ROOT/default []...",
                              "Mounting from zfs:zroot/ROOT/default failed with error 2: unknown file system.",
                              "mountroot> "])
    assert set(_found(zfs)) == {"disk.driver-missing"} and "zfs" in _found(zfs)["disk.driver-missing"][0].remediation


# -- the firmware's network boot ---------------------------------------------------------------------


def test_a_pxe_boot_that_failed_with_nothing_after_it_is_a_firmware_boot_error(catalog):
    a = run_lines(catalog, PXE)
    assert a.outcome == "failure"
    assert "firmware-network-boot-failed" in {f.rule for f in a.findings()}
    went_on = run_lines(catalog, [*PXE, ">>Start PXE over IPv6."])  # the firmware tries its next option
    assert "firmware-network-boot-failed" not in {f.rule for f in went_on.findings()}


# -- OSv's abort, Btrfs reports, a NoCloud seed --------------------------------------------------------


def test_osv_abort_quotes_the_message_before_the_backtrace(catalog):
    a = run_lines(catalog, OSV_ASSERT)
    [crash] = _found(a)["unikernel.crash"]
    assert crash.rule == "osv-abort-message" and crash.evidence[0].text.startswith("Assertion failed:")
    partial = run_lines(catalog, OSV_ASSERT[2:])  # a view that starts at the backtrace
    assert [f.rule for f in _found(partial)["unikernel.crash"]] == ["osv-backtrace"]


def test_a_btrfs_corruption_report_decides_nothing_and_a_failed_mount_does(catalog):
    report = run_lines(catalog, [BTRFS_REPORT])
    assert set(_found(report)) == {"disk.fs-error"} and report.outcome == "unknown"
    mount = run_lines(catalog, [BTRFS_REPORT, BTRFS_OPEN])
    assert mount.outcome == "failure" and "btrfs-mount-failed" in {f.rule for f in mount.findings()}


def test_a_nocloud_seed_cloud_init_cannot_read_is_a_provisioning_error(catalog):
    a = run_lines(catalog, [NOCLOUD_SEED])
    assert [f.rule for f in _found(a)["cloudinit.error"]] == ["cloudinit-datasource-failed"]


def test_hostile_long_lines_near_the_new_patterns_stay_fast_and_bounded(catalog):
    junk = ["/init: " + "a: " * 20_000 + "not found", "Mounting from " + "u:" * 30_000 + " failed with error 19",
            "PXE-E18: " + "\x1b[2J\x00\xff" * 10_000, "/" + ": 1: exec: /x" * 5_000 + ": not found"]
    start = time.perf_counter()
    a = run_lines(catalog, [*junk, "[    4.108473] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00"])
    assert time.perf_counter() - start < 5
    assert all(len(e.text) < 200_000 for f in a.findings() for e in f.evidence)
