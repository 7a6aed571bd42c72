"""Scoring the catalog on a folder of annotated cases (`consolewatch rules check --cases DIR`).

A case is a folder holding `meta.yaml` (the inputs, in order, and the case's family) and
`expected.yaml` (the outcome and the categories the people who debugged the boot named,
categories that may also be named, and substrings of the lines that prove each). Folders are
found at any depth: `DIR/<group>/<case>/` or `DIR/<case>/`.

Loading checks every folder and collects every problem ("path: what is wrong") before
anything runs; a case folder that cannot be scored is an error, not a quiet zero. Scoring is
category-level: a category found and expected is a true positive, found and neither expected
nor optional a false positive, expected and not found a false negative; an optional category
found counts as neither. A found category's evidence counts as quoted when one of its findings
quotes a line containing one of the annotated substrings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from consolewatch.model import CATEGORIES, OUTCOMES, severity_rank

if TYPE_CHECKING:
    from consolewatch.analysis import Analysis

#: The families the blind set is split into (a user's own folders may use others).
FAMILIES = (
    "healthy", "unit-failures", "provisioning", "filesystems", "root-device", "kernel-health",
    "loops-resets", "network-dhcp", "bootloader-firmware", "unikernel-crash", "partial-views",
    "screens",
)
NO_FAMILY = "-"
MAX_YAML_BYTES = 1 << 20
_ARGS = {"--cloud": "cloud", "--hypervisor": "hypervisor", "--boot": "boot"}


class CaseProblems(ValueError):
    """Case folders that cannot be scored; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the case folders")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Case:
    path: Path
    name: str
    family: str
    files: tuple[Path, ...]
    outcome: str
    categories: frozenset[str]
    optional: frozenset[str] = frozenset()
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cloud: str = "unknown"
    hypervisor: str = "unknown"
    boot: str = "last"


# -- loading -----------------------------------------------------------------------------


def find_case_dirs(root: Path) -> list[Path]:
    """Every folder under `root` (or `root` itself) holding meta.yaml or expected.yaml."""
    found = {p.parent for name in ("meta.yaml", "expected.yaml") for p in root.rglob(name)}
    return sorted(found)


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append(f"{path}: missing")
        return None
    if path.stat().st_size > MAX_YAML_BYTES:
        problems.append(f"{path}: larger than {MAX_YAML_BYTES} bytes")
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not readable YAML ({' '.join(str(exc).split())[:200]})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: must be a mapping, not {type(data).__name__}")
        return None
    return data


def _strings(value: Any, where: str, problems: list[str], *, required: bool = False) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}: must be a list of non-empty strings")
        return []
    return value


def _categories(value: Any, where: str, problems: list[str], required: bool = False) -> frozenset[str]:
    names = _strings(value, where, problems, required=required)
    unknown = [c for c in names if c not in CATEGORIES]
    if unknown:
        problems.append(f"{where}: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                        f"{', '.join(repr(c) for c in unknown)}")
    return frozenset(c for c in names if c in CATEGORIES)


def _files(folder: Path, meta: dict[str, Any], where: str, problems: list[str]) -> tuple[Path, ...]:
    names = _strings(meta.get("files"), f"{where}: files", problems, required=True)
    if not names and "files" in meta and isinstance(meta["files"], list):
        problems.append(f"{where}: files is empty")
    out = []
    for name in names:
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            problems.append(f"{where}: file {name!r} is outside the case folder")
        elif not (folder / rel).is_file():
            problems.append(f"{folder / rel}: missing (listed in meta.yaml files)")
        else:
            out.append(folder / rel)
    return tuple(out)


def _args(value: Any, where: str, problems: list[str]) -> dict[str, str]:
    args = _strings(value, f"{where}: args", problems)
    out: dict[str, str] = {}
    for flag, arg in zip(args[::2], args[1::2] + [None] * (len(args) % 2)):
        if flag not in _ARGS or arg is None:
            problems.append(f"{where}: args: unsupported {flag!r} (known: --cloud X, "
                            "--hypervisor X, --boot last|all)")
        elif flag == "--boot" and arg not in ("last", "all"):
            problems.append(f"{where}: args: --boot must be last or all, not {arg!r}")
        else:
            out[_ARGS[flag]] = arg
    return out


def _evidence(value: Any, named: frozenset[str], where: str, problems: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: evidence must map categories to lists of substrings")
        return {}
    out = {}
    for category, subs in value.items():
        if category not in named:
            problems.append(f"{where}: evidence for {category!r}, which is neither in "
                            "categories nor in optional")
            continue
        out[category] = tuple(_strings(subs, f"{where}: evidence.{category}", problems))
    return out


def load_case(folder: Path, root: Path, problems: list[str]) -> Case | None:
    """The case in `folder`, or None with its problems appended."""
    before = len(problems)
    meta = _read_yaml(folder / "meta.yaml", problems)
    exp = _read_yaml(folder / "expected.yaml", problems)
    if meta is None or exp is None:
        return None
    mwhere, ewhere = folder / "meta.yaml", folder / "expected.yaml"
    files = _files(folder, meta, str(mwhere), problems)
    family = meta.get("family", NO_FAMILY)
    if not isinstance(family, str) or not family.strip():
        problems.append(f"{mwhere}: family must be a non-empty string")
    outcome = exp.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(f"{ewhere}: outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    categories = _categories(exp.get("categories"), f"{ewhere}: categories", problems, required=True)
    optional = _categories(exp.get("optional"), f"{ewhere}: optional", problems)
    if categories & optional:
        problems.append(f"{ewhere}: {', '.join(sorted(categories & optional))} both required "
                        "and optional")
    evidence = _evidence(exp.get("evidence"), categories | optional, str(ewhere), problems)
    args = _args(exp.get("args"), str(ewhere), problems)
    if len(problems) > before:
        return None
    rel = folder.relative_to(root).as_posix() if folder != root else folder.name
    return Case(path=folder, name=rel, family=family.strip(), files=files, outcome=str(outcome),
                categories=categories, optional=optional, evidence=evidence, **args)


def load_cases(root: Path) -> list[Case]:
    """Every case under `root`; raises CaseProblems listing every problem found."""
    if not root.is_dir():
        raise CaseProblems([f"{root}: not a directory"])
    folders = find_case_dirs(root)
    if not folders:
        raise CaseProblems([f"{root}: no case folders (folders with meta.yaml and expected.yaml)"])
    problems: list[str] = []
    cases = [load_case(f, root, problems) for f in folders]
    if problems:
        raise CaseProblems(problems)
    return [c for c in cases if c is not None]


# -- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scored:
    """One case's result: what the catalog concluded next to what was annotated."""

    case: Case
    outcome: str
    found: frozenset[str]
    alarms: tuple[str, ...] = ()
    """Rules that raised an error or critical finding."""
    unquoted: tuple[str, ...] = ()
    """Found categories whose annotated evidence no finding of theirs quotes."""

    @property
    def missing(self) -> frozenset[str]:
        return self.case.categories - self.found

    @property
    def extra(self) -> frozenset[str]:
        return self.found - self.case.categories - self.case.optional

    @property
    def outcome_right(self) -> bool:
        return self.outcome == self.case.outcome

    @property
    def healthy(self) -> bool:
        return self.case.outcome == "success"


def score_case(case: Case, analysis: Analysis) -> Scored:
    """Compare an `Analysis` of the case's files with its annotation."""
    findings = analysis.findings(case.boot)
    found = frozenset(f.category for f in findings)
    alarms = tuple(sorted({f.rule for f in findings if severity_rank(f.severity) >= severity_rank("error")}))
    unquoted = []
    for category, subs in case.evidence.items():
        if category in found and subs:
            quoted = [e.text for f in findings if f.category == category for e in f.evidence]
            if not any(s in text for s in subs for text in quoted):
                unquoted.append(category)
    return Scored(case, analysis.outcome, found, alarms, tuple(sorted(unquoted)))


def score_cases(cases: Iterable[Case], analyze: Callable[[Case], Any],
                progress: Callable[[int, Case], None] | None = None) -> list[Scored]:
    """`analyze(case) -> Analysis` for each case, scored; `progress(i, case)` before each."""
    out = []
    for i, case in enumerate(cases):
        if progress is not None:
            progress(i, case)
        out.append(score_case(case, analyze(case)))
    return out


@dataclass(frozen=True, slots=True)
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None


@dataclass(frozen=True, slots=True)
class Figures:
    cases: int
    categories: Mapping[str, Tally]
    overall: Tally
    outcomes_right: int
    healthy: int
    false_alarms: int
    """Healthy cases (expected outcome success) with an error or critical finding."""
    evidence_checked: int
    evidence_quoted: int


def figures(scored: list[Scored]) -> Figures:
    tallies: dict[str, Tally] = {}
    for s in scored:
        for c in s.case.categories | s.found:
            if c in s.case.categories:
                t = Tally(tp=1) if c in s.found else Tally(fn=1)
            elif c in s.case.optional:
                continue
            else:
                t = Tally(fp=1)
            tallies[c] = tallies.get(c, Tally()) + t
    checked = sum(1 for s in scored for c in s.case.evidence if c in s.found and s.case.evidence[c])
    unquoted = sum(len(s.unquoted) for s in scored)
    return Figures(
        cases=len(scored),
        categories=dict(sorted(tallies.items())),
        overall=sum(tallies.values(), Tally()),
        outcomes_right=sum(s.outcome_right for s in scored),
        healthy=sum(s.healthy for s in scored),
        false_alarms=sum(1 for s in scored if s.healthy and s.alarms),
        evidence_checked=checked,
        evidence_quoted=checked - unquoted,
    )


def by_family(scored: list[Scored]) -> dict[str, Figures]:
    groups: dict[str, list[Scored]] = {}
    for s in scored:
        groups.setdefault(s.case.family, []).append(s)
    return {fam: figures(group) for fam, group in sorted(groups.items())}


def misses(scored: list[Scored]) -> list[dict[str, Any]]:
    """Per case that is not exactly right: what is missing, extra, or wrong."""
    out = []
    for s in scored:
        if s.missing or s.extra or not s.outcome_right or s.unquoted or (s.healthy and s.alarms):
            out.append({
                "case": s.case.name, "family": s.case.family,
                "missing": sorted(s.missing), "extra": sorted(s.extra),
                "outcome": s.outcome, "expected_outcome": s.case.outcome,
                "evidence_not_quoted": list(s.unquoted),
                "false_alarm": list(s.alarms) if s.healthy else [],
            })
    return out


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def figures_dict(f: Figures) -> dict[str, Any]:
    return {
        "cases": f.cases,
        "tp": f.overall.tp, "fp": f.overall.fp, "fn": f.overall.fn,
        "recall": _ratio(f.overall.recall), "precision": _ratio(f.overall.precision),
        "outcomes_right": f.outcomes_right,
        "outcome_accuracy": _ratio(f.outcomes_right / f.cases if f.cases else None),
        "healthy": f.healthy, "false_alarms": f.false_alarms,
        "evidence_checked": f.evidence_checked, "evidence_quoted": f.evidence_quoted,
        "categories": {c: {"tp": t.tp, "fp": t.fp, "fn": t.fn, "recall": _ratio(t.recall),
                           "precision": _ratio(t.precision)} for c, t in f.categories.items()},
    }


def report(scored: list[Scored], *, with_misses: bool = False) -> dict[str, Any]:
    """The whole measurement as one JSON-ready document (schema consolewatch.score/1)."""
    doc = {"schema": "consolewatch.score/1", **figures_dict(figures(scored)),
           "families": {fam: figures_dict(f) for fam, f in by_family(scored).items()}}
    if with_misses:
        doc["misses"] = misses(scored)
    return doc
