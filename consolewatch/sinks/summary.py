"""The `watch` view: one row per target (state, lines, boot, outcome, top finding).

It wraps another sink (JSON Lines or nothing) and keeps only what the table needs, so a
process following hundreds of targets holds a few fields per target, not their consoles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from consolewatch.model import Finding, Line, SourceStatus, SourceUnavailable, severity_rank
from consolewatch.sinks.live import LiveSink


@dataclass
class TargetRow:
    state: str = "starting"
    lines: int = 0
    boot: int = 1
    outcome: str = "-"
    top: Finding | None = None
    updated: float = 0.0


class SummarySink(LiveSink):
    reports_printed = True

    def __init__(self, inner: LiveSink | None = None, console=None, refresh: float = 0.5) -> None:
        super().__init__()
        if inner is not None:
            inner.marks = self.marks  # followers register with this sink; the inner one prints
        self._shown: dict[str, int] = {}
        self.inner = inner
        self.rows: dict[str, TargetRow] = {}
        self.console = console
        self._live = None
        self._refresh_every = refresh
        self._last_refresh = 0.0
        if console is not None and console.is_terminal:
            from rich.live import Live

            self._live = Live(self.table(), console=console, auto_refresh=False)
            self._live.start()

    def _row(self, target: str) -> TargetRow:
        row = self.rows.get(target)
        if row is None:
            row = self.rows[target] = TargetRow(updated=time.time())
        return row

    def table(self):
        from rich.table import Table
        from rich.text import Text

        from consolewatch.sinks.terminal import OUTCOME_STYLE, EndOf, inert

        table = Table(title=f"{len(self.rows)} targets", expand=False)
        for col in ("target", "state", "lines", "boot", "outcome", "top finding"):
            table.add_column(col)
        for target, r in sorted(self.rows.items()):
            top = inert(f"{r.top.category}: {r.top.title}") if r.top else Text("-")
            table.add_row(EndOf(target), r.state, str(r.lines), str(r.boot),
                          Text(r.outcome, style=OUTCOME_STYLE.get(r.outcome, "")), top)
        return table

    def _refresh(self, force: bool = False) -> None:
        now = time.time()
        if self._live is not None and (force or now - self._last_refresh >= self._refresh_every):
            self._last_refresh = now
            self._live.update(self.table(), refresh=True)

    # -- LiveSink ------------------------------------------------------------------------

    def lines(self, target: str, lines, styles) -> None:
        row = self._row(target)
        row.lines += len(lines)
        if lines:
            row.boot = max(row.boot, lines[-1].boot)
        row.state = "streaming"
        if lines:
            self._shown[target] = lines[-1].seq
        if self.inner:
            self.inner.lines(target, lines, styles)

    def finding(self, target: str, f: Finding, source: str) -> None:
        row = self._row(target)
        if f.category != "boot.success" and (
                row.top is None or severity_rank(f.severity) > severity_rank(row.top.severity)):
            row.top = f
        if self.inner:
            self.inner.finding(target, f, source)

    def note(self, target: str, event: Any) -> None:
        row = self._row(target)
        if isinstance(event, SourceStatus):
            row.state = event.state
        elif isinstance(event, SourceUnavailable):
            row.state = "unavailable"
        if self.inner:
            self.inner.note(target, event)

    def boot(self, target: str, index: int, seq: int, source: str) -> None:
        self._row(target).boot = index
        if self.inner:
            self.inner.boot(target, index, seq, source)

    def outcome(self, target: str, boot: int, outcome: str, reason: str, source: str) -> None:
        self._row(target).outcome = outcome
        if self.inner:
            self.inner.outcome(target, boot, outcome, reason, source)

    def seen(self, target: str, line: Line) -> None:
        if self.inner:
            self.inner.seen(target, line)

    def flush(self) -> None:
        if self.inner is not None and self.inner.reports_printed:
            self.inner.flush()
        else:  # nothing prints the lines (or the inner sink cannot say when): shown = counted
            if self.inner is not None:
                self.inner.flush()
            for target, seq in self._shown.items():
                if target in self.marks:
                    self.marks[target](seq)
        self._shown.clear()
        self._refresh()

    def close(self) -> None:
        if self.inner:
            self.inner.close()
        if self._live is not None:
            self._refresh(force=True)
            self._live.stop()
            self._live = None
        elif self.console is not None:
            self.console.print(self.table())
