"""The synchronous core for one capture: events in, lines/findings/boots out.

`Session.feed(event)` accepts anything a fetcher yields (Chunk, Frame, Gap, SourceUnavailable,
SourceStatus, MachineContext) and returns a `Step`: the lines the event completed, the findings
that became certain and the boots that closed. `analyze` (a file) and `tail` (a live machine)
both drive a Session, so offline and live cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from consolewatch.detect.catalog import Catalog
from consolewatch.detect.closing import counted_outcome
from consolewatch.detect.engine import Engine
from consolewatch.model import (
    Boot,
    Chunk,
    Finding,
    Frame,
    Gap,
    Line,
    MachineContext,
    SourceStatus,
    SourceUnavailable,
    severity_rank,
)
from consolewatch.normalize.batch import LineBatch
from consolewatch.normalize.normalizer import Normalizer
from consolewatch.normalize.timeline import Span, SpanLog

#: Gaps remembered with their place on the timeline (the report's picture).
MAX_GAPS = 1000


@dataclass
class Step:
    """What one event produced."""

    batches: list[LineBatch] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    boots: list[Boot] = field(default_factory=list)
    notes: list[Gap | SourceUnavailable | SourceStatus | MachineContext] = field(default_factory=list)
    duplicates: list[Line] = field(default_factory=list)
    """Lines one source showed that were already on the timeline from another (a screen and a
    text console): each with the seq it has there and this source's text (normalize.timeline)."""

    def extend(self, other: Step) -> None:
        self.batches += other.batches
        self.findings += other.findings
        self.boots += other.boots
        self.notes += other.notes
        self.duplicates += other.duplicates


@dataclass(frozen=True, slots=True)
class Analysis:
    """The verdict on a capture: its boots, their findings and the capture-level findings."""

    cloud: str
    hypervisor: str
    boots: tuple[Boot, ...]
    capture_findings: tuple[Finding, ...]
    lines: int
    notes: tuple[Any, ...] = ()
    boots_dropped: int = 0
    """Boots of a very long capture summarised away (the engine keeps the last 1,000 in full)."""
    screens: tuple[Frame, ...] = ()
    """The last frame of each screen source (what the screen showed when the capture ended)."""
    spans: tuple[Span, ...] = ()
    """Which source put which lines on the timeline (and which lines a source showed again)."""
    gaps: tuple[tuple[int, Gap], ...] = ()
    """Each gap with the seq of the first line after it."""

    @property
    def outcome(self) -> str:
        """The last boot's outcome (earlier boots are history); a capture that ends inside a boot
        loop, its last boot cut off (undecided, or stopped at the firmware), is a failure."""
        last = self.boots[-1].outcome if self.boots else "unknown"
        return "failure" if self._inside_loop() else last

    def _inside_loop(self) -> bool:
        last = self.boots[-1].outcome if self.boots else "unknown"
        return last in ("unknown", "stall") and any(
            f.verdict == "failure" and f.category == "boot.loop" for f in self.capture_findings)

    def _verdict_boots(self) -> tuple[Boot, ...]:
        """The verdict's boots: the last one; when the capture ends inside a boot loop (its last
        boot cut off before it decided anything), the failed boot before it too: its failure is
        what the machine loops on, and the cut-off boot is that boot starting over."""
        if len(self.boots) > 1 and counted_outcome(self.boots[-2]) == "failure" and self._inside_loop():
            return self.boots[-2:]
        return self.boots[-1:]

    def findings(self, scope: str = "last") -> list[Finding]:
        """Findings of the verdict (last) boot, or of all boots, plus capture-level ones."""
        if scope == "all" or not self.boots:
            return [f for b in self.boots for f in b.findings] + list(self.capture_findings)
        *looped, last = self._verdict_boots()
        # the failed boot the capture ends looping on: its failure, not the ready line it came up
        # to before a watchdog took it down
        return ([f for b in looped for f in b.findings if f.verdict != "success"]
                + list(last.findings) + list(self.capture_findings))

    def worst(self, scope: str = "last") -> str | None:
        found = self.findings(scope)
        return max((f.severity for f in found), key=severity_rank) if found else None

    def failed(self, scope: str = "last") -> bool:
        """Did a boot in scope fail or stall (the verdict a CI gate acts on)?"""
        boots = self.boots if scope == "all" else self.boots[-1:]
        return any(b.outcome in ("failure", "stall") for b in boots)

    def only_boot(self, n: int) -> Analysis | None:
        """The analysis narrowed to one boot, counted as `journalctl -b` does: N >= 1 the Nth
        boot of the capture, 0 the last, -1 the one before it, ...; None when there is no such boot."""
        if n >= 1:
            chosen = [b for b in self.boots if b.index == n]
        else:
            chosen = [self.boots[n - 1]] if -len(self.boots) < n <= 0 else []
        return replace(self, boots=tuple(chosen)) if chosen else None


class Session:
    def __init__(self, catalog: Catalog, *, cloud: str = "unknown", hypervisor: str = "unknown",
                 detail: str = "all") -> None:
        """`detail`: "verdict" when only the verdict's boots will be read (see `Engine`)."""
        self.catalog = catalog
        self.normalizer = Normalizer(catalog)
        self.engine = Engine(catalog, cloud=cloud, hypervisor=hypervisor, detail=detail)
        self.notes: list[Any] = []
        self._screens: dict[str, Any] = {}
        self.last_frames: dict[str, Frame] = {}
        self.spans = SpanLog()
        self.gaps: list[tuple[int, Gap]] = []

    def expect_frames(self) -> None:
        """Screens and text consoles may show the same lines: keep each once on the timeline,
        whichever arrives first; the text's exact bytes stand for it (normalize.timeline)."""
        self.normalizer.expect_frames()

    def feed(self, event: Any) -> Step:
        step = Step()
        if isinstance(event, Chunk):
            self._lines(step, self.normalizer.feed(event))
        elif isinstance(event, Frame):
            self._frame(step, event)
        elif isinstance(event, Gap):
            # Bytes before and after a gap are not one line.
            for batch in self.normalizer.flush(event.source, event.received_at or None):
                self._lines(step, batch)
            self._note(step, event)
            if len(self.gaps) < MAX_GAPS:
                self.gaps.append((self.normalizer.next_seq, event))
        elif isinstance(event, MachineContext):
            self.engine.set_context(event)
            self._note(step, event)
        elif isinstance(event, SourceStatus) and event.state == "line-flushed":
            # Recorded by the live follower when a partial line (a login prompt) stayed
            # unfinished; replays end the line at the same place.
            for batch in self.normalizer.flush(event.source, event.received_at or None):
                self._lines(step, batch)
        elif isinstance(event, SourceStatus) and event.state == "stalled":
            # Recorded by the live follower when the console went quiet; replays decide the same.
            self._note(step, event)
            step.findings += self.engine.idle(float(event.detail or 0))
        elif isinstance(event, (SourceUnavailable, SourceStatus)):
            self._note(step, event)
        else:
            raise TypeError(f"not a source event: {type(event).__name__}")
        return step

    def end_source(self, source: str) -> Step:
        """A source has ended (an input file was read to its end): complete its last line."""
        step = Step()
        for batch in self.normalizer.flush(source):
            self._lines(step, batch)
        return step

    def finish(self) -> Step:
        step = Step()
        for batch in self.normalizer.flush():
            self._lines(step, batch)
        for source, reader in self._screens.items():
            self._screen_lines(step, source, reader.flush(), None)
        before = len(self.engine.boots)
        n = self.normalizer
        step.findings += self.engine.finish(non_text=n.non_text / n.bytes_read if n.bytes_read else 0.0)
        step.boots += self.engine.boots[before:]
        return step

    def result(self) -> Analysis:
        return Analysis(
            cloud=self.engine.cloud, hypervisor=self.engine.hypervisor, boots=tuple(self.engine.boots),
            capture_findings=tuple(self.engine.capture_findings), lines=self.normalizer.next_seq - 1,
            notes=tuple(self.notes), boots_dropped=self.engine.boots_dropped,
            screens=tuple(self.last_frames[s] for s in sorted(self.last_frames)),
            spans=tuple(self.spans.spans), gaps=tuple(self.gaps),
        )

    def _note(self, step: Step, event: Any) -> None:
        if not isinstance(event, SourceStatus):
            self.notes.append(event)
        step.notes.append(event)

    def _lines(self, step: Step, batch: LineBatch) -> None:
        if not batch and not batch.twins:
            return
        before = len(self.engine.boots)
        if batch:
            step.batches.append(batch)
            self.spans.add(batch.first_seq, batch.last_seq, batch.source, batch.origin)
        step.duplicates += batch.twins
        for twin in batch.twins:
            self.spans.add(twin.seq, twin.seq, twin.source, twin.origin, also=True)
        step.findings += self.engine.feed(batch)
        step.boots += self.engine.boots[before:]

    def _frame(self, step: Step, frame: Frame) -> None:
        from consolewatch.ocr.follow import ScreenReader

        self.last_frames[frame.source] = frame
        reader = self._screens.get(frame.source)
        if reader is None:
            reader = self._screens[frame.source] = ScreenReader()
        new, error = reader.read(frame)
        if error is not None:
            self._note(step, SourceUnavailable(frame.source, error))
            return
        self._screen_lines(step, frame.source, new, frame.received_at or None)

    def _screen_lines(self, step: Step, source: str, new: list[tuple[str, float | None]],
                      observed_at: float | None) -> None:
        if new:
            batch = self.normalizer.feed_lines(source, [t for t, _ in new], origin="ocr",
                                               confidences=[c for _, c in new], observed_at=observed_at)
            self._lines(step, batch)


def run(session: Session, events: Iterable[Any]) -> Analysis:
    """Feed every event, finish, and return the analysis (the offline path)."""
    for event in events:
        session.feed(event)
    session.finish()
    return session.result()
