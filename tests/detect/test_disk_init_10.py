"""Root file systems and init programs in the words of initramfs builders and tools the older
rules missed (parsers/detectors/disk-init-10.yaml and the families it extends): initramfs-tools'
two-space ALERT, Alpine's mkinitfs, genkernel's older prompt, the OpenZFS initramfs, e2fsck's
own library line and its preen-mode repairs; and a disk driver's modprobe failure that the
mounted root made moot. Lines are the rules' real samples (e2fsck 1.47.0 runs, public threads,
the QEMU sample boots)."""

from __future__ import annotations

import pytest

import consolewatch
from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES, categories, serial_lines


def test_the_alert_initramfs_tools_prints_with_two_spaces_is_a_missing_root(catalog):
    # https://github.com/ungureanuvladvictor/BBBlfs/issues/27
    a = run_lines(catalog, ["ALERT!  /dev/mmcblk1p1 does not exist.  Dropping to a shell!",
                            "(initramfs)"])
    root = [f for f in a.findings() if f.category == "disk.root-not-found"]
    assert root and root[0].fields["root"] == "/dev/mmcblk1p1"
    assert a.outcome == "failure"


def test_a_root_the_initramfs_found_but_could_not_mount_is_a_file_system_error():
    # a real QEMU boot: rootfstype=xfs on a kernel without xfs; the panic line is on its screen
    case = SAMPLES / "qemu-itools-root-mount-failed"
    a = consolewatch.analyze([case / "serial.log", case / "screen.png"])
    rules = {f.rule: f for f in a.findings()}
    assert rules["initramfs-root-mount-panic"].category == "disk.fs-error"
    assert rules["initramfs-root-mount-panic"].fields["root"] == "/dev/vda1"
    assert "disk.root-not-found" not in categories(a)   # the device was there


def test_a_disk_driver_modprobe_could_not_find_is_moot_once_the_root_is_mounted(catalog):
    missing = "modprobe: FATAL: Module xen-blkfront not found in directory /lib/modules/0.0.0"
    alone = run_lines(catalog, [missing])
    assert "disk.driver-missing" in categories(alone)
    mounted = run_lines(catalog, [missing, "[    1.962461] VFS: Mounted root (ext4 filesystem) on device 259:1."])
    assert "disk.driver-missing" not in {f.category for f in mounted.findings("all")}


@pytest.mark.parametrize("lines", [
    ["ext2fs_open2: Bad magic number in super-block", "e2fsck: Superblock invalid, trying backup blocks...."],
    ["c.img contains a file system with errors, check forced.",
     "c.img: Deleted inode 12 has zero dtime.  FIXED."],
])
def test_e2fsck_reports_are_file_system_errors(catalog, lines):
    assert "disk.fs-error" in categories(run_lines(catalog, lines))


def test_repairs_e2fsck_made_on_its_own_decide_no_failure(catalog):
    a = run_lines(catalog, ["g.img: Inode 12 is in use, but has dtime set.  FIXED.",
                            "g.img: 12/8192 files (0.0% non-contiguous), 6939/32768 blocks"])
    fixed = [f for f in a.findings() if f.rule == "fsck-repaired-errors"]
    assert fixed and fixed[0].severity == "warning" and fixed[0].fields["device"] == "g.img"
    assert a.outcome != "failure"


def test_e2fsck_clearing_orphans_on_a_healthy_preen_is_no_repair(catalog):
    a = run_lines(catalog, ["/dev/sda1: clean, 82081/1310720 files, 2141116/2621440 blocks"])
    assert not [f for f in a.findings("all") if f.category == "disk.fs-error"]


def test_alpine_with_no_init_in_its_new_root_waits_at_a_shell(catalog):
    # search-index file 27585643385: Alpine 3.10 whose packages failed their signature check
    a = run_lines(catalog, ["grep: /sysroot/etc/inittab: No such file or directory",
                            "/sbin/init not found in new root. Launching emergency recovery shell",
                            "Type exit to continue boot."])
    assert {"init.not-found", "init.emergency-mode"} <= categories(a) and a.outcome == "failure"
    assert next(f for f in a.findings() if f.category == "init.not-found").fields["init"] == "/sbin/init"


def test_genkernel_with_no_root_device_detected_is_a_missing_root(catalog):
    # search-index file 56753428405
    a = run_lines(catalog, ["Determining root device...",
                            "The root block device is unspecified or not detected",
                            'Please specify a device to boot, or "shell" for a shell...'])
    assert "disk.root-not-found" in categories(a)


def test_the_zfs_initramfs_failing_to_mount_the_root_dataset_waits_at_its_shell(catalog):
    a = run_lines(catalog, ["Failed to mount rpool/ROOT/ubuntu on /root//.", "Manually mount the filesystem and exit."])
    mount = next(f for f in a.findings() if f.rule == "zfs-initramfs-dataset-mount-failed")
    assert mount.category == "disk.fs-error" and mount.fields["dataset"] == "rpool/ROOT/ubuntu"
    assert "init.emergency-mode" in categories(a) and a.outcome == "failure"


def test_the_dracut_prompt_is_reported_by_one_rule(catalog):
    # https://github.com/dracutdevs/dracut/issues/36
    a = run_lines(catalog, ["Cannot find init!", "dracut:/#   mount"])
    prompt = [f.rule for f in a.findings("all") if any("dracut:/#" in e.text for e in f.evidence)]
    assert prompt == ["emergency-shell-prompt"]


NEW_RULES = {"initramfs-root-mount-panic", "mkinitfs-root-mount-failed", "mkinitfs-init-not-in-new-root",
             "zfs-initramfs-dataset-mount-failed", "zfs-initramfs-modules-missing"}


@pytest.mark.parametrize("case", ["qemu/healthy", "qemu-fail-then-success", "qemu/fs-error"])
def test_the_new_rules_stay_quiet_on_boots_that_mounted_their_root(catalog, case):
    a = run_lines(catalog, serial_lines(case))
    assert not NEW_RULES & {f.rule for f in a.findings("all")}
