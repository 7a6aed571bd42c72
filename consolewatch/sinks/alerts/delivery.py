"""Delivery: one thread per destination sends its outbox rows in order.

A row is leased, sent, and marked delivered only on a 2xx. Failures are retried with
exponential backoff (`backoff_min` doubling to `backoff_max`, +-20% jitter) or, on 429, after
the receiver's Retry-After; other 4xx answers and rows older than `give_up_after` are marked
failed. Per-route rate limits are token buckets shared by the threads. A slow or dead receiver
holds only its own thread: the follow loop never waits for a delivery.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from consolewatch.sinks.alerts import outbox
from consolewatch.sinks.alerts.destinations import Destination
from consolewatch.sinks.alerts.settings import Settings
from consolewatch.sinks.alerts.transport import Answer, send


class RateLimits:
    """Token buckets, one per route: `rate_per_minute` messages, bursts up to that many."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.rates = {r.name: r.rate_per_minute for r in settings.routes if r.rate_per_minute}
        self.tokens = {name: max(rate, 1.0) for name, rate in self.rates.items()}
        self.stamp = {name: clock() for name in self.rates}
        self.clock = clock
        self.lock = threading.Lock()

    def wait_for(self, route: str) -> float:
        """0 when a message of `route` may go now (a token is taken), else seconds to wait."""
        rate = self.rates.get(route)
        if rate is None:
            return 0.0
        with self.lock:
            now = self.clock()
            self.tokens[route] = min(max(rate, 1.0), self.tokens[route] + (now - self.stamp[route]) * rate / 60)
            self.stamp[route] = now
            if self.tokens[route] >= 1:
                self.tokens[route] -= 1
                return 0.0
            return (1 - self.tokens[route]) * 60 / rate


def backoff(settings: Settings, attempts: int, answer: Answer) -> float:
    if answer.retry_after is not None:
        return max(answer.retry_after, settings.backoff_min)
    base = min(settings.backoff_max, settings.backoff_min * (2 ** min(attempts, 30)))
    return base * random.uniform(0.8, 1.2)


class Courier(threading.Thread):
    """Sends one destination's pending rows (its own SQLite connection)."""

    def __init__(self, path: Path, dest: Destination, settings: Settings, limits: RateLimits,
                 stop: threading.Event, sender: Callable[..., Answer] = send) -> None:
        super().__init__(name=f"alerts {dest.label}", daemon=True)
        self.path, self.dest, self.settings, self.limits = path, dest, settings, limits
        self.stop_event = stop
        self.wake = threading.Event()
        self.sender = sender

    def run(self) -> None:
        db = outbox.connect(self.path)
        try:
            while not self.stop_event.is_set():
                wait = self._one(db)
                if wait > 0:
                    self.wake.wait(min(wait, 1.0))
                    self.wake.clear()
        finally:
            db.close()

    def _one(self, db) -> float:
        """Send the next due row; the seconds to wait before trying again (0: go on)."""
        row = outbox.next_due(db, self.dest.key)
        now = time.time()
        if row is None:
            return 1.0
        if row.next_attempt > now:
            return row.next_attempt - now
        if now - row.created > self.settings.give_up_after:
            outbox.failed(db, row.id, f"gave up after {row.attempts} attempt(s): {row.last_error or 'not sent'}")
            return 0.0
        limited = self.limits.wait_for(row.route)
        if limited:
            return limited
        if not outbox.lease(db, row.id, now, self.settings.timeout * 2 + 1):
            return 0.5  # another process is sending it
        answer = self.sender(self.dest, row.notice, timeout=self.settings.timeout, alert_ttl=self.settings.alert_ttl)
        now = time.time()
        if answer.ok:
            outbox.delivered(db, row.id, now)
        elif answer.permanent:
            outbox.failed(db, row.id, answer.error)
        else:
            outbox.retry(db, row.id, answer.error, now + backoff(self.settings, row.attempts, answer))
        return 0.0
