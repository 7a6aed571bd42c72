"""Per-provider API rate limits shared by every target followed in one process (`watch`).

A fetcher calls `await throttle(target)` before each API call; the limiter for the target's
provider (a token bucket) makes hundreds of followed instances stay within what the cloud
allows, instead of each backing off on its own after being throttled.
"""

from __future__ import annotations

import asyncio
import time

from consolewatch.fetchers.base import Target

#: provider -> (calls per second, burst). Conservative: the clouds publish no per-API figure.
DEFAULT_LIMITS: dict[str, tuple[float, int]] = {
    "aws": (10.0, 20),
    "gce": (20.0, 40),
    "do": (5.0, 10),
    "openstack": (10.0, 20),
}


class RateLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()
        self.waited = 0.0
        """Seconds callers spent waiting (shown in status lines and benchmarks)."""

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1.0:
                delay = (1.0 - self._tokens) / self.rate
                self.waited += delay
                await asyncio.sleep(delay)
                self._stamp = time.monotonic()
                self._tokens = 0.0
            else:
                self._tokens -= 1.0


_shared: dict[str, RateLimiter] = {}


def limiter_for(kind: str) -> RateLimiter | None:
    """The process-wide limiter of a provider (None for local sources)."""
    if kind not in DEFAULT_LIMITS:
        return None
    if kind not in _shared:
        _shared[kind] = RateLimiter(*DEFAULT_LIMITS[kind])
    return _shared[kind]


async def throttle(target: Target) -> None:
    limiter = target.options.get("limiter")
    if limiter is not None:
        await limiter.acquire()
