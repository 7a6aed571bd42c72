"""Playing a recorded console over time, for the simulated clouds.

A `ConsolePlayer` answers "which bytes had the machine printed by now?" for a real boot log,
released at a steady rate from a start time. The simulated EC2, GCE and VNC servers build
their answers (a 64 KB window, a 1 MB ring, a screen) from it. Time comes from an injectable
clock so tests can step it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ConsolePlayer:
    def __init__(
        self,
        data: bytes,
        *,
        bytes_per_second: float = 20_000.0,
        clock: Callable[[], float] = time.monotonic,
        start: float | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.clock = clock
        self.rate = bytes_per_second
        self.boots: list[bytes] = []
        """Output of earlier boots (the machine was restarted), oldest first."""
        self._data = data
        self._start = clock() if start is None else start
        self._extra = b""

    def printed(self, now: float | None = None) -> bytes:
        """Bytes the current boot has printed by `now` (default: the clock)."""
        now = self.clock() if now is None else now
        with self._lock:
            n = int(max(0.0, now - self._start) * self.rate) if self.rate > 0 else len(self._data)
            return self._data[: min(n, len(self._data))] + (self._extra if n >= len(self._data) else b"")

    def total(self, now: float | None = None) -> int:
        return len(self.printed(now))

    def done(self, now: float | None = None) -> bool:
        """True once the whole recording has been printed."""
        now = self.clock() if now is None else now
        with self._lock:
            return self.rate <= 0 or (now - self._start) * self.rate >= len(self._data)

    def begin(self, now: float | None = None) -> None:
        """Start playing now (a player made with `start=float("inf")` waits for this: a machine
        powered on once someone watches, like QEMU started with -S and then continued)."""
        with self._lock:
            self._start = self.clock() if now is None else now

    def append(self, data: bytes) -> None:
        """Print more after the recording (a test injecting lines at a known moment)."""
        with self._lock:
            self._extra += data

    def restart(self, data: bytes | None = None, now: float | None = None) -> None:
        """The machine booted again: keep what it printed, start playing from the top."""
        printed = self.printed(now)
        with self._lock:
            self.boots.append(printed)
            if data is not None:
                self._data = data
            self._extra = b""
            self._start = self.clock() if now is None else now
