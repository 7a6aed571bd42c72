"""Lines a kernel prints once per run (`once` format patterns: panic()'s "Rebooting in N
seconds..", kernel_restart()'s "Restarting system"): seen again on the same
console, the kernel ran again. A loop pasted without its banners, or only the lines that repeat
(what an excerpt or an annotation keeps), is still several boots. Real lines of
samples/qemu/boot-loop (three boots that each panic and reboot).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import serial_lines


def _loop(a) -> set[str]:
    return {f.rule for f in a.capture_findings if f.category == "boot.loop"}


def _kept(marker: str) -> list[str]:
    return [x for x in serial_lines("qemu/boot-loop") if marker in x]


def test_the_panic_lines_alone_stay_one_boot(catalog):
    """panic()'s first line is not a boot start: a screenshot read after the serial log shows the
    same panic again."""
    panics = _kept("Kernel panic - not syncing")
    assert len(panics) == 3
    assert len(run_lines(catalog, panics).boots) == 1


def test_the_countdowns_of_a_loop_alone_are_a_loop(catalog):
    a = run_lines(catalog, _kept("Rebooting in 1 seconds.."))
    assert len(a.boots) == 3 and "boot-loop" in _loop(a)


def test_one_panic_with_its_footer_and_countdown_is_one_boot(catalog):
    lines = serial_lines("qemu/boot-loop")
    first = lines[:next(i for i, x in enumerate(lines) if "Rebooting in" in x) + 1]  # boot 1 to its countdown
    footer = next(x for x in serial_lines("qemu/driver-missing") if "---[ end Kernel panic" in x)
    # the footer again, cut where a narrow terminal wraps it: its tail on a line of its own
    cut = footer.index("Kernel panic")
    a = run_lines(catalog, first[:-1] + [footer, footer[:cut], footer[cut:], first[-1]])
    assert len(a.boots) == 1 and not _loop(a) and a.outcome == "failure"


def test_a_healthy_boot_stays_one_boot(catalog):
    a = run_lines(catalog, serial_lines("qemu/healthy"))
    assert len(a.boots) == 1 and a.outcome == "success"


def test_once_lines_with_hostile_bytes_stay_bounded(catalog):
    panic = _kept("Kernel panic - not syncing")[0]
    a = run_lines(catalog, ["\x1b[2J\x00" * 300 + panic, "\xff\xfe" * 500, panic + "\x1b]0;x\x07"] * 3)
    assert 1 <= len(a.boots) <= 6 and all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)


def test_the_restart_lines_of_a_loop_alone_are_a_loop(catalog):
    """kernel_restart()'s two lines of samples/qemu-first-boot-reboot-then-ready (lines 354-355),
    and systemd-shutdown's "Rebooting." (search-index file 8026139743): each is printed once per
    shutdown, so three of them are three boots."""
    restart = serial_lines("qemu-first-boot-reboot-then-ready")[353:355]
    assert restart == ["[    3.484065] reboot: Restarting system", "[    3.484235] reboot: machine restart"]
    assert len(run_lines(catalog, restart).boots) == 1  # the two lines of one restart
    a = run_lines(catalog, restart[1:] * 3)
    assert len(a.boots) == 3 and "boot-loop" in _loop(a)
    b = run_lines(catalog, ["[   80.169602] systemd-shutdown[1]: Rebooting."] * 3)
    assert len(b.boots) == 3 and "boot-loop" in _loop(b)
