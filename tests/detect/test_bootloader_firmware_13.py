"""Boot loaders and firmware that stop with words no older rule read
(parsers/detectors/bootloader-firmware-13.yaml) and rust-hypervisor-firmware's start line as a
boot boundary: a console that ends in one of them is decided, and the same line followed by a
kernel decides nothing. Lines as the sources print them (GRUB grub-core/kern/mm.c and misc.c,
OpenBIOS forth/admin/userboot.fs, Xen tools/firmware/hvmloader/util.c, shim.c, OpenBSD
sys/stand/boot/boot.c, rust-hypervisor-firmware src/main.rs) or as public posts quote them; the
hostile-bytes checks follow tests/detect/test_hostile_12.py."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, serial_lines

PAD = b"A" * 70000

#: http://lists.alioth.debian.org/pipermail/pkg-grub-devel/2009-August/007634.html
GRUB_ABORT = ["unaligned pointer 0x700ba", "Aborted. Press any key to exit.Operating system not found"]
#: search-index file id 17268334499 (QEMU sparc32, OpenBIOS tried its disks)
OPENBIOS = ["Welcome to OpenBIOS v1.1 built on May 4 2022 19:50", "Trying disk:a...", "Trying disk...",
            "Not a bootable ELF image", "Not a bootable a.out image",
            "No valid state has been set by load or init-program", "", "0 > "]
#: search-index file id 35214119661 (a xen-devel post, Xen 4.13)
HVMLOADER = ["(d9) Loading SeaBIOS ...", "(d9) no BIOS ROM image found", "(d9) *** HVMLoader bug at hvmloader.c:394",
             "(d9) *** HVMLoader crashed."]
#: search-index file id 43721227243 (a Linux Mint boot USB without MokManager)
SHIM_MOK = ["Failed to open \\EFI\\BOOT\\mmx64.efi - Not Found", "Failed to load image \\EFI\\BOOT\\mmx64.efi: Not Found",
            "Failed to start MokManager: Not Found"]


def _rules(a, category: str, which: str = "last") -> list[str]:
    """The rules that found `category`, each once (a rule fires on each line it reads)."""
    return sorted({f.rule for f in a.findings(which) if f.category == category})


def test_grub_heap_corruption_abort_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, GRUB_ABORT)
    assert _rules(a, "boot.bootloader-error") == ["grub-fatal-abort"] and a.outcome == "failure"
    assert a.findings()[0].fields["fatal"] == "unaligned pointer 0x700ba"
    newer = run_lines(catalog, ["Booting a command list", "", "alloc magic is broken at 0x80d3bbc0: 80c844c0",
                                "Aborted. Press any key to exit."])
    assert _rules(newer, "boot.bootloader-error") == ["grub-fatal-abort"] and newer.outcome == "failure"


def test_grub_abort_then_a_kernel_from_the_next_boot_option_decides_nothing(catalog):
    a = run_lines(catalog, GRUB_ABORT[:1] + ["Aborted. Press any key to exit."] + serial_lines("qemu/healthy"))
    assert not _rules(a, "boot.bootloader-error", "all") and a.outcome == "success"


def test_openbios_with_nothing_to_boot_fails_and_a_boot_typed_at_its_prompt_goes_on(catalog):
    a = run_lines(catalog, OPENBIOS)
    assert _rules(a, "boot.bootloader-error") == ["openbios-nothing-to-boot"] and a.outcome == "failure"
    typed = run_lines(catalog, OPENBIOS[:-1] + ["0 > boot cdrom:d Not a bootable ELF image", "Loading a.out image...",
                                                "Loaded 7680 bytes", "entry point is 0x4000",
                                                "switching to new context:"])
    assert not _rules(typed, "boot.bootloader-error", "all")


def test_hvmloader_crash_is_a_firmware_failure(catalog):
    a = run_lines(catalog, HVMLOADER)
    assert _rules(a, "boot.bootloader-error") == ["hvmloader-crashed"] and a.outcome == "failure"
    f = a.findings()[0]
    assert (f.fields["file"], f.fields["lineno"]) == ("hvmloader.c", "394")


def test_shim_without_mokmanager_is_a_boot_loader_failure_not_a_unit(catalog):
    a = run_lines(catalog, SHIM_MOK)
    assert "shim-mokmanager-not-started" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert not _rules(a, "init.unit-failed")
    # systemd's own wording still reads as a unit that failed
    unit = run_lines(catalog, ["[FAILED] Failed to start Load Kernel Modules."])
    assert _rules(unit, "init.unit-failed")


def test_openbsd_boot_that_could_not_load_a_kernel(catalog):
    a = run_lines(catalog, [">> OpenBSD/amd64 BOOT 3.47", "booting hd0a:/bsd:  failed(2). will try /bsd",
                            "Turning timeout off.", "boot> "])
    assert _rules(a, "boot.bootloader-error") == ["openbsd-boot-kernel-load-failed"] and a.outcome == "failure"
    assert a.findings()[0].fields["errno"] == "2"


def test_rust_hypervisor_firmware_starting_again_is_a_new_boot(catalog):
    boot = ["Booting with PVH Boot Protocol", "Virtio block device configured. Capacity: 4612096 sectors",
            "Found EFI partition", "Found bootloader (BOOTX64.EFI)", "error: no such device: root.", ""]
    a = run_lines(catalog, boot + ["Booting with PVH Boot Protocol", "Setting up 4 GiB identity mapping"])
    assert len(a.boots) == 2
    assert "reboot-after-failure" in {f.rule for f in a.capture_findings}
    one = run_lines(catalog, boot)
    assert len(one.boots) == 1 and not one.capture_findings



def test_syslinux_missing_ramdisk_or_memory_is_a_boot_loader_failure(catalog):
    # search-index file id 56854954789: a Remastersys ISO whose initrd was not where isolinux.cfg says
    a = run_lines(catalog, ["ISOLINUX 4.01 debian-20110110  Copyright (C) 1994-2010 H. Peter Anvin et al",
                            "Could not find ramdisk image: /ubninit", "boot: "])
    assert _rules(a, "boot.bootloader-error") == ["syslinux-nothing-to-boot"] and a.outcome == "failure"
    assert a.findings()[0].fields["initrd"] == "/ubninit"
    # the person typed another label at boot: and a kernel started
    typed = run_lines(catalog, ["Could not find ramdisk image: /ubninit", "boot: live"] + serial_lines("qemu/healthy"))
    assert not _rules(typed, "boot.bootloader-error", "all")


def test_uboot_extlinux_label_that_could_not_read_its_kernel(catalog):
    # search-index file id 68667296373: U-Boot's extlinux menu, the label's kernel unreadable
    lines = ["U-Boot 2024.01 (Jan 08 2024 - 15:37:48 +0000)", "Retrieving file: /extlinux/extlinux.conf",
             "Retrieving file: /godspeed-riscv64-visionfive.img",
             "Failed to load '/godspeed-riscv64-visionfive.img'", "Skipping godspeed for failure retrieving kernel"]
    a = run_lines(catalog, lines)
    assert _rules(a, "boot.bootloader-error") == ["uboot-distro-boot-exhausted"] and a.outcome == "failure"
    assert a.findings()[0].fields["what"] == "kernel"
    # the next label booted
    went_on = run_lines(catalog, [*lines, "Retrieving file: /Image", "Starting kernel ..."])
    assert not _rules(went_on, "boot.bootloader-error", "all")


def test_slof_greeting_again_is_a_new_boot(catalog):
    # search-index file id 3220466156 (SLOF's greeting); a pseries guest reset before its kernel printed
    slof = ["SLOF **********************************************************************", "QEMU Starting"]
    a = run_lines(catalog, [*slof, " Build Date = Jul 17 2020 11:15:24", *slof, " Build Date = Jul 17 2020 11:15:24"])
    assert len(a.boots) == 2


def test_pygrub_that_found_no_kernel_is_the_toolstack_boot_loader_failing(catalog):
    # search-index file id 10994273776: pygrub's traceback as xl create -c shows it
    a = run_lines(catalog, ["Traceback (most recent call last):",
                            '  File "/usr/lib/xen-4.4/bin/pygrub", line 838, in <module>',
                            '    raise RuntimeError, "Unable to find partition containing kernel"',
                            "RuntimeError: Unable to find partition containing kernel"])
    assert _rules(a, "boot.bootloader-error") == ["xen-toolstack-bootloader-failed"] and a.outcome == "failure"


def test_the_jump_into_a_crash_kernel_is_a_restart_the_system_asked_for(catalog):
    # search-index file id 4041080641 (arm64): the panic, then machine_crash_shutdown()'s line
    a = run_lines(catalog, ["[    0.000000] Linux version 6.1.0-27-arm64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP",
                            "[  194.900000] Kernel panic - not syncing: Oops: Fatal exception in interrupt",
                            "[  194.911821] SMP: stopping secondary CPUs", "[  194.912168] Starting crashdump kernel...",
                            "[  194.912171] Bye!",
                            "[    0.000000] Linux version 6.1.0-27-arm64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP"])
    assert len(a.boots) == 2
    assert not any(f.rule == "reset-during-boot" for b in a.boots for f in b.findings)


def test_uboot_standard_boot_that_found_nothing_valid(catalog):
    # search-index file id 69146614474: U-Boot 2025.04 on QEMU virt with no kernel
    a = run_lines(catalog, ["U-Boot 2025.04-rc3-00014-gb78f8677cde8 (Feb 28 2025 - 17:52:30 +0800)",
                            "Scanning for bootflows in all bootdevs", "No more bootdevs", "(0 bootflows, 0 valid)", "=> "])
    assert _rules(a, "boot.bootloader-error") == ["uboot-distro-boot-exhausted"] and a.outcome == "failure"
    found = run_lines(catalog, ["U-Boot 2025.04-rc3-00014-gb78f8677cde8 (Feb 28 2025 - 17:52:30 +0800)",
                                "(1 bootflow, 1 valid)"])
    assert not _rules(found, "boot.bootloader-error")


def test_the_older_efi_shell_after_nothing_booted(catalog):
    # search-index file id 57162540152: VirtualBox's EFI firmware with no bootable disk
    a = run_lines(catalog, ["EFI Shell version 2.10 [1.1]", "Current running mode 1.1.2", "Device mapping table",
                            "Shell>"])
    assert _rules(a, "boot.bootloader-error") == ["uefi-shell-fallback"] and a.outcome == "failure"


def test_isolinux_first_sector_errors_are_boot_sector_failures(catalog):
    # search-index file id 57078671650: a live CD whose ISOLINUX found its image damaged
    a = run_lines(catalog, ["Booting from DVD/CD...", "ISOLINUX 3.11 Debian-2006-03-16 isolinux: Image checksum error, sorry...",
                            "", "Boot Failed: press a key to retry."])
    assert "boot-sector-code-error" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"


def test_windows_recovery_screen_is_the_boot_manager_failing(catalog):
    # https://keyliner.blogspot.com/2016/12/your-pcdevice-needs-to-be-repaired-uefi.html
    a = run_lines(catalog, ["Your PC/Device needs to be repaired.  The Boot Configuration Data file is missing some "
                            "required information.", "File: \\BCD", "Error Code: 0xc000000d"])
    assert _rules(a, "boot.bootloader-error") == ["windows-boot-manager-failed"] and a.outcome == "failure"


def test_uboot_spl_with_no_boot_device_is_a_boot_loader_failure_and_its_hang_the_symptom(catalog):
    # search-index file id 68708357264: an H728 board's SPL unable to read U-Boot proper
    a = run_lines(catalog, ["U-Boot SPL 2025.01-h728-emmc-v3 (Sep 09 2026 - 02:34:51 +0000)", "DRAM: 4096 MiB",
                            "Trying to boot from MMC2", "mmc_load_image_raw_sector: mmc block read error", "Error: -38",
                            "SPL: failed to boot from all boot devices", "### ERROR ### Please RESET the board ###"])
    assert {f.rule for f in a.findings()} == {"uboot-spl-no-boot-device"} and a.outcome == "failure"
    # a hang with no failure read before it is still a stall
    alone = run_lines(catalog, ["reset not supported yet", "### ERROR ### Please RESET the board ###"])
    assert {f.rule for f in alone.findings()} == {"uboot-hang"} and alone.outcome == "stall"


def test_opensbi_that_could_not_initialise_is_a_firmware_failure(catalog):
    # OpenSBI lib/sbi/sbi_init.c init_coldboot(): "%s: ipi init failed (error %d)"
    a = run_lines(catalog, ["OpenSBI v1.3", "init_coldboot: ipi init failed (error -3)"])
    assert _rules(a, "boot.bootloader-error") == ["opensbi-init-failed"] and a.outcome == "failure"
    assert a.findings()[0].fields["what"] == "ipi init"


def test_an_efi_stub_that_gave_up_is_a_boot_loader_failure(catalog):
    # search-index file id 53935750887: the stub could not decompress the kernel, GRUB reports it
    a = run_lines(catalog, ["EFI stub: ERROR: Failed to decompress kernel", "EFI stub: ERROR: efi_stub_entry() failed!",
                            "error: start_image() returned 0x8000000000000001."])
    assert "efi-stub-failed" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    # the arm64 stub's alignment complaint is no failure: the kernel goes on
    ok = run_lines(catalog, ["EFI stub: ERROR: FIRMWARE BUG: kernel image not aligned on 64k boundary",
                             "EFI stub: Exiting boot services...",
                             "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]"])
    assert not _rules(ok, "boot.bootloader-error", "all")


def test_freebsd_zfs_boot_blocks_without_a_pool(catalog):
    # FreeBSD stand/i386/zfsboot/zfsboot.c: BOOTPROG's message, then it spins
    a = run_lines(catalog, ["gptzfsboot: No ZFS pools located, can't boot"])
    assert _rules(a, "boot.bootloader-error") == ["freebsd-zfsboot-no-pool"] and a.outcome == "failure"


def test_a_uefi_boot_option_that_returned_with_nothing_after_it(catalog):
    # search-index file id 55611162686: bootmgr's key prompt timed out; then the shell (or nothing)
    lines = ['BdsDxe: starting Boot0001 "UEFI QEMU QEMU USB HARDDRIVE 1-0000:00:01.0-1"',
             "Error: Image at 001BC344000 start failed: Time out",
             'BdsDxe: failed to start Boot0001 "UEFI QEMU QEMU USB HARDDRIVE 1-0000:00:01.0-1": Time out']
    a = run_lines(catalog, lines)
    assert "uefi-boot-option-returned" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert next(f for f in a.findings() if f.rule == "uefi-boot-option-returned").fields["reason"] == "Time out"
    shell = run_lines(catalog, [*lines, "UEFI Interactive Shell v2.2", "Shell>"])
    assert "uefi-boot-option-returned" not in _rules(shell, "boot.bootloader-error")


def test_mcuboot_with_no_valid_image(catalog):
    # search-index file id 56819239670: an application linked for the wrong partition
    a = run_lines(catalog, ["E: Image in the primary slot is not valid!", "E: Unable to find bootable image"])
    assert _rules(a, "boot.bootloader-error") == ["mcuboot-no-bootable-image"] and a.outcome == "failure"


def test_an_ovmf_debug_builds_first_line_again_is_a_new_boot(catalog):
    # search-index file id 37865117654: OVMF's SEC greeting, once per start of the firmware
    sec = "SecCoreStartupWithStack(0xFFFCC000, 0x820000)"
    a = run_lines(catalog, [sec, "Platform PEIM Loaded", sec, "Platform PEIM Loaded"])
    assert len(a.boots) == 2


def test_rust_hypervisor_firmware_that_could_not_load_its_entrys_kernel(catalog):
    # rust-hypervisor-firmware src/main.rs: "Error loading default entry: {:?}"
    a = run_lines(catalog, ["Booting with PVH Boot Protocol", "Error loading default entry: BzImageError(MagicMissing)",
                            "Using EFI boot."])
    assert "rhf-default-entry-kernel-not-loaded" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    # no BLS entries on the disk: the EFI fallback's routine first line
    ok = run_lines(catalog, ["Error loading default entry: File(NotFound)", "Using EFI boot."])
    assert not _rules(ok, "boot.bootloader-error", "all")

HOSTILE = [
    ("grub-fatal-abort", [b"alloc magic is broken at 0x3f3b4590\x1b]0;evil\x07\x00\xff" + PAD,
                          b"Aborted. Press any key to exit.\x1b[2J"]),
    ("openbios-nothing-to-boot", [b"No valid state has been set by load or init-program\x1b[31m\x00\xff" + PAD]),
    ("hvmloader-crashed", [b"(d9) *** HVMLoader bug at hvm\x1b]52;c;ZXZpbA==\x07loader.c:394\x00\xff" + PAD]),
    ("shim-mokmanager-not-started", [b"Failed to start MokManager: Not \x1b]8;;http://x\x07Found\x00\xff" + PAD]),
    ("openbsd-boot-kernel-load-failed", [b"booting hd0a:/bsd:  failed(2). will try /\x1b[5mbsd\x00\xff" + PAD]),
    ("syslinux-nothing-to-boot", [b"Could not find ramdisk image: /\x1b]0;evil\x07initrd\x00\xff" + PAD]),
    ("opensbi-init-failed", [b"init_coldboot: \x1b[31mipi\x00 init failed (error -3)\xff" + PAD]),
    ("uefi-shell-fallback", [b"EFI Shell version 2.31 [\x1b]0;evil\x07 4.653]\x00\xff" + PAD]),
    ("uboot-distro-boot-exhausted", [b"Skipping \x1b[31mgodspeed\x00 for failure retrieving kernel\xff" + PAD]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_bytes_in_the_round_13_boot_loader_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, lines)
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
