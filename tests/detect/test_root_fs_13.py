"""Root devices and file systems of round 13 (parsers/detectors/root-devices-13.yaml, and the
SquashFS rules of filesystems-bsd-zfs-squashfs.yaml): a root shared from the host by tag
(virtio-fs, 9p) that the guest cannot find, and a kernel without SquashFS xattr support saying
so on a healthy boot. Lines are built from the kernel's format strings (fs/fuse/virtio_fs.c,
net/9p/trans_virtio.c, fs/squashfs/xattr.h), as the rules' samples say, or quote a search-index
page the rule cites."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories


def rules(a) -> set[str]:
    return {f.rule for f in a.findings("all")}


def test_a_virtiofs_or_9p_root_whose_tag_is_missing_is_a_root_not_found(catalog):
    a = run_lines(catalog, ["[    2.101011] virtio-fs: tag <rootfs> not found",
                            "mount: /sysroot: wrong fs type, bad option, bad superblock on rootfs, missing codepage or "
                            "helper program, or other error."])
    f = next(f for f in a.findings("all") if f.rule == "shared-root-tag-not-found")
    assert f.category == "disk.root-not-found" and f.fields.get("tag") == "rootfs"
    b = run_lines(catalog, ["[    1.530000] 9pnet_virtio: no channels available for device hostshare",
                            "mount: mounting hostshare on /mnt-root failed: No such file or directory"])
    assert "shared-root-tag-not-found" in rules(b) and "disk.root-not-found" in categories(b)


def test_a_missing_data_share_or_the_probe_alone_is_no_missing_root(catalog):
    a = run_lines(catalog, ["[    2.101011] virtio-fs: tag <data> not found",
                            "mount: /srv/data: wrong fs type, bad option, bad superblock on data, missing codepage or "
                            "helper program, or other error."])
    assert "shared-root-tag-not-found" not in rules(a)
    assert "shared-root-tag-not-found" not in rules(run_lines(catalog, ["9pnet_virtio: no channels available for device x"]))


def test_squashfs_without_xattr_support_on_a_healthy_boot_is_no_file_system_error(catalog):
    # search-index file id 55672149389: a board's boot log, the root mounted and userland started
    a = run_lines(catalog, ["SQUASHFS error: Xattrs in filesystem, these will be ignored",
                            "SQUASHFS error: unable to read xattr id index table",
                            "VFS: Mounted root (squashfs filesystem) readonly on device 31:2.",
                            "Freeing init memory: 120K"])
    assert "disk.fs-error" not in categories(a)
    # a block that cannot be read is still one
    b = run_lines(catalog, ["SQUASHFS error: lzma returned unexpected result 0x1",
                            "SQUASHFS error: Unable to read page, block 2bfdc, size 983a"])
    assert "squashfs-erofs-read-error" in rules(b)


@pytest.mark.parametrize("lines", [
    [b"[    2.1] virtio-fs: tag <\x1b]0;evil\x07root\x00\xff> not found",
     b"mount: /sysroot: wrong fs type, bad option, bad superblock on root, \x1b[2J" + b"A" * 70000],
    [b"9pnet_virtio: no channels available for device \x1b[31mshare\xff",
     b"mount: mounting share on /mnt-root failed: \x1b]52;c;ZXZpbA==\x07No such file\x00"],
])
def test_hostile_bytes_in_the_shared_root_rule_lines_stay_inert(catalog, lines):
    a = run_lines(catalog, lines)
    assert "shared-root-tag-not-found" in rules(a)
    assert_quoted_safely(a)


def test_the_initrd_switch_root_unit_failing_in_its_result_words_fails_the_boot(catalog):
    # systemd's src/core/service.c format strings for initrd-switch-root.service (units-13.yaml's samples)
    a = run_lines(catalog, ["[    4.700000] systemd[1]: Starting Switch Root...",
                            "[    4.790000] systemd[1]: initrd-switch-root.service: Main process exited, code=killed, status=15/TERM",
                            "[    4.792000] systemd[1]: initrd-switch-root.service: Failed with result 'signal'."])
    f = next(f for f in a.findings() if f.rule == "initrd-handover-unit-failed")
    assert f.category == "init.unit-failed" and f.severity == "critical"
    assert a.outcome == "failure"
    ok = run_lines(catalog, ["[    5.100000] systemd[1]: initrd-switch-root.service: Deactivated successfully.",
                             "[    5.200000] systemd[1]: systemd-modules-load.service: Main process exited, code=exited, status=1/FAILURE"])
    assert "initrd-handover-unit-failed" not in rules(ok)


def test_hostile_bytes_in_the_initrd_handover_rule_lines_stay_inert(catalog):
    a = run_lines(catalog, [b"\x1b[31msystemd[1]: initrd-switch-root.service: Failed with result 'signal'. \x1b]0;evil\x07\x00\xff" + b" " * 70000])
    b = run_lines(catalog, [b"systemd[1]: initrd-switch-root.service: Main process exited, code=killed, status=15/TERM \x1b[2J\x1b]52;c;ZXZpbA==\x07\xff"])
    for x in (a, b):
        assert "initrd-handover-unit-failed" in rules(x)
        assert_quoted_safely(x)


def test_a_disk_controller_that_failed_then_a_root_wait_that_gave_up_is_a_root_not_found(catalog):
    for first, second in (
            ("[    3.412000] nvme nvme0: Device not ready; aborting initialisation, CSTS=0x0",
             "[  185.112000] dracut-initqueue[437]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:"),
            ("[    2.001000] virtio_blk virtio1: probe with driver virtio_blk failed with error -12",
             "Gave up waiting for root file system device.  Common problems:"),
            ("Jun 21 02:36:39 kernel: megaraid_sas 0000:03:00.0: Failed from megasas_init_fw 6539",
             "Jun 21 02:38:45 dracut-initqueue[1087]: Warning: dracut-initqueue timeout - starting timeout scripts")):
        a = run_lines(catalog, [first, second])
        assert "root-disk-controller-failed" in rules(a), first
        assert "disk.root-not-found" in categories(a), first
    # a NIC failing to probe, or a controller failing with the root found elsewhere, is not it
    assert "root-disk-controller-failed" not in rules(run_lines(catalog, [
        "e1000e: probe of 0000:00:19.0 failed with error -2", "Gave up waiting for root file system device.  Common problems:"]))
    assert "root-disk-controller-failed" not in rules(run_lines(catalog, [
        "megaraid_sas 0000:03:00.0: Failed from megasas_init_fw 6539", "[   12.000000] XFS (sda2): Mounting V5 Filesystem"]))


def test_hostile_bytes_in_the_disk_controller_rule_lines_stay_inert(catalog):
    a = run_lines(catalog, [b"[    3.4] nvme nvme0: Device not ready; aborting initialisation, CSTS=\x1b]0;evil\x07\x00\xff",
                            b"\x1b[2JGave up waiting for root file system device.  " + b"A" * 70000])
    assert "root-disk-controller-failed" in rules(a)
    assert_quoted_safely(a)


def test_dm_verity_corruption_is_a_file_system_error_and_its_restart_too(catalog):
    a = run_lines(catalog, ["[    5.204411] device-mapper: verity: 254:0: data block 71843 is corrupted"])
    f = next(f for f in a.findings("all") if f.rule == "dm-verity-block-corrupted")
    assert f.category == "disk.fs-error" and f.fields.get("device") == "254:0" and f.fields.get("kind") == "data"
    b = run_lines(catalog, ["[    5.400000] reboot: Restarting system with command 'dm-verity device corrupted'"])
    assert "dm-verity-block-corrupted" in rules(b)
    assert "dm-verity-block-corrupted" not in rules(run_lines(catalog, [
        '[    2.100000] device-mapper: verity: sha256 using implementation "sha256-avx2"']))


def test_hostile_bytes_in_the_dm_verity_line_stay_inert(catalog):
    a = run_lines(catalog, [b"[    5.2] device-mapper: verity: 254:0: data block 71843 is corrupted \x1b]0;evil\x07\x00\xff" + b"B" * 70000])
    assert "dm-verity-block-corrupted" in rules(a)
    assert_quoted_safely(a)


def test_systemd_cryptsetup_asking_for_a_passphrase_on_the_console_is_a_stall(catalog):
    a = run_lines(catalog, ["[    4.000000] systemd[1]: Starting systemd-cryptsetup@luks\\x2d3b6a.service - Cryptography Setup for luks-3b6a...",
                            "Please enter passphrase for disk QEMU_HARDDISK (luks-3b6a1c52-7f1d-4b7e-9a55-2f0b7f3c1d21):"])
    assert "disk-unlock-prompt" in rules(a) and a.outcome == "stall"
