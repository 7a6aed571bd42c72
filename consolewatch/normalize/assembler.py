"""Bytes in arbitrary chunks -> blocks of sanitised, complete lines.

`LineAssembler.feed(data)` returns a block: UTF-8 bytes holding zero or more complete lines,
each ending in `\\n`, such that any split of a byte stream into chunks yields the same lines.
On the way:

- a partial last line waits for the next chunk (bounded: beyond `cap` characters the rest of a
  line is counted, not kept, and the line ends with a visible marker);
- CRLF ends a line; a lone CR returns the cursor to column 0 so what follows overwrites, as a
  terminal would show it; escape sequences and control bytes are interpreted or neutralised
  (`terminal.RowTerminal`);
- invalid UTF-8 stays visible as `\\xNN` escapes, never dropped.

Clean blocks (the common case) are passed through without looking at single lines.
"""

from __future__ import annotations

import functools
import re

from consolewatch.normalize.terminal import RowTerminal
from consolewatch.safetext import UNICODE_HAZARD, escape_unicode

try:  # pragma: no cover - depends on the machine
    import hyperscan as _hs
except Exception:
    _hs = None

#: Default cap on a line's length in characters.
DEFAULT_CAP = 4096

# Bytes that need the terminal interpreter: C0 controls except TAB and LF, ESC, DEL.
_SPECIAL = bytes(b for b in range(0x20) if b not in (0x09, 0x0A)) + b"\x7f"
_SGR = re.compile(rb"\x1b\[[0-9;]*m")
# CR runs before LF end a line. The lookbehind makes this linear: inside a run of CRs that is
# not followed by LF, each position fails at once instead of rescanning the run.
_CRLF = re.compile(rb"(?<!\r)\r+\n")
# What sends a line to the slow path: C0 controls and DEL, C1 controls, Unicode bidi/format
# characters (see `safetext`).
_DIRTY = re.compile(f"[\x00-\x08\x0b-\x1f\x7f]|{UNICODE_HAZARD.pattern}")


def _marker(cap: int) -> str:
    return f" \u2026[line cut at {cap} characters]"


class _Hygiene:
    """Answers, for a block: does it hold a control byte, or a line longer than `cap` bytes?"""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._db = None
        if _hs is not None:
            try:
                db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
                db.compile(
                    expressions=[b"[\\x00-\\x08\\x0b-\\x1f\\x7f]", b"[^\\n]{%d}" % (cap + 1)],
                    ids=[0, 1],
                    elements=2,
                    flags=[_hs.HS_FLAG_SINGLEMATCH, _hs.HS_FLAG_SINGLEMATCH],
                )
                self._db = db
            except Exception:
                self._db = None

    def check(self, block: bytes) -> tuple[bool, bool]:
        if self._db is not None:
            found: set[int] = set()
            self._db.scan(block, match_event_handler=lambda pid, *_: found.add(pid))
            return 0 in found, 1 in found
        special = len(block.translate(None, _SPECIAL)) != len(block)
        long_line = len(block) > self.cap and max(map(len, block.split(b"\n"))) > self.cap
        return special, long_line


@functools.lru_cache(maxsize=8)
def _hygiene(cap: int) -> _Hygiene:
    """One compiled checker per cap: an assembler per source (and per OCR frame) costs nothing."""
    return _Hygiene(cap)


class LineAssembler:
    """Turns a byte stream into sanitised complete lines, incrementally."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        self.raw_limit = 4 * cap
        """Bytes of one raw line kept before interpretation; the rest is dropped."""
        self._pending = bytearray()  # appended in place: many tiny chunks stay linear
        self._pending_cut = False
        self._terminal = RowTerminal()
        self._hygiene = _hygiene(cap)

    @property
    def pending(self) -> bytes:
        """The partial line waiting for its end (raw bytes, at most `raw_limit`)."""
        return bytes(self._pending)

    def feed(self, data: bytes) -> bytes:
        """Add bytes; return the block of lines they completed (b"" when none)."""
        if not data:
            return b""
        cut = data.rfind(b"\n")
        if cut < 0:
            self._hold(data)
            return b""
        first_cut = False
        if self._pending or self._pending_cut:
            nl = data.find(b"\n")
            first = bytes(self._pending) + data[: min(nl, self.raw_limit + 1 - len(self._pending))]
            first_cut = self._pending_cut or len(first) > self.raw_limit
            block = first[: self.raw_limit] + data[nl: cut + 1]
            self._pending, self._pending_cut = bytearray(), False
        else:
            block = data[: cut + 1]
        self._hold(data[cut + 1:])
        return self._clean(block, first_cut)

    def flush(self) -> bytes:
        """End the partial line (at the end of a capture, or a prompt waiting for input)."""
        if not self._pending and not self._pending_cut:
            return b""
        return self.feed(b"\n")

    def _hold(self, tail: bytes) -> None:
        if not tail or self._pending_cut:
            return  # beyond the limit the rest of the line is dropped, not copied
        room = self.raw_limit - len(self._pending)
        self._pending += tail[:room]
        if len(tail) > room:
            self._pending_cut = True

    def _clean(self, block: bytes, first_cut: bool) -> bytes:
        special, long_line = self._hygiene.check(block)
        cut_lines = {0} if first_cut else set()
        if long_line:
            lines = block.split(b"\n")
            for i, line in enumerate(lines):
                if len(line) > self.raw_limit:
                    lines[i] = line[: self.raw_limit]
                    cut_lines.add(i)
            block = b"\n".join(lines)
        if b"\r" in block:
            block = _CRLF.sub(b"\n", block)  # CRLF (and CRCRLF) end a line; a lone CR stays
            special = special and len(block.translate(None, _SPECIAL)) != len(block)
        if special and b"\x1b[" in block:
            block = _SGR.sub(b"", block)
            special = len(block.translate(None, _SPECIAL)) != len(block)
        ascii_only = block.isascii()
        if ascii_only and not special and not long_line and not cut_lines:
            return block
        text = block.decode("utf-8", "backslashreplace")
        if not ascii_only and UNICODE_HAZARD.search(text):
            special = True
        # Valid UTF-8 (no `\\xNN` escapes added) and no raw line over the cap: no line can
        # exceed the cap, so only lines with control characters need looking at.
        valid = ascii_only or len(text.encode("utf-8")) == len(block)
        if not special and not long_line and not cut_lines:
            if ascii_only:
                return block
            if valid:
                return text.encode("utf-8")
        every = long_line or bool(cut_lines) or not valid
        return self._slow(text, cut_lines, every_line=every).encode("utf-8")

    def _slow(self, text: str, cut_lines: set[int], *, every_line: bool = True) -> str:
        """Interpret control sequences; cap rows. `every_line=False`: only lines holding a
        control character can change (no line is too long), so only those are visited."""
        if not every_line:
            return self._dirty_lines_only(text)
        out: list[str] = []
        lines = text.split("\n")
        lines.pop()  # the block ends with "\n"
        for i, line in enumerate(lines):
            dirty = line.translate(_SPECIAL_TABLE) != line or (not line.isascii() and UNICODE_HAZARD.search(line))
            rows = [escape_unicode(r) for r in self._terminal.render(line)] if dirty else [line]
            last = len(rows) - 1
            for j, row in enumerate(rows):
                if len(row) > self.cap or (j == last and i in cut_lines):
                    row = self._cut(row)
                out.append(row)
        out.append("")
        return "\n".join(out)

    def _cut(self, row: str) -> str:
        # Escaped again: a joiner kept between two characters may now end the cut row.
        return escape_unicode(row[: self.cap]) + _marker(self.cap)

    def _dirty_lines_only(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for m in _DIRTY.finditer(text):
            if m.start() < pos:
                continue  # another control character on a line already rendered
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.index("\n", m.start())
            out.append(text[pos:start])
            rows = [escape_unicode(r) for r in self._terminal.render(text[start:end])]
            out.append("\n".join(self._cut(r) if len(r) > self.cap else r for r in rows))
            pos = end
        out.append(text[pos:])
        return "".join(out)


_SPECIAL_TABLE = {b: None for b in _SPECIAL}
