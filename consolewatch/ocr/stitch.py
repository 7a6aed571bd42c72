"""Turn successive OCR reads of one scrolling screen into the lines that are new.

A console screen is a window on a log: between two screenshots it may have scrolled, kept
growing at the bottom, been cleared, or not changed at all. `ScreenStitcher.feed` compares
each frame's rows with the previous frame's and returns only the new lines:

- Overlap: the largest k such that the last k rows of the previous frame match the first
  k rows of the new one (a screen that scrolled by s rows, or grew without scrolling,
  s = 0). Rows match when rapidfuzz's `ratio` is at least `threshold` (OCR is noisy; the
  same line may be read slightly differently in two frames); empty rows match only empty
  rows, and an overlap of empty rows alone does not count. The largest overlap wins, so
  a screen that repeats one line may report fewer new copies of it than were printed.
- No overlap (the screen was cleared, or scrolled by more than a screen between frames):
  every line of the new frame is new, and the result has `reset=True`.
- Identical frames: nothing new.
- The bottom line may still be being typed. The rule: the last non-empty line of a frame is
  *held back* (`pending`) and emitted only once (a) a line appears below it in a later
  frame, (b) it reads exactly the same in two consecutive frames (`repeat()` counts as a
  frame), (c) the screen is cleared, or (d) `flush()` is called. It is emitted in its
  latest form. While held, it may grow: the previous frame's last row matches a new row
  that starts with it. A line already emitted is never emitted again, even if it changes
  later (a prompt the user then types after).

`FrameDeduper` drops frames whose bytes were seen among the last few frames before any OCR
is spent on them (a blinking cursor alternates two images); for a dropped frame call
`ScreenStitcher.repeat()`, which counts it as the same screen seen again.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from consolewatch.ocr.base import OcrLine, OcrResult

__all__ = ["ScreenStitcher", "StitchResult", "FrameDeduper"]

Screen = OcrResult | Sequence[str] | Sequence[OcrLine]


@dataclass(frozen=True, slots=True)
class StitchResult:
    """The lines a frame added, in screen order (iterable like a tuple of OcrLine)."""

    lines: tuple[OcrLine, ...]
    overlap: int = 0
    """Rows of this frame that were already on the previous one."""
    reset: bool = False
    """The previous frame had text and none of it is left: lines may have been missed."""
    pending: OcrLine | None = None
    """The bottom line held back until it is known to be complete."""

    def __iter__(self) -> Iterator[OcrLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def _rows(screen: Screen) -> list[OcrLine | None]:
    """Screen rows from the first to the last non-empty one; empty rows as None."""
    if isinstance(screen, OcrResult):
        items: Sequence[OcrLine | str] = screen.lines
    else:
        items = list(screen)
    lines: list[OcrLine] = []
    for i, item in enumerate(items):
        if isinstance(item, OcrLine):
            lines.append(item)
        else:
            lines.append(OcrLine(str(item).rstrip(), 1.0, i))
    lines = [line for line in lines if line.text.strip()]
    if not lines:
        return []
    first = min(line.row for line in lines)
    out: list[OcrLine | None] = [None] * (max(line.row for line in lines) - first + 1)
    for line in lines:
        out[line.row - first] = line
    return out


def _key(text: str) -> str:
    return " ".join(text.split())


class ScreenStitcher:
    """Feed it successive frames of one screen; it returns the lines that are new."""

    def __init__(self, threshold: float = 80.0) -> None:
        self.threshold = threshold
        self._prev: list[OcrLine | None] = []
        self._pending = False
        self._cache: dict[tuple[str, str, bool], bool] = {}

    def _similar(self, old: OcrLine | None, new: OcrLine | None, growing: bool = False) -> bool:
        if old is None or new is None:
            return old is None and new is None
        a, b = _key(old.text), _key(new.text)
        if a == b:
            return True
        key = (a, b, growing)
        hit = self._cache.get(key)
        if hit is None:
            from rapidfuzz import fuzz

            hit = fuzz.ratio(a, b) >= self.threshold
            if not hit and growing and len(b) > len(a):
                hit = fuzz.ratio(a, b[: len(a)]) >= self.threshold
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def _overlap(self, prev: list[OcrLine | None], new: list[OcrLine | None]) -> int:
        for k in range(min(len(prev), len(new)), 0, -1):
            tail = prev[len(prev) - k :]
            if all(line is None for line in tail):
                continue
            if all(self._similar(tail[i], new[i], growing=(i == k - 1)) for i in range(k)):
                return k
        return 0

    def feed(self, screen: Screen) -> StitchResult:
        """The lines of `screen` (an OcrResult, or its rows as strings) not seen before."""
        new = _rows(screen)
        prev, emitted = self._prev, []
        if not new:
            if prev and self._pending:
                emitted.append(prev[-1])
            self._prev, self._pending = [], False
            return StitchResult(tuple(ln for ln in emitted if ln is not None), 0, bool(prev), None)
        k = self._overlap(prev, new) if prev else 0
        pending = False
        if k == 0:
            if prev and self._pending:
                emitted.append(prev[-1])  # cleared away: its last form was final
            fresh = new
        else:
            fresh = new[k:]
            if self._pending:
                held = new[k - 1]
                last = prev[-1]
                if fresh or (held is not None and last is not None and _key(held.text) == _key(last.text)):
                    emitted.append(held)
                else:
                    pending = True
        if fresh:
            emitted.extend(line for line in fresh[:-1] if line is not None)
            pending = True  # the new bottom line (rows are trimmed: never None)
        self._prev, self._pending = new, pending
        held_line = new[-1] if pending else None
        return StitchResult(tuple(ln for ln in emitted if ln is not None), k, bool(prev) and k == 0, held_line)

    def repeat(self) -> StitchResult:
        """The previous screen was seen again unchanged (a frame the deduper dropped)."""
        if self._pending and self._prev:
            self._pending = False
            return StitchResult((self._prev[-1],), len(self._prev), False, None)  # type: ignore[arg-type]
        return StitchResult((), len(self._prev), False, None)

    def flush(self) -> StitchResult:
        """End of the capture: emit the held-back bottom line, if any."""
        return self.repeat()

    @property
    def pending(self) -> OcrLine | None:
        """The bottom line currently held back."""
        return self._prev[-1] if self._pending and self._prev else None


class FrameDeduper:
    """Recognise frames whose bytes were seen among the last `window` frames."""

    def __init__(self, window: int = 4) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._recent: deque[bytes] = deque(maxlen=window)
        self.dropped = 0

    @staticmethod
    def digest(image: bytes) -> bytes:
        return hashlib.blake2b(image, digest_size=16).digest()

    def seen(self, image: bytes) -> bool:
        """True if `image` repeats a recent frame (skip its OCR); records it either way."""
        d = self.digest(image)
        if d in self._recent:
            self._recent.remove(d)
            self._recent.append(d)
            self.dropped += 1
            return True
        self._recent.append(d)
        return False
