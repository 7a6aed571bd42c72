"""File systems and boot stages the ext4/XFS rules do not name (parsers/detectors/
filesystems-bsd-zfs-squashfs.yaml, bootloader-systemd-boot.yaml, root-genkernel.yaml), on the
real lines their samples cite: the failure is found and decides the boot; the healthy
look-alikes (a dirty ESP, a file system probe, a loop device's discard) find nothing."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category, serial_lines

FREEBSD_FSCK = ["Starting file system checks:",
                "/dev/ada1p1: UNEXPECTED INCONSISTENCY; RUN fsck_msdosfs MANUALLY.",
                "THE FOLLOWING FILE SYSTEM HAD AN UNEXPECTED INCONSISTENCY:",
                "\tmsdosfs: /dev/ada1p1 (/boot/efi)",
                "Automatic file system check failed; help!",
                "ERROR: ABORTING BOOT (sending SIGTERM to parent)!",
                "2022-06-04T08:26:05.670175+00:00 - init 1 - - /bin/sh on /etc/rc terminated abnormally,"
                " going to single user mode",
                "Enter full pathname of shell or RETURN for /bin/sh:"]
ZFS_LOADER = ["zio_read error: 5", "ZFS: i/o error - all block copies unavailable",
              "ZFS: can't read MOS of pool pfSense", "elf64_loadimage: read failed", "can't load 'kernel'"]
ZFS_INITRAMFS = ['Command: /sbin/zpool import -N "rpool"', "Message: cannot import 'rpool' : no such pool available",
                 "Error: 1", "Failed to import pool 'rpool'.", "Manually import the pool and exit.", "(initramfs)"]
SQUASHFS = ["SQUASHFS error: lzma returned unexpected result 0x1",
            "SQUASHFS error: Unable to read page, block 2bfdc, size 983a"]


def _healthy_with(lines: list[str]) -> list[str]:
    healthy = serial_lines("qemu/healthy")
    at = next(i for i, x in enumerate(healthy) if "Run /init as init process" in x) + 1
    return healthy[:at] + lines + healthy[at:]


def test_freebsd_fsck_giving_up_is_a_file_system_error_behind_the_single_user_shell(catalog):
    a = run_lines(catalog, FREEBSD_FSCK)
    cats = by_category(a)
    assert a.outcome == "failure"
    assert {f.rule for f in cats["disk.fs-error"]} == {"bsd-fsck-manual-required"}
    # the shell is the symptom: listed, muted by the fsck that caused it
    assert all(f.suppressed_by for f in cats["init.emergency-mode"])
    assert "bsd-rc-aborted-boot" in {f.rule for f in cats["init.emergency-mode"]}
    first = cats["disk.fs-error"][0]
    assert "fsck_msdosfs" in first.evidence[0].text


def test_zfs_loader_read_failure_names_the_pool_and_the_loader_failure(catalog):
    a = run_lines(catalog, ZFS_LOADER)
    cats = by_category(a)
    assert a.outcome == "failure"
    assert "zfs-loader-read-error" in {f.rule for f in cats["disk.fs-error"]}
    assert "boot.bootloader-error" in cats


def test_root_pool_missing_in_the_zfs_initramfs_is_root_not_found_not_a_pool_seen_twice(catalog):
    a = run_lines(catalog, ZFS_INITRAMFS)
    cats = by_category(a)
    assert a.outcome == "failure" and "zfs-root-pool-not-imported" in {f.rule for f in cats["disk.root-not-found"]}
    assert all(f.suppressed_by for f in cats["init.emergency-mode"])
    twice = run_lines(catalog, ["Message: cannot import 'rpool': more than one matching pool",
                                "Failed to import pool 'rpool'.", "Manually import the pool and exit.", "(initramfs)"])
    cats = by_category(twice)
    assert "disk.root-not-found" not in cats and twice.outcome == "failure"
    assert "zfs-import-shell" in {f.rule for f in cats["init.emergency-mode"]}


def test_squashfs_read_errors_decide_only_a_boot_that_went_no_further(catalog):
    alone = run_lines(catalog, ["[    1.234567] Linux version 4.4.0 (builder@host) #1 SMP"] + SQUASHFS)
    assert alone.outcome == "failure"
    assert "squashfs-erofs-read-error" in {f.rule for f in by_category(alone)["disk.fs-error"]}
    went_on = run_lines(catalog, _healthy_with(SQUASHFS))
    assert went_on.outcome == "success"   # reported, but the boot came up after it
    assert "disk.fs-error" in {f.category for f in went_on.findings("all")}


def test_healthy_look_alikes_find_no_file_system_error(catalog):
    quiet = ["FAT-fs (vda15): Volume was not properly unmounted. Some data may be corrupt. Please run fsck.",
             "[17195657.292000] SQUASHFS error: Can't find a SQUASHFS superblock on hdd2",
             "[   90.880875] print_req_error: I/O error, dev loop5, sector 0",
             "ZFS: Loaded module v2.1.5-1ubuntu6~22.04.1, ZFS pool version 5000, ZFS filesystem version 5"]
    a = run_lines(catalog, _healthy_with(quiet))
    assert a.outcome == "success"
    assert not [f for f in a.findings("all") if f.category == "disk.fs-error"]


def test_print_req_error_wording_is_a_disk_error(catalog):
    a = run_lines(catalog, ["[   95.572441] print_req_error: I/O error, dev sda, sector 230762140"])
    assert [f.fields.get("device") for f in by_category(a)["disk.fs-error"]] == ["sda"]


def test_systemd_boot_refused_image_is_a_boot_loader_error_unless_a_kernel_ran_after(catalog):
    line = "../src/boot/boot.c:2560@image_start: Error loading \\EFI\\Linux\\bzImage.uki.efi: Access denied"
    a = run_lines(catalog, [line])
    f = by_category(a)["boot.bootloader-error"][0]
    assert a.outcome == "failure" and f.rule == "systemd-boot-entry-failed" and f.fields["status"] == "Access denied"
    later = run_lines(catalog, [line] + serial_lines("qemu/healthy"))
    assert later.outcome == "success"
    assert "systemd-boot-entry-failed" not in {f.rule for f in later.findings("all")}


def test_genkernel_waiting_for_a_root_device_is_root_not_found(catalog):
    a = run_lines(catalog, [">> Determining root device...", "!! Could not find the root block device in .",
                            'Please specify another value or: press Enter for the same, type "shell" for shell,'
                            ' or "q" to skip...'])
    assert a.outcome == "failure"
    assert {f.rule for f in by_category(a)["disk.root-not-found"]} == {"genkernel-root-not-found"}


def test_shim_refusing_itself_by_sbat_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, ["Verifying shim SBAT data failed: Security Policy Violation",
                            "Something has gone seriously wrong: SBAT self-check failed: Security Policy Violation"])
    assert a.outcome == "failure"
    assert {f.rule for f in by_category(a)["boot.bootloader-error"]} == {"shim-fatal-error"}
    other = run_lines(catalog, ["Something has gone seriously wrong: the cache is stale"])
    assert "boot.bootloader-error" not in by_category(other)


def test_hyperv_failing_every_device_is_a_boot_loader_error_but_not_when_the_next_one_boots(catalog):
    failed = ["Boot Failed. EFI SCSI Device.", "Boot Failed. EFI SCSI Device. Failed Secure Boot Verification.",
              "PXE Network Boot using IPv4", "Boot Failed. EFI Network.", "No Operating System was Loaded.",
              "Press a key to retry the boot sequence..."]
    a = run_lines(catalog, failed)
    assert a.outcome == "failure" and "hyperv-uefi-boot-failed" in {f.rule for f in a.findings()}
    b = run_lines(catalog, ["Boot Failed. EFI SCSI Device.", "Welcome to GRUB!"] + serial_lines("qemu/healthy"))
    assert "hyperv-uefi-boot-failed" not in {f.rule for f in b.findings("all")}


def test_a_trimmed_dracut_prompt_or_sulogins_second_line_is_emergency_mode(catalog):
    for lines in (["Dropping to debug shell", "dracut:/#"],
                  ["to boot into default mode.", "(or press Control-D to continue):"]):
        a = run_lines(catalog, lines)
        assert a.outcome == "failure" and "emergency-shell-prompt" in {f.rule for f in a.findings()}
    prose = run_lines(catalog, ["there is a `dracut:/#` prompt on a serial console you may not have wired."])
    assert "init.emergency-mode" not in by_category(prose)


def test_a_bios_with_no_operating_system_is_a_boot_loader_failure_not_the_pxe_rom_exiting(catalog):
    a = run_lines(catalog, ["PXE-M0F: Exiting Intel PXE ROM.", "Operating System not found."])
    assert a.outcome == "failure"
    assert "bios-no-operating-system" in {f.rule for f in by_category(a)["boot.bootloader-error"]}
    pxe = run_lines(catalog, ["PXE-M0F: Exiting Intel PXE ROM."])
    assert "bios-no-operating-system" not in {f.rule for f in pxe.findings("all")}
