"""One timeline across sources: a line both a screen and a text console show is kept once.

Whichever copy arrives first takes the line's place (its seq) on the timeline; the copy that
arrives later is a *twin*: it gets no seq of its own and is reported as "seen on this source
too". The two directions:

- text first (the usual order): a screen line that repeats one of the recent text lines is
  dropped; detectors already judged the exact text.
- screen first (a screenshot taken before the console output was posted, EC2 on Xen or a slow
  poll): the screen line goes on the timeline at once; when the text console later prints the
  same line, that text is the line's twin. Its exact bytes then stand for the line: the
  engine reads them at the screen line's seq (`Engine.feed` of a batch's `twins`).

Screen text is noisy, so lines are compared with whitespace collapsed, exactly first and then
fuzzily (rapidfuzz ratio >= MIN_SCORE) among the lines holding the same digits in the same
order (or one line's digits beginning the other's: a screenshot caught a line half printed):
lines that differ in a number ("Slot [3] registered" and "Slot [28] registered", a printk
stamp apart) are different lines, however alike. A screen line is the twin of at most one text line (a
line the console printed twice is printed twice); a text line may absorb any number of screen
repeats (the screen stitcher can read a line again). Memory is bounded by `window` lines per
direction.

`SpanLog` records, for the report's timeline picture, which source contributed which lines.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

#: Lines remembered per direction (recent text lines; screen lines waiting for their text).
RECENT_LINES = 400
#: Similarity (0-100) at which an OCR reading and a text line are the same line.
MIN_SCORE = 90


_NOT_DIGIT = re.compile(r"\D+")


def _key(text: str) -> str:
    return " ".join(text.split())


def _digits(key: str) -> str:
    return _NOT_DIGIT.sub("", key)


class CrossSource:
    """Recent lines of each kind, to recognise the same line arriving from the other kind."""

    def __init__(self, window: int = RECENT_LINES) -> None:
        self.window = window
        self._text: deque[tuple[int, str, str]] = deque(maxlen=window)
        """(seq, key, digits) of recent text lines."""
        self._screen: OrderedDict[int, tuple[str, str, int]] = OrderedDict()
        """seq -> (key, digits, boot) of screen lines on the timeline whose text twin has not come yet."""

    @property
    def waiting(self) -> bool:
        """Are screen lines waiting for their text twin (is it worth looking at text lines)?"""
        return bool(self._screen)

    def saw_text(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Text lines (seq, text) now on the timeline (or recognised as twins of seq)."""
        for seq, text in pairs:
            key = _key(text)
            self._text.append((seq, key, _digits(key)))

    def saw_screen(self, seq: int, text: str, boot: int) -> None:
        key = _key(text)
        if not key:
            return
        self._screen[seq] = (key, _digits(key), boot)
        while len(self._screen) > self.window:
            self._screen.popitem(last=False)

    def screen_twin(self, text: str) -> int | None:
        """The seq of a recent text line this screen line repeats, or None."""
        key = _key(text)
        if not key or not self._text:
            return None
        digits = _digits(key)
        alike = [(seq, seen) for seq, seen, d in reversed(self._text) if _same_numbers(d, digits)]
        return _best(key, alike)

    def text_twins(self, texts: list[str]) -> list[tuple[int, int] | None]:
        """For each of a batch's text lines, (seq, boot) of the waiting screen line it repeats, or
        None. Exact repeats are paired first over the whole batch, then the rest fuzzily: a screen
        line close to two of the batch's lines goes to the one it shows ("Tracing variant of
        Tasks RCU enabled." is not the twin of "Trampoline variant ..." printed just before it)."""
        out: list[tuple[int, int] | None] = [None] * len(texts)
        for fuzzy in (False, True):
            for i, text in enumerate(texts):
                if out[i] is None and self._screen:
                    out[i] = self.text_twin(text, fuzzy=fuzzy)
        return out

    def text_twin(self, text: str, *, fuzzy: bool = True) -> tuple[int, int] | None:
        """(seq, boot) of the waiting screen line this text line repeats (exactly, or with
        `fuzzy` closely enough), or None. That screen line stops waiting (its text has come)."""
        key = _key(text)
        if not key or not self._screen:
            return None
        digits = _digits(key)
        alike = [(seq, seen) for seq, (seen, d, _) in self._screen.items() if _same_numbers(d, digits)]
        found = _best(key, alike, fuzzy=fuzzy)
        if found is None:
            return None
        return found, self._screen.pop(found)[2]


def _same_numbers(a: str, b: str) -> bool:
    return a.startswith(b) if len(a) >= len(b) else b.startswith(a)


def _best(key: str, candidates: list[tuple[int, str]], *, fuzzy: bool = True) -> int | None:
    """The seq of the candidate equal to `key`, else (with `fuzzy`) of the closest at MIN_SCORE
    or better (the first of equals)."""
    if not candidates:
        return None
    for seq, seen in candidates:
        if seen == key:
            return seq
    if not fuzzy:
        return None
    from rapidfuzz import fuzz, process

    hit = process.extractOne(key, [seen for _, seen in candidates], scorer=fuzz.ratio, score_cutoff=MIN_SCORE)
    return None if hit is None else candidates[hit[2]][0]


@dataclass(frozen=True, slots=True)
class Span:
    """Lines `first`..`last` of the timeline as one source contributed them: printed first
    (`also=False`), or shown again by this source after another printed them (`also=True`)."""

    first: int
    last: int
    source: str
    origin: str
    also: bool = False


class SpanLog:
    """Which source put which lines on the timeline, as runs of consecutive lines (bounded:
    beyond MAX_SPANS runs, a run is merged into the previous run of its source)."""

    MAX_SPANS = 4096

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._last: dict[tuple[str, bool], int] = {}
        """(source, also) -> index of that source's latest run."""

    def add(self, first: int, last: int, source: str, origin: str, also: bool = False) -> None:
        i = self._last.get((source, also))
        if i is not None:
            prev = self.spans[i]
            if first == prev.last + 1 or len(self.spans) >= self.MAX_SPANS:
                self.spans[i] = Span(min(prev.first, first), max(prev.last, last), source, origin, also)
                return
        self._last[(source, also)] = len(self.spans)
        self.spans.append(Span(first, last, source, origin, also))
