"""`consolewatch rules list|show|check`: the detector catalog and its self-checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from consolewatch import definitions
from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError


def run(args: argparse.Namespace) -> int:
    defs = definitions.load(definitions.search_path(args.parsers))
    action = args.rules_command
    if action == "check":
        return _score(defs, args) if args.cases is not None else _check(defs, args)
    if defs.problems:
        lines = "\n".join(f"  {p}" for p in defs.problems)
        raise UsageError(f"{len(defs.problems)} problem(s) in detector/format definitions:\n{lines}")
    if action == "list":
        return _list(defs, args.json)
    return _show(defs, args.rule_id)


def _console():
    from consolewatch.cli.common import console

    return console()


def _list(defs: definitions.Definitions, as_json: bool) -> int:
    rules = sorted(defs.rules.values(), key=lambda r: (r.category, r.id))
    if as_json:
        from consolewatch.sinks.jsonout import dumps

        doc = [{"id": r.id, "category": r.category, "severity": r.severity, "title": r.title,
                "clouds": list(r.clouds), "hypervisors": list(r.hypervisors), "file": r.path} for r in rules]
        sys.stdout.write(dumps({"rules": doc, "search_path": [str(d) for d in defs.dirs]}) + "\n")
        return EXIT_OK
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(rules)} rules, {len(defs.formats)} formats", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True, min_width=max((len(r.id) for r in rules), default=2))  # never cut
    table.add_column("severity", no_wrap=True)
    table.add_column("title (scope)", ratio=1)
    category = None
    for r in rules:
        if r.category != category:
            category = r.category
            table.add_row(Text(category, style="bold"), end_section=False)
        title = Text(r.title)
        if r.clouds or r.hypervisors:
            title.append(f" ({','.join(r.clouds + r.hypervisors)})", style="dim")
        table.add_row(r.id, r.severity, title)
    console = _console()
    console.print(table)
    from consolewatch.cli.common import say

    say("definitions from: " + ", ".join(str(d) for d in defs.dirs))
    return EXIT_OK


def _show(defs: definitions.Definitions, rule_id: str) -> int:
    rule = defs.rules.get(rule_id)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id, list(defs.rules), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (consolewatch rules list shows them)"
        raise UsageError(f"no rule {rule_id!r}{hint}")
    from consolewatch.safetext import visible

    text = f"# {rule.path}:{rule.at}\n{rule_source(rule.path, rule.at).rstrip()}\n"
    sys.stdout.write(visible(text))  # a rules file is not trusted: the one policy of safetext
    return EXIT_OK


def rule_source(path: str, at: int) -> str:
    """The rule's definition as written (YAML, comments included): from its `- id:` line to the next rule."""
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    start = max(at - 1, 0)
    while start > 0 and not lines[start].lstrip().startswith("- "):
        start -= 1  # `at` may be the line of a key inside the entry
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        text = lines[end]
        if text.strip() and len(text) - len(text.lstrip()) <= indent and not text.lstrip().startswith("#"):
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "".join(x[indent:] if x[:indent].isspace() else x.lstrip() for x in lines[start:end])


def _check(defs: definitions.Definitions, args: argparse.Namespace) -> int:
    from rich.table import Table

    from consolewatch.detect import checks
    from consolewatch.detect.catalog import Catalog

    if args.json or args.misses:
        raise UsageError("--json and --misses go with --cases DIR")
    console = _console()
    failed = 0
    for p in defs.problems:
        console.print(f"[red]definition problem[/red] {p}", markup=True)
        failed += 1
    if defs.problems:
        return EXIT_FINDINGS
    cases = _find_cases(Path(args.samples)) if args.samples is not None else []  # a wrong folder: say so now
    catalog = Catalog(defs)
    fmt = checks.check_formats(defs)
    total = sum(len(r.match_samples) + len(r.no_match_samples) for r in defs.rules.values())
    with _Progress(f"checking {total} rule samples of {len(defs.rules)} rules", total) as progress:
        rules = checks.check_rules(defs, catalog, progress=progress.step)
    lint = checks.lint_rules(defs) + checks.slow_patterns(catalog)
    for r in [*fmt, *rules]:
        if not r.ok:
            failed += 1
            console.print(f"FAIL {r.owner} ({r.kind}) at {r.where}: {r.detail}", markup=False, soft_wrap=True)
    for problem in lint:
        failed += 1
        console.print(f"FAIL {problem}", markup=False, soft_wrap=True)  # whole: a path to copy
    console.print(f"{len(fmt)} format samples, {len(rules)} rule samples, {len(defs.rules)} rules: "
                  f"{failed} failure(s)", markup=False)
    overlap = checks.cross_fire(rules)
    if overlap:
        table = Table(title="rules that fire on other rules' match samples")
        table.add_column("samples of")
        table.add_column("also fire")
        for rid, others in sorted(overlap.items()):
            table.add_row(rid, ", ".join(sorted(others)))
        console.print(table)
    if cases:
        failed += _cases(Path(args.samples), cases, catalog, console)
    return EXIT_FINDINGS if failed else EXIT_OK


class _Progress:
    """Progress on stderr: a bar in a terminal, else one line saying what is being done."""

    def __init__(self, label: str, total: int) -> None:
        from consolewatch.cli import Options

        self.bar = self.task = None
        if Options.quiet:
            return
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()
        else:
            from consolewatch.cli.common import say

            say(f"{label} ...")

    def step(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _find_cases(root: Path) -> list[Path]:
    from consolewatch.detect import checks

    cases = checks.find_cases(root) if root.is_dir() else []
    if not cases:
        raise UsageError(f"no case folders (with expected.yaml) under {root.resolve()}: give --samples DIR "
                         "(the cases ship in samples/ of a consolewatch checkout)")
    return cases


def _cases(root: Path, cases: list[Path], catalog, console) -> int:
    from rich.table import Table

    from consolewatch.detect import checks

    with _Progress(f"replaying {len(cases)} cases from {root.resolve()}", len(cases)) as progress:
        results = []
        for c in cases:
            results.append(checks.run_case(c, catalog))
            progress.step()
    bad = [r for r in results if not r.ok]
    for r in bad:
        console.print(
            f"CASE {r.path}: outcome {r.outcome} (expected {r.expected_outcome}); "
            f"found {sorted(r.found)}, expected {sorted(r.expected)}; "
            + "; ".join([*r.missing_evidence, *r.problems]), markup=False)
    table = Table(title=f"per-category recall and precision over {len(results)} cases")
    for col in ("category", "TP", "FP", "FN", "recall", "precision"):
        table.add_column(col, justify="right" if col != "category" else "left")
    tp_all = fp_all = fn_all = 0
    for cat, (tp, fp, fn) in checks.category_scores(results).items():
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        table.add_row(cat, str(tp), str(fp), str(fn), _ratio(tp, tp + fn), _ratio(tp, tp + fp))
    table.add_row("all", str(tp_all), str(fp_all), str(fn_all), _ratio(tp_all, tp_all + fn_all),
                  _ratio(tp_all, tp_all + fp_all), style="bold")
    console.print(table)
    outcomes = sum(r.outcome == r.expected_outcome for r in results)
    console.print(f"outcomes right: {outcomes}/{len(results)}; cases passing: {len(results) - len(bad)}/{len(results)}",
                  markup=False)
    return len(bad)


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


# -- rules check --cases: the catalog measured on annotated cases ---------------------------------


def _score(defs: definitions.Definitions, args: argparse.Namespace) -> int:
    from rich.console import Console

    from consolewatch.detect import score
    from consolewatch.detect.catalog import Catalog

    if defs.problems:
        lines = "\n".join(f"  {p}" for p in defs.problems)
        raise UsageError(f"{len(defs.problems)} problem(s) in detector/format definitions:\n{lines}")
    err = Console(stderr=True, highlight=False, emoji=False)
    try:
        cases = score.load_cases(Path(args.cases))
    except score.CaseProblems as exc:
        return _problems(exc.problems)
    catalog = Catalog(defs)
    problems: list[str] = []
    scored = score.score_cases(cases, _case_analyzer(catalog, problems), _progress(err, len(cases)))
    if err.is_terminal:
        err.file.write("\r" + " " * 70 + "\r")
    if problems:
        return _problems(problems)
    if args.json:
        from consolewatch.sinks.jsonout import dumps

        sys.stdout.write(dumps(score.report(scored, with_misses=args.misses)) + "\n")
        return EXIT_OK
    _render_score(_console(), scored, args.misses)
    return EXIT_OK


def _problems(problems: list[str]) -> int:
    """One line per problem on stderr (paths and YAML text made inert), exit status 2."""
    from consolewatch.sinks.terminal import inert

    for line in problems:
        print(inert(f"consolewatch: {line}").plain, file=sys.stderr)
    return EXIT_USAGE


def _case_analyzer(catalog, problems: list[str]):
    """analyze(case) -> Analysis, through the same entry point as `consolewatch analyze`; an
    input that is not a console becomes a problem of its case."""
    from consolewatch.analysis import InputError
    from consolewatch.analysis import analyze as run
    from consolewatch.session import Session

    def analyze(case):
        try:
            return run([str(p) for p in case.files], case.cloud, case.hypervisor, catalog=catalog)
        except (InputError, ValueError) as exc:  # not a console, or an unknown --cloud in its args
            problems.append(f"{case.path}: {exc}")
            return Session(catalog, cloud=case.cloud, hypervisor=case.hypervisor).result()

    return analyze


def _progress(err, total: int):
    from consolewatch.sinks.terminal import inert

    def show(i: int, case) -> None:
        if err.is_terminal:
            err.file.write("\r" + inert(f"scoring {i + 1}/{total} {case.name[-50:]:50}").plain)
            err.file.flush()
        elif i % 25 == 0 or i + 1 == total:
            err.print(f"scoring case {i + 1} of {total}")

    return show


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _render_score(console, scored, show_misses: bool) -> None:
    from rich.table import Table

    from consolewatch.detect import score
    from consolewatch.sinks.terminal import inert

    overall = score.figures(scored)
    table = Table(title=f"per-category recall and precision over {overall.cases} cases")
    for col in ("category", "TP", "FP", "FN", "recall", "precision"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for cat, t in overall.categories.items():
        table.add_row(cat, str(t.tp), str(t.fp), str(t.fn), _pct(t.recall), _pct(t.precision))
    o = overall.overall
    table.add_row("all (micro)", str(o.tp), str(o.fp), str(o.fn), _pct(o.recall), _pct(o.precision),
                  style="bold")
    console.print(table)
    fams = Table(title="per family", caption="outcome: outcomes right; alarms: healthy cases "
                 "(expected success) with an error-level finding")
    fams.add_column("family", no_wrap=True)
    for col in ("cases", "recall", "precision", "outcome", "alarms"):
        fams.add_column(col, justify="right")
    for fam, f in score.by_family(scored).items():
        fams.add_row(inert(fam), str(f.cases), _pct(f.overall.recall), _pct(f.overall.precision),
                     f"{f.outcomes_right}/{f.cases}", f"{f.false_alarms}/{f.healthy}")
    console.print(fams)
    console.print(f"recall {_pct(o.recall)}, precision {_pct(o.precision)}; outcome right "
                  f"{overall.outcomes_right}/{overall.cases}; healthy cases with an error-level "
                  f"finding {overall.false_alarms}/{overall.healthy}; evidence quoted "
                  f"{overall.evidence_quoted}/{overall.evidence_checked}", markup=False)
    if show_misses:
        for m in score.misses(scored):
            parts = []
            if m["missing"]:
                parts.append("missing " + ", ".join(m["missing"]))
            if m["extra"]:
                parts.append("extra " + ", ".join(m["extra"]))
            if m["outcome"] != m["expected_outcome"]:
                parts.append(f"outcome {m['outcome']} (expected {m['expected_outcome']})")
            if m["evidence_not_quoted"]:
                parts.append("evidence not quoted for " + ", ".join(m["evidence_not_quoted"]))
            if m["false_alarm"]:
                parts.append("false alarm " + ", ".join(m["false_alarm"]))
            console.print(inert(f"MISS {m['case']} [{m['family']}]: " + "; ".join(parts)), soft_wrap=True)
