"""The comparison with a known-good boot (`--baseline`), as the report and the terminal show it.

`baseline_view` turns a `baseline.Comparison` into plain, cleaned values (console text through
`report.clean`); `report_md`, the HTML template and `render_comparison` (the terminal view of
`analyze`) only lay them out. The new lines come ranked as the comparison ranks them: lines a
finding quotes, then lines that read like trouble, then the rest, so the failure's own lines
come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from consolewatch.sinks.report import clean, milestone_time

#: New lines a report shows (the JSON document has them all, up to the comparison's bound).
SHOWN = 30
KIND_LABEL = {"finding": "quoted by a finding", "error": "reads like trouble", "other": "new"}


@dataclass(frozen=True, slots=True)
class NewRow:
    seq: int
    text: str
    template: str
    count: int
    kind: str


@dataclass(frozen=True, slots=True)
class BaselineView:
    summary: str
    rows: tuple[NewRow, ...]
    more: int
    """New templates not shown."""
    missing: tuple[str, ...]
    late: tuple[str, ...]
    """"name: 12.3s here, 4.5s in the good boot"."""


def baseline_view(c: Any, inputs: Sequence[str] = ()) -> BaselineView:
    """The view of a `baseline.Comparison`; `inputs`: how to name the good capture (redacted labels)."""
    names = ", ".join(clean(i, 200) for i in (inputs or c.baseline_inputs)) or "the baseline"
    good = f"boot {c.baseline_boot} of {names} ({clean(c.baseline_outcome, 20)})"
    if c.new_templates:
        new = (f"{c.new_line_total} of its {c.lines_compared} lines print {c.new_templates} line template(s) "
               "the good boot never printed (numbers, addresses and times masked)")
    else:
        new = f"every one of its {c.lines_compared} lines prints a template the good boot printed too"
    parts = [f"Boot {c.boot} compared with {good}: {new}."]
    if c.missing_milestones:
        parts.append("It never reached " + ", ".join(c.missing_milestones) + ", which the good boot reached.")
    late = tuple(f"{m.name}: {milestone_time(m.time)} here, {milestone_time(m.baseline_time)} in the good boot"
                 for m in c.late_milestones)
    if late:
        parts.append("Later than in the good boot: " + "; ".join(late) + ".")
    rows = tuple(NewRow(n.seq, clean(n.text), clean(n.template), n.count, n.kind) for n in c.new_lines[:SHOWN])
    return BaselineView(" ".join(parts), rows, max(0, len(c.new_lines) - SHOWN), tuple(c.missing_milestones), late)


def render_comparison(c: Any, console: Any) -> None:
    """The comparison under `analyze`'s terminal view: console text right of its gutter, inert."""
    from rich.text import Text

    from consolewatch.sinks.terminal import Quoted, inert

    view = baseline_view(c)
    console.print(Text("Compared with a good boot", style="bold"))
    console.print(Text(view.summary))
    for row in view.rows:
        times = f" x{row.count}" if row.count > 1 else ""
        console.print(Quoted(f"{'>' if row.kind != 'other' else ' '} {row.seq:>6} | ", inert(row.text),
                             note=Text(f"  {KIND_LABEL[row.kind]}{times}", style="dim italic")))
    if view.more:
        console.print(Text(f"... and {view.more} more new template(s) (--json lists them)", style="dim"))
