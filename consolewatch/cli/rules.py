"""`consolewatch rules list|show|check`: the detector catalog and its self-checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from consolewatch import definitions
from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, UsageError


def run(args: argparse.Namespace) -> int:
    defs = definitions.load(definitions.search_path(args.parsers))
    action = args.rules_command
    if action == "check":
        return _check(defs, args)
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
    import re

    text = f"# {rule.path}:{rule.at}\n{rule_source(rule.path, rule.at).rstrip()}\n"
    sys.stdout.write(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", text))  # a rules file is not trusted
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
    lint = checks.lint_rules(defs)
    for r in [*fmt, *rules]:
        if not r.ok:
            failed += 1
            console.print(f"FAIL {r.owner} ({r.kind}) at {r.where}: {r.detail}", markup=False)
    for problem in lint:
        failed += 1
        console.print(f"FAIL {problem}", markup=False)
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
        if self.bar is not None:
            self.bar.advance(self.task)

    def __enter__(self) -> "_Progress":
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
