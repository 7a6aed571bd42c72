"""Format definitions (parsers/formats/*.yaml): how to recognise one producer's lines.

A format names a component (kernel, systemd, dhcp, ...) and holds patterns; a pattern may mark a
boot milestone, begin a boot, prove something about the machine (`context`) and extract fields
(named groups). The YAML schema is documented in parsers/README.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from consolewatch.model import CLOUDS, MILESTONES
from consolewatch.normalize.scanner import REGEX_FLAGS
from consolewatch.yamlload import Problem, line_of

LEVELS = ("info", "warning", "error")
HYPERVISORS = ("xen", "nitro", "kvm", "hyperv", "tcg", "unknown")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class FormatPattern:
    """One recognisable kind of line."""

    format_id: str
    id: str
    regex: re.Pattern[str]
    ignore_case: bool = False
    milestone: str | None = None
    boot_start: bool = False
    restart: bool = False
    """The system says it is restarting: the next milestone line belongs to a new boot."""
    once: bool = False
    """Printed at most once per run of what prints it (a kernel's panic line, its restart line): seen again
    on the same origin, it began again (a new boot)."""
    once_per: str | None = None
    """Like `once`, for each value of this named group: printed at most once per run for each value (a
    firmware loading each boot option once: the same option loaded again, it began again)."""
    poweroff: bool = False
    """A clean power-off or halt: a ready line that does not undo a fatal failure before it."""
    progress: bool = False
    """The boot goes on (a unit started, a target reached): what came before did not stop it."""
    arms: bool = False
    """The line shows a watchdog that resets the machine unless it is fed (a driver initialised, a
    daemon or systemd arming it): a reset with no restart line after it is that watchdog's."""
    context: Mapping[str, str] = field(default_factory=dict)
    level: str | None = None
    component: str = ""
    ref: str = field(init=False, repr=False, compare=False)
    """`format_id.id`: how rules and the boot's milestones name the pattern (kept, not written
    again for every milestone line)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", f"{self.format_id}.{self.id}")


@dataclass(frozen=True, slots=True)
class FormatSample:
    line: str
    pattern: str
    fields: Mapping[str, str]
    source: str
    at: int
    """Line of the sample in its YAML file."""


@dataclass(frozen=True, slots=True)
class Format:
    id: str
    title: str
    component: str
    patterns: tuple[FormatPattern, ...]
    samples: tuple[FormatSample, ...]
    references: tuple[str, ...]
    path: str
    at: int


class Checker:
    """Collects problems in one definition file instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def add(self, where: Any, message: str) -> None:
        self.problems.append(Problem(self.path, line_of(where), message))

    def mapping(self, obj: Any, where: Any, what: str) -> dict[str, Any]:
        if not isinstance(obj, dict):
            self.add(where, f"{what} must be a mapping")
            return {}
        return obj

    def text(self, d: dict[str, Any], key: str, where: Any, *, required: bool = True) -> str:
        v = d.get(key)
        if v is None:
            if required:
                self.add(where, f"missing `{key}`")
            return ""
        if not isinstance(v, str) or not v.strip():
            self.add(where, f"`{key}` must be a non-empty string")
            return ""
        return v

    def strings(self, d: dict[str, Any], key: str, where: Any) -> tuple[str, ...]:
        v = d.get(key, [])
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.add(where, f"`{key}` must be a list of strings")
            return ()
        return tuple(v)

    def regex(self, source: Any, where: Any, *, ignore_case: bool = False) -> re.Pattern[str] | None:
        if not isinstance(source, str) or not source:
            self.add(where, "a regex must be a non-empty string")
            return None
        try:
            rx = re.compile(source, REGEX_FLAGS | (re.I if ignore_case else 0))
        except re.error as exc:
            self.add(where, f"regex {source!r} does not compile: {exc}")
            return None
        if rx.search("") is not None:
            self.add(where, f"regex {source!r} matches the empty string (it would match every line)")
            return None
        return self.safe(rx, where)

    def safe(self, rx: re.Pattern[str], where: Any) -> re.Pattern[str] | None:
        """`rx`, or None with a problem when it can backtrack catastrophically (`regexlint`)."""
        from consolewatch.normalize import regexlint  # checking definitions only (a cached load does not)

        problem = regexlint.check(rx.pattern, rx.flags)
        if problem:
            self.add(where, f"regex {rx.pattern!r} {problem} (catastrophic backtracking on a hostile line): "
                            "make the repeated part unambiguous, e.g. (\\d+\\.)+ not (\\d+\\.?)+")
            return None
        return rx

    def unknown_keys(self, d: dict[str, Any], allowed: set[str], where: Any, what: str) -> None:
        for k in d:
            if k not in allowed:
                self.add(where, f"unknown key `{k}` in {what} (allowed: {', '.join(sorted(allowed))})")


def parse_format(doc: Any, path: str) -> tuple[Format | None, list[Problem]]:
    """Build a Format from one YAML document; problems are collected, not raised."""
    c = Checker(path)
    d = c.mapping(doc, doc, "a format file")
    if not d:
        return None, c.problems
    c.unknown_keys(d, {"id", "title", "component", "references", "patterns", "samples"}, d, "a format")
    fid = c.text(d, "id", d)
    if fid and not _ID.match(fid):
        c.add(d, f"format id {fid!r} must be kebab-case")
    component = c.text(d, "component", d)
    patterns: list[FormatPattern] = []
    raw_patterns = d.get("patterns")
    if not isinstance(raw_patterns, list) or not raw_patterns:
        c.add(d, "`patterns` must be a non-empty list")
        raw_patterns = []
    seen: set[str] = set()
    for p in raw_patterns:
        pd = c.mapping(p, d, "a pattern")
        if not pd:
            continue
        c.unknown_keys(pd, {"id", "regex", "ignore_case", "milestone", "boot_start", "restart", "once", "once_per", "poweroff", "progress", "arms", "context", "level"}, pd, "a pattern")
        pid = c.text(pd, "id", pd)
        if pid in seen:
            c.add(pd, f"duplicate pattern id {pid!r}")
        seen.add(pid)
        icase = bool(pd.get("ignore_case", False))
        rx = c.regex(pd.get("regex"), pd, ignore_case=icase)
        milestone = pd.get("milestone")
        if milestone is not None and milestone not in MILESTONES:
            c.add(pd, f"unknown milestone {milestone!r} (one of {', '.join(MILESTONES)})")
        if pd.get("boot_start") and milestone is None:
            c.add(pd, "a `boot_start` pattern needs the `milestone` it begins at")
        once_per = pd.get("once_per")
        if once_per is not None and (rx is None or not isinstance(once_per, str) or once_per not in rx.groupindex):
            c.add(pd, f"`once_per` must name a group of the regex (got {once_per!r})")
            once_per = None
        level = pd.get("level")
        if level is not None and level not in LEVELS:
            c.add(pd, f"unknown level {level!r}")
        context = pd.get("context") or {}
        if not isinstance(context, dict) or not set(context) <= {"cloud", "hypervisor"}:
            c.add(pd, "`context` may only set `cloud` and `hypervisor`")
            context = {}
        if context.get("cloud") not in (None, *CLOUDS):
            c.add(pd, f"unknown cloud {context.get('cloud')!r}")
        if context.get("hypervisor") not in (None, *HYPERVISORS):
            c.add(pd, f"unknown hypervisor {context.get('hypervisor')!r}")
        if rx is not None and pid:
            patterns.append(
                FormatPattern(
                    format_id=fid, id=pid, regex=rx, ignore_case=icase, milestone=milestone,
                    boot_start=bool(pd.get("boot_start", False)), restart=bool(pd.get("restart", False)), once=bool(pd.get("once", False)),
                    once_per=once_per,
                    poweroff=bool(pd.get("poweroff", False)), progress=bool(pd.get("progress", False)),
                    arms=bool(pd.get("arms", False)),
                    context=dict(context),
                    level=level, component=component,
                )
            )
    samples = _samples(c, d, seen)
    fmt = Format(
        id=fid, title=c.text(d, "title", d), component=component, patterns=tuple(patterns),
        samples=samples, references=c.strings(d, "references", d), path=path, at=line_of(d),
    )
    return (fmt if not c.problems else None), c.problems


def _samples(c: Checker, d: dict[str, Any], pattern_ids: set[str]) -> tuple[FormatSample, ...]:
    out: list[FormatSample] = []
    raw = d.get("samples")
    if not isinstance(raw, list) or not raw:
        c.add(d, "`samples` must be a non-empty list of real lines")
        return ()
    covered: set[str] = set()
    for s in raw:
        sd = c.mapping(s, d, "a sample")
        if not sd:
            continue
        c.unknown_keys(sd, {"line", "pattern", "fields", "source"}, sd, "a sample")
        line = sd.get("line")
        if not isinstance(line, str):
            c.add(sd, "a sample needs `line` (a string)")
            continue
        pid = c.text(sd, "pattern", sd)
        if pid and pid not in pattern_ids:
            c.add(sd, f"sample names unknown pattern {pid!r}")
        source = c.text(sd, "source", sd)
        fields = sd.get("fields") or {}
        if not isinstance(fields, dict):
            c.add(sd, "`fields` must be a mapping")
            fields = {}
        covered.add(pid)
        out.append(FormatSample(line, pid, {str(k): str(v) for k, v in fields.items()}, source, line_of(sd)))
    for pid in sorted(pattern_ids - covered):
        c.add(d, f"pattern {pid!r} has no sample")
    return tuple(out)
