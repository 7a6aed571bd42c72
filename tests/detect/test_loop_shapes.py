"""Loop shapes the run-of-boots count missed, on real consoles (tests/qemu/boot_loops.py,
samples/qemu/boot-loop):

- a boot that comes up and is then reset by a watchdog failed: two in a row, and a capture that
  ends inside the third, are a loop, though each boot reached its login prompt; the watchdog's
  line may land on the prompt's own line;
- a view that begins in the middle of a failing boot (a serial buffer's tail, a pasted
  excerpt) still shows the loop when the capture ends in the boot that follows.
"""

from __future__ import annotations

import consolewatch
from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES, serial_lines

LOOP = "samples/qemu/boot-loop/serial.log"


def _loop_rules(a) -> set[str]:
    return {f.rule for f in a.capture_findings if f.category == "boot.loop"}


def test_boots_a_watchdog_resets_after_their_login_prompt_are_a_loop():
    a = consolewatch.analyze([SAMPLES / "qemu-login-then-softdog-reset" / "serial.log"])
    assert [b.outcome for b in a.boots] == ["success", "success", "unknown"]
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


def test_a_loop_seen_from_the_middle_of_a_failing_boot_is_a_loop(catalog):
    lines = (SAMPLES.parent / LOOP).read_text().splitlines()
    # from the first boot's panic (its start scrolled away) into the next boot's kernel
    view = lines[337:420]
    assert "Kernel panic" in view[0] and not any("Kernel panic" in x for x in view[1:])
    a = run_lines(catalog, view)
    assert [b.outcome for b in a.boots] == ["failure", "unknown"]
    assert a.outcome == "failure" and "reboot-after-failure" in _loop_rules(a)
    # the view that ends at the panic's restart line shows no loop yet
    assert not _loop_rules(run_lines(catalog, lines[337:353]))


def test_the_watchdog_reset_on_a_prompt_line_survives_hostile_bytes(catalog):
    line = "cw-node login: [    6.263256] softdog: Initiating system reboot"
    a = run_lines(catalog, ["\x1b[2J\x00" * 500 + line, "\xff\xfe" * 1000, line + "\x1b]0;x\x07"])
    assert len(a.boots) >= 1 and all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)
