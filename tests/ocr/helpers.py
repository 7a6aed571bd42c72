"""Shared helpers for the OCR tests (imported by path: tests are not a package)."""

from __future__ import annotations

from pathlib import Path

from rapidfuzz.distance import Levenshtein

from consolewatch.sim.screen import screen_rows

HERE = Path(__file__).resolve().parent
FRAMES = HERE / "frames"
DATA = HERE / "data"


def log_lines(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8").splitlines()


def truth_rows(lines: list[str], rows: int = 25) -> list[str]:
    """What an 80x25 console shows for these lines, trailing spaces stripped."""
    return [r.rstrip() for r in screen_rows(lines, rows=rows)]


def serial_truth(path: Path, rows: int = 25) -> list[str]:
    text = path.read_bytes().decode("utf-8", "replace")
    return truth_rows(text.split("\n"), rows)


def char_accuracy(truth: list[str], got: list[str]) -> float:
    """1 - Levenshtein / length over the non-empty truth rows (rows aligned by index)."""
    got = got + [""] * (len(truth) - len(got))
    total = sum(len(t) for t in truth if t)
    dist = sum(Levenshtein.distance(t, g) for t, g in zip(truth, got) if t or g)
    return 1 - dist / max(1, total)
