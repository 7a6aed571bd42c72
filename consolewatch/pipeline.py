"""The live pipeline: one coroutine wires a fetcher -> store -> session -> sink.

Each event is written to the store before it is processed, so a crash loses nothing; a
resumed follow replays the stored events through a fresh session (rebuilding lines, boots and
findings exactly) and prints only what the crashed run had not printed yet, then asks the
fetcher to continue from the stored cursors. A follower also notices a console that went
quiet before its boot was ready (a stall) and ends when `until` is satisfied.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consolewatch.detect.catalog import Catalog
from consolewatch.fetchers import Target, fetcher_class
from consolewatch.model import Chunk, Frame, MachineContext, SourceStatus
from consolewatch.session import Session, Step
from consolewatch.sinks.live import LiveSink
from consolewatch.store import Store
from consolewatch.watchdog import WATCHDOG

#: cloud implied by a target kind, until the console or the API says more.
CLOUD_OF = {"aws": "aws", "gce": "gce", "do": "do", "openstack": "openstack", "qemu": "qemu"}
#: A partial line that looks like a prompt ("login: ", "grub> ", "(initramfs) ") and stays
#: unfinished this long is ended, so the prompt is seen while the machine waits at it.
PROMPT_IDLE = 1.0
_PROMPT_END = re.compile(rb"[:>#$?)\]] *$")
#: ... but a printk stamp alone is a kernel line whose message has not arrived yet.
_STAMP_ONLY = re.compile(rb"\[ *\d+\.\d+\] *$")


@dataclass
class FollowResult:
    outcome: str | None = None
    """The outcome that ended the follow (or the last one known)."""
    capture_id: int = 0
    reason: str = ""
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
        prompt_idle: float | None = PROMPT_IDLE,
        on_step: Callable[[str, int, str, Step], None] | None = None,
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
        self.session.expect_frames()  # a screen may repeat what the serial port printed
        self.capture_id = 0
        self.printed = 0
        self.result = FollowResult()
        self._emitted_outcome: dict[int, str] = {}
        self._announced_boot = 0
        self._last_activity = time.time()
        self._last_chunk: dict[str, float] = {}
        self._stalled_at: int | None = None
        self._done = asyncio.Event()
        self.timeout = timeout
        self.prompt_idle = prompt_idle
        self._resume_floor = 0
        """During a replay: the first seq the crashed run had not printed."""
        self._replaying = False
        self.on_step = on_step
        """Called with (target, capture id, cloud, step) for every step, replayed ones too (alerts)."""

    # -- processing ----------------------------------------------------------------------

    def _handle(self, event: Any, *, store: bool = True) -> None:
        wanted = self.target.options.get("sources")
        source = getattr(event, "source", "*")
        if wanted and source != "*" and source not in wanted and not isinstance(event, MachineContext):
            return  # --source: only these sources of the target
        if store:
            self.store.append(self.capture_id, event)
        if isinstance(event, (Chunk, Frame)):
            self._last_activity = time.time()
            self._last_chunk[event.source] = self._last_activity
        with WATCHDOG.busy():  # a runaway rule regex still yields to Ctrl-C, SIGTERM, --timeout
            step = self.session.feed(event)
        self._emit(step, event)

    def _emit(self, step: Step, event: Any = None) -> None:
        name = self.name
        for note in step.notes:
            if not (isinstance(note, SourceStatus) and note.state in ("stalled", "line-flushed")):
                self.sink.note(name, note)
        for batch in step.batches:
            for seq, index in batch.boot_marks:
                if index > self._announced_boot:
                    if index > 1 and seq > self.printed:
                        self.sink.boot(name, index, seq, batch.source)
                    self._announced_boot = index
            start = max(self.printed + 1, batch.first_seq)
            if start <= batch.last_seq:
                lines = batch[start - batch.first_seq:]
                styles = {s.seq: _style(s) for s in batch.scanned if s.formats}
                self.sink.lines(name, lines, styles)
                self.printed = batch.last_seq
        fresh = not self._replaying or any(b.last_seq >= self._resume_floor for b in step.batches)
        for twin in step.duplicates if fresh else ():
            self.sink.seen(name, twin)  # kept once on the timeline, both sources noted
        for f in step.findings:
            if max((e.seq for e in f.evidence), default=0) >= self._resume_floor:
                source = f.evidence[0].source if f.evidence else "*"
                self.sink.finding(name, f, source)
        for boot in step.boots:
            self._outcome(boot.index, boot.outcome, boot.reason, fresh)
        if self.on_step is not None and self.capture_id:
            self.on_step(name, self.capture_id, self.session.engine.cloud, step)
        live = self.session.engine.provisional()
        if live is not None:
            self._outcome(self.session.engine.boot_index, live, "as far as the console shows so far", fresh)
        # Output first, then the mark: a crash in between repeats lines (they carry their seq)
        # rather than losing them. Sinks that report what they wrote mark piece by piece.
        reports = getattr(self.sink, "reports_printed", False)
        if reports and self.capture_id and step.batches:
            self.sink.marks[self.name] = self._mark_printed
        self.sink.flush()
        if self.capture_id and step.batches and not reports:
            self.store.mark_printed(self.capture_id, self.printed)

    def _mark_printed(self, seq: int) -> None:
        self.store.mark_printed(self.capture_id, seq)

    def _outcome(self, boot: int, outcome: str, reason: str, show: bool) -> None:
        if self._emitted_outcome.get(boot) == outcome:
            return
        self._emitted_outcome[boot] = outcome
        self.result.outcome, self.result.reason = outcome, reason
        if show:
            self.sink.outcome(self.name, boot, outcome, reason, "*")
        if self._satisfied(outcome):
            self._done.set()

    def stop(self) -> None:
        """End the follow now (Ctrl-C): the open boot is judged and the capture recorded."""
        self._done.set()

    def _satisfied(self, outcome: str) -> bool:
        if self.until == "outcome":
            return outcome != "unknown"  # a boot that ended proving nothing does not end a gate
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
        # Closed here, not at interpreter shutdown: a fetcher's connections end with the follow.
        async with contextlib.aclosing(fetcher.stream(cursors=cursors, follow=self.follow)) as events:
            async for event in events:
                self._handle(event)
                if self._done.is_set():
                    return

    async def _watch_quiet(self) -> None:
        if not self.follow:
            return
        while True:
            await asyncio.sleep(0.25)
            now = time.time()
            for source, last in list(self._last_chunk.items()):
                if self.prompt_idle and now - last >= self.prompt_idle and self._at_prompt(source):
                    self._handle(SourceStatus(source, "line-flushed", "a prompt waits for input", None, now))
            if not self.stall_after:
                continue
            quiet = now - self._last_activity
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

    def _at_prompt(self, source: str) -> bool:
        pending = self.session.normalizer.pending(source)
        last = pending[-200:]
        return bool(pending) and _PROMPT_END.search(last) is not None and not _STAMP_ONLY.match(last)

    async def run(self) -> FollowResult:
        """Follow the target; one follower per target at a time (`Store.writer_lock`)."""
        with self.store.writer_lock(self.name):
            self.capture_id, resumed = self.store.open_capture(self.name, resume=self.resume)
            self.result.capture_id = self.capture_id
            try:
                return await self._run(resumed)
            finally:
                if not resumed and not self.store.has_data(self.capture_id):
                    self.store.remove(self.capture_id)  # a target that never started leaves no capture
                    self.result.capture_id = 0

    async def _run(self, resumed: bool) -> FollowResult:
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
        WATCHDOG.ended()  # its deadline was the follow's; closing has time of its own
        # The follow ends here, so does the capture: judge the open boot as analyze would
        # (boot-level findings such as console.silent), then record it.
        outcome = self.result.outcome
        with WATCHDOG.busy():
            step = self.session.finish()
        self._emit(step)
        if self._satisfied_by(outcome):
            self.result.outcome = outcome  # the outcome that ended the follow is the verdict
        return self._close(ended=not self.result.timed_out)

    def _satisfied_by(self, outcome: str | None) -> bool:
        return outcome is not None and self._satisfied(outcome)

    def _close(self, *, ended: bool) -> FollowResult:
        engine = self.session.engine
        state = "timed-out" if self.result.timed_out else "ended"
        self.sink.note(self.name, SourceStatus("*", state, self.result.outcome or "no outcome", None, time.time()))
        self.sink.flush()
        summary = {"outcome": self.result.outcome, "boots": max(len(engine.boots), engine.boot_index),
                   "cloud": engine.cloud, "hypervisor": engine.hypervisor}
        self.store.finish(self.capture_id, summary, ended=ended)
        return self.result


def _style(scanned) -> tuple[str, str]:
    hit = scanned.formats[0].pattern
    level = next((h.pattern.level for h in scanned.formats if h.pattern.level), "")
    return hit.component, level or ""

