"""Find which lines of a block might match which patterns, in one pass over the bytes.

Consoles are mostly lines no rule cares about, so the hot path never looks at lines one by one:
a multi-pattern scanner runs over a whole block of complete lines and reports, per line, the ids
of the patterns that may match there. Only those lines are decoded and checked with Python's
`re` (the authoritative match). The scanner may over-report (it is a prefilter) but never
under-reports.

Two backends with one interface: Hyperscan (when the `hyperscan` wheel is installed; about
1 GB/s here) and Python `re` (always available, slower). Patterns Hyperscan cannot compile go to
the `re` backend, so every pattern is always scanned.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

try:  # pragma: no cover - exercised by whichever backend the machine has
    import hyperscan as _hs
except Exception:  # ImportError, or a wheel that cannot load on this CPU
    _hs = None


_TAIL = re.compile(r"(?:\(\?P<\w+>\.[*+]\??\)|\(\?:\.[*+]\??\)|\(\.[*+]\??\)|(?<!\\)\.[*+]\??|(?<!\\)\$)$")


def _prefilter_source(pattern: str) -> str:
    """A superset of `pattern` for scanning raw lines.

    Patterns are matched against a line's message (its text after timestamp prefixes), so a
    leading `^` is dropped. Trailing `.*`, `(?P<x>.*)` and `$` are dropped too: they add nothing
    to whether a line can match, and Hyperscan reports every end offset a pattern can have.
    """
    src = pattern[1:] if pattern.startswith("^") else pattern
    while True:
        shorter = _TAIL.sub("", src)
        if shorter == src or not shorter or shorter.endswith("\\"):
            return src
        src = shorter


_NON_ASCII_LINE = re.compile(rb"^.*[\x80-\xff].*$", re.M)


class _ReBackend:
    """All patterns in one alternation finds candidate lines; each is then checked per pattern."""

    def __init__(self, patterns: Sequence[tuple[int, str, bool]], combined: bool = True) -> None:
        self._each = [(pid, re.compile(src, re.M | (re.I if icase else 0))) for pid, src, icase in patterns]
        parts = [b"(?%s:%s)" % (b"i" if icase else b"-i", src.encode()) for _, src, icase in patterns]
        self._any = re.compile(b"|".join(parts), re.M) if parts and combined else None

    def scan_lines(self, buf: bytes, select: re.Pattern[bytes], hits: dict[int, set[int]], where: dict[int, int]) -> None:
        """Check every pattern on the lines `select` finds (decoded: Unicode semantics)."""
        line = pos = 0
        for m in select.finditer(buf):
            line += buf.count(b"\n", pos, m.start())
            pos = m.start()
            text = m.group().decode("utf-8", "replace")
            for pid, rx in self._each:
                if rx.search(text):
                    hits.setdefault(line, set()).add(pid)
                    where.setdefault(line, m.start())

    def scan(self, buf: bytes, hits: dict[int, set[int]], where: dict[int, int]) -> None:
        if self._any is None:
            return
        candidates: set[int] = set()
        line = pos = 0
        for m in self._any.finditer(buf):
            start = m.start()
            last = max(m.end() - 1, start)
            line += buf.count(b"\n", pos, start)
            pos = start
            # A match may span lines: every line it touches is a candidate.
            candidates.update(range(line, line + buf.count(b"\n", start, last) + 1))
        if not candidates:
            return
        lines = buf.split(b"\n")
        offset = 0
        starts = {}
        for i, raw in enumerate(lines):
            if i in candidates:
                starts[i] = offset
            offset += len(raw) + 1
        for ln in candidates:
            text = lines[ln].decode("utf-8", "replace")
            for pid, rx in self._each:
                if rx.search(text):
                    hits.setdefault(ln, set()).add(pid)
                    where.setdefault(ln, starts[ln])


class _HyperscanBackend:
    def __init__(self, patterns: Sequence[tuple[int, str, bool]]) -> None:
        self._db = None
        self.rejected: list[tuple[int, str, bool]] = []
        ok = list(patterns)
        if not ok:
            return
        cached = _cache_load(ok)
        if cached is not None:
            self._db, self.rejected = cached
            return
        try:
            self._db = self._compile(ok)
        except Exception:
            # Some construct is unsupported even in prefilter mode: find which, scan those with re.
            ok = []
            for p in patterns:
                try:
                    self._compile([p])
                    ok.append(p)
                except Exception:
                    self.rejected.append(p)
            self._db = self._compile(ok) if ok else None
        _cache_store(list(patterns), self._db, self.rejected)

    def _compile(self, pats: Sequence[tuple[int, str, bool]]):
        db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        db.compile(
            expressions=[src.encode() for _, src, _ in pats],
            ids=[pid for pid, _, _ in pats],
            elements=len(pats),
            flags=[self._flags(icase) for _, _, icase in pats],
        )
        return db

    @staticmethod
    def _flags(icase: bool) -> int:
        # ASCII semantics (Unicode properties make compiling 20x slower): lines with non-ASCII
        # bytes are checked with Python's `re` instead (see Scanner.scan).
        f = _hs.HS_FLAG_MULTILINE | _hs.HS_FLAG_PREFILTER
        return f | _hs.HS_FLAG_CASELESS if icase else f

    def scan(self, buf: bytes, hits: dict[int, set[int]], where: dict[int, int]) -> None:
        if self._db is None or not buf:
            return
        ends: list[tuple[int, int]] = []
        append = ends.append

        def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            append((end, pid))

        self._db.scan(buf, match_event_handler=on_match)
        ends.sort()
        line = 0
        pos = 0
        for end, pid in ends:
            at = end - 1 if end > 0 else 0
            if at > pos:
                line += buf.count(b"\n", pos, at)
                pos = at
            bucket = hits.get(line)
            if bucket is None:
                hits[line] = {pid}
                where[line] = at
            else:
                bucket.add(pid)


def _cache_path(patterns: Sequence[tuple[int, str, bool]]):
    import hashlib
    import os
    from pathlib import Path

    key = hashlib.sha256(repr((getattr(_hs, "__version__", "?"), _FLAGS_VERSION, list(patterns))).encode()).hexdigest()
    base = os.environ.get("CONSOLEWATCH_CACHE_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("consolewatch")
    return Path(base) / "scanner" / f"{key[:32]}.hsdb"


_FLAGS_VERSION = 2


def _cache_load(patterns: Sequence[tuple[int, str, bool]]):
    """A compiled database from an earlier run with exactly these patterns, or None."""
    import json

    try:
        path = _cache_path(patterns)
        blob = path.read_bytes()
        head, _, db = blob.partition(b"\n")
        rejected = [tuple(x) for x in json.loads(head)]
        loaded = None
        if db:
            loaded = _hs.loadb(db, _hs.HS_MODE_BLOCK)
            loaded.scratch = _hs.Scratch(loaded)  # a deserialised database has none
        return loaded, rejected
    except Exception:  # missing, unreadable, stale or from another hyperscan: compile again
        return None


def _cache_store(patterns, db, rejected) -> None:
    import json
    import os

    try:
        path = _cache_path(patterns)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(json.dumps(rejected).encode() + b"\n" + (_hs.dumpb(db) if db is not None else b""))
        os.replace(tmp, path)
    except Exception:  # a read-only home: just compile next time
        pass


class Scanner:
    """Scans blocks of `\\n`-separated UTF-8 lines for a fixed set of patterns."""

    def __init__(self, patterns: Iterable[tuple[int, str, bool]], *, backend: str = "auto") -> None:
        """`patterns`: (id, Python regex source, ignore_case). `backend`: auto, hyperscan or re."""
        pats = [(pid, _prefilter_source(src), icase) for pid, src, icase in patterns]
        self.backends: list[_ReBackend | _HyperscanBackend] = []
        use_hs = backend == "hyperscan" or (backend == "auto" and _hs is not None)
        self._unicode: _ReBackend | None = None
        if use_hs:
            if _hs is None:
                raise RuntimeError("the hyperscan backend is not installed")
            hs = _HyperscanBackend(pats)
            self.backends.append(hs)
            if hs.rejected:
                self.backends.append(_ReBackend(hs.rejected))
            self._unicode = _ReBackend(pats, combined=False)
        else:
            self.backends.append(_ReBackend(pats))
        self.name = "+".join(type(b).__name__.strip("_").replace("Backend", "").lower() for b in self.backends)

    def scan(self, buf: bytes) -> tuple[dict[int, set[int]], dict[int, int]]:
        """Map line index (0-based within `buf`) -> ids of patterns that may match on it,
        and line index -> a byte offset inside that line."""
        hits: dict[int, set[int]] = {}
        where: dict[int, int] = {}
        for b in self.backends:
            b.scan(buf, hits, where)
        if self._unicode is not None and not buf.isascii():
            # Hyperscan matched with ASCII classes; lines with other characters get Python's
            # Unicode-aware `re`, so both backends flag exactly the same lines.
            self._unicode.scan_lines(buf, _NON_ASCII_LINE, hits, where)
        return hits, where


def hyperscan_available() -> bool:
    return _hs is not None
