"""Helpers the rule tests share: an analysis's findings by category, a sample's serial lines."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def by_category(a) -> dict[str, list]:
    """The findings of analysis `a`, grouped by category, in the order they were made."""
    out: dict[str, list] = {}
    for f in a.findings():
        out.setdefault(f.category, []).append(f)
    return out


def serial_lines(case: str) -> list[str]:
    """samples/<case>/serial.log as lines."""
    return (SAMPLES / case / "serial.log").read_text().splitlines()
