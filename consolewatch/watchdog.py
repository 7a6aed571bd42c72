"""Keeps Ctrl-C, SIGTERM and --timeout effective while a rule regex holds the event loop.

A follow runs the synchronous core (normaliser, rule engine) on the event loop thread. A
regex that backtracks badly on a hostile line (one the load-time linter, `regexlint`, did not
recognise) can hold that thread for minutes; asyncio's signal handlers and `--timeout` only
run between callbacks, so the process ignored them. Python's regex engine checks for signals
while it matches, so the watchdog installs Python-level handlers that raise `Interrupted` out
of the matching, but only while the core is busy (`with WATCHDOG.busy(): ...`); at other
times asyncio handles the signal as before (its wakeup file descriptor stays in place). The
deadline is a real-time interval timer (SIGALRM) set `LATE` seconds after the follow's own
timeout: a follow whose loop is free ends by that timeout first, judged and recorded like any
other end, and only a core that still holds the loop is stopped by the deadline. Once the
follow has ended (`ended()`), a deadline that passed meanwhile no longer applies; closing it
gets `CLOSING` seconds of its own.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator


#: Seconds after --timeout that the deadline stops a core still holding the event loop.
LATE = 2.0
#: Seconds that closing a follow (judging its open boot) may take once the follow has ended.
CLOSING = 10.0


class Interrupted(Exception):
    """The core was stopped in the middle of a step: by a signal, or by the deadline."""

    def __init__(self, reason: str, signum: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signum = signum


class Watchdog:
    def __init__(self) -> None:
        self._busy = False
        self._expired = False
        self._armed: dict[int, object] = {}

    def arm(self, timeout: float | None = None) -> None:
        """Take SIGINT and SIGTERM (after asyncio added its handlers) and start the deadline."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._armed[sig] = signal.signal(sig, self._on_signal)
        if timeout:
            self._armed[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout + LATE)

    def ended(self) -> None:
        """The follow ended by itself (its own timeout, its outcome, a signal): a deadline that
        passed meanwhile no longer ends it, and closing it gets `CLOSING` seconds (a regex stuck
        while the open boot is judged is still stopped)."""
        self._expired = False
        if signal.SIGALRM in self._armed:
            signal.setitimer(signal.ITIMER_REAL, CLOSING)

    def disarm(self) -> None:
        if signal.SIGALRM in self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, previous in self._armed.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]
        self._armed.clear()
        self._expired = False

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Synchronous work that a signal or the deadline must be able to interrupt."""
        if self._expired:
            raise Interrupted("timeout")
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def _on_signal(self, signum: int, frame: object) -> None:
        if self._busy:
            raise Interrupted(signal.Signals(signum).name, signum)
        # Not busy: asyncio's handler runs from the wakeup fd as usual.

    def _on_alarm(self, signum: int, frame: object) -> None:
        self._expired = True
        if self._busy:
            raise Interrupted("timeout")


#: The process's watchdog: one event loop, one set of signal handlers.
WATCHDOG = Watchdog()
