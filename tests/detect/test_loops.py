"""Boot loops as a person reads them, with the shipped catalog on real consoles.

- boots that restart before the machine is ready, in a row, are a loop, and the loop names what
  each boot ended with (a panic, a watchdog, a restart the system asked for);
- a capture that ends inside the loop (its last boot cut off no further than the failed one got)
  is a failure;
- one intended restart and a healthy boot after it is no loop, and an earlier failure the later
  boot came back from is history.

Consoles are real QEMU boots (tests/qemu/kernel_faults.py recipes) stored under samples/.
"""

from __future__ import annotations

from pathlib import Path

import consolewatch
from consolewatch.detect.checks import run_lines

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: samples/qemu/boot-loop/serial.log (lines 1-2, 338, 353-355, ...)
SEABIOS = "SeaBIOS (version 1.16.2-debian-1.16.2-1)"
ROM = "Booting from ROM..."
PANIC = "[    1.826033] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
REBOOTING = "[    1.831308] Rebooting in 1 seconds.."
#: samples/qemu/healthy/serial.log-style kernel lines of a second boot that gets further
LINUX = ("[    0.000000] Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
         "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 "
         "(2026-11-26)")
RUN_INIT = "[    2.933121] Run /init as init process"


def _loops(a) -> dict[str, object]:
    return {f.rule: f for f in a.capture_findings if f.category == "boot.loop"}


def test_a_watchdog_that_resets_every_boot_is_a_loop_that_names_the_watchdog():
    a = consolewatch.analyze([SAMPLES / "qemu-softdog-reboot-loop" / "serial.log"])
    assert a.outcome == "failure" and len(a.boots) == 4
    loop = _loops(a)["boot-loop"]
    assert "watchdog" in loop.fields["cause"] and "watchdog" in loop.remediation
    assert [e.text for e in loop.evidence] == [
        "[    5.538855] softdog: Initiating system reboot",
        "[    5.629492] softdog: Initiating system reboot",
        "[    6.570387] softdog: Initiating system reboot"]


def test_a_panic_loop_quotes_each_panic_and_the_restart_it_asked_for(catalog):
    a = run_lines(catalog, [SEABIOS, ROM, PANIC, REBOOTING] * 3 + [SEABIOS, ROM])
    loop = _loops(a)["boot-loop"]
    assert [e.text for e in loop.evidence] == [PANIC, REBOOTING] * 3
    # the root cause of each panic, not the panic
    assert loop.fields["cause"].startswith("disk.root-not-found") and a.outcome == "failure"


def test_one_intended_restart_then_a_healthy_boot_is_no_loop():
    a = consolewatch.analyze([SAMPLES / "qemu-first-boot-reboot-then-ready" / "serial.log"])
    assert len(a.boots) == 2 and a.outcome == "success"
    assert not _loops(a) and not [f for f in a.findings("all") if f.severity in ("error", "critical")]


def test_a_failure_the_next_boot_recovered_from_is_history():
    a = consolewatch.analyze([SAMPLES / "qemu-fail-then-success" / "serial.log"])
    assert a.outcome == "success" and not _loops(a)


def test_a_capture_cut_off_right_after_a_failed_boot_restarted_ends_inside_a_loop(catalog):
    a = run_lines(catalog, [SEABIOS, ROM, PANIC, REBOOTING, SEABIOS, ROM])
    loop = _loops(a)["reboot-after-failure"]
    assert a.outcome == "failure" and loop.fields["cause"].startswith("disk.root-not-found")
    assert [e.text for e in loop.evidence] == [PANIC, REBOOTING, ROM]
    # the second boot got further than the first one failed: the capture ends in a new boot, no loop
    further = run_lines(catalog, [SEABIOS, ROM, PANIC, REBOOTING, SEABIOS, ROM, LINUX, RUN_INIT])
    assert not _loops(further) and further.outcome == "unknown"
    # one panic that restarts, and nothing after it: no loop yet
    assert not _loops(run_lines(catalog, [SEABIOS, ROM, PANIC, REBOOTING]))


def test_the_firmware_after_a_quiet_kernel_panicked_begins_a_new_boot(catalog):
    """`quiet` hides the kernel's banner; its panic still carries the printk time stamp."""
    a = run_lines(catalog, [SEABIOS, ROM, PANIC, SEABIOS, ROM])
    assert len(a.boots) == 2 and a.boots[0].outcome == "failure"


def test_seabios_retrying_with_nothing_to_boot_is_a_firmware_error_and_a_loop():
    a = consolewatch.analyze([SAMPLES / "qemu-seabios-no-bootable-retry" / "serial.log"])
    assert a.outcome == "failure"
    assert {f.category for f in a.findings()} >= {"boot.bootloader-error", "boot.loop"}


def test_the_uefi_shell_the_firmware_falls_back_to_is_a_boot_failure_not_a_silent_console():
    a = consolewatch.analyze([SAMPLES / "qemu-ovmf-no-disk-shell" / "serial.log"])
    assert a.outcome == "failure"
    assert [f.rule for f in a.findings()] == ["uefi-shell-fallback"]


def test_hostile_bytes_around_the_shell_prompt_stay_bounded(catalog):
    junk = b"Shell> " + b"\x1b[2J\x00\xff" * 50_000
    a = run_lines(catalog, ["UEFI Interactive Shell v2.2", junk, "\x1b]0;x\x07Shell> \x9b"])
    assert a.outcome == "failure" and all(len(e.text) < 70_000 for f in a.findings() for e in f.evidence)



def test_two_resets_soon_after_the_hand_off_are_a_loop_and_a_run_the_capture_cut_is_not(catalog):
    """samples/qemu-reset-after-output: a boot sector prints four lines and triple-faults."""
    lines = (SAMPLES / "qemu-reset-after-output" / "serial.log").read_text().splitlines()
    two = run_lines(catalog, lines[:12])  # two boots reset, the third one's banner
    assert "reboot-after-failure" in _loops(two) and two.outcome == "failure"
    running = run_lines(catalog, lines[:4])  # the capture ends while it runs
    assert not _loops(running) and running.outcome == "unknown"


#: https://github.com/copy/v86/issues/89 (loader), https://github.com/golang/go/issues/22894 (panic),
#: FreeBSD sys/sys/copyright.h and sys/kern/kern_shutdown.c (the kernel's banner and reboot notice)
FREEBSD_BOOT = ["Consoles: serial port  ", "FreeBSD/x86 bootstrap loader, Revision 1.1",
                "Copyright (c) 1992-2023 The FreeBSD Project.",
                "Extracting git-2.14.1:  98%panic: ufs_dirbad: /: bad dir ino 1048795 at offset 0", ": mangled entry",
                "cpuid = 1", "Automatic reboot in 15 seconds - press a key on the console to abort", "Rebooting..."]


def test_a_freebsd_kernel_that_panics_on_every_boot_loops_and_the_loop_names_the_panic(catalog):
    a = run_lines(catalog, FREEBSD_BOOT * 3 + FREEBSD_BOOT[:2])
    assert len(a.boots) == 4 and a.outcome == "failure"
    assert _loops(a)["boot-loop"].fields["cause"].startswith("kernel.panic")
    assert not _loops(run_lines(catalog, FREEBSD_BOOT))  # one panic: no loop yet


def test_pv_grub_starting_over_soon_after_it_handed_over_is_a_loop(catalog):
    """samples/aws-pvgrub-turnkey-benign-blkfront-errors (PV-GRUB's hand-off, lines 23-28) and
    Mini-OS's banner, which PV-GRUB prints first on every start of the domain."""
    pvgrub = (SAMPLES / "aws-pvgrub-turnkey-benign-blkfront-errors" / "console.log").read_text().splitlines()[22:28]
    a = run_lines(catalog, ["Xen Minimal OS!", *pvgrub] * 2 + ["Xen Minimal OS!"])
    assert "reboot-after-failure" in _loops(a) and a.outcome == "failure"
    assert not _loops(run_lines(catalog, ["Xen Minimal OS!", *pvgrub]))  # one start, cut off while it runs
