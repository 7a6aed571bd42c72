"""LineBatch: the lines one chunk completed, materialised as `Line` objects only when asked.

Most console lines interest no rule. A batch keeps its lines as one UTF-8 block and builds a
`Line` for index i on demand; the lines the scanner flagged are built up front (as
`ScannedLine`s, in order) because the boot tracker and the engine need them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, overload

from consolewatch.model import Line
from consolewatch.normalize.stamps import split_stamps

if TYPE_CHECKING:
    from consolewatch.detect.catalog import ScannedLine


class LineBatch(Sequence[Line]):
    """Consecutive lines of one source: `first_seq`, `first_seq + 1`, ..."""

    def __init__(
        self,
        *,
        source: str,
        block: bytes,
        count: int,
        first_seq: int,
        boot_marks: list[tuple[int, int]],
        scanned: list[ScannedLine],
        observed_at: float | None = None,
        origin: str = "text",
        confidences: Sequence[float | None] | None = None,
        texts: list[str] | None = None,
        starts: dict[int, int] | None = None,
    ) -> None:
        self.source = source
        self.block = block
        self._n = count
        """How many lines; `len(batch)` (an attribute named `count` would hide Sequence.count)."""
        self.first_seq = first_seq
        self.boot_marks = boot_marks
        """(seq, boot) pairs: the boot in force from that line on; the first pair covers the batch start."""
        self.scanned = scanned
        self.observed_at = observed_at
        self.origin = origin
        self.confidences = confidences
        self._texts = texts
        self._starts = starts or {}
        """seq -> byte offset of the line's start in `block`, where known."""
        self._scanned_by_seq: dict[int, ScannedLine] | None = None
        self.twins: list[Line] = []
        """Lines of this source already on the timeline from another source (a screen and a text
        console showing the same line): each carries the seq it has there, and this source's text."""

    @property
    def _by_seq(self) -> dict[int, ScannedLine]:
        """seq -> the scanned line (built when first asked: `analyze` seldom asks)."""
        if self._scanned_by_seq is None:
            self._scanned_by_seq = {s.seq: s for s in self.scanned}
        return self._scanned_by_seq

    @property
    def last_seq(self) -> int:
        return self.first_seq + self._n - 1

    @property
    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = self.block.decode("utf-8").split("\n")[: self._n]
        return self._texts

    def text(self, i: int) -> str:
        """Text of the i-th line without splitting the whole block when that can be avoided."""
        if self._texts is not None:
            return self._texts[i]
        seq = self.first_seq + i
        start = 0 if i == 0 else self._starts.get(seq)  # known for every scanned line
        if start is None and i == self._n - 1:
            start = self.block.rfind(b"\n", 0, len(self.block) - 1) + 1
        if start is None and seq + 1 in self._starts:
            nxt = self._starts[seq + 1]
            start = self.block.rfind(b"\n", 0, max(nxt - 1, 0)) + 1 if nxt > 0 else None
        if start is None:
            return self.texts[i]
        self._starts[seq] = start
        return self.block[start: self.block.index(b"\n", start)].decode("utf-8")

    def before(self, seq: int, k: int) -> list[tuple[int, str]]:
        """Up to `k` (seq, text) pairs of the lines just before `seq`, within this batch."""
        first = max(self.first_seq, seq - k)
        if self._texts is not None or (seq not in self._starts and seq != self.last_seq + 1):
            return [(s, self.text(s - self.first_seq)) for s in range(first, seq)]
        block = self.block
        end = len(block) if seq == self.last_seq + 1 else self._starts[seq]
        out: list[tuple[int, str]] = []
        s = seq - 1
        while s >= first:
            start = block.rfind(b"\n", 0, end - 1) + 1
            out.append((s, block[start: end - 1].decode("utf-8")))
            end = start
            s -= 1
        out.reverse()
        return out

    def boot_of(self, seq: int) -> int:
        marks = self.boot_marks
        i = bisect_right(marks, (seq, 1 << 62)) - 1
        return marks[max(i, 0)][1]

    def line(self, i: int) -> Line:
        """The i-th line (0-based) of the batch."""
        seq = self.first_seq + i
        ready = self._by_seq.get(seq)
        if ready is not None:
            return ready.line
        text = self.text(i)
        stamps = split_stamps(text)
        return Line(
            seq=seq, text=text, source=self.source, boot=self.boot_of(seq),
            guest_time=stamps.guest_time, wall_time=stamps.wall_time, observed_at=self.observed_at,
            origin=self.origin,  # type: ignore[arg-type]
            confidence=self.confidences[i] if self.confidences is not None else None,
            t=stamps.guest_time,
        )

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Line: ...
    @overload
    def __getitem__(self, i: slice) -> list[Line]: ...

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self.line(k) for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return self.line(i)

    def __iter__(self) -> Iterator[Line]:
        for i in range(self._n):
            yield self.line(i)
