"""A capture cut inside a dump (views.cut_in_dump): the kernel prints a call trace, a register
dump or a hex dump of a buffer in one burst, so a capture whose last line is inside one was cut
there by whoever copied it and cannot show whether the boot went on. A report the system carries
on after then decides nothing; the crash the dump belongs to still does."""

from __future__ import annotations

from pathlib import Path

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
#: A real QEMU boot (samples/qemu-xfs-metadata-corruption): XFS reports the root inode's buffer
#: corrupt, dumps its first 128 bytes, fails to read the inode, and the mount fails.
XFS = (SAMPLES / "qemu-xfs-metadata-corruption" / "serial.log").read_text().splitlines()
DUMP_ROW = next(i for i, line in enumerate(XFS) if "00000030: " in line)
AFTER_DUMP = next(i for i, line in enumerate(XFS) if "metadata I/O error" in line)


def _xfs(a) -> list[str]:
    return [f.rule for f in a.findings() if f.category == "disk.fs-error"]


def test_a_capture_cut_inside_the_corruption_dump_cannot_show_the_boot_stopping(catalog):
    whole = run_lines(catalog, XFS)
    assert whole.outcome == "failure" and _xfs(whole)
    cut = run_lines(catalog, XFS[:DUMP_ROW + 1])
    # still named, at its severity, but the view ends where the copy was cut: unknown
    assert _xfs(cut) and all(f.severity == "error" for f in cut.findings() if f.category == "disk.fs-error")
    assert cut.outcome == "unknown"
    # the same report with its whole dump and the failure after it, then nothing: it stopped there
    ended = run_lines(catalog, XFS[:AFTER_DUMP + 1])
    assert ended.outcome == "failure"


def test_the_crash_a_cut_trace_belongs_to_still_decides(catalog):
    # kernel/panic.c and lib/dump_stack.c's forms (an oops in a module's probe, cut in its trace)
    lines = ["[    1.104127] BUG: kernel NULL pointer dereference, address: 0000000000000008",
             "[    1.104532] Oops: 0000 [#1] SMP PTI",
             "[    1.105921] Call Trace:",
             "[    1.106040]  really_probe+0x101/0x3c0",
             "[    1.106178]  __driver_probe_device+0x75/0x170"]
    a = run_lines(catalog, lines)
    assert "kernel.oops" in {f.category for f in a.findings()} and a.outcome == "failure"


@pytest.mark.parametrize("last", [
    b"[    3.475039] 00000050: 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00  \x1b]0;evil\x07....\x00\xff",
    b"[    3.475039]  xfs_\x1b[2Jimap_to_bp+0x58/0x80 [xfs]" + b"A" * 70000,
    b"\x1b[31mRSP: 0018:ffffb4c0c0013e58 EFLAGS: 00010246\x00",
])
def test_hostile_bytes_in_the_last_line_stay_inert(catalog, last):
    a = run_lines(catalog, [line.encode() for line in XFS[:DUMP_ROW + 1]] + [last])
    assert _xfs(a) and a.outcome in ("unknown", "failure")
    assert_quoted_safely(a)
