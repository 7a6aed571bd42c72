"""Post-mortem against a known-good boot: what is new in the failed boot, what it never reached.

`learn(paths)` analyses a capture of a good boot of the same image (a log, an export,
`capture:ID`) and keeps its line templates and milestones; `compare(paths, good)` analyses the
failed capture and returns its `Analysis` with a `Comparison`: the lines whose template the good
boot never printed, the milestones the good boot reached and this one did not, and those it
reached much later. A failure no rule knows still stands out this way.

Templates are mined as Drain3 mines them (the `drain3` library, one line at a time): numbers,
hex values, addresses, timestamps, UUIDs and MACs are masked first (`MASKS`), then Drain's
prefix tree groups the good boot's lines; a failed-boot line is new when no group matches it
exactly. Memory stays bounded: the tree is capped at MAX_TEMPLATES groups (least recently used
dropped), and the new lines kept per boot at MAX_NEW_LINES templates (the rest only counted).
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from consolewatch.analysis import InputError, analyze
from consolewatch.detect.catalog import Catalog
from consolewatch.model import Boot
from consolewatch.session import Analysis, Step

__all__ = ["Baseline", "Comparison", "NewLine", "LateMilestone", "learn", "compare", "MASKS"]

MAX_TEMPLATES = 20_000
MAX_NEW_LINES = 500
#: Boots of the failed capture whose new lines are kept (a long boot loop stays bounded).
BOOTS_KEPT = 64
#: A milestone is late when reached after LATE_FACTOR x the good boot's time + LATE_SLACK seconds.
LATE_FACTOR, LATE_SLACK = 1.5, 2.0

_B, _E = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
#: (regex, mask name), applied in order, as Drain3's masking instructions.
MASKS: tuple[tuple[str, str], ...] = (
    (r"^\s*<\d{1,3}>", "PRI"),
    (r"\[ *\d+\.\d+\]", "TIME"),
    (_B + r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?([.,]\d+)?(Z|[+-]\d\d:?\d\d)?" + _E, "DATETIME"),
    (r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d(\.\d+)?", "DATETIME"),
    (_B + r"\d\d:\d\d:\d\d(\.\d+)?" + _E, "CLOCK"),
    (_B + r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" + _E, "UUID"),
    (_B + r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}" + _E, "MAC"),
    (_B + r"(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]" + _E, "PCI"),
    (_B + r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?::\d{1,5})?" + _E, "IP"),
    (_B + r"(?=[0-9a-fA-F:]*:[0-9a-fA-F]*:)[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:/\d{1,3})?" + _E, "IP6"),
    (_B + r"0x[0-9a-fA-F]+" + _E, "HEX"),
    (_B + r"(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{4,}" + _E, "HEX"),
    (r"(?<![A-Za-z0-9.])[-+]?\d+(?:\.\d+)*", "NUM"),
)
#: Words a console line uses when something went wrong (ranks new lines; no rule needed).
_TROUBLE = re.compile(
    r"\b(?:fail\w*|error\w*|err|cannot|can't|couldn't|could not|unable|panic\w*|oops|bug|no lease|not found|"
    r"no such|timed? ?out|refused|denied|missing|invalid|corrupt\w*|fatal|abort\w*|emergency|segfault|"
    r"warn\w*|bad|unknown|giving up|gave up|no route|unreachable|killed)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line of the failed boot whose template the good boot never printed (its first occurrence)."""

    seq: int
    text: str
    template: str
    count: int = 1
    """How many lines of the boot had this template."""
    kind: str = "other"
    """"finding": quoted by a finding; "error": reads like trouble; "other"."""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.seq, "text": self.text, "template": self.template, "count": self.count,
                "kind": self.kind}


@dataclass(frozen=True, slots=True)
class LateMilestone:
    name: str
    seq: int
    time: float
    baseline_time: float

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.seq, "time": self.time, "baseline_time": self.baseline_time}


@dataclass(frozen=True, slots=True)
class Comparison:
    """The failed boot against the good one."""

    boot: int
    """The boot of the failed capture compared (the verdict boot)."""
    baseline_boot: int
    baseline_outcome: str
    baseline_inputs: tuple[str, ...]
    new_lines: tuple[NewLine, ...]
    """Ranked: lines a finding quotes, then lines that read like trouble, then the rest; each
    group in line order (the failure's own lines come first)."""
    new_line_total: int
    """Lines of the boot with a template the good boot never printed (repeats included)."""
    new_templates: int
    lines_compared: int
    missing_milestones: tuple[str, ...]
    late_milestones: tuple[LateMilestone, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The `baseline` object of the analyze JSON (design.md keys first, then extra ones)."""
        return {
            "new_lines": [n.as_dict() for n in self.new_lines],
            "missing_milestones": list(self.missing_milestones),
            "late_milestones": [m.as_dict() for m in self.late_milestones],
            "boot": self.boot, "baseline_boot": self.baseline_boot, "baseline_outcome": self.baseline_outcome,
            "baseline_inputs": list(self.baseline_inputs), "new_line_total": self.new_line_total,
            "new_templates": self.new_templates, "lines_compared": self.lines_compared,
        }


def _miner():
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(rx, name) for rx, name in MASKS]
    config.drain_max_clusters = MAX_TEMPLATES
    return TemplateMiner(config=config)


def _lines(step: Step) -> Iterable[tuple[int, int, str]]:
    """(seq, boot, text) of each line a step put on the timeline, and the exact text of lines
    first read off a screen (their twins)."""
    for batch in step.batches:
        for i, text in enumerate(batch.texts):
            seq = batch.first_seq + i
            yield seq, batch.boot_of(seq), text
    for twin in step.duplicates:
        if twin.origin == "text":
            yield twin.seq, twin.boot, twin.text


@dataclass
class Baseline:
    """What a good boot printed: its line templates (a Drain3 miner) and its milestones."""

    miner: Any
    boot: Boot | None
    inputs: tuple[str, ...]
    lines: int = 0

    def template(self, text: str) -> tuple[str, bool]:
        """The line's masked template, and whether the good boot printed that template."""
        masked = self.miner.masker.mask(text)
        return masked, self.miner.drain.match(masked, "fallback") is not None


class _Learner:
    """Mines the templates of each boot as its lines come; keeps the last good (else last) boot's."""

    def __init__(self) -> None:
        self.miners: OrderedDict[int, Any] = OrderedDict()
        self.counts: dict[int, int] = {}
        self.good: tuple[int, Any] | None = None

    def __call__(self, step: Step) -> None:
        for _, boot, text in _lines(step):
            miner = self.miners.get(boot)
            if miner is None:
                miner = self.miners[boot] = _miner()
                while len(self.miners) > 2:
                    self.miners.popitem(last=False)
            miner.add_log_message(text)
            self.counts[boot] = self.counts.get(boot, 0) + 1
        for b in step.boots:
            if b.outcome == "success" and b.index in self.miners:
                self.good = (b.index, self.miners[b.index])


def learn(paths: str | os.PathLike | Sequence[str | os.PathLike], *, catalog: Catalog | None = None,
          cloud: str | None = None, hypervisor: str | None = None) -> Baseline:
    """Analyse a capture of a good boot and keep what it printed (its last successful boot, else its last)."""
    names = [os.fspath(paths)] if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    learner = _Learner()
    try:
        good = analyze(names, cloud, hypervisor, catalog=catalog, observe=learner)
    except InputError as exc:
        raise InputError(f"baseline: {exc}") from None
    if not good.boots:
        raise InputError(f"baseline: {', '.join(names)} holds no boot to compare with")
    index = learner.good[0] if learner.good else good.boots[-1].index
    miner = learner.good[1] if learner.good else learner.miners.get(index) or _miner()
    boot = next((b for b in good.boots if b.index == index), good.boots[-1])
    return Baseline(miner, boot, tuple(names), learner.counts.get(index, 0))


@dataclass
class _Seen:
    new: OrderedDict[str, list[Any]] = field(default_factory=OrderedDict)
    """template -> [first seq, first text, count]"""
    total: int = 0
    compared: int = 0
    by_seq: dict[int, str] = field(default_factory=dict)
    """seq -> template of the new lines kept (to put a line's exact text in place of its screen reading)."""


class _Matcher:
    """For each boot of the failed capture: the lines whose template the good boot never printed."""

    def __init__(self, good: Baseline) -> None:
        self.good = good
        self.boots: OrderedDict[int, _Seen] = OrderedDict()

    def __call__(self, step: Step) -> None:
        for seq, boot, text in _lines(step):
            seen = self.boots.get(boot)
            if seen is None:
                seen = self.boots[boot] = _Seen()
                while len(self.boots) > BOOTS_KEPT:
                    self.boots.popitem(last=False)
            self._line(seen, seq, text)

    def _line(self, seen: _Seen, seq: int, text: str) -> None:
        template, known = self.good.template(text)
        old = seen.by_seq.pop(seq, None)
        if old is not None:  # the exact text of a line first read off a screen
            entry = seen.new.get(old)
            if entry is not None and entry[0] == seq:
                del seen.new[old]
            seen.total -= 1
        else:
            seen.compared += 1
        if known:
            return
        seen.total += 1
        entry = seen.new.get(template)
        if entry is not None:
            entry[2] += 1
        elif len(seen.new) < MAX_NEW_LINES:
            seen.new[template] = [seq, text, 1]
            seen.by_seq[seq] = template


def compare(paths: str | os.PathLike | Sequence[str | os.PathLike], good: Baseline, *, catalog: Catalog | None = None,
            cloud: str | None = None, hypervisor: str | None = None) -> tuple[Analysis, "_Matcher"]:
    """Analyse the failed capture, noting each boot's lines the good boot never printed.
    `comparison(analysis_boot)` of the returned matcher then compares one boot."""
    matcher = _Matcher(good)
    return analyze(paths, cloud, hypervisor, catalog=catalog, observe=matcher), matcher


def comparison(matcher: "_Matcher", boot: Boot) -> Comparison:
    """How `boot` of the failed capture differs from the good boot."""
    good = matcher.good
    seen = matcher.boots.get(boot.index, _Seen())
    quoted = {e.seq for f in boot.findings for e in f.evidence}
    lines = []
    for template, (seq, text, count) in seen.new.items():
        kind = "finding" if seq in quoted else "error" if _TROUBLE.search(text) else "other"
        lines.append(NewLine(seq, text, template, count, kind))
    order = {"finding": 0, "error": 1, "other": 2}
    lines.sort(key=lambda n: (order[n.kind], n.seq))
    reached = {m.name: m for m in boot.milestones}
    base = good.boot.milestones if good.boot else ()
    missing = tuple(m.name for m in base if m.name not in reached)
    late = tuple(LateMilestone(m.name, reached[m.name].seq, reached[m.name].time, m.time)  # type: ignore[arg-type]
                 for m in base if m.name in reached and m.time is not None and reached[m.name].time is not None
                 and reached[m.name].time > m.time * LATE_FACTOR + LATE_SLACK)  # type: ignore[operator]
    return Comparison(
        boot=boot.index, baseline_boot=good.boot.index if good.boot else 0,
        baseline_outcome=good.boot.outcome if good.boot else "unknown", baseline_inputs=good.inputs,
        new_lines=tuple(lines), new_line_total=seen.total, new_templates=len(seen.new),
        lines_compared=seen.compared, missing_milestones=missing, late_milestones=late,
    )
