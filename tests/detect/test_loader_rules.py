"""Boot loaders and firmware that stop the boot (parsers/detectors/loaders.yaml), on real lines:
an error the boot did not go on past is a failure, the same error followed by the kernel is not;
a firmware that stops before any hand-off is a stall."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import serial_lines

SECURE_BOOT = "error: prohibited by secure boot policy."  # grub-core/kern/efi/sb.c, GRUB 2.06+
ANY_KEY = "Press any key to continue..."
SHIM = [  # search-index file 57066209550: shim on Ubuntu, the ESP damaged
    r"Failed to open \EFI\ubuntu\grubx64.efi - Volume Corrupt",
    r"Failed to load image \EFI\ubuntu\grubx64.efi - Volume Corrupt",
    "start_image() returned Volume Corrupt"]
#: search-index file 42693839174: a BeagleBone Black console's first lines
SPL = ["U-Boot SPL 2017.05-jumpnow (Jun 22 2017 - 19:16:50)", "Trying to boot from MMC1", "reading u-boot.img"]


def _rules(a, category: str) -> list[str]:
    return [f.rule for f in a.findings() if f.category == category]


def test_a_grub_error_the_boot_went_no_further_after_is_a_failure(catalog):
    a = run_lines(catalog, [SECURE_BOOT])
    assert _rules(a, "boot.bootloader-error") == ["grub-error-boot-went-no-further"] and a.outcome == "failure"
    assert a.findings()[0].fields["error"] == "prohibited by secure boot policy"
    # GRUB waiting for a key after a menu entry failed says the same, with or without the full stop
    for error in (SECURE_BOOT, SECURE_BOOT.rstrip(".")):
        waits = run_lines(catalog, [error, ANY_KEY])
        assert _rules(waits, "boot.bootloader-error") == ["grub-boot-entries-failed"]
        assert waits.outcome == "failure"


def test_the_same_grub_error_before_a_kernel_that_boots_is_harmless(catalog):
    a = run_lines(catalog, [SECURE_BOOT] + serial_lines("qemu/healthy"))
    assert a.outcome == "success" and not _rules(a, "boot.bootloader-error")


def test_a_grub_error_a_rule_of_its_own_names_is_reported_once(catalog):
    a = run_lines(catalog, serial_lines("qemu-grub-no-such-device"))
    rules = _rules(a, "boot.bootloader-error")
    assert rules and "grub-error-boot-went-no-further" not in rules


def test_shim_that_cannot_start_grub_is_a_failure_and_its_fallback_is_not(catalog):
    a = run_lines(catalog, SHIM)
    assert _rules(a, "boot.bootloader-error") == ["shim-loader-not-started"] and a.outcome == "failure"
    assert "Volume Corrupt" in a.findings()[0].remediation
    fell_back = run_lines(catalog, ["start_image() returned Invalid Parameter, falling back to default loader",
                                    "Welcome to GRUB!"])
    assert not _rules(fell_back, "boot.bootloader-error")


def test_a_boot_sector_with_no_os_to_start_is_a_failure(catalog):
    a = run_lines(catalog, ["Searching for Boot Record from IDE-0..OK", "Missing Operating System"])
    assert _rules(a, "boot.bootloader-error") == ["boot-sector-code-error"] and a.outcome == "failure"


def test_a_board_that_stops_in_its_boot_loader_stalled_and_one_that_hands_over_did_not(catalog):
    a = run_lines(catalog, SPL)
    assert _rules(a, "boot.stall") == ["stopped-inside-firmware"] and a.outcome == "stall"
    handed = run_lines(catalog, SPL + ["U-Boot 2023.01-rc3 (Dec 16 2022 - 12:02:33 +0100)", "Starting kernel ..."])
    assert "stopped-inside-firmware" not in [f.rule for f in handed.findings()]
    # a banner with the build date only (search-index file 15882509505) is still U-Boot's
    assert run_lines(catalog, ["U-Boot SPL 2025.10 (Nov 17 2025)", "Trying to boot from MMC1"]).outcome == "stall"


def test_hostile_bytes_in_a_grub_error_stay_bounded(catalog):
    junk = "error: " + "\x1b[31m\x00\xff" * 5000 + "x."
    a = run_lines(catalog, [junk, junk[:100] + "\x07.", ANY_KEY])
    assert all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)
    assert not any("\x1b" in e.text or "\x00" in e.text for f in a.findings("all") for e in f.evidence)


def test_nothing_after_uefi_started_a_boot_option_is_a_stall_not_a_silent_kernel(catalog):
    """What UEFI's boot manager starts prints through the firmware's console, this one: silence
    right after it is the boot stopping there. After the kernel's own first words the question is
    the kernel's console (console.silent), as before."""
    loading = 'BdsDxe: loading Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)'
    starting = 'BdsDxe: starting Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)'
    a = run_lines(catalog, [loading, starting])
    assert {f.category for f in a.findings()} == {"boot.stall"} and a.outcome == "stall"
    stub = run_lines(catalog, [loading, starting, "EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path"])
    assert "console.silent" in {f.category for f in stub.findings()}


def test_syslinux_modules_it_cannot_load_stop_the_boot_unless_a_kernel_loads_after(catalog):
    lines = ["Failed to load libcom32.c32", "Failed to load COM32 file vesamenu.c32"]  # search-index file 35561466143
    a = run_lines(catalog, lines)
    assert _rules(a, "boot.bootloader-error") == ["syslinux-module-not-loaded"] and a.outcome == "failure"
    assert "libcom32.c32" in a.findings()[0].remediation  # the library the menu needs, first
    healthy = serial_lines("qemu/healthy")
    assert not _rules(run_lines(catalog, lines + healthy), "boot.bootloader-error")


def test_windows_boot_manager_error_screen_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, ["Windows failed to start. A recent hardware or software change might be the cause.",
                            "", r"File: \Boot\BCD", "Status 0xc0000225"])  # search-index file 57038974847
    assert _rules(a, "boot.bootloader-error") == ["windows-boot-manager-failed"] and a.outcome == "failure"


def test_uefi_loading_a_boot_option_it_never_starts_stalled(catalog):
    loading = 'BdsDxe: loading Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)'
    a = run_lines(catalog, [loading])
    assert _rules(a, "boot.stall") == ["stopped-loading-boot-option"] and a.outcome == "stall"
    # a later boot of the capture (its console worked before) is only cut off there
    restart = "[    3.484065] reboot: Restarting system"  # samples/qemu-first-boot-reboot-then-ready
    later = run_lines(catalog, serial_lines("qemu/healthy") + [restart, loading])
    assert "stopped-loading-boot-option" not in [f.rule for f in later.findings("all")]


def test_an_ipxe_error_nothing_booted_after_is_a_boot_loader_failure(catalog):
    # search-index file 6723046103: an iPXE download that timed out
    lines = ["http://10.219.169.112/ttbd-pos/x86_64/vmlinuz-tcf-live..................",
             "Connection timed out (http://ipxe.org/4c0a6092)"]
    a = run_lines(catalog, lines)
    assert _rules(a, "boot.bootloader-error") == ["ipxe-error-then-nothing"] and a.outcome == "failure"
    assert "https://ipxe.org/4c0a6092" in a.findings()[0].remediation
    went_on = run_lines(catalog, lines + serial_lines("qemu/healthy"))
    assert not _rules(went_on, "boot.bootloader-error")
