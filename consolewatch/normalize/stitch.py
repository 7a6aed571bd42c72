"""Stitch overlapping snapshots of a console (EC2's "last 64 KB") into one stream of new bytes.

`GetConsoleOutput` has no offset: every call returns the most recent window of the console,
so successive windows overlap while the poll keeps up with the output. `SnapshotStitcher.feed`
takes each window and returns only the bytes after the part already seen, plus a `StitchGap`
when the two windows do not overlap (the console printed more than a window between two
polls) or the buffer was cleared (the instance started again).

How the overlap is found, in C-speed operations only (windows are 64 KB):

1. An identical window: nothing new.
2. The last `key` bytes of the previous window (the *reference*) are searched in the new
   window from the right (`bytes.rfind`). Each hit is a candidate overlap of `e` bytes (the
   hit's end); it is verified by comparing all `e` overlapping bytes (one slice compare),
   rightmost first. The rightmost verified candidate is the longest suffix/prefix overlap,
   so when content repeats exactly (the same line printed over and over) the stitcher
   reports too few new bytes rather than the same bytes twice.
3. A shorter overlap (the new window starts within the last `key` bytes of the reference) is
   found by direct suffix/prefix comparison; below `min_overlap` bytes it cannot prove the
   windows are contiguous (a coincidence like "\\n" is likely), so it is reported as a gap
   whose overlapping bytes are still trimmed (never emitted twice).
4. No overlap: a new window that ends inside the reference is a stale copy served late
   (nothing new); a window shorter than the reference is a cleared buffer (gap, reason "reset");
   otherwise the output outran the poll (gap, reason "no-overlap"). The bytes lost are not
   knowable from windows alone: `lost_bytes` is None.

Resuming: `SnapshotStitcher(seed=stored_tail)` starts from the last bytes already emitted
(a cursor), so a restarted tail neither repeats nor loses lines. A seeded reference is only
a tail of the stream, so a candidate overlap may extend before it; the part that can be
compared is verified.

Live streams (the EC2 serial console) continue the same reference: `join(head)` splices a
stream that began before the last window ended, `extend(data)` appends what follows.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

__all__ = ["SnapshotStitcher", "StitchGap", "WINDOW"]

WINDOW = 64 * 1024
"""EC2 keeps the most recent 64 KB of console output."""
KEY = 256
MIN_OVERLAP = 32
CURSOR_TAIL = 4096
MAX_CANDIDATES = 4096


@dataclass(frozen=True, slots=True)
class StitchGap:
    """Two snapshots did not overlap: bytes between them may be lost."""

    reason: str
    """"no-overlap" (output outran the poll), "reset" (the buffer was cleared)."""
    lost_bytes: int | None = None

    @property
    def message(self) -> str:
        if self.reason == "reset":
            return "the console buffer was cleared (the instance started again); output in between may be lost"
        return "console output outran the poll: two snapshots do not overlap, output in between is lost"


class SnapshotStitcher:
    """Successive windows of one console in, the bytes new in each out. Pure and synchronous."""

    def __init__(self, *, window: int = WINDOW, key: int = KEY, min_overlap: int = MIN_OVERLAP,
                 seed: bytes = b"", reset_ratio: float = 1.0) -> None:
        if window < 1 or key < 1 or min_overlap < 1:
            raise ValueError("window, key and min_overlap must be positive")
        self.window = window
        self.key = key
        self.min_overlap = min_overlap
        self.reset_ratio = reset_ratio
        """A window that does not overlap is a cleared buffer when shorter than this fraction of
        the last one (1.0 for fixed-size windows like EC2's; less where window sizes vary, as
        Nova's do once it has removed control characters)."""
        self._keep = 2 * window
        self._ref = bytes(seed[-self._keep:])
        self._anchored = not seed
        """True when the reference starts no later than any later window can (a served window,
        or everything since the stream began); False for a stored tail (resume)."""
        self.windows = 0
        self.emitted = 0
        self.gaps = 0

    # -- state ----------------------------------------------------------------------------

    @property
    def reference(self) -> bytes:
        """The most recent bytes of the stream seen so far (the previous window, extended)."""
        return self._ref

    def tail(self, n: int = CURSOR_TAIL) -> bytes:
        """The last `n` bytes seen: what a cursor stores to resume with `seed=`."""
        return self._ref[-n:] if n > 0 else b""

    # -- snapshots ------------------------------------------------------------------------

    def feed(self, snapshot: bytes, *, whole: bool = True) -> tuple[bytes, StitchGap | None]:
        """Take the next window; return (bytes not seen before, gap or None).

        `whole=False`: the window is only the tail of what the source keeps (Nova's `length`
        lines), so a later, larger window may begin before this one did."""
        new = bytes(snapshot)
        self.windows += 1
        ref = self._ref
        if not new or new == ref or (ref and ref.endswith(new) and len(new) < len(ref)):
            return b"", None  # empty (nothing posted yet), identical, or the tail of what we have
        if not ref:
            return self._take(new, new, None, whole)
        e = self._overlap(ref, new)
        if e is not None and (e >= self.min_overlap or self._continues_short(ref, new, e)):
            return self._take(new, new[e:], None, whole)
        if self._stale(ref, new):
            return b"", None  # a copy of an older window (it ends inside what we have)
        if len(new) < len(ref) * self.reset_ratio and self._anchored:
            return self._take(new, new, StitchGap("reset"), whole)
        j = e if e is not None else self._short_overlap(ref, new, self.min_overlap)
        return self._take(new, new[j:], StitchGap("no-overlap"), whole)

    def peek(self, snapshot: bytes, *, whole: bool = True) -> tuple[bytes, StitchGap | None]:
        """What `feed(snapshot)` would return, without taking the window (a caller that can ask
        for a larger window when this one would leave a gap)."""
        return copy.copy(self).feed(snapshot, whole=whole)

    def _take(self, window: bytes, fresh: bytes, gap: StitchGap | None,
              whole: bool = True) -> tuple[bytes, StitchGap | None]:
        self._ref = window[-self._keep:]
        self._anchored = whole
        self.emitted += len(fresh)
        if gap is not None:
            self.gaps += 1
        return fresh, gap

    def _overlap(self, ref: bytes, new: bytes) -> int | None:
        """Length of the longest verified suffix(ref)/prefix(new) overlap, or None.

        Found through the last `key` bytes of `ref`; overlaps shorter than that by direct
        comparison."""
        key = ref[-self.key:]
        klen = len(key)
        rlen = len(ref)
        end = len(new)
        for _ in range(MAX_CANDIDATES):
            p = new.rfind(key, 0, end)
            if p < 0:
                break
            e = p + klen
            if e > rlen and self._anchored:
                end = e - 1  # would reach before the reference began: not this stream
                continue
            n = min(e, rlen)
            if new[e - n:e] == ref[rlen - n:]:
                return e
            end = e - 1
        short = self._short_overlap(ref, new, 1, klen - 1)
        return short or None

    def _continues_short(self, ref: bytes, new: bytes, e: int) -> bool:
        """A reference shorter than `min_overlap` that began the stream continues in `new` only
        when `new` repeats all of it and is not a full window (a full one may have lost the
        start: a few bytes such as "[" recur everywhere in a console)."""
        return e == len(ref) and self._anchored and len(new) < self.window

    def _stale(self, ref: bytes, new: bytes) -> bool:
        """True when `new` ends inside `ref` (an older window served late): its last bytes are
        found in the reference before its end, and everything they share agrees."""
        tail = new[-self.key:]
        end = len(ref)
        for _ in range(MAX_CANDIDATES):
            q = ref.rfind(tail, 0, end)
            if q < 0:
                return False
            stop = q + len(tail)
            n = min(stop, len(new))
            if new[len(new) - n:] == ref[stop - n:stop]:
                return True
            end = stop - 1
        return False

    @staticmethod
    def _short_overlap(ref: bytes, new: bytes, floor: int = 1, ceiling: int | None = None) -> int:
        """Longest j (floor <= j <= ceiling) with ref ending in new[:j]; 0 when none.

        At most `ceiling` slice comparisons of at most `ceiling` bytes (ceiling < key)."""
        top = min(len(ref), len(new), KEY - 1 if ceiling is None else ceiling)
        for j in range(top, floor - 1, -1):
            if ref.endswith(new[:j]):
                return j
        return 0

    # -- live streams ---------------------------------------------------------------------

    def join(self, head: bytes) -> bytes:
        """Splice a live stream whose first bytes may repeat the end of the last window.

        `head` is everything a stream (the serial console) delivered since it connected, which
        happened before the last window was taken: its start lies inside the reference, or
        after its end when nothing was printed in between. Returns the bytes of `head` that are
        new; later bytes go through `extend`. Never reports a gap."""
        head = bytes(head)
        ref = self._ref
        if not head:
            return b""
        fresh = head
        if ref:
            anchored, self._anchored = self._anchored, False  # head may start before ref ends
            try:
                e = self._overlap(ref, head)
            finally:
                self._anchored = anchored
            if e is None and ref.find(head) >= 0:
                fresh = b""
            elif e is not None:
                fresh = head[e:]
        return self.extend(fresh)

    def extend(self, data: bytes) -> bytes:
        """Append bytes of a live stream that continue the stream exactly; returns them."""
        if data:
            self._ref = (self._ref + bytes(data))[-self._keep:]
            self.emitted += len(data)
        return bytes(data)
