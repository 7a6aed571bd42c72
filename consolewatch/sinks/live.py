"""Live sinks for `tail` and `watch`: JSON Lines, and the terminal view.

Both receive the same calls from the follower. The JSON Lines shapes are the tail contract of
design.md (`line`, `finding`, `gap`, `unavailable`, `boot`, `outcome`, each with `type`,
`target`, `source`), plus `status` and `context` events. Console text reaches the terminal
only as `rich.text.Text` (never markup) after the normaliser removed control characters.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any, Sequence

from consolewatch.model import Finding, Gap, Line, MachineContext, SourceStatus, SourceUnavailable
from consolewatch.sinks.jsonout import cloud_verdict, dumps, finding_event, line_event


class LiveSink:
    """What a follower reports. Every method may be called from one thread only."""

    def lines(self, target: str, lines: Sequence[Line], styles: dict[int, tuple[str, str]]) -> None: ...
    def finding(self, target: str, f: Finding, source: str) -> None: ...
    def note(self, target: str, event: Any) -> None: ...
    def boot(self, target: str, index: int, seq: int, source: str) -> None: ...
    def outcome(self, target: str, boot: int, outcome: str, reason: str, source: str) -> None: ...
    def seen(self, target: str, seq: int, source: str) -> None:
        """Line `seq` also appeared on `source` (a screen repeating the serial port)."""

    def flush(self) -> None:
        """End of one step: make everything reported so far visible (one write)."""

    def close(self) -> None: ...


class JsonLinesSink(LiveSink):
    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self._pending: list[str] = []
        self._context: dict[str, MachineContext] = {}

    def _write(self, doc: dict[str, Any]) -> None:
        self._pending.append(dumps(doc) + "\n")

    def flush(self) -> None:
        if self._pending:
            self.out.write("".join(self._pending))
            self._pending.clear()
        self.out.flush()

    def close(self) -> None:
        self.flush()

    def lines(self, target, lines, styles):
        for line in lines:
            self._write(line_event(line, target))

    def finding(self, target, f, source):
        self._write(finding_event(f, target, source))

    def note(self, target, event):
        if isinstance(event, Gap):
            self._write({"type": "gap", "target": target, "source": event.source, "lost_bytes": event.lost_bytes,
                         "reason": event.reason, "observed_at": event.received_at or None})
        elif isinstance(event, SourceUnavailable):
            self._write({"type": "unavailable", "target": target, "source": event.source, "reason": event.reason,
                         "hint": event.hint})
        elif isinstance(event, SourceStatus):
            self._write({"type": "status", "target": target, "source": event.source, "state": event.state,
                         "detail": event.detail, "poll_interval": event.poll_interval})
        elif isinstance(event, MachineContext):
            self._context[target] = event
            self._write({"type": "context", "target": target, "source": event.source, "cloud": event.cloud,
                         "hypervisor": event.hypervisor, "fields": dict(event.fields)})

    def boot(self, target, index, seq, source):
        self._write({"type": "boot", "target": target, "source": source, "boot": index, "seq": seq})

    def outcome(self, target, boot, outcome, reason, source):
        doc = {"type": "outcome", "target": target, "source": source, "boot": boot, "outcome": outcome,
               "reason": reason}
        verdict = cloud_verdict(self._context.get(target))
        if verdict:
            doc["cloud_verdict"] = verdict  # the API's fault beside the console's verdict
        self._write(doc)

    def seen(self, target, seq, source):
        self._write({"type": "seen", "target": target, "source": source, "seq": seq})


COMPONENT_STYLE = {
    "kernel": "", "firmware": "cyan", "bootloader": "cyan", "hypervisor": "cyan", "systemd": "green",
    "initramfs": "magenta", "cloud-init": "blue", "dhcp": "bright_blue", "network": "bright_blue",
    "unikernel": "bright_magenta", "agent": "blue",
}
LEVEL_STYLE = {"error": "bold red", "warning": "yellow"}


class TerminalSink(LiveSink):
    """Lines as they come, boots as separators, findings inline with the fix, a status line."""

    def __init__(self, console=None, *, show_target: bool = False) -> None:
        from rich.console import Console

        self.console = console or Console(highlight=False, emoji=False)
        self.show_target = show_target
        self.status: dict[tuple[str, str], SourceStatus] = {}
        self._context: dict[str, MachineContext] = {}
        self._live = None
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(self._status_view(), console=self.console, transient=True, auto_refresh=False)
            self._live.start()

    def _print(self, renderable) -> None:
        self.console.print(renderable)

    def _status_view(self):
        from rich.text import Text

        t = Text()
        for (target, source), st in sorted(self.status.items()):
            age = time.time() - st.received_at if st.received_at else 0
            t.append(f"{target} {source}: ", style="dim")
            t.append(st.state, style="bold")
            if st.poll_interval:
                t.append(f" every {st.poll_interval:.0f}s", style="dim")
            if st.detail:
                t.append(f" - {st.detail}", style="dim")
            t.append(f" ({age:.0f}s ago)\n", style="dim")
        return t

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._status_view(), refresh=True)

    def lines(self, target, lines, styles):
        from rich.text import Text

        from consolewatch.sinks.terminal import inert

        for line in lines:
            row = Text()
            if self.show_target:
                row.append(f"{target} ", style="dim")
            row.append(f"{line.seq:>6} ", style="dim")
            component, level = styles.get(line.seq, ("", ""))
            row.append(inert(line.text, LEVEL_STYLE.get(level) or COMPONENT_STYLE.get(component, "")))
            if line.origin == "ocr":
                row.append("  [screen]", style="dim italic")
            self._print(row)
        self._refresh()

    def finding(self, target, f, source):
        from rich.panel import Panel

        from consolewatch.sinks.terminal import finding_view

        self._print(Panel(finding_view(f), title=f"{target}: {f.category}", title_align="left",
                          border_style="red" if f.verdict == "failure" else "yellow"))

    def note(self, target, event):
        from rich.text import Text

        if isinstance(event, SourceStatus):
            self.status[(target, event.source)] = event
            self._refresh()
        elif isinstance(event, Gap):
            lost = f"{event.lost_bytes} bytes" if event.lost_bytes is not None else "an unknown amount"
            self._print(Text(f"--- {target} {event.source}: gap, {lost} of console output lost. {event.reason}",
                             style="bold yellow"))
        elif isinstance(event, SourceUnavailable):
            self._print(Text(f"--- {target} {event.source}: unavailable: {event.reason}"
                             + (f" ({event.hint})" if event.hint else ""), style="yellow"))
            self.status[(target, event.source)] = SourceStatus(event.source, "unavailable", event.reason)
        elif isinstance(event, MachineContext):
            self._context[target] = event
            facts = ", ".join(f"{k}={v}" for k, v in sorted(event.fields.items()) if "\n" not in str(v))
            self._print(Text(f"--- {target}: {event.cloud}/{event.hypervisor} {facts}", style="dim"))

    def boot(self, target, index, seq, source):
        from rich.rule import Rule

        self._print(Rule(f"{target} boot {index} (line {seq})", style="cyan"))

    def outcome(self, target, boot, outcome, reason, source):
        from rich.text import Text

        from consolewatch.sinks.terminal import OUTCOME_STYLE

        t = Text(f"=== {target} boot {boot}: ")
        t.append(outcome.upper(), style=OUTCOME_STYLE.get(outcome, ""))
        t.append(f"  {reason}", style="dim")
        verdict = cloud_verdict(self._context.get(target))
        if verdict:
            from consolewatch.sinks.terminal import inert

            t.append(f"\n    {self._context[target].cloud} says: ", style="bold")
            t.append(inert(f"{verdict.get('status', '?')}, fault "
                           + " ".join(verdict[k] for k in ("fault_code", "fault") if k in verdict), "bold red"))
        self._print(t)

    def close(self):
        if self._live is not None:
            self._live.stop()
            self._live = None
