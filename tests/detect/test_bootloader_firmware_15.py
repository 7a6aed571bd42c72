"""Boot loaders and firmware, round 15 (parsers/detectors/bootloader-firmware-15.yaml, the barebox
and shim-fallback formats, SeaBIOS's and GRUB's variants): lines from the format strings of
barebox's common/boot.c, commands/boot.c, common/bootm.c and common/partitions.c, shim's
fallback.c, EDK II's BdsDxe and ResetSystemRuntimeDxe, GRUB's script/execute.c, and SeaBIOS's
boot.c as QEMU's serial port shows it."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

BAREBOX = "barebox 2023.07.1 #1 Mon Jul 31 08:12:44 UTC 2023"
FALLBACK = ["System BootOrder not found.  Initializing defaults.", "Reset System"]
DISK = 'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0)'


def _rules(a, category=None):
    return {f.rule for f in a.findings() if category is None or f.category == category}


def test_barebox_entries_failing_with_nothing_loaded_is_a_boot_loader_error(catalog):
    a = run_lines(catalog, [BAREBOX, "Booting entry 'system0'", "Booting entry 'system0' failed: No such file or directory",
                            "Nothing bootable found"])
    assert "barebox-boot-failed" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"


def test_barebox_trying_the_next_entry_that_loads_is_no_failure(catalog):
    a = run_lines(catalog, [BAREBOX, "Booting entry 'system1' failed: No such file or directory", "Booting entry 'system0'",
                            "", "Loading ARM aarch64 Linux image '/mnt/mmc0.2/boot/Image'"])
    assert "barebox-boot-failed" not in _rules(a)


def test_barebox_handing_over_and_nothing_after_is_a_stall(catalog):
    a = run_lines(catalog, [BAREBOX, "Board: barebox EFI payload", "Booting entry 'system1'", "",
                            "Loading MS-DOS executable '/boot/bzImage'"])
    assert "stopped-at-handoff" in _rules(a, "boot.stall") and a.outcome == "stall"
    assert len(a.boots) == 1


def test_barebox_unable_to_read_the_disk_reports_and_decides_nothing(catalog):
    a = run_lines(catalog, [BAREBOX, "mmc0: Cannot read MBR/partition table: I/O error"])
    assert _rules(a, "boot.bootloader-error") == {"barebox-boot-disk-unreadable"} and a.outcome == "unknown"
    assert not _rules(run_lines(catalog, [BAREBOX, "mmc0: No partition table found"]), "boot.bootloader-error")


def test_shim_fallbacks_reset_that_never_comes_is_a_failure(catalog):
    a = run_lines(catalog, [DISK, *FALLBACK, "DXE ResetSystem2: ResetType Cold, Call Depth = 1."])
    assert _rules(a) >= {"shim-fallback-reset-unanswered"} and a.outcome == "failure"
    assert not _rules(a, "boot.stall")


def test_shim_fallbacks_reset_answered_by_the_next_start_is_two_boots(catalog):
    a = run_lines(catalog, [DISK, *FALLBACK, DISK, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0)'])
    assert len(a.boots) == 2
    assert "shim-fallback-reset-unanswered" not in {f.rule for b in a.boots for f in b.findings}


def test_a_shutdown_reset_type_is_no_restart(catalog):
    a = run_lines(catalog, [DISK, "DXE ResetSystem2: ResetType Shutdown, Call Depth = 1."])
    assert "reboot-never-reset" not in _rules(a)


def test_seabios_banner_split_and_a_two_dot_hand_off_are_read(catalog):
    # a build whose version string ends in a newline; QEMU's port losing the hand-off's third dot
    a = run_lines(catalog, ["SeaBIOS (version rel-1.12.1-0-ga5cab58-dirty-20200625_115407-9426dddc0a1f-zephyr", ")",
                            "Booting from ROM.."])
    assert "stopped-at-handoff" in _rules(a, "boot.stall") and a.outcome == "stall"
    # two dots followed by the kernel's own words: the next program printed, no hand-off stall
    b = run_lines(catalog, ["SeaBIOS (version zephyr-v1.0.0-0-g31d4e0e-dirty-20200714_234759-fv-az50-zephyr)",
                            "Booting from ROM..*** Booting Zephyr OS build zephyr-v2.5.0  ***", "Hello World! qemu_x86"])
    assert not _rules(b, "boot.stall")


def test_grub_without_the_entrys_kernel_loader_stops_the_entry(catalog):
    a = run_lines(catalog, ["Loading Linux 6.1.0-57-arm64 ...", "error: can't find command `linuxefi'.",
                            "Loading initial ramdisk ...", "error: can't find command `initrdefi'.", "",
                            "Press any key to continue..."])
    assert "grub-boot-entries-failed" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    b = run_lines(catalog, ["error: can't find command `setparams'.", "Press any key to continue..."])
    assert not _rules(b, "boot.bootloader-error")


def test_a_secure_boot_refusal_the_boot_manager_goes_on_after_decides_nothing(catalog):
    denied = 'BdsDxe: failed to load Boot0001 "UEFI Non-Block Boot Device" from PciRoot(0x0)/Pci(0x2,0x0): Access Denied'
    a = run_lines(catalog, [denied])
    assert "uefi-secure-boot-option-denied" in _rules(a) and a.outcome == "unknown"
    b = run_lines(catalog, [denied, "BdsDxe: No bootable option or device was found.",
                            "BdsDxe: Press any key to enter the Boot Manager Menu."])
    assert b.outcome == "failure" and "no-bootable-device" in _rules(b)


def test_hostile_bytes_in_barebox_lines_stay_inert(catalog):
    a = run_lines(catalog, [BAREBOX.encode(), b"Booting entry 'x\x1b]0;evil\x07' failed: \x00\xff" + b"A" * 70000,
                            b"Nothing bootable found"])
    assert "barebox-boot-failed" in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
