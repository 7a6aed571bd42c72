"""Boot loaders and firmware, round 18 (parsers/detectors/bootloader-families-18.yaml and the rules it
widened): lines from the format strings of FreeBSD's btx.S and gptboot.c, U-Boot's boot/image-fdt.c,
boot/bootm.c and arch/arm/lib/bootm.c, the NT boot sector and the Bochs BIOS, the kernel's EFI stub
(drivers/firmware/efi/libstub) and decompressors, and GCE's UEFI firmware."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

SEABIOS = ["SeaBIOS (version 1.16.0-debian-1.16.0-5)", "Booting from Hard Disk..."]
GCE_UEFI_FAILED = ["UEFI: Failed to load image.", "", "Description: UEFI Google PersistentDisk ", "",
                   "FilePath: PciRoot(0x0)/Pci(0x3,0x0)/Scsi(0x1,0x0)", "", "OptionNumber: 1.", "", "Status: Not Found."]
UEFI_START = ['BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)',
              'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)',
              "EFI stub: Booting Linux Kernel..."]


def _rules(a, category=None):
    return {f.rule for f in a.findings() if category is None or f.category == category}


def test_freebsd_btx_fault_dump_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, [*SEABIOS, "BTX loader 1.00  BTX version is 1.02", "Consoles: internal video/keyboard",
                            "int=0000000d  err=00000000  efl=00000246  eip=001f6026",
                            "eax=00000000  ebx=000923b8  ecx=00028df6  edx=00000000", "BTX halted"])
    assert "freebsd-btx-halted" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert not _rules(a, "boot.stall")


def test_btx_banner_and_the_words_in_a_sentence_are_no_failure(catalog):
    a = run_lines(catalog, ["BTX loader 1.00  BTX version is 1.02",
                            "DOH! I'm getting the BTX halted error, caused by BIOS doing bad stuff."])
    assert "freebsd-btx-halted" not in _rules(a)


def test_gptboot_finding_no_loader_stops_at_its_prompt_unless_the_loader_starts(catalog):
    stuck = ["gptboot: No /boot/loader on 0:ad(0p2)", "gptboot: No /boot/kernel/kernel on 0:ad(0p2)", "",
             "FreeBSD/x86 boot", "Default: 0:ad(0p2)/boot/kernel/kernel", "boot:"]
    a = run_lines(catalog, stuck)
    assert "freebsd-boot-blocks-found-no-loader" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    b = run_lines(catalog, ["gptboot: No /boot/loader on 0:ad(0p2)", "Consoles: internal video/keyboard",
                            "FreeBSD/x86 bootstrap loader, Revision 1.1"])
    assert "freebsd-boot-blocks-found-no-loader" not in _rules(b)


def test_uboot_without_a_device_tree_for_the_kernel_fails_the_boot(catalog):
    a = run_lines(catalog, ["U-Boot 2021.01 (Jan 11 2021 - 18:11:43 +0000)", "DRAM:  1 GiB", "Working FDT set to 0",
                            "   Loading Kernel Image", "FDT and ATAGS support not compiled in", "", "resetting ..."])
    assert "uboot-kernel-image-rejected" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    b = run_lines(catalog, ["ERROR: image is not a fdt - must RESET the board to recover."])
    assert "uboot-kernel-image-rejected" in _rules(b)
    c = run_lines(catalog, ["ERROR: reserving fdt memory region failed (addr=9e000000 size=2000000 flags=4)"])
    assert "uboot-kernel-image-rejected" not in _rules(c)


def test_boot_sector_and_bios_last_words_name_no_operating_system(catalog):
    for lines in (["NTLDR is missing", "Press Ctrl+Alt+Del to restart"],
                  ["A disk read error occurred", "Press Ctrl+Alt+Del to restart"],
                  ["An operating system wasn't found. Try disconnecting any drives that don't contain an operating system."],
                  ["FATAL: INT18: BOOT FAILURE"]):
        a = run_lines(catalog, lines)
        assert "bios-no-operating-system" in _rules(a, "boot.bootloader-error") and a.outcome == "failure", lines
    quoted = run_lines(catalog, ["when I select vista it says NTLDR is missing. press alt+ ctrl+ del to restart"])
    assert "bios-no-operating-system" not in _rules(quoted)


def test_efi_stub_error_with_nothing_after_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, [*UEFI_START, "EFI stub: ERROR: Unable to construct new device tree."])
    assert "efi-stub-error-boot-went-no-further" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert not _rules(a, "boot.stall")


def test_efi_stub_warning_the_boot_goes_on_after_is_no_failure(catalog):
    a = run_lines(catalog, [*UEFI_START, "EFI stub: ERROR: FIRMWARE BUG: kernel image not aligned on 64k boundary",
                            "EFI stub: Using DTB from configuration table", "EFI stub: Exiting boot services..."])
    assert "efi-stub-error-boot-went-no-further" not in _rules(a)


def test_gce_uefi_failing_to_load_the_disks_loader_is_named(catalog):
    a = run_lines(catalog, GCE_UEFI_FAILED, cloud="gce")
    assert "gce-uefi-boot-option-failed" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert any("Shielded" in (f.remediation or "") for f in a.findings() if f.rule == "gce-uefi-boot-option-failed")
    b = run_lines(catalog, [*GCE_UEFI_FAILED, "UEFI: Attempting to start image.", "Description: ubuntu"], cloud="gce")
    assert "gce-uefi-boot-option-failed" not in _rules(b)


def test_kernel_decompressor_then_silence_is_a_stall_at_the_hand_off(catalog):
    a = run_lines(catalog, [*SEABIOS, "Probing EDD (edd=off to disable)... ok",
                            "Decompressing Linux... Parsing ELF... done.", "Booting the kernel."])
    assert "stopped-at-handoff" in _rules(a, "boot.stall") and a.outcome == "stall"
    b = run_lines(catalog, ["U-Boot 2013.10 (Oct 01 2013 - 00:00:00)", "Starting kernel ...", "",
                            "Uncompressing Linux... done, booting the kernel."])
    assert "stopped-at-handoff" in _rules(b, "boot.stall") and b.outcome == "stall"
    c = run_lines(catalog, ["Starting kernel ...", "", "Uncompressing Linux... done, booting the kernel.",
                            "[    0.000000] Booting Linux on physical CPU 0x0",
                            "[    0.000000] Linux version 4.4.0 (x@y) (gcc version 5.4.0) #1 SMP"])
    assert "stopped-at-handoff" not in _rules(c) and len(c.boots) == 1


def test_hostile_bytes_around_the_new_rules_words_stay_inert(catalog):
    a = run_lines(catalog, [b"BTX halted\x1b]0;evil\x07\x00",
                            b"EFI stub: ERROR: Unable to construct \x07new device tree.\x1b]0;evil\x07\x9b31m" + b"A" * 70000,
                            b"UEFI: Failed to load image.\x1b[?1049h\x00"])
    assert {"freebsd-btx-halted", "efi-stub-error-boot-went-no-further"} <= {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)


def test_uboot_autoboot_that_returns_to_its_prompt_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, [b"U-Boot 2022.10 (Mar 11 2024 - 15:35:34 +0800)", b"DRAM:  4 GiB",
                            b"Hit any key to stop autoboot:  2 \b\b\b 1 \b\b\b 0 ", b"BOOTP broadcast 1",
                            b"TFTP error: 'Access violation' (2)", b"Not retrying...", b"=> "])
    assert "uboot-autoboot-returned-to-prompt" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    for stopped_by_hand in ([b"Hit any key to stop autoboot:  2 ", b"=> "],
                            [b"Hit any key to stop autoboot:  0 ", b"=> ", b"=> setenv ethaddr 02:00:00:00:00:01"]):
        assert "uboot-autoboot-returned-to-prompt" not in _rules(run_lines(catalog, stopped_by_hand))
    booted_by_hand = run_lines(catalog, ["Hit any key to stop autoboot:  0 ", "=> ", "=> booti 0x40400000 - 0x40000000",
                                         "Starting kernel ...", "",
                                         "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]",
                                         "[    0.000000] Linux version 6.1.0 (x@y) (gcc 12) #1 SMP"])
    assert "uboot-autoboot-returned-to-prompt" not in _rules(booted_by_hand)


def test_grub_menu_with_no_countdown_at_the_end_is_a_stall(catalog):
    menu = [*SEABIOS, "                             GNU GRUB  version 2.06", "",
            " +----------------------------------------------------------------------------+",
            " |*Ubuntu                                                                     |",
            " +----------------------------------------------------------------------------+", "",
            "      Use the ^ and v keys to select which entry is highlighted.",
            "      Press enter to boot the selected OS, `e' to edit the commands",
            "      before booting or `c' for a command-line."]
    a = run_lines(catalog, menu)
    assert "grub-menu-waiting-for-a-key" in _rules(a, "boot.stall") and a.outcome == "stall"
    counting = run_lines(catalog, [*menu, "   The highlighted entry will be executed automatically in 4s."])
    assert "grub-menu-waiting-for-a-key" not in _rules(counting)
    booted = run_lines(catalog, [*menu, "  Booting `Ubuntu'", "", "Loading Linux 5.15.0-91-generic ..."])
    assert "grub-menu-waiting-for-a-key" not in _rules(booted)


def test_ipxe_that_downloaded_the_kernel_and_then_nothing_stopped_at_the_hand_off(catalog):
    a = run_lines(catalog, ["iPXE initialising devices...ok", "net0: 192.168.122.216/255.255.255.0 gw 192.168.122.1",
                            "http://192.168.122.1:8000/vmlinuz... ok", "http://192.168.122.1:8000/initrd.img... ok"])
    assert "stopped-at-handoff" in _rules(a, "boot.stall") and a.outcome == "stall"
    b = run_lines(catalog, ["iPXE initialising devices...ok", "http://192.168.122.1:8000/vmlinuz... ok",
                            "http://192.168.122.1:8000/initrd.img... ok", "Probing EDD (edd=off to disable)... ok",
                            "[    0.000000] Linux version 6.1.0 (x@y) (gcc 12) #1 SMP"])
    assert "stopped-at-handoff" not in _rules(b) and len(b.boots) == 1


def test_qemu_without_its_firmware_image_never_starts_the_guest(catalog):
    for line in ("qemu: could not load PC BIOS 'bios-256k.bin'",
                 'qemu-system-riscv64: Unable to load the RISC-V firmware "../bootloader/rustsbi-qemu.bin"',
                 "qemu-system-ppc64: Could not find LPAR firmware 'slof.bin'"):
        a = run_lines(catalog, [line])
        assert "qemu-firmware-not-loaded" in _rules(a, "boot.bootloader-error") and a.outcome == "failure", line
    assert not run_lines(catalog, ["char device redirected to /dev/pts/2 (label serial3)"]).findings()


def test_syslinux_6_failing_to_load_the_kernel_waits_at_its_prompt(catalog):
    a = run_lines(catalog, ["SYSLINUX 6.04 EDD 20191223 Copyright (C) 1994-2015 H. Peter Anvin et al",
                            "Loading /vmlinuz... failed: No such file or directory", "boot: "])
    assert "syslinux-nothing-to-boot" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    b = run_lines(catalog, ["Loading /vmlinuz... ok", "Loading /initrd.img...ok", "Probing EDD (edd=off to disable)... ok",
                            "[    0.000000] Linux version 6.1.0 (x@y) (gcc 12) #1 SMP"])
    assert "syslinux-nothing-to-boot" not in _rules(b)
