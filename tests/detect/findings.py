"""Helpers the rule tests share: an analysis's findings by category, the categories it found and
the finding that failed its boot, a sample's serial lines, the check that findings quote hostile
lines safely."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


#: samples/qemu/healthy/serial.log: a kernel line (a printk stamp) shows the boot itself
KERNEL = ("[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
          "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian "
          "6.1.192-2 (2026-11-16)")


def by_category(a) -> dict[str, list]:
    """The findings of analysis `a`, grouped by category, in the order they were made."""
    out: dict[str, list] = {}
    for f in a.findings():
        out.setdefault(f.category, []).append(f)
    return out


def categories(a, which: str = "last") -> set[str]:
    """The categories analysis `a` found (its last boot's, or `which` boots')."""
    return {f.category for f in a.findings(which)}


def failure(a):
    """The finding that made the last boot a failure (of several, the first)."""
    return next(f for f in a.findings() if f.verdict == "failure")


def serial_lines(case: str) -> list[str]:
    """samples/<case>/serial.log as lines."""
    return (SAMPLES / case / "serial.log").read_text().splitlines()


TERMINAL_CONTROLS = frozenset("\x1b\x07\x00\x9b")


def assert_quoted_safely(a, limit: int = 70000) -> None:
    """Every finding of analysis `a` (all boots) quotes its lines and fields without terminal
    controls (ESC, BEL, NUL, CSI) and shorter than `limit` characters."""
    for f in a.findings("all"):
        for e in f.evidence:
            assert not set(e.text) & TERMINAL_CONTROLS
            assert len(e.text) < limit
        for value in f.fields.values():
            assert not set(str(value)) & TERMINAL_CONTROLS
