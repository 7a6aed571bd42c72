"""The live pipeline: one coroutine wires a fetcher -> store -> session -> sink.

Each event is written to the store before it is processed, so a crash loses nothing; a
resumed follow replays the stored events through a fresh session (rebuilding lines, boots and
findings exactly) and prints only what the crashed run had not printed yet, then asks the
fetcher to continue from the stored cursors. A follower also notices a console that went
quiet before its boot was ready (a stall) and ends when `until` is satisfied.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from consolewatch.detect.catalog import Catalog
from consolewatch.fetchers import Target, fetcher_class
from consolewatch.model import Chunk, Frame, SourceStatus
from consolewatch.session import Session, Step
from consolewatch.sinks.live import LiveSink
from consolewatch.store import Store

#: cloud implied by a target kind, until the console or the API says more.
CLOUD_OF = {"aws": "aws", "gce": "gce", "do": "do", "openstack": "openstack", "qemu": "qemu"}
UNTIL = ("success", "failure", "outcome")


@dataclass
class FollowResult:
    outcome: str | None = None
    """The outcome that ended the follow (or the last one known)."""
    capture_id: int = 0
    reason: str = ""
    boots: list[Any] = field(default_factory=list)
    timed_out: bool = False


class Follower:
    def __init__(
        self,
        target: Target,
        *,
        catalog: Catalog,
        store: Store,
        sink: LiveSink,
        follow: bool = True,
        until: str | None = None,
        stall_after: float | None = 120.0,
        resume: bool = True,
        cloud: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.target = target
        self.name = str(target)
        self.store = store
        self.sink = sink
        self.follow = follow
        self.until = until
        self.stall_after = stall_after
        self.resume = resume
        self.session = Session(catalog, cloud=cloud or CLOUD_OF.get(target.kind, "unknown"))
        self.capture_id = 0
        self.printed = 0
        self.result = FollowResult()
        self._emitted_outcome: dict[int, str] = {}
        self._announced_boot = 0
        self._last_activity = time.time()
        self._stalled_at: int | None = None
        self._done = asyncio.Event()
        self.timeout = timeout
        self._resume_floor = 0
        """During a replay: the first seq the crashed run had not printed."""
        self._replaying = False

    # -- processing ----------------------------------------------------------------------

    def _handle(self, event: Any, *, store: bool = True) -> None:
        if store:
            self.store.append(self.capture_id, event)
        if isinstance(event, (Chunk, Frame)):
            self._last_activity = time.time()
        self._emit(self.session.feed(event), event)

    def _emit(self, step: Step, event: Any = None) -> None:
        name = self.name
        for note in step.notes:
            if not (isinstance(note, SourceStatus) and note.state == "stalled"):
                self.sink.note(name, note)
        for batch in step.batches:
            for seq, boot in batch.boot_marks:
                if boot > self._announced_boot:
                    if boot > 1 and seq > self.printed:
                        self.sink.boot(name, boot, seq, batch.source)
                    self._announced_boot = boot
            start = max(self.printed + 1, batch.first_seq)
            if start <= batch.last_seq:
                lines = batch[start - batch.first_seq:]
                styles = {s.line.seq: _style(s) for s in batch.scanned if s.formats}
                self.sink.lines(name, lines, styles)
                self.printed = batch.last_seq
        for f in step.findings:
            if max((e.seq for e in f.evidence), default=0) >= self._resume_floor:
                source = f.evidence[0].source if f.evidence else "*"
                self.sink.finding(name, f, source)
        fresh = not self._replaying or any(b.last_seq >= self._resume_floor for b in step.batches)
        for boot in step.boots:
            self.result.boots.append(boot)
            self._outcome(boot.index, boot.outcome, boot.reason, fresh)
        live = self.session.engine.provisional()
        if live is not None:
            self._outcome(self.session.engine.boot_index, live, "as far as the console shows so far", fresh)
        # Output first, then the mark: a crash in between repeats lines (they carry their seq)
        # rather than losing them.
        self.sink.flush()
        if self.capture_id and step.batches:
            self.store.mark_printed(self.capture_id, self.printed)

    def _outcome(self, boot: int, outcome: str, reason: str, show: bool) -> None:
        if self._emitted_outcome.get(boot) == outcome:
            return
        self._emitted_outcome[boot] = outcome
        self.result.outcome, self.result.reason = outcome, reason
        if show:
            self.sink.outcome(self.name, boot, outcome, reason, "*")
        if self._satisfied(outcome):
            self._done.set()

    def _satisfied(self, outcome: str) -> bool:
        if self.until == "outcome":
            return True
        if self.until == "success":
            return outcome == "success"
        if self.until == "failure":
            return outcome in ("failure", "stall")
        return False

    # -- running -------------------------------------------------------------------------

    def _replay(self) -> dict[str, Any]:
        """Rebuild state from a stored capture; print what the previous run had not."""
        info = self.store.capture(self.capture_id)
        self.printed = info.printed_seq if info else 0
        self._resume_floor = self.printed + 1
        self._replaying = True
        try:
            for event in self.store.events(self.capture_id):
                self._handle(event, store=False)
        finally:
            self._replaying = False
        self._resume_floor = 0
        return self.store.cursors(self.capture_id)

    async def _fetch(self, cursors: dict[str, Any]) -> None:
        fetcher = fetcher_class(self.target.kind)(self.target)
        async for event in fetcher.stream(cursors=cursors, follow=self.follow):
            self._handle(event)
            if self._done.is_set():
                return
        self._emit(self.session.finish())

    async def _watch_quiet(self) -> None:
        if not self.follow or not self.stall_after:
            return
        while True:
            await asyncio.sleep(min(1.0, self.stall_after / 4))
            quiet = time.time() - self._last_activity
            boot = self.session.engine.boot_index
            if quiet >= self.stall_after and self._stalled_at != boot and self.session.engine.provisional() is None:
                self._stalled_at = boot
                self._handle(SourceStatus("*", "stalled", f"{quiet:.0f}", None, time.time()))

    async def replay_only(self, capture_id: int) -> FollowResult:
        """Show a stored capture from its first event, as tail showed it (`captures show`)."""
        self.capture_id = 0
        for event in self.store.events(capture_id):
            self._handle(event, store=False)
        self._emit(self.session.finish())
        return self.result

    async def run(self) -> FollowResult:
        self.capture_id, resumed = self.store.open_capture(self.name, resume=self.resume)
        self.result.capture_id = self.capture_id
        cursors = self._replay() if resumed else {}
        if self._done.is_set():
            return self._close(ended=True)
        fetch = asyncio.create_task(self._fetch(cursors))
        quiet = asyncio.create_task(self._watch_quiet())
        done = asyncio.create_task(self._done.wait())
        try:
            finished, _ = await asyncio.wait({fetch, done}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
            self.result.timed_out = not finished
            if fetch in finished:
                fetch.result()  # re-raise a FetchError
        finally:
            for t in (fetch, quiet, done):
                t.cancel()
            await asyncio.gather(fetch, quiet, done, return_exceptions=True)
        return self._close(ended=not self.result.timed_out)

    def _close(self, *, ended: bool) -> FollowResult:
        engine = self.session.engine
        summary = {"outcome": self.result.outcome, "boots": max(len(engine.boots), engine.boot_index),
                   "cloud": engine.cloud, "hypervisor": engine.hypervisor}
        self.store.finish(self.capture_id, summary, ended=ended)
        return self.result


def _style(scanned) -> tuple[str, str]:
    hit = scanned.formats[0].pattern
    level = next((h.pattern.level for h in scanned.formats if h.pattern.level), "")
    return hit.component, level or ""

