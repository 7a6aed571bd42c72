"""Definitions compiled for matching: one scanner for every regex, and the checks behind it.

Every format pattern and every distinct rule regex gets an integer id. The scanner (a
prefilter) says which ids may match on which lines of a block; `scan_line` then decodes such a
line, splits its timestamp prefixes and confirms format patterns with Python `re`;
`check` confirms a rule's line matcher on a scanned line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from consolewatch.definitions import Definitions
from consolewatch.detect.rules import LineMatcher, Rule
from consolewatch.model import MILESTONES, Line
from consolewatch.normalize.formats import FormatPattern
from consolewatch.normalize.scanner import Scanner
from consolewatch.normalize.stamps import Stamps, split_stamps

MILESTONE_RANK = {m: i for i, m in enumerate(MILESTONES)}


@dataclass(frozen=True, slots=True)
class FormatHit:
    pattern: FormatPattern
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ScannedLine:
    """A line that may interest a format or rule, with what its formats said about it."""

    line: Line
    message: str
    formats: tuple[FormatHit, ...]
    triggers: frozenset[int]
    fields: Mapping[str, str] = field(default_factory=dict)
    """Fields of every format pattern the line matched."""
    program: str | None = None

    @property
    def milestones(self) -> tuple[str, ...]:
        return tuple(h.pattern.milestone for h in self.formats if h.pattern.milestone)


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
        self.by_trigger: dict[int, list[tuple[Rule, LineMatcher]]] = {}
        for rule in self.rules:
            for m in rule.matchers:
                if m.regex is not None:
                    key = (m.regex.pattern, m.regex.flags)
                    if key not in regex_id:
                        regex_id[key] = len(sources)
                        sources.append((len(sources), m.regex.pattern, bool(m.regex.flags & 2)))
                    trigger = regex_id[key]
                else:
                    trigger = self._pattern_id.get(m.format_ref or "", -1)
                pairs = self.by_trigger.setdefault(trigger, [])
                if (rule, m) not in pairs:
                    pairs.append((rule, m))
        self.scanner = Scanner(sources, backend=backend)
        self._rule_order = {r.id: i for i, r in enumerate(self.rules)}

    def read(self, text: str, triggers: frozenset[int]) -> tuple[Stamps, tuple[FormatHit, ...], dict[str, str]]:
        """Split a flagged line's stamps and confirm the format patterns behind `triggers`."""
        stamps = split_stamps(text)
        message = stamps.message
        hits: list[FormatHit] = []
        fields: dict[str, str] = {}
        for pid in sorted(triggers):
            p = self.patterns.get(pid)
            if p is None:
                continue
            m = p.regex.search(message)
            if m:
                got = {k: v for k, v in m.groupdict().items() if v is not None}
                hits.append(FormatHit(p, got))
                for k, v in got.items():
                    fields.setdefault(k, v)
        if stamps.program:
            fields.setdefault("program", stamps.program)
        return stamps, tuple(hits), fields

    def candidates(self, sl: ScannedLine) -> list[tuple[Rule, LineMatcher]]:
        """Rule matchers that may match this line, in definition order."""
        out: list[tuple[Rule, LineMatcher]] = []
        for t in sl.triggers:
            out.extend(self.by_trigger.get(t, ()))
        if len(out) > 1:
            out.sort(key=lambda rm: (self._rule_order[rm[0].id], rm[0].matchers.index(rm[1])))
        return out

    def check(self, m: LineMatcher, sl: ScannedLine) -> dict[str, str] | None:
        """The fields a matcher yields on this line, or None when it does not match."""
        if m.origin is not None and sl.line.origin != m.origin:
            return None
        fields = dict(sl.fields)
        if m.format_ref is not None:
            hit = next((h for h in sl.formats if h.pattern.ref == m.format_ref), None)
            if hit is None:
                return None
            fields.update(hit.fields)
        if m.regex is not None:
            found = m.regex.search(sl.message)
            if found is None:
                return None
            fields.update({k: v for k, v in found.groupdict().items() if v is not None})
        if m.exclude is not None and m.exclude.search(sl.message):
            return None
        for name, rx in m.where:
            value = fields.get(name)
            if value is None or not rx.search(value):
                return None
        return fields
