"""The normaliser: chunks from any number of sources -> one timeline of lines, split into boots.

`Normalizer.feed(chunk)` returns a `LineBatch` (a sequence of `Line`) holding the lines the chunk
completed. Sources share one line counter and one boot tracker, so lines from a serial port and
lines read off screenshots land on the same timeline; lines the screen repeats from the serial
port are kept once whichever arrives first (`normalize.timeline`, on after `expect_frames()`).
"""

from __future__ import annotations

from collections.abc import Sequence

from consolewatch.detect.catalog import Catalog, ScannedLine
from consolewatch.model import Chunk, Line
from consolewatch.normalize.assembler import DEFAULT_CAP, LineAssembler
from consolewatch.normalize.batch import LineBatch
from consolewatch.normalize.boots import BootTracker
from consolewatch.normalize.scanner import newlines
from consolewatch.normalize.stamps import split_stamps
from consolewatch.normalize.timeline import RECENT_LINES, CrossSource


class Normalizer:
    def __init__(self, catalog: Catalog, *, cap: int = DEFAULT_CAP, first_seq: int = 1) -> None:
        self.catalog = catalog
        self.cap = cap
        self.next_seq = first_seq
        self.boots = BootTracker()
        self._assemblers: dict[str, LineAssembler] = {}
        self._lines: LineAssembler | None = None
        self.bytes_read = 0
        self.cross: CrossSource | None = None
        """Set by `expect_frames`: lines a screen and a text source both show are kept once."""

    def expect_frames(self) -> None:
        """Screens and text consoles of one machine may show the same lines: keep each once."""
        if self.cross is None:
            self.cross = CrossSource()

    @property
    def non_text(self) -> int:
        """Bytes of the text sources that were not text (a baud-rate mismatch reads as such)."""
        return sum(asm.non_text for asm in self._assemblers.values())

    def _assembler(self, source: str) -> LineAssembler:
        asm = self._assemblers.get(source)
        if asm is None:
            asm = self._assemblers[source] = LineAssembler(self.cap)
        return asm

    def feed(self, chunk: Chunk) -> LineBatch:
        """Add a chunk of console bytes; return the lines it completed."""
        if chunk.kind != "stream":
            raise ValueError("snapshot chunks must be stitched into a stream first (normalize.stitch)")
        self.bytes_read += len(chunk.data)
        block = self._assembler(chunk.source).feed(chunk.data)
        return self._text_batch(chunk.source, block, chunk.received_at or None)

    def pending(self, source: str) -> bytes:
        """The part of a line `source` printed with no newline yet (a prompt, say)."""
        asm = self._assemblers.get(source)
        return asm.pending if asm is not None else b""

    def flush(self, source: str | None = None, observed_at: float | None = None) -> list[LineBatch]:
        """End the partial line of one source (or of all): end of capture, or an idle prompt."""
        names = [source] if source is not None else list(self._assemblers)
        out = []
        for name in names:
            asm = self._assemblers.get(name)
            block = asm.flush() if asm is not None else b""
            if block:
                out.append(self._text_batch(name, block, observed_at))
        return out

    def _text_batch(self, source: str, block: bytes, observed_at: float | None) -> LineBatch:
        """The batch of a text source's lines; with screens about, lines a screen showed first
        become the batch's `twins` (no seq of their own) and every line is remembered."""
        cross = self.cross
        if cross is None:
            return self._batch(source, block, observed_at)
        twins: list[Line] = []
        if cross.waiting:
            kept = []
            texts = block.decode("utf-8").split("\n")[:-1]
            for text, hit in zip(texts, cross.text_twins(texts)):
                if hit is None:
                    kept.append(text)
                else:
                    twins.append(_twin(hit, text, source, observed_at, "text", None))
            block = "".join(t + "\n" for t in kept).encode("utf-8")
        batch = self._batch(source, block, observed_at)
        batch.twins = twins
        cross.saw_text([(t.seq, t.text) for t in twins])
        cross.saw_text(batch.before(batch.last_seq + 1, RECENT_LINES))
        return batch

    def feed_lines(
        self,
        source: str,
        texts: Sequence[str],
        *,
        origin: str = "ocr",
        confidences: Sequence[float | None] | None = None,
        observed_at: float | None = None,
    ) -> LineBatch:
        """Add lines that arrive already split (OCR of a frame), sanitised like any console text.
        With `expect_frames`, lines that repeat a recent text line become the batch's `twins`."""
        if self._lines is None:  # one for every call: whole lines leave nothing pending, and a new
            self._lines = LineAssembler(self.cap)  # assembler costs a scanner compile (~10-60 ms)
        text = "".join(t.replace("\n", " ") + "\n" for t in texts)
        block = self._lines.feed(text.encode("utf-8", "backslashreplace"))
        rows = block.decode("utf-8").split("\n")[:-1]
        if len(rows) != len(texts):
            confidences = None  # a control sequence split a row; confidences no longer line up
        cross = self.cross
        if cross is None:
            return self._batch(source, block, observed_at, origin=origin, confidences=confidences)
        kept: list[tuple[str, float | None]] = []
        twins: list[Line] = []
        for i, text in enumerate(rows):
            conf = confidences[i] if confidences is not None else None
            seq = cross.screen_twin(text)
            if seq is None:
                kept.append((text, conf))
            else:
                twins.append(_twin((seq, self.boots.index), text, source, observed_at, origin, conf))
        block = "".join(t + "\n" for t, _ in kept).encode("utf-8")
        batch = self._batch(source, block, observed_at, origin=origin,
                            confidences=[c for _, c in kept] if confidences is not None else None)
        batch.twins = twins
        for i, (text, _) in enumerate(kept):
            cross.saw_screen(batch.first_seq + i, text, batch.boot_of(batch.first_seq + i))
        return batch

    def _batch(
        self,
        source: str,
        block: bytes,
        observed_at: float | None,
        *,
        origin: str = "text",
        confidences: Sequence[float | None] | None = None,
    ) -> LineBatch:
        hits, where = self.catalog.scanner.scan(block) if block else ({}, {})
        flagged = sorted(hits)
        # The scan counted the lines up to its last hit (`where[i]` is inside line i): only the
        # rest is counted here, not the whole block again (~0.05 s on the 101 MB bench mix).
        count = flagged[-1] + newlines(block, where[flagged[-1]]) if flagged else newlines(block)
        first = self.next_seq
        self.next_seq += count
        marks = [(first, self.boots.index)]
        scanned: list[ScannedLine] = []
        starts: dict[int, int] = {}
        if flagged:
            read, remembered = self.catalog.read_new, self.catalog.read_cache.get  # `read`'s memory first
            useful = self.catalog.useful
            boots = self.boots
            rfind, index = block.rfind, block.index
            new = tuple.__new__
            for idx in flagged:
                pids = hits[idx]
                if useful.isdisjoint(pids):
                    continue  # only patterns that add fields to another's match: nothing to add to
                start = rfind(b"\n", 0, where[idx]) + 1
                text = block[start: index(b"\n", start)].decode("utf-8")
                triggers = frozenset(pids)
                r = remembered((text, triggers)) or read(text, triggers)
                stamps, formats, fields, boot_starts, milestones, restart, relevant, once = r  # (not field by field)
                if not relevant:
                    continue
                seq = first + idx
                starts[seq] = start
                message, guest, wall, program = stamps
                if milestones or restart or once:
                    if boots.observe(boot_starts, milestones, guest, restart, origin, once):
                        marks.append((seq, boots.index))
                    t = boots.time(guest, wall)
                elif guest is not None:  # a printk time and nothing else: `observe` and `time` in one call
                    if boots.tick(guest, wall, origin):
                        marks.append((seq, boots.index))
                    t = guest
                else:  # nothing that changes the tracker (`BootTracker.observe`): only the clock
                    t = boots.time(None, wall)
                # Built as the tuple it is (every field given): half the cost of calling the class.
                scanned.append(new(ScannedLine, (
                    seq, text, source, boots.index, guest, wall, observed_at, origin,
                    confidences[idx] if confidences is not None else None, t,
                    message, formats, triggers, fields, program,
                )))
        return LineBatch(
            source=source, block=block, count=count, first_seq=first, boot_marks=marks,
            scanned=scanned, observed_at=observed_at, origin=origin, confidences=confidences, starts=starts,
        )


def _twin(hit: tuple[int, int], text: str, source: str, observed_at: float | None, origin: str,
          confidence: float | None) -> Line:
    """A line that is already on the timeline at seq `hit[0]` (boot `hit[1]`), as `source` showed it."""
    seq, boot = hit
    stamps = split_stamps(text)
    return Line(seq=seq, text=text, source=source, boot=boot, guest_time=stamps.guest_time,
                wall_time=stamps.wall_time, observed_at=observed_at, origin=origin,  # type: ignore[arg-type]
                confidence=confidence, t=stamps.guest_time)
