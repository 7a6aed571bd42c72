"""Find which lines of a block might match which patterns, in one pass over the bytes.

Consoles are mostly lines no rule cares about, so the hot path never looks at lines one by one:
a multi-pattern scanner runs over a whole block of complete lines and reports, per line, the ids
of the patterns that may match there. Only those lines are decoded and checked with Python's
`re` (the authoritative match). The scanner may over-report (it is a prefilter) but never
under-reports: definitions use ASCII character classes (`REGEX_FLAGS`), which Hyperscan's UTF-8
mode matches the same way.

Two backends with one interface: Hyperscan (when the `hyperscan` wheel is installed; about
1 GB/s here) and Python `re` (always available, slower). Patterns Hyperscan cannot compile go to
the `re` backend, so every pattern is always scanned.

A pattern that keeps Hyperscan's automata busy (a class repeated without bound before its
literal) is scanned for by its literal runs, or by the part of it that literals lead, and the
lines they flag are confirmed with the pattern in Python (`standins`): the lines reported are
the same.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from consolewatch import cachedir
from consolewatch.normalize import rxcode, scancache

try:  # pragma: no cover - exercised by whichever backend the machine has
    import hyperscan as _hs
except Exception:  # ImportError, or a wheel that cannot load on this CPU
    _hs = None  # type: ignore[assignment]

#: How every definition regex is compiled: ASCII classes (\w, \d, \s, \b), as the scanner does.
REGEX_FLAGS = re.ASCII

Pattern = tuple[int, str, bool]
"""(id, Python regex source, ignore_case)."""

_NAMED = re.compile(r"\(\?P<\w+>")
#: A run of a source with no `^` anchor in it: escapes, classes (a `]` right after `[` or `[^` is a
#: literal member, not the class's end) and other characters; `findall` steps over each anchor.
_NO_ANCHOR = re.compile(r"(?:\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[^\\[^]+)*", re.S)
#: How far from a source's end its droppable tail can begin (`_TAIL`'s longest form is a named
#: group around `.*?`).
_TAIL_WINDOW = 200
_TAIL = re.compile(
    r"(?:\(\?P<\w+>\.[*+]\??\)|\(\?:\.[*+]\??\)|\(\.[*+]\??\)|(?<!\\)\.[*+]\??|(?<!\\)\$"
    r"|(?<!\\)\\[s.][*?]\??)$"
)


def _prefilter_source(pattern: str) -> str:
    r"""A superset of `pattern` for scanning raw lines.

    Patterns are matched against a line's message (its text after timestamp prefixes), so every
    `^` is dropped, the one inside an alternation too (`(?:^|udhcpc: )Lease of`): kept, it would
    anchor at the raw line's start, before the stamp, and a stamped line would never be flagged. Trailing `.*`, `(?P<x>.*)`, `$` and optional `\s*` / `\.?` are
    dropped too: they add nothing to whether a line can match, and Hyperscan reports every end
    offset a pattern can have (a lazy `(?P<x>.+?)\.?\s*$` tail is one match event per character).
    """
    src = _drop_line_anchors(pattern)
    while True:
        # the tail is looked for near the end only (every process prefilters ~800 sources)
        tail = _TAIL.search(src, max(0, len(src) - _TAIL_WINDOW))
        shorter = src[: tail.start()] if tail else src
        if shorter == src or not shorter or shorter.endswith("\\"):
            return src
        src = shorter


def _drop_line_anchors(pattern: str) -> str:
    """`pattern` without its `^` anchors (escaped `\\^` and `^` inside a class kept): a superset."""
    return "".join(_NO_ANCHOR.findall(pattern)) if "^" in pattern else pattern


class _ReBackend:
    """All patterns in one alternation find candidate lines; each is then checked per pattern."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        flags = re.M | REGEX_FLAGS
        self._each = [(pid, re.compile(src, flags | (re.I if icase else 0))) for pid, src, icase in patterns]
        # One alternation finds candidate lines fast; group names must not repeat in it.
        parts = ["(?%s:%s)" % ("i" if icase else "-i", _NAMED.sub("(?:", src)) for _, src, icase in patterns]
        try:
            self._finders = [re.compile("|".join(parts), flags)] if parts else []
        except re.error:  # e.g. a back-reference by number: search pattern by pattern
            self._finders = [rx for _, rx in self._each]

    def scan(self, buf: bytes, hits: dict[int, set[int]], where: dict[int, int]) -> None:
        if not self._finders:
            return
        text = buf.decode("utf-8", "replace")
        candidates: set[int] = set()
        for finder in self._finders:
            line = pos = 0
            for m in finder.finditer(text):
                start = m.start()
                last = max(m.end() - 1, start)
                line += text.count("\n", pos, start)
                pos = start
                # A match may span lines: every line it touches is a candidate.
                candidates.update(range(line, line + text.count("\n", start, last) + 1))
        if not candidates:
            return
        raw_lines = buf.split(b"\n")
        starts, offset = {}, 0
        for i, raw in enumerate(raw_lines):
            if i in candidates:
                starts[i] = offset
            offset += len(raw) + 1
        for ln in candidates:
            line_text = raw_lines[ln].decode("utf-8", "replace")
            for pid, rx in self._each:
                if rx.search(line_text):
                    hits.setdefault(ln, set()).add(pid)
                    where.setdefault(ln, starts[ln])


def _to_line_end(src: str) -> str:
    """`src` extended to the end of its line, for Hyperscan: it reports a pattern once per end
    offset, so a line is then one event per pattern, however many ways the pattern matches in
    it (`\\w+(?: \\w+)*` would report each word). A pattern with a `$` of its own is extended
    alternative by alternative (`rxsource.to_line_end`: Hyperscan refuses an end anchor followed by
    more), or kept as it is when it cannot be; one that matches the empty string is kept as it is
    (Hyperscan refuses it, and the `re` backend takes it, as before)."""
    if _matches_empty(src):
        return src
    if "$" not in src:
        return f"(?:{src})[^\\n]*$"
    from consolewatch.normalize.rxsource import to_line_end  # compiling only (a warm start reads the cache)

    try:
        return to_line_end(_parser.parse(src, REGEX_FLAGS).data)
    except (re.error, ValueError, RecursionError):
        return src


def _matches_empty(src: str) -> bool:
    try:
        return re.compile(src, REGEX_FLAGS).search("") is not None
    except re.error:
        return False


#: Added to a pattern's id by the expressions that stand in for it (`_compile`; ids stay below it).
STAND_IN = 1 << 24

#: Lines whose stand-in confirmations are remembered (line bytes -> pattern id -> whether the
#: pattern matched), and the longest line remembered: bounded memory whatever the lines (~3 MB at most).
CONFIRMED_KEPT = 4096
CONFIRMED_LINE_BYTES = 512


class _HyperscanBackend:
    SALT = f"hyperscan-{getattr(_hs, '__version__', '?')}-utf8-prefilter-line-end-3-stand-ins-4-tails-2-forms"

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        """`patterns` as written: prefiltered (`_prefilter_source`) when the database is compiled."""
        self._db = None
        self.rejected: list[Pattern] = []
        """The patterns (prefiltered) Hyperscan cannot compile: the `re` backend scans them."""
        self._confirm: dict[int, tuple[str, bool]] = {}
        """id -> (source, ignore_case) of the patterns scanned by a literal stand-in (`standins`):
        a line their stand-in flags is kept only if the pattern itself matches it."""
        self._regex: dict[int, re.Pattern[str]] = {}
        self._confirmed: dict[bytes, dict[int, bool]] = {}
        self._confirm_ids: frozenset[int] = frozenset()
        self._forms: dict[int, rxcode.Form] = {}
        if not patterns:
            return
        # Keyed by the patterns as the definitions write them (and the code that prefilters them):
        # a run that finds its entry prefilters none of them (~8 ms a process).
        salt = self.SALT + _code_digest()
        cached = scancache.load(_hs, patterns, salt)
        stand_ins: list[Pattern]
        if cached is not None:
            self._db, self.rejected, stand_ins, self._forms = cached
        else:
            pats = [(pid, _prefilter_source(src), icase) for pid, src, icase in patterns]
            self._db, stood = self._compile_all(pats)
            wanted = set(stood)
            stand_ins = [p for p in pats if p[0] in wanted]
            self._forms = {pid: form for pid, src, icase in stand_ins
                           if (form := rxcode.compiled_form(src, _confirm_flags(icase))) is not None}
            scancache.store(_hs, patterns, salt, self._db, self.rejected, stand_ins, self._forms)
        self._confirm = {pid: (src, icase) for pid, src, icase in stand_ins}
        self._confirm_ids = frozenset(pid + STAND_IN for pid in self._confirm)
        """The ids stand-ins report (`_compile`): a line one flags is confirmed with its pattern."""

    def _compile_all(self, patterns: Sequence[Pattern]) -> tuple[Any, list[int]]:
        try:
            return self._compile(patterns)
        except Exception:
            # Some construct is unsupported even in prefilter mode: find which, scan those with re.
            ok = []
            for p in patterns:
                try:
                    self._compile([p])
                    ok.append(p)
                except Exception:
                    self.rejected.append(p)
            return self._compile(ok) if ok else (None, [])

    @staticmethod
    def _compile(pats: Sequence[Pattern]) -> tuple[Any, list[int]]:
        """The database, and the ids of the patterns it scans by a stand-in (`standins`): an
        expression that stands in for pattern `pid` reports `pid + STAND_IN`, one that is a branch
        of the pattern as it is reports `pid`."""
        # UTF-8 (`.` is one character) with ASCII classes, like REGEX_FLAGS; Unicode
        # properties (HS_FLAG_UCP) would make compiling twenty times slower.
        from consolewatch.normalize.standins import literal_stand_ins, tail_stand_ins  # compiling only

        base = _hs.HS_FLAG_MULTILINE | _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_UTF8
        exprs: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        stood: list[int] = []
        for pid, src, icase in pats:
            rx_flags = REGEX_FLAGS | (re.I if icase else 0)
            runs = literal_stand_ins(src, rx_flags)
            parts = [(run, True) for run in runs] if runs else tail_stand_ins(src, rx_flags) or [(src, False)]
            if any(confirm for _, confirm in parts):
                stood.append(pid)
            for expr, confirm in parts:
                exprs.append(_to_line_end(expr).encode())
                ids.append(pid + STAND_IN if confirm else pid)
                flags.append(base | _hs.HS_FLAG_CASELESS if icase else base)
        db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
        return db, stood

    def scan(self, buf: bytes, hits: dict[int, set[int]], where: dict[int, int]) -> None:
        if self._db is None or not buf:
            return
        # Patterns run to the line end, so a line's events mostly share one end offset: the
        # handler files each pattern id under its end offset (no event list to sort), and lines
        # are counted once per end offset, in order.
        by_end: defaultdict[int, set[int]] = defaultdict(set)
        self._db.scan(buf, match_event_handler=lambda pid, _start, end, _flags, _ctx: by_end[end].add(pid))
        confirm = self._confirm_ids
        doubtful: dict[int, int] = {}
        line = pos = 0
        last = -1
        got: set[int] = set()
        for end in sorted(by_end):
            pids = by_end[end]
            at = end - 1 if end > 0 else 0
            if at > pos:
                part = buf[pos:at]  # newlines(buf, pos, at), inlined: once per end offset
                line += len(part) - len(part.replace(b"\n", b""))
                pos = at
            if line != last:  # (lines only grow: a line's end offsets come one after another)
                hits[line] = got = pids
                where[line] = at
                last = line
            else:
                got |= pids
            if not confirm.isdisjoint(pids):
                doubtful[line] = at  # its stand-ins are confirmed once the line's ids are all in
        if doubtful:
            self._confirm_lines(buf, doubtful, hits, where)

    def _confirm_lines(self, buf: bytes, doubtful: dict[int, int], hits: dict[int, set[int]],
                       where: dict[int, int]) -> None:
        """Replace the stand-in ids of each doubtful line (line index -> an offset in it) by their
        patterns' ids where the pattern matches the line (as the `re` backend checks a candidate
        line), dropping the others; a line left with no id is not flagged."""
        known = self._confirmed
        if len(known) > CONFIRMED_KEPT:
            known.clear()
        confirm = self._confirm_ids
        for line, at in doubtful.items():
            bucket = hits[line]
            stood = bucket & confirm
            bucket -= stood
            start = buf.rfind(b"\n", 0, at) + 1
            stop = buf.find(b"\n", start)
            raw = buf[start: stop if stop >= 0 else len(buf)]
            said = known.get(raw)  # consoles repeat lines: each short (line, pattern) is checked once
            if said is None:
                said = {}
                if len(raw) <= CONFIRMED_LINE_BYTES:
                    known[raw] = said
            text = None
            for sid in stood:
                pid = sid - STAND_IN
                if pid in bucket:  # a branch scanned as it is flagged the line, or confirmed already
                    continue
                ok = said.get(pid)
                if ok is None:
                    if text is None:
                        text = raw.decode("utf-8", "replace")
                    ok = said[pid] = self._pattern(pid).search(text) is not None
                if ok:
                    bucket.add(pid)
            if not bucket:
                del hits[line], where[line]

    def _pattern(self, pid: int) -> re.Pattern[str]:
        rx = self._regex.get(pid)
        if rx is None:  # compiled when first needed (most runs meet few), from the cache's form
            src, icase = self._confirm[pid]
            form = self._forms.get(pid)
            try:
                rx = rxcode.rebuild(src, form) if form is not None else None
            except Exception:  # a damaged cache entry: compiled from the source
                rx = None
            rx = self._regex[pid] = rx or re.compile(src, _confirm_flags(icase))
        return rx


@functools.cache
def _code_digest() -> str:
    """A digest of the code that turns patterns into the database (this module, `standins`,
    `rxsource`): cache entries are keyed by the patterns as written, so a change to how they are
    prefiltered or stood in for must name a new entry. Empty when a source cannot be read."""
    h = cachedir.digest()
    try:
        here = Path(__file__).parent  # (read, not imported: a run that finds its entry uses neither)
        for name in (Path(__file__).name, "standins.py", "rxsource.py"):
            h.update((here / name).read_bytes())
    except OSError:
        return ""
    return h.hexdigest()[:16]


def _confirm_flags(icase: bool) -> int:
    """How a stand-in's pattern is compiled to confirm the lines the stand-in flags."""
    return re.M | REGEX_FLAGS | (re.I if icase else 0)


class Scanner:
    """Scans blocks of `\\n`-separated UTF-8 lines for a fixed set of patterns."""

    def __init__(self, patterns: Iterable[Pattern], *, backend: str = "auto") -> None:
        """`backend`: auto (Hyperscan when installed), hyperscan or re."""
        pats = list(patterns)
        self.backends: list[_ReBackend | _HyperscanBackend] = []
        if backend == "hyperscan" or (backend == "auto" and _hs is not None):
            if _hs is None:
                raise RuntimeError("the hyperscan backend is not installed")
            hs = _HyperscanBackend(pats)
            self.backends.append(hs)
            if hs.rejected:
                self.backends.append(_ReBackend(hs.rejected))
        else:
            self.backends.append(_ReBackend([(pid, _prefilter_source(src), icase) for pid, src, icase in pats]))
        self.name = "+".join(type(b).__name__.strip("_").replace("Backend", "").lower() for b in self.backends)

    @property
    def fallback(self) -> list[Pattern]:
        """The patterns Hyperscan could not compile, which the `re` backend scans: each costs a
        pass of Python's `re` over every block (one such pattern took ~10 % of `analyze`'s CPU on
        the bench mix); none without Hyperscan, where `re` scans them all by design."""
        return [p for b in self.backends if isinstance(b, _HyperscanBackend) for p in b.rejected]

    def scan(self, buf: bytes) -> tuple[dict[int, set[int]], dict[int, int]]:
        """Map line index (0-based within `buf`) -> ids of patterns that may match on it,
        and line index -> a byte offset inside that line."""
        hits: dict[int, set[int]] = {}
        where: dict[int, int] = {}
        for b in self.backends:
            b.scan(buf, hits, where)
        return hits, where


def newlines(buf: bytes, start: int = 0, stop: int | None = None) -> int:
    """How many newlines `buf[start:stop]` holds. `bytes.count` compares every byte (about five
    instructions a byte); `replace` finds them with `memchr` and copies the spans between
    them, about a fifth of that on console lines (60-100 bytes each)."""
    part = buf[start:stop]
    return len(part) - len(part.replace(b"\n", b""))


def hyperscan_available() -> bool:
    return _hs is not None
