"""The terminal view of an analysis: per boot, its outcome, milestones, findings and fixes.

Console text is hostile: it is always wrapped in `rich.text.Text` (never parsed as markup) and
was already stripped of control characters by the normaliser; `inert()` re-checks anyway, and
is the only way any other outside string (a target, a reason, a file name) reaches the screen.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from consolewatch.model import Boot, Finding
from consolewatch.safetext import visible
from consolewatch.session import Analysis

OUTCOME_STYLE = {"success": "bold green", "failure": "bold red", "stall": "bold yellow", "unknown": "bold"}
SEVERITY_STYLE = {"critical": "bold white on red", "error": "bold red", "warning": "yellow", "info": "cyan"}


def inert(text: str, style: str = "") -> Text:
    """Outside text as a rich Text that cannot style, link, move the cursor or reorder the row:
    never markup, and controls and bidi/invisible characters shown escaped (`safetext`)."""
    return Text(visible(text), style=style)


def finding_view(f: Finding) -> Group:
    head = Text()
    head.append(f" {f.severity.upper()} ", style=SEVERITY_STYLE.get(f.severity, ""))
    head.append(" ")
    head.append(inert(f.title, "bold"))
    meta = Text("  " + " " * len(f.severity) + "  ", style="dim")
    meta.append(f"{f.category} \u00b7 {f.rule}", style="dim")
    if f.occurrences > 1:
        meta.append(f" \u00b7 seen {f.occurrences} times", style="dim")
    if f.suppressed_by:
        meta.append(f" \u00b7 a symptom of {f.suppressed_by}", style="italic dim")
    parts: list = [head, meta]
    width = max((len(str(e.seq)) for e in (*f.context, *f.evidence)), default=1)
    for e in f.context:
        row = Text(f"    {e.seq:>{width}} | ", style="dim")
        row.append(inert(e.text, "dim"))
        parts.append(row)
    for e in f.evidence:
        row = Text(f"  > {e.seq:>{width}} | ", style="bold")
        row.append(inert(e.text, "bold"))
        if e.origin == "ocr":
            row.append("  (read off the screen)", style="dim italic")
        parts.append(row)
    fix = Text("  fix: ", style="bold green")
    fix.append(inert(f.remediation))
    parts.append(fix)
    return Group(*parts)


def _milestones(boot: Boot) -> Text:
    if not boot.milestones:
        return Text("  no milestone reached", style="dim")
    out = Text("  ")
    for i, m in enumerate(boot.milestones):
        if i:
            out.append(" > ", style="dim")
        out.append(m.name, style="bold")
        when = f" {m.time:.2f}s" if m.time is not None else ""
        out.append(f" (line {m.seq}{when})", style="dim")
    return out


def _boot(boot: Boot, total: int) -> Panel:
    title = Text(f"boot {boot.index}/{total}: ")
    title.append(boot.outcome.upper(), style=OUTCOME_STYLE.get(boot.outcome, ""))
    body: list = [_milestones(boot), inert("  " + boot.reason)]
    by_rule = {f.rule: f for f in boot.findings}
    for f in boot.findings:
        root = by_rule.get(f.suppressed_by or "")
        if root is not None and root.category == f.category:
            # The same failure told again by a less specific rule: one line is enough.
            line = Text(f"    also {f.rule}: ", style="dim")
            line.append(inert(f.title, "dim"))
            body.append(line)
            continue
        body.append(Text(""))
        body.append(finding_view(f))
    return Panel(Group(*body), title=title, title_align="left", border_style=OUTCOME_STYLE.get(boot.outcome, ""))


def render(a: Analysis, console: Console, scope: str = "last", sources: list[str] | None = None) -> None:
    if not a.boots:
        console.print(Text(f"no console lines ({a.lines} lines read)", style="bold"))
    boots = a.boots if scope == "all" else a.boots[-1:]
    if scope != "all" and len(a.boots) > 1:
        console.print(Text(f"{len(a.boots)} boots in this capture; showing the last (--boot all shows every one)",
                           style="dim"))
    for boot in boots:
        console.print(_boot(boot, len(a.boots)))
    for f in a.capture_findings:
        console.print(finding_view(f))
    from consolewatch.sinks.report import note_text

    for n in a.notes:
        line = note_text(n)
        if line:
            console.print(inert(f"note: {line}", "dim"))
    summary = Table.grid(padding=(0, 1))
    summary.add_row(Text("verdict:", style="bold"), Text(a.outcome.upper(), style=OUTCOME_STYLE.get(a.outcome, "")),
                    Text(f"cloud {a.cloud}, hypervisor {a.hypervisor}, {a.lines} lines", style="dim"))
    console.print(summary)
