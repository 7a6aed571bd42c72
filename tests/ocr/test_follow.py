"""ScreenReader: console lines the screen wrapped are read back whole; a line exactly as wide as
the screen is not glued to the kernel line below it. Frames drawn from real log lines."""

from __future__ import annotations

from consolewatch.model import Frame
from consolewatch.ocr.follow import ScreenReader
from consolewatch.sim.screen import render_screen

# samples/qemu/wrong-root-nvme/serial.log
EIGHTY = "[    1.133753] TCP bind hash table entries: 2048 (order: 4, 65536 bytes, linear)"
NEXT = "[    1.136163] MPTCP token hash table entries: 256 (order: 1, 6144 bytes, linear)"
LONG = "[    1.486849] input: AT Translated Set 2 keyboard as /devices/platform/i8042/serio0/input/input0"
LAST = "[    1.576913] evm: security.apparmor"


def _read(lines: list[str]) -> list[str]:
    reader = ScreenReader()
    new, error = reader.read(Frame("screen", render_screen(lines)))
    assert error is None
    return [t for t, _ in new + reader.flush()]


def test_a_full_width_line_stays_apart_from_the_kernel_line_below():
    assert len(EIGHTY) == 80
    assert _read([EIGHTY, NEXT, LAST]) == [EIGHTY, NEXT, LAST]


def test_a_wrapped_line_is_read_whole():
    assert _read([LONG, NEXT, LAST]) == [LONG, NEXT, LAST]
