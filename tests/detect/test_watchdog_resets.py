"""Hardware watchdog resets print nothing (tests/qemu/boot_loops.py: login-then-itco-reset,
login-then-i6300esb-reset, real QEMU boots): a boot that showed a watchdog (its driver initialised,
systemd arming it) and was followed by a new boot with no restart line was reset by it; a last
boot that came up as far with the same watchdog armed is the loop going on. The reset lands on
the login prompt ("cw-node login: SeaBIOS ..."): the prompt is the boot that ended."""

from __future__ import annotations

import consolewatch
from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES, serial_lines


def _watchdog(a) -> list[str]:
    return [f.rule for f in a.findings("all") if f.rule == "watchdog-reset-unannounced"]


def test_boots_a_hardware_watchdog_resets_silently_are_a_loop():
    a = consolewatch.analyze([SAMPLES / "qemu-login-then-i6300esb-reset" / "serial.log"])
    assert len(a.boots) == 3  # the prompt glued to the next banner begins no boot of its own
    assert all("ready" in {m.name for m in b.milestones} for b in a.boots)  # each came up ...
    assert _watchdog(a) == ["watchdog-reset-unannounced"] * 2  # ... and the watchdog took it down
    assert a.outcome == "failure" and a.boots[-1].outcome == "unknown"
    assert {f.category for f in a.findings()} == {"boot.loop"}


def test_one_silent_reset_then_the_same_boot_armed_again_ends_inside_the_loop():
    a = consolewatch.analyze([SAMPLES / "qemu-login-then-itco-reset" / "serial.log"])
    assert [b.outcome for b in a.boots] == ["success", "unknown"]
    assert a.outcome == "failure" and _watchdog(a) == ["watchdog-reset-unannounced"]
    quoted = [e.text for f in a.findings() for e in f.evidence]
    assert "[    2.764875] iTCO_wdt iTCO_wdt.1.auto: initialized. heartbeat=30 sec (nowayout=0)" in quoted


def test_a_watchdog_that_is_fed_is_no_failure(catalog):
    lines = serial_lines("qemu-login-then-itco-reset")
    # the first boot up to its prompt, the capture ending there: a watchdog nobody saw fire
    first = lines[:lines.index("cw-node login: SeaBIOS (version 1.16.2-debian-1.16.2-1)")] + ["cw-node login: "]
    a = run_lines(catalog, first)
    assert a.outcome == "success" and not _watchdog(a)


def test_after_a_watchdog_reset_a_boot_that_gets_further_is_no_loop(catalog):
    lines = serial_lines("qemu-login-then-itco-reset")
    second = lines.index("cw-node login: SeaBIOS (version 1.16.2-debian-1.16.2-1)")
    healthy = serial_lines("qemu/healthy")  # no watchdog in it: the machine came back up and stays
    a = run_lines(catalog, lines[:second + 1] + healthy[1:])
    assert a.outcome == "success" and _watchdog(a) == ["watchdog-reset-unannounced"]
    assert not [f for f in a.findings() if f.severity in ("error", "critical")]


def test_a_reset_with_no_watchdog_in_the_boot_is_not_the_watchdogs(catalog):
    healthy = serial_lines("qemu/healthy")
    run_init = next(i for i, x in enumerate(healthy) if "Run /init as init process" in x)
    a = run_lines(catalog, healthy[:run_init + 1] + healthy)
    assert not _watchdog(a)


def test_watchdog_lines_survive_hostile_bytes(catalog):
    line = "[    2.764875] iTCO_wdt iTCO_wdt.1.auto: initialized. heartbeat=30 sec (nowayout=0)"
    a = run_lines(catalog, ["\x1b[2J\x00" * 500 + line, "\xff\xfe" * 1000, "cw-node login: " + "x" * 50000,
                            "cw-node login: SeaBIOS (version 1.16.2-debian-1.16.2-1)" + "\x1b]0;x\x07"])
    assert len(a.boots) == 2 and all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)


def test_grub_starting_again_with_no_firmware_banner_begins_a_boot(catalog):
    # A UEFI GRUB whose firmware prints nothing on the serial port: "Welcome to GRUB!" once per
    # start of GRUB (grub_main), so the same line again is GRUB started again.
    welcome = serial_lines("qemu-grub-rescue-prompt")[3]
    assert "Welcome to GRUB!" in welcome
    a = run_lines(catalog, [welcome, ""] * 3)
    assert len(a.boots) == 3 and a.outcome == "failure"
    assert "boot-loop" in {f.rule for f in a.capture_findings}
    # GRUB and then the kernel it started are one boot
    one = consolewatch.analyze([SAMPLES / "qemu-floppy-failed-then-disk-boots" / "serial.log"])
    assert len(one.boots) == 1 and one.outcome == "success"
