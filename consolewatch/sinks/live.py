"""Live sinks for `tail` and `watch`: JSON Lines, and the terminal view.

Both receive the same calls from the follower. The JSON Lines shapes are the tail contract of
design.md (`line`, `finding`, `gap`, `unavailable`, `boot`, `outcome`, each with `type`,
`target`, `source`), plus `status` and `context` events. Console text reaches the terminal
only as `rich.text.Text` (never markup) after the normaliser removed control characters; every
other outside string (target, source, reasons, hints, API facts) goes through `one_line()`.
"""

from __future__ import annotations

import io
import select
import sys
import time
from typing import IO, Any, Callable, Sequence

from consolewatch.model import Finding, Gap, Line, MachineContext, SourceStatus, SourceUnavailable
from consolewatch.safetext import one_line
from consolewatch.sinks.jsonout import cloud_verdict, dumps, finding_event, line_event, seen_event


#: Most bytes written at once. A write this size to a pipe is atomic (POSIX PIPE_BUF), so a
#: kill -9 leaves whole pieces, each followed at once by its printed mark.
PIECE = 4096


def write_pieces(out: IO[str], entries: list[tuple[str, str, int | None]],
                 marks: dict[str, Callable[[int], None]]) -> None:
    """Write `(text, target, seq)` entries in pieces of at most PIECE bytes; after each piece,
    tell `marks[target]` the last line seq it completed (the follower saves it in the store).
    Printed and marked advance together: a kill -9 between the two repeats at most the one
    piece written last, never a whole batch (and when a pipe is full the piece is not written
    at all). A single entry longer than PIECE is written on its own."""
    piece: list[str] = []
    size = 0
    done: dict[str, int] = {}
    fd = _fileno(out)

    def emit() -> None:
        if fd is not None:
            # Wait for room first: a write into a full pipe can block after its bytes are in
            # the pipe (seen on Linux 6.x), and a kill there would leave them unmarked.
            select.select([], [fd], [])
        out.write("".join(piece))
        out.flush()
        for target, seq in done.items():
            mark = marks.get(target)
            if mark is not None:
                mark(seq)
        piece.clear()
        done.clear()

    for text, target, seq in entries:
        n = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if piece and size + n > PIECE:
            emit()
            size = 0
        piece.append(text)
        size += n
        if seq is not None:
            done[target] = seq
    if piece:
        emit()
    out.flush()


def _fileno(out: IO[str]) -> int | None:
    try:
        fd = out.fileno()
        select.select([], [fd], [], 0)
        return fd
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None  # not a file descriptor select can wait on (a StringIO, say)


class LiveSink:
    """What a follower reports. Every method may be called from one thread only."""

    reports_printed = False
    """True when `flush()` calls `marks[target](seq)` as the output up to line `seq` of a
    target is written (a follower then saves its printed mark from there, not after flush)."""

    def __init__(self) -> None:
        self.marks: dict[str, Callable[[int], None]] = {}

    def lines(self, target: str, lines: Sequence[Line], styles: dict[int, tuple[str, str]]) -> None: ...
    def finding(self, target: str, f: Finding, source: str) -> None: ...
    def note(self, target: str, event: Any) -> None: ...
    def boot(self, target: str, index: int, seq: int, source: str) -> None: ...
    def outcome(self, target: str, boot: int, outcome: str, reason: str, source: str) -> None: ...
    def seen(self, target: str, line: Line) -> None:
        """Line `line.seq` of the timeline also appeared on `line.source`: a screen repeating the
        serial port, or the serial port printing a line first read off the screen (its text,
        `line.text`, now stands for the line)."""

    def flush(self) -> None:
        """End of one step: make everything reported so far visible (one write)."""

    def close(self) -> None: ...


class JsonLinesSink(LiveSink):
    reports_printed = True

    def __init__(self, out: IO[str] | None = None) -> None:
        super().__init__()
        self.out = out or sys.stdout
        self._pending: list[tuple[str, str, int | None]] = []
        self._context: dict[str, MachineContext] = {}

    def _write(self, doc: dict[str, Any], seq: int | None = None) -> None:
        self._pending.append((dumps(doc) + "\n", doc["target"], seq))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        write_pieces(self.out, pending, self.marks)

    def close(self) -> None:
        self.flush()

    def lines(self, target, lines, styles):
        for line in lines:
            self._write(line_event(line, target), line.seq)

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

    def seen(self, target, line):
        self._write(seen_event(line, target))


COMPONENT_STYLE = {
    "kernel": "", "firmware": "cyan", "bootloader": "cyan", "hypervisor": "cyan", "systemd": "green",
    "initramfs": "magenta", "cloud-init": "blue", "dhcp": "bright_blue", "network": "bright_blue",
    "unikernel": "bright_magenta", "agent": "blue",
}
LEVEL_STYLE = {"error": "bold red", "warning": "yellow"}


class TerminalSink(LiveSink):
    """Lines as they come, boots as separators, findings inline with the fix, a status line."""

    reports_printed = True

    def __init__(self, console=None, *, show_target: bool = False,
                 inhibits: dict[str, tuple[str, ...]] | None = None) -> None:
        from rich.console import Console

        super().__init__()
        self.console = console or Console(highlight=False, emoji=False)
        self.show_target = show_target
        self.inhibits = inhibits or {}
        """rule id -> the rule ids and categories it mutes (from the catalog): a root cause found
        after its symptoms were shown says so."""
        self.status: dict[tuple[str, str], SourceStatus] = {}
        self.cloud: dict[str, str] = {}
        """target -> its cloud, once the API said it (the fix is then that cloud's alone)."""
        self._roots: dict[tuple[str, int], dict[str, str]] = {}
        self._pending: list[tuple[Any, str, int | None]] = []
        self._target = ""
        self._context: dict[str, MachineContext] = {}
        self._live = None
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(self._status_view(), console=self.console, transient=True, auto_refresh=False)
            self._live.start()

    def _print(self, renderable, seq: int | None = None) -> None:
        self._pending.append((renderable, self._target, seq))

    def flush(self) -> None:
        """Write what one step produced in pieces, each followed by its printed mark
        (`write_pieces`), so the screen and the follower's mark advance together."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        if self._live is not None:
            # An interactive terminal under the live status view: rich positions the output
            # above it; one print per line keeps the mark with what is on screen.
            from rich.console import Group

            for start in range(0, len(pending), 32):
                part = pending[start:start + 32]
                self.console.print(Group(*(r for r, _, _ in part)))
                for _, target, seq in part:
                    if seq is not None and target in self.marks:
                        self.marks[target](seq)
            return
        rendered = []
        for renderable, target, seq in pending:
            self.console.begin_capture()
            self.console.print(renderable)
            rendered.append((self.console.end_capture(), target, seq))
        write_pieces(self.console.file, rendered, self.marks)

    def _status_view(self):
        from rich.text import Text

        t = Text()
        for (target, source), st in sorted(self.status.items()):
            age = time.time() - st.received_at if st.received_at else 0
            t.append(f"{one_line(target)} {one_line(source)}: ", style="dim")
            t.append(one_line(st.state), style="bold")
            if isinstance(st.poll_interval, (int, float)) and st.poll_interval:
                t.append(f" every {st.poll_interval:.0f}s", style="dim")
            if st.detail:
                t.append(f" - {one_line(st.detail, 300)}", style="dim")
            t.append(f" ({age:.0f}s ago)\n", style="dim")
        return t

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._status_view(), refresh=True)

    def lines(self, target, lines, styles):
        from rich.text import Text

        from consolewatch.sinks.terminal import Quoted, inert

        self._target = target
        for line in lines:
            prefix = f"{one_line(target)} " if self.show_target else ""
            component, level = styles.get(line.seq, ("", ""))
            note = Text("  [screen]", style="dim italic") if line.origin == "ocr" else None
            self._print(Quoted(f"{prefix}{line.seq:>6} | ",
                               inert(line.text, LEVEL_STYLE.get(level) or COMPONENT_STYLE.get(component, "")),
                               note=note), line.seq)
        self._refresh()

    def finding(self, target, f, source):
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        from consolewatch.sinks.terminal import finding_view, symptom_line

        shown = self._roots.setdefault((target, f.boot), {})  # rule id -> category, shown in this boot
        if f.suppressed_by and shown.get(f.suppressed_by) == f.category:
            shown.setdefault(f.rule, f.category)
            self._print(symptom_line(f))  # the same failure told again by a less specific rule
            return
        mutes = self.inhibits.get(f.rule, ())
        earlier = [r for r, c in shown.items() if c == f.category and (r in mutes or c in mutes)]
        shown.setdefault(f.rule, f.category)
        body = finding_view(f, self.cloud.get(target, "unknown"))
        if earlier:  # found after its symptoms were shown: group them here, as analyze does
            body = Group(body, Text(f"  the root cause of {', '.join(earlier)} (shown above)", style="italic dim"))
        title = Text(one_line(f.category) + (f" ({one_line(target)})" if self.show_target else ""))
        self._print(Panel(body, title=title, title_align="left",
                          border_style="red" if f.verdict == "failure" else "yellow"))

    def note(self, target, event):
        from rich.text import Text

        if isinstance(event, SourceStatus):
            self.status[(target, event.source)] = event
            if event.state == "waiting":  # said at once, not only in a terminal's status line
                self._print(Text(f"--- {one_line(event.source)}: {one_line(event.detail, 300)}", style="dim"))
            self._refresh()
        elif isinstance(event, Gap):
            lost = f"{event.lost_bytes} bytes" if isinstance(event.lost_bytes, int) else "an unknown amount"
            self._print(Text(f"--- {one_line(target)} {one_line(event.source)}: gap, {lost} of console output lost. "
                             f"{one_line(event.reason, 500)}", style="bold yellow"))
        elif isinstance(event, SourceUnavailable):
            self._print(Text(f"--- {one_line(target)} {one_line(event.source)}: unavailable: {one_line(event.reason, 500)}"
                             + (f" ({one_line(event.hint, 500)})" if event.hint else ""), style="yellow"))
            self.status[(target, event.source)] = SourceStatus(event.source, "unavailable", event.reason)
        elif isinstance(event, MachineContext):
            if event.cloud != "unknown":
                self.cloud[target] = event.cloud
            self._context[target] = event
            facts = ", ".join(f"{one_line(k, 40)}={one_line(v, 200)}" for k, v in sorted(event.fields.items())
                              if "\n" not in str(v))
            self._print(Text(f"--- {one_line(target)}: {one_line(event.cloud)}/{one_line(event.hypervisor)} {facts}",
                             style="dim"))

    def boot(self, target, index, seq, source):
        from rich.rule import Rule
        from rich.text import Text

        where = f"{one_line(target)} " if self.show_target else ""
        self._print(Rule(Text(f"{where}boot {index} (line {seq})"), style="cyan", align="left"))

    def outcome(self, target, boot, outcome, reason, source):
        from rich.text import Text

        from consolewatch.sinks.terminal import OUTCOME_STYLE

        t = Text(f"=== {one_line(target)} boot {boot}: ")
        t.append(one_line(outcome.upper()), style=OUTCOME_STYLE.get(outcome, ""))
        t.append(f"  {one_line(reason, 500)}", style="dim")
        verdict = cloud_verdict(self._context.get(target))
        if verdict:
            from consolewatch.sinks.terminal import inert

            t.append(f"\n    {one_line(self._context[target].cloud)} says: ", style="bold")
            t.append(inert(f"{verdict.get('status', '?')}, fault "
                           + " ".join(verdict[k] for k in ("fault_code", "fault") if k in verdict), "bold red"))
        self._print(t)

    def close(self):
        self.flush()
        if self._live is not None:
            self._live.stop()
            self._live = None
