"""Boot loops seen by structure: lines each layer (firmware, loader, kernel) prints once per start
(`once` format patterns: TF-A's stages, OpenSBI's and coreboot's banners, EDK II's ARM banner, the
EFI stub's lines, the x86 decompressor, the arm64 boot CPU line, FreeBSD's boot tag and loader banner,
illumos's SunOS banner, Windows' SAC greeting, Solo5's bindings, rumprun's bootstrap, Xen's and OpenBIOS's
banners, board firmware (Amlogic BL1, the Raspberry Pi boot loader, skiboot, CFE), U-Boot's TPL; OVMF loading
a boot option again (`once_per`); BusyBox init's "Requesting system reboot" restart line).

Each family both ways: one start, each layer printing its banner once in order, is ONE boot (and
no loop); the same start seen again on the console is a new boot, and three of them a
`boot.loop`, with no failure word on any line. Lines as the sources print them or as public
threads quote them (the format files cite each); a start assembled from two threads' lines says so.
"""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import serial_lines

#: search-index file 33124068446: OP-TEE's QEMU arm64 boot (TF-A v2.0 -> EDK2 -> EFI stub -> Linux 5.1)
ARM64 = [
    "NOTICE:  Booting Trusted Firmware",
    "NOTICE:  BL1: v2.0(release):v2.0-507-g34efb683e",
    "NOTICE:  BL1: Built : 23:58:18, Jul 17 2020",
    "NOTICE:  BL1: Booting BL2",
    "NOTICE:  BL2: v2.0(release):v2.0-507-g34efb683e",
    "NOTICE:  BL2: Built : 23:58:19, Jul 17 2020",
    "NOTICE:  BL1: Booting BL31",
    "NOTICE:  BL31: v2.0(release):v2.0-507-g34efb683e",
    "NOTICE:  BL31: Built : 23:58:22, Jul 17 2020",
    "UEFI firmware (version  built at 23:57:59 on Jul 17 2020)",
    "EFI stub: Booting Linux Kernel...",
    "EFI stub: Using DTB from configuration table",
    "EFI stub: Exiting boot services and installing virtual address map...",
    "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]",
    "[    0.000000] Linux version 5.1.0-00022-g9823b258b332 (root@zengjf) (gcc version 8.3.0 (GNU Toolchain for the"
    " A-profile Architecture 8.3-2019.03 (arm-rel-8.36))) #1 SMP PREEMPT Sat Jul 18 07:51:52 CST 2020",
    "[    0.000000] Machine model: linux,dummy-virt",
    "[    0.000000] Kernel command line: console=ttyAMA0,38400 keep_bootcon root=/dev/vda2 initrd=initrd",
    "[    2.820870] Run /init as init process",
]
#: search-index file 21351339224: OpenSBI v1.1 on QEMU riscv64 virt (its banner and platform lines)
OPENSBI = ["OpenSBI v1.1", "Platform Name             : riscv-virtio,qemu", "Platform HART Count       : 1",
           "Firmware Base             : 0x80000000"]
#: search-index file 56452863045: coreboot's stages on QEMU, ANSI stripped
COREBOOT = ["[NOTE ]  coreboot-e95bdb7eee0a ... x86_32 bootblock starting (log level: 7)...",
            "[NOTE ]  coreboot-e95bdb7eee0a ... x86_32 romstage starting ...",
            "[NOTE ]  coreboot-e95bdb7eee0a ... x86_32 ramstage starting ..."]
#: search-index file 8030129924: an x86 kernel booted with earlyprintk=serial, decompressor first
X86_DECOMPRESS = ["early console in setup code", "early console in extract_kernel",
                  "Decompressing Linux... Parsing ELF... done.", "Booting the kernel."]
#: FreeBSD's loader (copy/v86 issue 89) and its kernel's first lines (search-index file 19834116801)
FREEBSD = ["Consoles: serial port  ", "FreeBSD/x86 bootstrap loader, Revision 1.1",
           "---<<BOOT>>---", "Copyright (c) 1992-2021 The FreeBSD Project."]
#: search-index file 11110264109: OmniOS's loader handing over, then the kernel's banner
ILLUMOS = ["Loading unix...", "Booting...", "SunOS Release 5.11 Version omnios-master-c6cc2b6b38 64-bit",
           "Copyright (c) 1983, 2010, Oracle and/or its affiliates. All rights reserved."]
#: OVMF's boot manager (tests/qemu kit, ovmf-panic-reboot-loop line 1) then Windows' SAC greeting
#: (search-index file 8156210315, the SAC message table; the BdsDxe line is not from a Windows boot)
WINDOWS = ['BdsDxe: loading Boot0001 "UEFI QEMU HARDDISK QM00001 " from PciRoot(0x0)/Pci(0x1,0x1)/Ata(Primary,Master,0x0)',
           "Computer is booting, SAC started and initialized.",
           'Use the "ch -?" command for information about using channels.']
#: search-index file 42144724905: OpenBIOS on QEMU sparc32 handing a loaded kernel over
OPENBIOS = ["CPUs: 1 x TI,TMS390Z55", "UUID: 00000000-0000-0000-0000-000000000000",
            "Welcome to OpenBIOS v1.1 built on Dec 27 2018 19:17", "  Type 'help' for detailed information",
            "[sparc] Kernel already loaded", "switching to new context:", "PROMLIB: obio_ranges 1"]
#: search-index file 15993131118: U-Boot handing over to Xen on arm64, Xen's first lines
XEN = ["Starting kernel ...", " Xen 4.18.3",
       "(XEN) Xen version 4.18.3 (ryan@) (aarch64-linux-gnu-gcc (Ubuntu 13.2.0-23ubuntu4) 13.2.0) debug=n Fri Sep 27 22:52:12 EDT 2024",
       "(XEN) Latest ChangeSet: ", "(XEN) build-id: 8cd9a148444063cc4d6a62169a0866cf91705f4d"]

#: search-index file 22505554471: a Raspberry Pi 4's EEPROM boot loader, then its GPU firmware
RPI4 = ["RPi: BOOTLOADER release VERSION:817717 DATE: 2023/01/11 TIME: 17:40:52",
        "BOOTMODE: 0x06 partition 1 build-ts BUILD_TIMESTAMP=1673458852 serial c3656a7d boardrev d03114 stc 608563",
        "Starting start4.elf @ 0xfeb00200 partition 1"]
#: search-index file 25127651850: U-Boot resetting an Amlogic GXL board, its BL31 and BL1 starting over
AMLOGIC_RESET = ["resetting ...", "bl31 reboot reason: 0xd", "bl31 reboot reason: 0x0", "system cmd  1.",
                 "GXL:BL1:9ac50e:bb16dc;FEAT:ADFC318C:0;POC:3;RCY:0;EMMC:0;READ:0;0.0;CHK:0;"]
#: search-index file 13103238374: Broadcom CFE on a BCM947XX router
CFE = ["Decompressing..........done", "Decompressing..........done", "CFE version 1.0.37 for BCM947XX (32bit,SP,LE)",
       "Build Date: Thu May  3 14:43:11 CST 2007", "Copyright (C) 2000,2001,2002,2003 Broadcom Corporation."]

#: search-index file 48755410252: a Rockchip rk3399 board's TPL, SPL and U-Boot proper, one start
ROCKCHIP = ["U-Boot TPL 2019.07-rc1-00243-g3f0cad6bd2 (May 08 2019 - 11:29:32 +0530)", "Trying to boot from BOOTROM",
            "Returning to boot ROM...", "U-Boot SPL 2019.07-rc1-00243-g3f0cad6bd2 (May 08 2019 - 11:29:32 +0530)",
            "Trying to boot from MMC1"]


def _loops(a) -> set[str]:
    return {f.rule for f in a.capture_findings if f.category == "boot.loop"} | \
        {f.rule for b in a.boots for f in b.findings if f.category == "boot.loop"}


STARTS = {
    "arm64-tfa-edk2-linux": ARM64,
    "riscv-opensbi-then-linux": OPENSBI + ARM64[13:],  # OpenSBI's lines, then a kernel's (two threads)
    "coreboot-stages": COREBOOT,
    "coreboot-then-seabios-payload": COREBOOT + ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from Hard Disk..."],
    "x86-seabios-decompressor-linux": ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Probing EDD (edd=off to disable)... ok"]
    + X86_DECOMPRESS + serial_lines("qemu-fail-then-success")[60:70],
    "freebsd-loader-kernel": FREEBSD,
    "illumos-loader-kernel": ILLUMOS,
    "ovmf-windows-sac": WINDOWS,
    "openbios-sparc": OPENBIOS,
    "rpi4-bootloader-then-linux": RPI4 + ARM64[13:],  # the boot loader's lines, then a kernel's (two threads)
    "amlogic-bl1": AMLOGIC_RESET[4:] + ["TE: 36574", "BL2 Built : 15:21:18, Aug 28 2019. gxl g1bf2b53 - luan.yuan@droid15-sz"],
    "broadcom-cfe": CFE,
    "rockchip-tpl-spl": ROCKCHIP,
    "uboot-xen-arm64": ["U-Boot 2023.01-rc3 (Dec 16 2022 - 12:02:33 +0100)", "DRAM:  1 GiB"] + XEN,  # two threads
}


@pytest.mark.parametrize("name", sorted(STARTS))
def test_one_start_of_each_layer_is_one_boot(catalog, name):
    a = run_lines(catalog, STARTS[name])
    assert len(a.boots) == 1, name
    assert not _loops(a)


@pytest.mark.parametrize("name", sorted(STARTS))
def test_the_same_start_three_times_is_a_loop(catalog, name):
    a = run_lines(catalog, STARTS[name] * 3)
    assert len(a.boots) == 3, name
    assert "boot-loop" in _loops(a) and a.outcome == "failure"


@pytest.mark.parametrize("name", sorted(STARTS))
def test_the_same_start_twice_is_two_boots_and_no_loop(catalog, name):
    a = run_lines(catalog, STARTS[name] * 2)
    assert len(a.boots) == 2 and "boot-loop" not in _loops(a)


def test_a_firmware_banner_after_the_kernel_is_a_new_start(catalog):
    """TF-A's first line after the kernel ran: the machine started over, even with nothing of
    the first start repeated before it (a capture that began mid-boot)."""
    a = run_lines(catalog, ARM64[13:] + ARM64[:3])
    assert len(a.boots) == 2


def test_each_once_line_alone_three_times_is_a_loop(catalog):
    """What an excerpt or an annotation keeps of a loop: one start line per start."""
    for line in ["NOTICE:  BL31: v2.0(release):v2.0-507-g34efb683e", "OpenSBI v0.9",
                 "coreboot-4.15 Mon Oct  5 12:34:56 UTC 2023 romstage starting (log level: 8)...",
                 "UEFI firmware (version  built at 23:57:59 on Jul 17 2020)",
                 "EFI stub: Booting Linux Kernel...", "EFI stub: Loaded initrd from command line option",
                 "Decompressing Linux... Parsing ELF... done.",
                 "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]",
                 "---<<BOOT>>---", "SunOS Release 5.11 Version snv_111b 64-bit",
                 "Computer is booting, SAC started and initialized.",
                 "Solo5: Bindings version v0.4.1-208-g0f901b7", "rump kernel bare metal bootstrap",
                 "Requesting system reboot", OPENBIOS[2], XEN[2],
                 RPI4[0], AMLOGIC_RESET[4], CFE[2], "[45215870591,5] SkiBoot skiboot-5.0.1-94-gb759ce2 starting...",
                 ROCKCHIP[0]]:
        a = run_lines(catalog, [line] * 3)
        assert len(a.boots) == 3 and "boot-loop" in _loops(a), line


def test_different_stages_and_secondary_cpus_stay_one_boot(catalog):
    """BL1, BL2 and BL31 each print their version once; "BL1: Booting BL31" is no version line;
    arm64's secondaries print "CPUn: Booted secondary processor", not the boot CPU's line."""
    lines = ARM64 + ["[    0.251218] CPU1: Booted secondary processor 0x0000000001 [0x411fd070]",
                     "NOTICE:  BL1: Booting BL31"]
    assert len(run_lines(catalog, lines).boots) == 1


def test_busybox_reboot_announces_the_restart(catalog):
    """BusyBox init's last lines (search-index file 4527658732), the kernel's own restart line
    cut off: the next start is a restart the system asked for, not a reset nothing announced."""
    shutdown = ["The system is going down NOW!", "Sent SIGTERM to all processes", "Sent SIGKILL to all processes",
                "Requesting system reboot"]
    asked = run_lines(catalog, ARM64 + shutdown + ARM64)
    silent = run_lines(catalog, ARM64 + shutdown[:3] + ARM64)
    assert len(asked.boots) == len(silent.boots) == 2
    resets = [[f.rule for f in b.findings if f.rule == "reset-during-boot"] for b in (asked.boots[0], silent.boots[0])]
    assert resets == [[], ["reset-during-boot"]]


def test_healthy_samples_stay_one_boot(catalog):
    for case in ("qemu/healthy", "qemu-fail-then-success"):
        a = run_lines(catalog, serial_lines(case))
        assert len(a.boots) == (1 if case == "qemu/healthy" else 2), case


def test_hostile_start_lines_stay_bounded(catalog):
    line = "\x1b[2J\x00" * 200 + "NOTICE:  BL31: v2.0" + "\xff" * 3000
    a = run_lines(catalog, [line, "OpenSBI v1.1\x1b]0;x\x07", "---<<BOOT>>---" * 500] * 3)
    assert 1 <= len(a.boots) <= 9 and all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)


#: samples/qemu-ovmf-secure-boot-denied (lines 1-4): one start of OVMF's boot manager trying two options
OVMF_BDS = [x.strip("\r") for x in serial_lines("qemu-ovmf-secure-boot-denied")[:4]]


def test_ovmf_loading_two_options_is_one_start_and_the_same_option_again_a_new_one(catalog):
    assert len(run_lines(catalog, OVMF_BDS).boots) == 1
    a = run_lines(catalog, OVMF_BDS * 3)
    assert len(a.boots) == 3 and "boot-loop" in _loops(a)
    # what each start of a loop keeps when its boot loader resets before printing: the option it boots
    b = run_lines(catalog, [OVMF_BDS[2], OVMF_BDS[3]] * 3)
    assert len(b.boots) == 3 and "boot-loop" in _loops(b)


def test_amlogic_reset_by_uboot_then_bl1_again_is_the_next_boot(catalog):
    """U-Boot's "resetting ..." (a restart line), then the SoC's BL1 greeting: a new boot the system asked for."""
    uboot = ["U-Boot 2023.01-rc3 (Dec 16 2022 - 12:02:33 +0100)", "DRAM:  1 GiB"]
    a = run_lines(catalog, AMLOGIC_RESET[4:] + uboot + AMLOGIC_RESET + uboot)
    assert len(a.boots) == 2 and not [f for f in a.boots[0].findings if f.rule == "reset-during-boot"]


def test_once_per_must_name_a_group():
    from consolewatch.normalize.formats import parse_format

    doc = {"id": "x", "title": "x", "component": "firmware",
           "patterns": [{"id": "p", "regex": "BdsDxe: loading (?P<opt>Boot\\d+)", "once_per": "option"}],
           "samples": [{"line": "BdsDxe: loading Boot0001", "pattern": "p", "source": "test"}]}
    fmt, problems = parse_format(doc, "x.yaml")
    assert any("once_per" in str(p) for p in problems)
    doc["patterns"][0]["once_per"] = "opt"
    fmt, problems = parse_format(doc, "x.yaml")
    assert not problems and fmt is not None and fmt.patterns[0].once_per == "opt"
