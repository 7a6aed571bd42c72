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

Lines of plain printable ASCII (the common case) never reach Python one by one: one scan over
the block (`_Hygiene`) finds the lines that need interpreting, and the runs between them are
copied as bytes.
"""

from __future__ import annotations

import functools
import re

from consolewatch.normalize import scancache
from consolewatch.normalize.terminal import RowTerminal, row_dependent
from consolewatch.safetext import UNICODE_HAZARD, escape_unicode

try:  # pragma: no cover - depends on the machine
    import hyperscan as _hs
except Exception:
    _hs = None  # type: ignore[assignment]

#: Default cap on a line's length in characters.
DEFAULT_CAP = 4096
#: Interpreted lines remembered -> rows: firmware banners, GRUB menus and progress bars repeat on
#: every boot. Only short lines, so the memo stays small.
MEMO_LINES = 4096
MEMO_LINE_BYTES = 512

_SGR = re.compile(rb"\x1b\[[0-9;]*m")
# What sends a line to the slow path: C0 controls and DEL, C1 controls, Unicode bidi/format
# characters (see `safetext`).
_DIRTY = re.compile(f"[\x00-\x08\x0b-\x1f\x7f]|{UNICODE_HAZARD.pattern}")
# The first byte on a line that is not TAB or printable ASCII, unless it is the CR run of a CRLF.
_ODD = rb"^[\t\x20-\x7e]*(?:[^\t\n\r\x20-\x7e]|\r+[^\r\n])"
_ODD_RE = rb"^[\t\x20-\x7e]*+(?:[^\t\n\r\x20-\x7e]|\r++[^\r\n])"  # possessive: one read per line


#: Bytes that are not text on a console: C0 controls other than TAB, LF, CR and ESC; DEL.
_NON_TEXT = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D, 0x1B)) + b"\x7f"


def non_text_bytes(data: bytes) -> int:
    """How many bytes of `data` are not text: the controls above and bytes that are not UTF-8."""
    n = len(data) - len(data.translate(None, _NON_TEXT))
    if not data.isascii() and not _is_utf8(data):
        # each byte that is not UTF-8 becomes a 4-character `\xNN` escape: 3 bytes more
        n += (len(data.decode("utf-8", "backslashreplace").encode("utf-8")) - len(data)) // 3
    return n


def _is_utf8(data: bytes) -> bool:
    """Valid UTF-8 (no byte to count): a strict decode, a quarter of the cost of re-encoding."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _marker(cap: int) -> str:
    return f" \u2026[line cut at {cap} characters]"


class _Hygiene:
    """Finds the lines of a block that need a look in Python; every other line passes as it is.

    A line needs a look when it holds a byte other than TAB, printable ASCII or a CR run that
    ends it (CRLF): a control byte, ESC, DEL, a lone CR, or any non-ASCII byte (invalid UTF-8,
    C1 controls, bidi/format characters); or when it is longer than `cap` bytes. The pattern
    for the first kind is anchored at line starts, so each such line is reported once however
    many escapes it holds; the scan is one pass over the bytes (Hyperscan; `re` without it).
    """

    SALT = f"hygiene-{getattr(_hs, '__version__', '?')}-multiline-singlematch"

    def __init__(self, cap: int, *, use_hyperscan: bool = True) -> None:
        self.cap = cap
        self._db = None
        if _hs is not None and use_hyperscan:
            # Long lines: one event per block says whether to look for them (a pattern anchored
            # at line starts would report each, but costs 0.1 s to compile). Even so the pattern
            # takes ~20 ms to compile: the database is kept in the scanner's disk cache.
            exprs = [_ODD, b"[^\\n]{%d}" % (cap + 1)]
            key = [(i, e.decode("ascii")) for i, e in enumerate(exprs)]
            cached = scancache.load(_hs, key, self.SALT)
            if cached is not None:
                self._db = cached[0]
            else:
                try:
                    db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
                    db.compile(expressions=exprs, ids=[0, 1], elements=2,
                               flags=[_hs.HS_FLAG_MULTILINE, _hs.HS_FLAG_SINGLEMATCH])
                    self._db = db
                    scancache.store(_hs, key, self.SALT, db, [], [])
                except Exception:
                    self._db = None
        self._re = re.compile(_ODD_RE + b"|^[^\\n]{%d}" % (cap + 1), re.M)

    def lines(self, block: bytes) -> list[int]:
        """Start offsets (sorted) of the lines of `block` that need a look."""
        if self._db is None:
            return sorted({block.rfind(b"\n", 0, m.end() - 1) + 1 for m in self._re.finditer(block)})
        ends: list[int] = []
        long: list[int] = []
        self._db.scan(block, match_event_handler=lambda i, _f, to, *_: (long if i else ends).append(to))
        starts = {block.rfind(b"\n", 0, to - 1) + 1 for to in ends}
        if long:
            starts.update(self._long_lines(block))
        return sorted(starts)

    def _long_lines(self, block: bytes) -> list[int]:
        out = []
        start = 0
        while (end := block.find(b"\n", start)) >= 0:
            if end - start > self.cap:
                out.append(start)
            start = end + 1
        return out


@functools.lru_cache(maxsize=8)
def _hygiene(cap: int, use_hyperscan: bool) -> _Hygiene:
    """One compiled checker per cap: an assembler per source (and per OCR frame) costs nothing."""
    return _Hygiene(cap, use_hyperscan=use_hyperscan)


class LineAssembler:
    """Turns a byte stream into sanitised complete lines, incrementally."""

    def __init__(self, cap: int = DEFAULT_CAP, *, backend: str = "auto") -> None:
        """`backend`: auto (Hyperscan when installed) or re, for the scan that finds the lines
        needing a look (both give the same lines)."""
        self.cap = cap
        self.raw_limit = 4 * cap
        """Bytes of one raw line kept before interpretation; the rest is dropped."""
        self._pending = bytearray()  # appended in place: many tiny chunks stay linear
        self._pending_cut = False
        self._terminal = RowTerminal()
        self._memo: dict[tuple[bytes, bool, int], tuple[bytes, int]] = {}
        """(raw line, cut, cursor row or -1) -> (rows, how far the cursor row moved)."""
        self._hygiene = _hygiene(cap, backend != "re")
        self.non_text = 0
        """Bytes fed so far that are not text (`non_text_bytes`): counted on the lines the
        hygiene scan flags (no other line holds one) and on the bytes of a line beyond
        `raw_limit` (dropped unread), so plain lines cost nothing."""

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
            taken = min(nl, self.raw_limit + 1 - len(self._pending))
            first = bytes(self._pending) + data[:taken]
            if len(first) > self.raw_limit or taken < nl:
                self.non_text += non_text_bytes(first[self.raw_limit:] + data[taken:nl])  # dropped below
            first_cut = self._pending_cut or len(first) > self.raw_limit
            block = first[: self.raw_limit] + memoryview(data)[nl: cut + 1]  # one copy, not two
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
        if self._pending_cut:  # beyond the limit the rest of the line is dropped, not copied
            self.non_text += non_text_bytes(tail)
        elif tail:
            room = self.raw_limit - len(self._pending)
            self._pending += tail[:room]
            if len(tail) > room:
                self.non_text += non_text_bytes(tail[room:])
                self._pending_cut = True

    def _clean(self, block: bytes, first_cut: bool) -> bytes:
        """Lines the hygiene scan flags are interpreted one by one; the runs of lines between
        them only lose the CRs of their CRLF ends."""
        starts = self._hygiene.lines(block)
        if first_cut and (not starts or starts[0] != 0):
            starts.insert(0, 0)
        if not starts:
            return _crlf(block)
        # The runs go into the join as views (not copied twice), and lose their CRs in the joined
        # block: the interpreted lines hold none (a CR is a cursor move; `_interpret`).
        view = memoryview(block)
        out: list[bytes | memoryview] = []
        pos = 0
        for start in starts:
            end = block.index(b"\n", start)
            if start > pos:
                out.append(view[pos:start])
            raw = block[start:end]
            self.non_text += non_text_bytes(raw)
            out.append(self._line(raw, first_cut and start == 0))
            pos = end  # the line's newline goes with the next run
        out.append(view[pos:])
        return _crlf(b"".join(out))

    def _line(self, raw: bytes, cut: bool) -> bytes:
        """One raw line (no newline) as the rows a terminal shows, sanitised and capped."""
        if len(raw) > MEMO_LINE_BYTES:
            return self._interpret(raw, cut)
        term = self._terminal
        key = (raw, cut, term.row if row_dependent(raw) else -1)
        got = self._memo.get(key)
        if got is not None:
            term.row += got[1]
            return got[0]
        if len(self._memo) >= MEMO_LINES:
            self._memo.clear()
        row = term.row
        out = self._interpret(raw, cut)
        self._memo[key] = (out, term.row - row)
        return out

    def _interpret(self, raw: bytes, cut: bool) -> bytes:
        if len(raw) > self.raw_limit:
            raw, cut = raw[: self.raw_limit], True
        raw = raw.rstrip(b"\r")  # CRLF (and CRCRLF) end a line; a lone CR stays
        if b"\x1b[" in raw:
            raw = _SGR.sub(b"", raw)  # colour first: an OSC string would run on over it
        text = raw.decode("utf-8", "backslashreplace")
        rows = [escape_unicode(r) for r in self._terminal.render(text)] if _DIRTY.search(text) else [text]
        last = len(rows) - 1
        return "\n".join(
            self._cut(row) if len(row) > self.cap or (j == last and cut) else row for j, row in enumerate(rows)
        ).encode("utf-8")

    def _cut(self, row: str) -> str:
        # Escaped again: a joiner kept between two characters may now end the cut row.
        return escape_unicode(row[: self.cap]) + _marker(self.cap)


def _crlf(run: bytes) -> bytes:
    """`run`, lines the hygiene scan passed (and interpreted lines, which hold no CR), without
    the CRs that end its lines (CRLF, CRCRLF): it holds no other CR (a lone CR gets its line
    flagged)."""
    return run.replace(b"\r", b"")  # copies the spans between CRs: a third faster than translate


