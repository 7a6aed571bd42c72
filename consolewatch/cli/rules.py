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
    from rich.console import Console

    return Console(highlight=False, emoji=False)


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
    print("definitions from: " + ", ".join(str(d) for d in defs.dirs), file=sys.stderr)
    return EXIT_OK


def _show(defs: definitions.Definitions, rule_id: str) -> int:
    rule = defs.rules.get(rule_id)
    if rule is None:
        raise UsageError(f"no rule {rule_id!r} (consolewatch rules list shows them)")
    from rich.text import Text

    console = _console()
    t = Text()
    t.append(f"{rule.id}\n", style="bold")
    t.append(f"{rule.title}\n")
    t.append(f"category {rule.category}, severity {rule.severity}, verdict {rule.verdict}\n", style="dim")
    if rule.clouds or rule.hypervisors:
        t.append(f"applies to: {', '.join(rule.clouds + rule.hypervisors)}\n", style="dim")
    t.append(f"defined in {rule.path}:{rule.at}\n\n", style="dim")
    t.append(rule.description + "\n\n")
    t.append(f"condition: {rule.condition}\n\n", style="dim")
    for key, text in rule.remediation.items():
        t.append(f"fix ({key}): ", style="bold green")
        t.append(text + "\n")
    for ref in rule.references:
        t.append(f"see {ref}\n", style="dim")
    for kind, samples in (("match", rule.match_samples), ("no_match", rule.no_match_samples)):
        for s in samples:
            t.append(f"\n{kind} ({s.source}):\n", style="bold")
            for line in s.lines:
                t.append(f"  {line}\n")
    console.print(t)
    return EXIT_OK


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
    catalog = Catalog(defs)
    fmt = checks.check_formats(defs)
    rules = checks.check_rules(defs, catalog)
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
    if args.samples is not None:
        failed += _cases(Path(args.samples), catalog, console)
    return EXIT_FINDINGS if failed else EXIT_OK


def _cases(root: Path, catalog, console) -> int:
    from rich.table import Table

    from consolewatch.detect import checks

    cases = checks.find_cases(root)
    if not cases:
        raise UsageError(f"{root}: no case folders (with expected.yaml) found")
    results = [checks.run_case(c, catalog) for c in cases]
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
