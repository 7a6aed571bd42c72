"""Checks of the definitions against their own samples and against the cases in samples/.

Used by `consolewatch rules check` and by the test suite: every format sample must match its
pattern with its fields; every rule must fire on its `match` samples and stay quiet on its
`no_match` samples; every case folder must give its expected categories, outcome and evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from consolewatch.definitions import Definitions
from consolewatch.detect.catalog import Catalog
from consolewatch.detect.rules import IdleCond, Rule, RuleSample
from consolewatch.model import CATEGORIES, Chunk, MachineContext, SourceStatus
from consolewatch.normalize.stamps import split_stamps
from consolewatch.session import Analysis, Session


@dataclass(frozen=True, slots=True)
class SampleResult:
    owner: str
    """Rule id or format pattern reference."""
    kind: str
    """"match", "no_match" or "format"."""
    where: str
    ok: bool
    detail: str = ""
    fired: tuple[str, ...] = ()
    """Every rule that fired on the sample."""


def run_lines(catalog: Catalog, lines: Iterable[str], cloud: str = "unknown", hypervisor: str = "unknown",
              *, idle: bool = False, context: Mapping[str, str] | None = None) -> Analysis:
    """Analyse sample lines; `idle`: the console then went quiet (as a live follow would see);
    `context`: the cloud's facts, as a fetcher's MachineContext gives them first."""
    session = Session(catalog, cloud=cloud, hypervisor=hypervisor)
    if context:
        session.feed(MachineContext("sample", cloud, hypervisor, dict(context)))
    data = b"".join((x if isinstance(x, bytes) else x.encode("utf-8", "surrogateescape")) + b"\n" for x in lines)
    session.feed(Chunk("sample", data))
    if idle:
        session.feed(SourceStatus("*", "stalled", "120"))
    session.finish()
    return session.result()


def fired_rules(a: Analysis) -> set[str]:
    return {f.rule for b in a.boots for f in b.findings} | {f.rule for f in a.capture_findings}


def check_formats(defs: Definitions) -> list[SampleResult]:
    out = []
    for fmt in defs.formats.values():
        patterns = {p.id: p for p in fmt.patterns}
        for s in fmt.samples:
            where = f"{fmt.path}:{s.at}"
            p = patterns.get(s.pattern)
            if p is None:
                continue
            m = p.regex.search(split_stamps(s.line).message)
            ref = f"{fmt.id}.{s.pattern}"
            if m is None:
                out.append(SampleResult(ref, "format", where, False, "pattern does not match its sample"))
                continue
            got = {k: v for k, v in m.groupdict().items() if v is not None}
            wrong = {k: (v, got.get(k)) for k, v in s.fields.items() if got.get(k) != v}
            detail = "; ".join(f"{k}: expected {v!r}, got {g!r}" for k, (v, g) in wrong.items())
            out.append(SampleResult(ref, "format", where, not wrong, detail))
    return out


def _sample_run(catalog: Catalog, s: RuleSample, idle: bool) -> set[str]:
    return fired_rules(run_lines(catalog, s.lines, s.cloud or "unknown", s.hypervisor or "unknown", idle=idle,
                                 context=s.context))


def check_rules(defs: Definitions, catalog: Catalog | None = None, *,
                progress: Callable[[], None] | None = None) -> list[SampleResult]:
    """Run every rule sample through the whole catalog (so cross-firing is visible too);
    `progress` is called after each sample."""
    catalog = catalog or Catalog(defs)
    out = []
    for rule in defs.rules.values():
        for kind, samples in (("match", rule.match_samples), ("no_match", rule.no_match_samples)):
            for s in samples:
                fired = _sample_run(catalog, s, isinstance(rule.condition, IdleCond))
                ok = (rule.id in fired) == (kind == "match")
                detail = "" if ok else ("did not fire" if kind == "match" else "fired on a no_match sample")
                out.append(SampleResult(rule.id, kind, f"{rule.path}:{s.at}", ok, detail, tuple(sorted(fired))))
                if progress is not None:
                    progress()
    return out


def lint_rules(defs: Definitions) -> list[str]:
    """Meta-checks: real samples of both kinds, with their sources named."""
    problems = []
    for rule in defs.rules.values():
        if not rule.match_samples or not rule.no_match_samples:
            problems.append(f"{rule.path}:{rule.at}: {rule.id}: needs >= 1 match and >= 1 no_match sample")
        for s in (*rule.match_samples, *rule.no_match_samples):
            if not s.source:
                problems.append(f"{rule.path}:{s.at}: {rule.id}: sample without a source")
    return problems


def slow_patterns(catalog: Catalog) -> list[str]:
    """One problem per pattern the scanner's Hyperscan database could not take (so Python's `re`
    scans every block for it), naming the rules or the format that wrote it."""
    problems = []
    for pid, src, _icase in catalog.scanner.fallback:
        owners = ([f"format {catalog.patterns[pid].ref}"] if pid in catalog.patterns else
                  sorted({f"{rule.path}:{rule.at}: {rule.id}" for rule, _m, _i in catalog.by_trigger.get(pid, ())}))
        problems.append(f"{', '.join(owners) or pid}: Hyperscan cannot compile {src!r}; `re` scans every "
                        "block for it instead (~10 % of analyze's CPU): write it with constructs "
                        "Hyperscan takes (the character itself, not a \\u escape)")
    return problems


def cross_fire(results: list[SampleResult]) -> dict[str, set[str]]:
    """rule id -> other rules that fire on its match samples."""
    out: dict[str, set[str]] = {}
    for r in results:
        if r.kind == "match":
            others = set(r.fired) - {r.owner}
            if others:
                out.setdefault(r.owner, set()).update(others)
    return out


# -- sample cases -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    path: Path
    expected_outcome: str
    outcome: str
    expected: frozenset[str]
    found: frozenset[str]
    missing_evidence: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    analysis: Any = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return (self.outcome == self.expected_outcome and self.found == self.expected
                and not self.missing_evidence and not self.problems)


#: samples/blind/ holds consoles no rule was written from: scored by `rules check --cases`,
#: never replayed as exact-match cases.
BLIND = "blind"


def find_cases(root: Path) -> list[Path]:
    """Case folders under `root`, leaving out a blind set kept in `root/blind/`."""
    return sorted(p.parent for p in root.rglob("expected.yaml") if p.relative_to(root).parts[0] != BLIND)


def _args(args: list[str]) -> dict[str, str]:
    out, i = {}, 0
    while i < len(args):
        if args[i] in ("--cloud", "--hypervisor", "--boot") and i + 1 < len(args):
            out[args[i][2:]] = args[i + 1]
            i += 2
        else:
            raise ValueError(f"unsupported argument in expected.yaml: {args[i]}")
    return out


def run_case(case: Path, catalog: Catalog) -> CaseResult:
    from consolewatch.analysis import analyze

    meta = yaml.safe_load((case / "meta.yaml").read_text(encoding="utf-8")) or {}
    exp = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8")) or {}
    opts = _args([str(a) for a in exp.get("args", [])])
    files = [str(case / f) for f in meta.get("files") or []]
    problems = [] if files else ["meta.yaml lists no `files`"]
    if files:
        analysis = analyze(files, opts.get("cloud"), opts.get("hypervisor"), catalog=catalog)
    else:
        analysis = Session(catalog).result()
    scope = opts.get("boot", "last")
    findings = analysis.findings(scope)
    found = frozenset(f.category for f in findings)
    expected = frozenset(exp.get("categories") or [])
    problems += [f"unknown category {c!r} in expected.yaml" for c in expected if c not in CATEGORIES]
    missing = []
    for category, lines in (exp.get("evidence") or {}).items():
        quoted = {e.text for f in findings if f.category == category for e in f.evidence}
        missing += [f"{category}: {line!r}" for line in lines if line not in quoted]
    if "boots" in exp and exp["boots"] != len(analysis.boots) + 0:
        problems.append(f"expected {exp['boots']} boots, found {len(analysis.boots)}")
    return CaseResult(
        name=str(meta.get("name", case.name)), path=case, expected_outcome=str(exp.get("outcome", "unknown")),
        outcome=analysis.outcome, expected=expected, found=found, missing_evidence=tuple(missing),
        problems=tuple(problems), analysis=analysis,
    )


def category_scores(results: list[CaseResult]) -> dict[str, tuple[int, int, int]]:
    """category -> (true positives, false positives, false negatives) over the cases."""
    scores: dict[str, list[int]] = {}
    for r in results:
        for c in r.expected | r.found:
            s = scores.setdefault(c, [0, 0, 0])
            if c in r.expected and c in r.found:
                s[0] += 1
            elif c in r.found:
                s[1] += 1
            else:
                s[2] += 1
    return {c: (s[0], s[1], s[2]) for c, s in sorted(scores.items())}


def rules_by_category(rules: Iterable[Rule]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in rules:
        out.setdefault(r.category, []).append(r.id)
    return out
