"""Firmware crashes and bhyve's VM managers, round 17 (parsers/detectors/firmware-crashes-17.yaml,
parsers/detectors/vm-managers-17.yaml): lines from the format strings of vm-bhyve's lib/vm-run,
bhyve's bhyverun.c, TF-A's common/aarch64/debug.S and bl31/aarch64/crash_reporting.S and its
platforms' External Abort handlers, OP-TEE's core/kernel/panic.c and ldelf, and U-Boot's
arch/arm/lib/interrupts.c."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

VMB_START = ["Mar 02 10:14:01: booting", "Mar 02 10:14:01: starting bhyve (run 1)"]
VMB_REBOOT = ["Mar 02 10:15:06: bhyve exited with status 0", "Mar 02 10:15:06: restarting"]
ATA = ["[    5.100000] ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)",
       "[    5.300000] ata1.00: 7814037168 sectors, multi 0: LBA48 NCQ (depth 32), AA"]
EA = ["ERROR:   Unhandled External Abort received on 0x80000000 at EL3!",
      "ERROR:    exception reason=1 syndrome=0x92000210", "PANIC at PC : 0x00000000040273bc"]


def _rules(a, category=None):
    return {f.rule for f in a.findings() if category is None or f.category == category}


def test_vm_bhyve_loader_failing_on_the_restart_stops_the_guest(catalog):
    a = run_lines(catalog, [*VMB_START, *VMB_REBOOT, "Mar 02 10:15:07: fatal; loader returned error 1",
                            "Mar 02 10:15:07: stopped"])
    assert "vm-bhyve-loader-failed" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert not _rules(a, "boot.loop")


def test_vm_bhyve_guest_that_rebooted_and_started_again_is_no_failure(catalog):
    a = run_lines(catalog, [*VMB_START, *VMB_REBOOT, "Mar 02 10:15:10: starting bhyve (run 2)"])
    assert not _rules(a, "boot.bootloader-error")


def test_vm_bhyve_without_its_uefi_firmware_never_starts(catalog):
    a = run_lines(catalog, ["Jan 11 09:00:01: initialising", "Jan 11 09:00:01:  [loader: uefi]",
                            "Jan 11 09:00:01: fatal; unable to locate firmware /usr/local/share/uefi-firmware/BHYVE_UEFI.fd"])
    assert "vm-bhyve-firmware-missing" in _rules(a) and a.outcome == "failure"


def test_bhyve_aborting_on_an_instruction_it_cannot_emulate_ends_the_guest(catalog):
    a = run_lines(catalog, ["Booting from Hard Disk...", "Failed to emulate instruction sequence [ 0f01f8 ] at 0xffffffff8103a4b2"])
    assert "bhyve-vm-exit-abort" in _rules(a, "boot.stall") and a.outcome == "failure"
    b = run_lines(catalog, ["vm exit[0]", "\treason\t\tVMX", "\trip\t\t0x00000000000fff54", "\tinst_length\t2"])
    assert "bhyve-vm-exit-error-dump" in _rules(b) and b.outcome == "failure"


def test_bhyve_msr_and_unhandled_memory_reports_are_no_failure(catalog):
    a = run_lines(catalog, ["rdmsr to register 0x140 on vcpu 0", "Unhandled memory access to 0xfed40000"])
    assert not _rules(a, "boot.stall") and a.outcome != "failure"


def test_tfa_crashing_under_the_kernel_is_a_firmware_failure(catalog):
    a = run_lines(catalog, [*ATA, *EA])
    assert {f.category for f in a.findings()} == {"boot.bootloader-error"} and a.outcome == "failure"
    assert {"tfa-el3-crash", "tfa-panic-after-error"} <= _rules(a)
    b = run_lines(catalog, ["Unhandled Exception in EL3.", "x30 =\t\t0x00000000ff00fff0", "x0 =\t\t0x00000000000101c0"])
    assert "tfa-el3-crash" in _rules(b, "boot.bootloader-error")


def test_tfa_crash_in_the_reset_after_a_kernel_panic_is_the_panics(catalog):
    a = run_lines(catalog, ["[   15.992843] Kernel panic - not syncing: Oops: Fatal exception",
                            "[   16.015862] Rebooting in 3 seconds..", "PANIC at PC : 0x000000004300490c"])
    assert {f.category for f in a.findings()} == {"kernel.panic"} and a.outcome == "failure"
    assert not run_lines(catalog, ["NOTICE:  BL31: v1.3(debug):4c793da"]).findings()
    b = run_lines(catalog, ["ERROR:   BL2: Failed to load image id 3 (-2)", "PANIC at PC : 0x000000000e05d2b4"])
    assert "tfa-panic-after-error" in _rules(b, "boot.bootloader-error") and b.outcome == "failure"


def test_optee_core_panic_is_a_failure_and_a_tas_panic_is_not(catalog):
    a = run_lines(catalog, ["I/TC: OP-TEE version: 3.19.0 (gcc version 11.3.0) #1 Wed Nov 30 12:00:00 UTC 2022 aarch64",
                            "E/TC:0 0 Panic 'Failed to get clock' at core/drivers/stm32_i2c.c:812 <stm32_i2c_probe>"])
    assert "optee-core-panic" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    assert "optee-core-panic" not in _rules(run_lines(catalog, ["E/LD:  Panic at ldelf/ta_elf.c:1200 <ta_elf_load_main>"]))


def test_uboot_arm32_data_abort_resets_and_a_linux_arm32_oops_is_not_it(catalog):
    a = run_lines(catalog, ["data abort", "pc : [<6ff9c0d4>]\t   lr : [<6ff9bfb8>]",
                            "reloc pc : [<17811dd4>]\t   lr : [<17811cb8>]", "Resetting CPU ..."])
    assert "uboot-arm32-exception" in _rules(a, "boot.bootloader-error") and a.outcome == "failure"
    b = run_lines(catalog, ["Internal error: Oops: 17 [#1] ARM", "pc : [<c0345678>]    lr : [<c0345600>]    psr: 60000013"])
    assert "uboot-arm32-exception" not in _rules(b)


def test_hostile_bytes_around_the_new_rules_words_stay_inert(catalog):
    a = run_lines(catalog, [b"Mar 02 10:15:07: fatal; loader returned error 1\x1b]0;evil\x07\x00\xff" + b"A" * 70000,
                            b"E/TC:0 0 Panic '\x1b[2J\x9b31m' at core/x.c:1 <f\x07>",
                            b"Unhandled Exception in EL3.\x1b[?1049h\x00"])
    assert {"vm-bhyve-loader-failed", "tfa-el3-crash"} <= {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)


def test_io_apic_timer_panic_is_named_and_a_working_fallback_is_not(catalog):
    a = run_lines(catalog, ["[    0.012000] ..MP-BIOS bug: 8254 timer not connected to IO-APIC",
                            "[    0.012000] ..... failed :(.",
                            "[    0.012000] Kernel panic - not syncing: IO-APIC + timer doesn't work!  Boot with apic=debug "
                            "and send a report.  Then try booting with the 'noapic' option."])
    assert "kernel-panic-io-apic-timer" in _rules(a, "kernel.panic") and a.outcome == "failure"
    b = run_lines(catalog, ["[    0.012000] ...trying to set up timer as Virtual Wire IRQ...", "[    0.013000] ..... works."])
    assert not _rules(b, "kernel.panic")


def test_arm64_serror_panic_is_named(catalog):
    a = run_lines(catalog, ["[  117.280573] SError Interrupt on CPU2, code 0x00000000bf000002 -- SError",
                            "[  131.681699] Kernel panic - not syncing: Asynchronous SError Interrupt"])
    assert "kernel-panic-arm64-serror" in _rules(a, "kernel.panic") and a.outcome == "failure"
