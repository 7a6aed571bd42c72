"""Unikernels, microVM firmware and guests' file systems, round 17 (parsers/detectors/guests-fs-17.yaml,
the OSv and rust-hypervisor-firmware formats, loaders.yaml's stopped-inside-firmware): lines from
the format strings of Linux's block/blk-core.c and fs/ext4/super.c, OSv's loader.cc and
core/chart.cc, and rust-hypervisor-firmware's src/pci.rs."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

INIT_READ = ["init: attempt to access beyond end of device", "loop1: rw=0, sector=2, nr_sectors = 2 limit=0"]
PANIC = "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"
OSV_CHART = ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from Hard Disk..OSv v0.55.0-152-g52d4f05d",
             "\tdrivers loaded: 410.02ms, (+5.11ms)", "\tZFS mounted: 418.13ms, (+8.11ms)",
             "\tTotal time: 421.15ms, (+3.02ms)", "hello from the application"]
RHF_PCI = ["Found PCI device vendor=1af4 device=1001 in slot=4", "PCI Device: 0:4.0 1af4:1001",
           "Bar: type=MemorySpace64 address=e8000000", "Bar: type=Unused address=0"]


def _rules(a, category=None):
    return {f.rule for f in a.findings() if category is None or f.category == category}


def test_init_unable_to_read_its_loop_device_then_exiting_is_a_fs_error_and_a_panic(catalog):
    a = run_lines(catalog, [*INIT_READ, "EXT4-fs (loop1): unable to read superblock", PANIC])
    assert "init-loop-device-fs-unreadable" in _rules(a, "disk.fs-error")
    assert _rules(a, "kernel.panic") and a.outcome == "failure"


def test_a_users_mount_of_a_loop_device_is_no_finding(catalog):
    a = run_lines(catalog, ["mount: attempt to access beyond end of device", INIT_READ[1],
                            "EXT4-fs (loop1): unable to read superblock"])
    assert not _rules(a, "disk.fs-error") and a.outcome == "unknown"


def test_osv_after_seabios_with_its_boot_chart_is_a_success(catalog):
    a = run_lines(catalog, OSV_CHART)
    assert a.outcome == "success" and not _rules(a, "boot.stall")
    assert len(a.boots) == 1


def test_rust_hypervisor_firmware_stopping_in_its_pci_scan_is_a_stall(catalog):
    a = run_lines(catalog, ["Starting..", *RHF_PCI, "No capabilities detected"])
    assert "stopped-inside-firmware" in _rules(a, "boot.stall") and a.outcome == "stall"
    b = run_lines(catalog, [*RHF_PCI, "Virtio block device configured. Capacity: 4194304 sectors",
                            "Found EFI partition", "Found bootloader (BOOTX64.EFI)", "Jumping to kernel"])
    assert "stopped-inside-firmware" not in _rules(b)


def test_hostile_bytes_around_the_new_words_stay_inert(catalog):
    a = run_lines(catalog, [b"init: attempt to access beyond end of device\x1b]0;evil\x07",
                            b"loop1: rw=0, sector=2, nr_sectors = 2 limit=0",
                            b"EXT4-fs (loop1\x00\x07): unable to read superblock \xff\x1b]8;;http://x\x07", b"A" * 70000, PANIC.encode()])
    assert "init-loop-device-fs-unreadable" in _rules(a)
    assert_quoted_safely(a)
    b = run_lines(catalog, [b"Booting from Hard Disk..OSv v0.55\x1b[31m\x00", b"\tTotal time: 1.00ms, (+0.00ms)\x07",
                            b"PCI Device: 0:4.0 1af4:1001\x1b]8;;http://x\x07", b"\xfe" * 1000])
    assert_quoted_safely(b)


def test_netbsd_without_sbin_init_trying_its_fallback_is_init_not_found(catalog):
    a = run_lines(catalog, ["exec /sbin/init: error 2", "init: trying /sbin/oinit"])
    assert "bsd-init-missing-on-root" in _rules(a, "init.not-found") and a.outcome == "failure"
    # ENOEXEC, and the next init ran: no finding of this rule
    b = run_lines(catalog, ["exec /sbin/init: error 8", "init: trying /sbin/oinit"])
    assert "bsd-init-missing-on-root" not in _rules(b)


def test_libzfs_internal_error_in_an_osv_backtrace_is_a_fs_error(catalog):
    lines = ["OSv v0.55.0-152-g52d4f05d", "internal error: Invalid exchange", "Aborted", "", "[backtrace]",
             "0x00001000004302a4 <zfs_verror+212>", "0x0000100000431b58 <zpool_standard_error_fmt+568>"]
    a = run_lines(catalog, lines)
    assert "libzfs-internal-error-abort" in _rules(a, "disk.fs-error")
    assert _rules(a, "unikernel.crash") and a.outcome == "failure"
    b = run_lines(catalog, [*lines[:5], "0x20db6c <main_cont(int, char**)+204>"])
    assert "libzfs-internal-error-abort" not in _rules(b)


def test_a_dmesg_t_excerpt_of_xfs_corruption_is_reported_and_decides_nothing(catalog):
    # util-linux's dmesg -T on a running host: the report stands, the outcome is unknown
    lines = ["[Sat Mar  2 01:02:03 2024] XFS (vdb): Metadata corruption detected at xfs_buf_ioend+0x150/0x5e0 [xfs], "
             "xfs_inode block 0x80 xfs_inode_buf_verify",
             "[Sat Mar  2 01:02:03 2024] XFS (vdb): Unmount and run xfs_repair"]
    a = run_lines(catalog, lines)
    assert "xfs-corruption" in _rules(a, "disk.fs-error") and a.outcome == "unknown"
    # the same report on a console stamped by printk in the boot still decides
    b = run_lines(catalog, ["[    3.472904] " + lines[0].split("] ", 1)[1], "[    3.472910] XFS (vdb): Unmount and run xfs_repair"])
    assert b.outcome == "failure"


def test_a_xen_disk_that_never_connected_then_no_root_is_root_not_found(catalog):
    a = run_lines(catalog, ["[    5.012345] xenbus_probe_frontend: Waiting for devices to initialise: 25s...20s...15s...10s...5s...0s...",
                            "[   36.650011] xenbus_probe_frontend: Timeout connecting to device: device/vbd/51712 (local state 3, remote state 1)",
                            '[   36.700000] VFS: Cannot open root device "xvda1" or unknown-block(0,0): error -6'])
    assert "xen-disk-frontend-never-connected" in _rules(a, "disk.root-not-found") and a.outcome == "failure"
    # the countdown alone, or the keyboard timing out, is no disk missing
    b = run_lines(catalog, ["[    5.012345] xenbus_probe_frontend: Waiting for devices to initialise: 25s...20s...15s...10s...5s...0s...",
                            "[   36.650011] xenbus_probe_frontend: Timeout connecting to device: device/vkbd/0 (local state 3, remote state 1)"])
    assert not _rules(b, "disk.root-not-found") and not _rules(b, "network.no-device")
