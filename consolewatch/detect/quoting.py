"""How findings quote console lines: a scanned line as evidence, and the lines just before it
(its context), read from its batch only when a finding is made."""

from __future__ import annotations

from consolewatch.detect.catalog import ScannedLine
from consolewatch.model import Evidence, Line
from consolewatch.normalize.batch import LineBatch

#: Lines quoted before a finding's first evidence line.
CONTEXT_LINES = 3


def evidence_of(line: Line | ScannedLine) -> Evidence:
    return Evidence(line.seq, line.text, line.source, line.origin)


class LineContext:
    """Where a line's context can be read later: its batch and the lines before that batch."""

    __slots__ = ("batch", "seq", "tail", "_lines")

    def __init__(self, batch: LineBatch, seq: int, tail: tuple[tuple[int, str], ...]) -> None:
        self.batch, self.seq, self.tail = batch, seq, tail
        self._lines: tuple[Evidence, ...] | None = None

    def lines(self) -> tuple[Evidence, ...]:
        """The lines before line `seq` (read once: several findings may quote one line)."""
        if self._lines is None:
            self._lines = self._read()
        return self._lines

    def _read(self) -> tuple[Evidence, ...]:
        b = self.batch
        pairs = b.before(self.seq, CONTEXT_LINES)
        if len(pairs) < CONTEXT_LINES and self.seq - len(pairs) <= b.first_seq:
            older = [p for p in self.tail if p[0] < b.first_seq]
            pairs = older[max(0, len(older) - (CONTEXT_LINES - len(pairs))):] + pairs
        return tuple([Evidence(s, t, b.source, b.origin) for s, t in pairs])  # type: ignore[arg-type]

