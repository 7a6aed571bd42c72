"""Loop shapes the run-of-boots count missed, on real consoles (tests/qemu/boot_loops.py,
samples/qemu/boot-loop):

- a boot that comes up and is then reset by a watchdog failed: two in a row, and a capture that
  ends inside the third, are a loop, though each boot reached its login prompt; the watchdog's
  line may land on the prompt's own line;
- a kexec is a restart the system asked for, not a reset.
"""

from __future__ import annotations

import consolewatch
from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES, serial_lines


def _loop_rules(a) -> set[str]:
    return {f.rule for f in a.capture_findings if f.category == "boot.loop"}


def test_boots_a_watchdog_resets_after_their_login_prompt_are_a_loop():
    a = consolewatch.analyze([SAMPLES / "qemu-login-then-softdog-reset" / "serial.log"])
    assert [b.outcome for b in a.boots] == ["failure", "failure", "unknown"]  # the watchdog ended each boot it reset
    assert a.outcome == "failure" and {"reboot-after-failure", "boot-loop"} <= _loop_rules(a)
    # the verdict names the watchdog, not the login prompt each boot reached first
    assert {f.category for f in a.findings()} == {"boot.loop"}
    quoted = [e.text for f in a.capture_findings for e in f.evidence]
    assert "cw-node login: [    6.263256] softdog: Initiating system reboot" in quoted


def test_one_watchdog_reset_after_the_prompt_then_a_boot_that_stays_up_is_history(catalog):
    lines = serial_lines("qemu-login-then-softdog-reset")
    first_two = lines[:lines.index("SeaBIOS (version 1.16.2-debian-1.16.2-1)", 1)]  # boot 1 and its reset
    healthy = serial_lines("qemu/healthy")
    a = run_lines(catalog, first_two + healthy)
    assert a.outcome == "success" and not [f for f in a.findings() if f.severity in ("error", "critical")]


def test_the_watchdog_reset_on_a_prompt_line_survives_hostile_bytes(catalog):
    line = "cw-node login: [    6.263256] softdog: Initiating system reboot"
    a = run_lines(catalog, ["\x1b[2J\x00" * 500 + line, "\xff\xfe" * 1000, line + "\x1b]0;x\x07"])
    assert len(a.boots) >= 1 and all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)


def test_a_kexec_is_a_restart_the_system_asked_for_not_a_reset(catalog):
    healthy = serial_lines("qemu/healthy")
    run_init = next(i for i, x in enumerate(healthy) if "Run /init as init process" in x)
    # a kernel that kexecs into the next one before its boot is done (a kdump-style fast
    # reboot); the line as Debian's 4.9 kernel printed it (search-index file 18894182852)
    kexec = "[268181.341191] kexec_core: Starting new kernel"
    a = run_lines(catalog, healthy[:run_init + 1] + [kexec] + healthy)
    assert len(a.boots) == 2 and a.outcome == "success"
    assert not [f for f in a.findings("all") if f.category == "boot.loop"]
    # without the kexec line the same boots are a reset nothing announced
    reset = run_lines(catalog, healthy[:run_init + 1] + healthy)
    assert [f.rule for f in reset.findings("all") if f.category == "boot.loop"] == ["reset-during-boot"]
