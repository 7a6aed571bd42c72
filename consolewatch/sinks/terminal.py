"""The terminal view of an analysis: per boot, its outcome, milestones, findings and fixes.

Console text is hostile: it is always wrapped in `rich.text.Text` (never parsed as markup) and
was already stripped of control characters by the normaliser; `inert()` re-checks anyway, and
is the only way any other outside string (a target, a reason, a file name) reaches the screen.
It is also always *marked* as console text: every row of it, wrapped rows included, sits right
of a `|` gutter (`Quoted`), so a guest cannot print a row that looks like consolewatch's own
output. Our own wrapped text keeps its indent (`hanging`); each other cloud's fix takes one row
at most.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from consolewatch.model import Boot, Finding
from consolewatch.safetext import one_line, visible
from consolewatch.session import Analysis

OUTCOME_STYLE = {"success": "bold green", "failure": "bold red", "stall": "bold yellow", "unknown": "bold"}
SEVERITY_STYLE = {"critical": "bold white on red", "error": "bold red", "warning": "yellow", "info": "cyan"}
#: Narrowest column left for console text right of its gutter.
MIN_TEXT_WIDTH = 12


def inert(text: str, style: str = "") -> Text:
    """Outside text as a rich Text that cannot style, link, move the cursor or reorder the row:
    never markup, and controls and bidi/invisible characters shown escaped (`safetext`)."""
    return Text(visible(text), style=style)


class Quoted:
    """One console line right of a gutter (`  > 344 | `); wrapped rows repeat the gutter's bar
    (`        | `), so every row of console text is visibly console text."""

    def __init__(self, gutter: str, text: Text, *, style: str = "dim", note: Text | None = None) -> None:
        self.gutter = Text(gutter, style=style)
        bar = gutter.rfind("|")
        self.continued = Text(" " * bar + gutter[bar:] if bar >= 0 else " " * len(gutter), style=style)
        self.text = text
        self.note = note

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        body = self.text.copy()
        if self.note is not None:
            body.append_text(self.note)
        width = max(options.max_width - self.gutter.cell_len, MIN_TEXT_WIDTH)
        rows = body.wrap(console, width, overflow="fold", no_wrap=False) if body.plain else [Text("")]
        for i, row in enumerate(rows):
            out = (self.gutter if i == 0 else self.continued).copy()
            out.append_text(row)
            out.end = "\n"
            yield out

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        g = self.gutter.cell_len
        return Measurement(g + MIN_TEXT_WIDTH, g + self.text.cell_len + (self.note.cell_len if self.note else 0))


class OneRow:
    """`prefix` then `body` on one row, cut with … where the width ends."""

    def __init__(self, prefix: Text, body: Text) -> None:
        self.prefix, self.body = prefix, body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        row = self.prefix.copy()
        row.append_text(self.body)
        row.truncate(options.max_width, overflow="ellipsis")
        row.no_wrap = True
        yield row


class EndOf:
    """A name (a target, a path) cut from the left where the width ends: `…/vm-17/serial.log`
    keeps the part that tells one target from another."""

    def __init__(self, text: str, style: str = "", minimum: int = 16) -> None:
        self.text = Text(one_line(text), style=style)  # one row: newlines escaped too
        self.minimum = minimum

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(self.minimum, self.text.cell_len), self.text.cell_len)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        text = self.text.copy()
        if text.cell_len > width:
            text = Text("\u2026", style=text.style) + text[len(text.plain) - (width - 1):]
        text.no_wrap = True
        yield text


def hanging(prefix: Text | str, body: Text | str, *, no_wrap: bool = False) -> Table | OneRow:
    """`prefix` then `body`, whose wrapped rows keep the indent (or, `no_wrap`, one row cut with …)."""
    head = prefix if isinstance(prefix, Text) else Text(prefix)
    if no_wrap:
        return OneRow(head, body if isinstance(body, Text) else Text(body))
    grid = Table.grid()
    grid.add_column(no_wrap=True, min_width=head.cell_len)
    grid.add_column(overflow="fold")
    grid.add_row(head, body)
    return grid


#: Longest value quoted from the console that a fix shows (kept on one row, never wrapped).
MAX_QUOTED = 40


def _unbreakable(text: str, values) -> str:
    """Values the fix quotes from the console, cut short and with no-break spaces: console text
    can then never begin a wrapped row of the fix (it would read as our own line)."""
    for v in sorted({v for v in values if v and len(v) > 1}, key=len, reverse=True):
        if v in text:
            short = v if len(v) <= MAX_QUOTED else v[: MAX_QUOTED - 1] + "\u2026"
            text = text.replace(v, short.replace(" ", "\u00a0"))
    return text


def _fix(f: Finding, cloud: str) -> list:
    """The fix: the main text in full; when the cloud is unknown, one row per cloud at most."""
    from consolewatch.sinks.report import split_fix

    fix = split_fix(_unbreakable(f.remediation, f.fields.values()), cloud)
    rows: list = [hanging(Text("  fix: ", style="bold green"), inert(fix.text))]
    for label, text in fix.per_cloud:
        rows.append(hanging(Text(f"       on {label}: ", style="green"), inert(text, "dim"), no_wrap=True))
    return rows


def finding_view(f: Finding, cloud: str = "unknown") -> Group:
    head = Text()
    head.append(f" {f.severity.upper()} ", style=SEVERITY_STYLE.get(f.severity, ""))
    head.append(" ")
    meta = Text(f"{f.category} \u00b7 {f.rule}", style="dim")
    if f.occurrences > 1:
        meta.append(f" \u00b7 seen {f.occurrences} times", style="dim")
    if f.suppressed_by:
        meta.append(f" \u00b7 a symptom of {f.suppressed_by}", style="italic dim")
    parts: list = [hanging(head, inert(f.title, "bold")), hanging(" " * head.cell_len, meta)]
    width = max((len(str(e.seq)) for e in (*f.context, *f.evidence)), default=1)
    for e in f.context:
        parts.append(Quoted(f"    {e.seq:>{width}} | ", inert(e.text, "dim")))
    for e in f.evidence:
        note = Text("  (read off the screen)", style="dim italic") if e.origin == "ocr" else None
        parts.append(Quoted(f"  > {e.seq:>{width}} | ", inert(e.text, "bold"), style="bold", note=note))
    parts += _fix(f, cloud)
    return Group(*parts)


def symptom_line(f: Finding) -> Table:
    """The same failure told again by a less specific rule: one line is enough."""
    return hanging(Text(f"    also {f.rule}: ", style="dim"), inert(f.title, "dim"))


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


def _boot(boot: Boot, total: int, cloud: str) -> Panel:
    title = Text(f"boot {boot.index}/{total}: ")
    title.append(boot.outcome.upper(), style=OUTCOME_STYLE.get(boot.outcome, ""))
    body: list = [_milestones(boot), hanging("  ", inert(boot.reason))]
    by_rule = {f.rule: f for f in boot.findings}
    for f in boot.findings:
        root = by_rule.get(f.suppressed_by or "")
        if root is not None and root.category == f.category:
            body.append(symptom_line(f))
            continue
        body.append(Text(""))
        body.append(finding_view(f, cloud))
    return Panel(Group(*body), title=title, title_align="left", border_style=OUTCOME_STYLE.get(boot.outcome, ""))


def _per_cloud(a: Analysis, boots: tuple[Boot, ...]) -> bool:
    return a.cloud in ("unknown", "") and any(
        "\n- On " in f.remediation for f in (*(x for b in boots for x in b.findings), *a.capture_findings))


def render(a: Analysis, console: Console, scope: str = "last", sources: list[str] | None = None) -> None:
    from consolewatch.sinks.report import note_text

    if not a.boots:
        console.print(Text(f"no console lines ({a.lines} lines read)", style="bold"))
    boots = a.boots if scope == "all" else a.boots[-1:]
    if scope != "all" and len(a.boots) > 1:
        console.print(hanging("", Text(f"{len(a.boots)} boots in this capture; showing the last "
                                       "(--boot all shows every one, --boot N one of them)", style="dim")))
    for boot in boots:
        console.print(_boot(boot, len(a.boots), a.cloud))
    for f in a.capture_findings:
        console.print(finding_view(f, a.cloud))
    for n in a.notes:
        text = note_text(n)
        if text:
            console.print(hanging(Text("note: ", style="dim"), inert(text, "dim")))
    summary = Table.grid(padding=(0, 1))
    summary.add_column(no_wrap=True)
    summary.add_column(no_wrap=True)
    summary.add_column()
    where = f"cloud {a.cloud}, hypervisor {a.hypervisor}, {a.lines} lines"
    if _per_cloud(a, boots):
        where += " (--cloud NAME: that cloud's fix in full)"
    summary.add_row(Text("verdict:", style="bold"), Text(a.outcome.upper(), style=OUTCOME_STYLE.get(a.outcome, "")),
                    Text(where, style="dim"))
    console.print(summary)
