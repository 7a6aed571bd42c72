"""Definitions compiled for matching: one scanner for every regex, and the checks behind it.

Every format pattern and every distinct rule regex gets an integer id. The scanner (a
prefilter) says which ids may match on which lines of a block; `scan_line` then decodes such a
line, splits its timestamp prefixes and confirms format patterns with Python `re`;
`check` confirms a rule's line matcher on a scanned line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from consolewatch.definitions import Definitions
from consolewatch.detect.rules import LineMatcher, Rule
from consolewatch.model import MILESTONES, Line, Origin
from consolewatch.normalize.formats import FormatPattern
from consolewatch.normalize.scanner import Scanner
from consolewatch.normalize.stamps import Stamps, split_stamps

MILESTONE_RANK = {m: i for i, m in enumerate(MILESTONES)}
_new = tuple.__new__


@dataclass(frozen=True, slots=True)
class FormatHit:
    pattern: FormatPattern
    fields: Mapping[str, str]


class Reading(NamedTuple):
    """What the format patterns said about a flagged line (cached by text and triggers)."""

    stamps: Stamps
    formats: tuple[FormatHit, ...]
    fields: Mapping[str, str]
    boot_starts: tuple[str, ...]
    """Milestones of the line's boot_start patterns."""
    milestones: tuple[str, ...]
    restart: bool
    """A pattern says the system is restarting (the next milestone line begins a new boot)."""
    relevant: bool
    """False when no rule can use the line and its formats change nothing (skip it)."""
    once: tuple[str, ...] = ()
    """Refs of its `once` patterns (printed once per run: seen again, a new boot began)."""


class ScannedLine(NamedTuple):
    """A line that may interest a format or rule: the line's own values (the first ten, those of
    `Line`, in its order) and what its formats said about it.

    (An immutable NamedTuple rather than a frozen dataclass holding a `Line`: one is built per
    flagged line on the hot path, a NamedTuple builds four times faster, and building a `Line`
    as well cost as much again; `line` builds it when a consumer asks.)
    """

    seq: int
    text: str
    source: str
    boot: int
    guest_time: float | None
    wall_time: float | None
    observed_at: float | None
    origin: Origin
    confidence: float | None
    t: float | None
    message: str
    formats: tuple[FormatHit, ...]
    triggers: frozenset[int]
    fields: Mapping[str, str]
    """Fields of every format pattern the line matched (shared: never mutate)."""
    program: str | None = None

    @property
    def line(self) -> Line:
        return Line(*self[:LINE_FIELDS])  # type: ignore[arg-type]

    @classmethod
    def of(cls, line: Line, reading: Reading, triggers: frozenset[int]) -> ScannedLine:
        """`line` with what `Catalog.read` found in it."""
        s = reading.stamps
        return cls(line.seq, line.text, line.source, line.boot, line.guest_time, line.wall_time, line.observed_at,
                   line.origin, line.confidence, line.t, s.message, reading.formats, triggers, reading.fields,
                   s.program)


#: How many of `ScannedLine`'s values are the line's own (`Line`'s fields, in order).
LINE_FIELDS = 10


class Catalog:
    """Formats and rules ready for matching, built once per run."""

    def __init__(self, defs: Definitions, *, rules: Iterable[str] | None = None, backend: str = "auto") -> None:
        self.defs = defs
        wanted = set(rules) if rules is not None else None
        self.rules: tuple[Rule, ...] = tuple(r for r in defs.rules.values() if wanted is None or r.id in wanted)
        self.patterns: dict[int, FormatPattern] = {}
        self._pattern_id: dict[str, int] = {}
        sources: list[tuple[int, str, bool]] = []
        for fmt in defs.formats.values():
            for p in fmt.patterns:
                pid = len(sources)
                self.patterns[pid] = p
                self._pattern_id[p.ref] = pid
                sources.append((pid, p.regex.pattern, p.ignore_case))
        regex_id: dict[tuple[str, int], int] = {}
        self.by_trigger: dict[int, list[tuple[Rule, LineMatcher, int]]] = {}
        for rule in self.rules:
            for index, m in enumerate(rule.matchers):
                if m.regex is not None:
                    key = (m.regex.pattern, m.regex.flags)
                    if key not in regex_id:
                        regex_id[key] = len(sources)
                        sources.append((len(sources), m.regex.pattern, bool(m.regex.flags & 2)))
                    trigger = regex_id[key]
                else:
                    trigger = self._pattern_id.get(m.format_ref or "", -1)
                self.by_trigger.setdefault(trigger, []).append((rule, m, index))
        self.scanner = Scanner(sources, backend=backend)
        self.useful = frozenset(
            {pid for pid, p in self.patterns.items() if p.milestone or p.restart or p.once or p.once_per or p.poweroff or p.progress or p.arms or p.context}
            | set(self.by_trigger)
        )
        """Pattern ids that can make a line matter on their own (a milestone, a restart or power-off, progress,
        a context, a rule's trigger); a line flagged by none of them is skipped unread (`Reading.relevant` is False)."""
        self._rule_order = {r.id: i for i, r in enumerate(self.rules)}
        self._candidates: dict[frozenset[int], list[tuple[Rule, LineMatcher, int]]] = {}
        self._formats_of: dict[frozenset[int], tuple[FormatPattern, ...]] = {}
        self.read_cache: dict[tuple[str, frozenset[int]], Reading] = {}
        """(text, triggers) -> what `read` said, for lines read before: the normaliser looks here
        first (hot path)."""
        self._sighted: set[str] = set()
        """Texts with a printk time read once: such a line enters `read_cache` at its second sight
        (a line without one at its first). Its time makes it unlike every other line of a fleet's
        archive: kept at once, the `Reading`s and keys of lines never seen again were most of what
        the cycle collector traversed (~0.1 s of the 100 MB mix with its printk times moved,
        bench/README "Sixteenth step"). A text is a string, which the collector does not track."""
        self._said: dict[tuple[str, str | None, frozenset[int]], tuple[Any, ...]] = {}
        """(message, program, triggers) -> what `read` says besides the stamps: a console's lines
        repeat their messages under new timestamps, which miss `read_cache`."""
        self._match_cache: dict[tuple[str, str | None, frozenset[int], str],
                                list[tuple[Rule, LineMatcher, int, dict[str, str]]]] = {}

    def read(self, text: str, triggers: frozenset[int]) -> Reading:
        """Split a flagged line's stamps and confirm the format patterns behind `triggers`."""
        return self.read_cache.get((text, triggers)) or self.read_new(text, triggers)

    def read_new(self, text: str, triggers: frozenset[int]) -> Reading:
        """`read` of a line `read_cache` does not hold (the normaliser has looked there)."""
        stamps = split_stamps(text)
        said_key = (stamps.message, stamps.program, triggers)
        said = self._said.get(said_key)
        if said is None:
            if len(self._said) > 20000:
                self._said.clear()
            said = self._said[said_key] = self._read(stamps, triggers)
        result = _new(Reading, (stamps, *said))
        sighted = self._sighted
        if stamps.guest_time is None or text in sighted:  # no printk time, or its second sight
            if len(self.read_cache) > 20000:
                self.read_cache.clear()
            self.read_cache[(text, triggers)] = result
        else:
            if len(sighted) > 20000:
                sighted.clear()
            sighted.add(text)
        return result

    def _read(self, stamps: Stamps, triggers: frozenset[int]) -> tuple[Any, ...]:
        """What the line's message and program say (every field of `Reading` but its stamps)."""
        message = stamps.message
        hits: list[FormatHit] = []
        fields: dict[str, str] = {}
        for p in self._formats_of.get(triggers) or self._formats(triggers):
            m = p.regex.search(message)
            if m:
                got = m.groupdict()
                if None in got.values():
                    got = {k: v for k, v in got.items() if v is not None}
                hits.append(FormatHit(p, got))
                for k, v in got.items():
                    fields.setdefault(k, v)
        if stamps.program:
            fields.setdefault("program", stamps.program)
        if not hits:  # most flagged lines: a rule's trigger only
            return ((), fields, (), (), False, bool(self.candidates(triggers)), ())
        # one pass over the hits (a first read of every distinct line goes through here)
        starts: list[str] = []
        milestones: list[str] = []
        once: list[str] = []
        once_per: list[str] = []
        restart = acts = False
        for h in hits:
            p = h.pattern
            if p.milestone:
                milestones.append(p.milestone)
                if p.boot_start:
                    starts.append(p.milestone)
            if p.restart:
                restart = True
            if p.once:
                once.append(p.ref)
            if p.once_per:
                once_per.append(f"{p.ref}={h.fields.get(p.once_per, '')}")
            if p.context or p.poweroff or p.progress or p.arms:
                acts = True
        relevant = bool(milestones or restart or once or once_per or acts or self.candidates(triggers))
        return (tuple(hits), fields, tuple(starts), tuple(milestones), restart, relevant, tuple(once + once_per))

    def _formats(self, triggers: frozenset[int]) -> tuple[FormatPattern, ...]:
        """The format patterns among `triggers`, in id order (remembered: lines repeat their trigger sets)."""
        got = self._formats_of[triggers] = tuple(
            p for pid in sorted(triggers) if (p := self.patterns.get(pid)) is not None)
        return got

    def candidates(self, triggers: frozenset[int]) -> list[tuple[Rule, LineMatcher, int]]:
        """(rule, matcher, matcher index) that may match a line with these triggers, in definition order."""
        out = self._candidates.get(triggers)
        if out is None:
            out = [c for t in triggers for c in self.by_trigger.get(t, ())]
            out.sort(key=lambda c: (self._rule_order[c[0].id], c[2]))
            self._candidates[triggers] = out
        return out

    def matches(self, sl: ScannedLine) -> list[tuple[Rule, LineMatcher, int, dict[str, str]]]:
        """(rule, matcher, matcher index, fields) of each candidate matcher that `check` finds
        on `sl`, in definition order, whatever the rules' clouds and the cloud's facts (the
        engine judges those).

        Cached: `check` depends only on the line's message, program, triggers and origin (its
        formats and fields are what `read` found in that message), and consoles repeat lines.
        The list and its fields are shared by every line with that key: never change them.
        """
        key = (sl.message, sl.program, sl.triggers, sl.origin)
        got = self._match_cache.get(key)
        if got is None:
            if len(self._match_cache) > 20000:
                self._match_cache.clear()
            got = self._match_cache[key] = [
                (rule, m, index, fields) for rule, m, index in self.candidates(sl.triggers)
                if (fields := self.check(m, sl)) is not None
            ]
        return got

    def check(self, m: LineMatcher, sl: ScannedLine) -> dict[str, str] | None:
        """The fields a matcher yields on this line, or None when it does not match."""
        if m.origin is not None and sl.origin != m.origin:
            return None
        hit = found = None
        if m.format_ref is not None:
            for h in sl.formats:
                if h.pattern.ref == m.format_ref:
                    hit = h
                    break
            else:
                return None
        if m.regex is not None:  # searched before any fields are copied: most candidates fail here
            found = m.regex.search(sl.message)
            if found is None:
                return None
        fields = dict(sl.fields)
        if hit is not None:
            fields.update(hit.fields)
        if found is not None and found.re.groups:
            fields.update({k: v for k, v in found.groupdict().items() if v is not None})
        if m.exclude is not None and m.exclude.search(sl.message):
            return None
        for name, rx in m.where:
            value = fields.get(name)
            if value is None or not rx.search(value):
                return None
        return fields
