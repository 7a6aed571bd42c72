"""What the polling fetchers (EC2, OpenStack) share: their loops put events on one queue that
`stream()` yields from, a loop's failure ends the stream with one line, and retries back off
with jitter and say so.

A subclass gives `label` (its cloud's name in a bug's one-line error), `unsupported` (its API
module's exception for a call the cloud refuses for good; it carries `.problem.message`),
`backoff_base`/`backoff_max`/`_sleep`, and implements `_seed(cursor)` (resume from a stored
cursor) and `_run(follow)` (the main loop; it starts further loops with `spawn` and ends the
stream with `emit(END)`).
"""

from __future__ import annotations

import abc
import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any, ClassVar

from consolewatch.fetchers.base import Fetcher, FetchError, Target, one_line
from consolewatch.model import SourceEvent, SourceStatus

END = object()
"""Put on the queue to end the stream."""


class QueuedFetcher(Fetcher):
    label: ClassVar[str]
    unsupported: ClassVar[type[Exception]]
    backoff_base: float
    backoff_max: float
    _sleep: Callable[[float], Awaitable[None]]

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self._q: asyncio.Queue[Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @abc.abstractmethod
    def _seed(self, cursor: Any) -> None:
        """Resume after the stored cursor of the "console" source (anything: check it)."""

    @abc.abstractmethod
    async def _run(self, follow: bool) -> None:
        """The main loop."""

    async def stream(self, *, cursors: Mapping[str, Any] | None = None,
                     follow: bool = True) -> AsyncGenerator[SourceEvent, None]:
        self._seed((cursors or {}).get("console"))
        self._q = q = asyncio.Queue[Any](maxsize=256)  # events, an exception, or END
        main = asyncio.create_task(self._guard(lambda: self._run(follow)))
        try:
            while True:
                item = await q.get()
                if item is END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in [main, *self._tasks]:
                task.cancel()
            await asyncio.gather(main, *self._tasks, return_exceptions=True)

    def spawn(self, make: Callable[[], Awaitable[None]]) -> None:
        """Run another loop beside the main one; its failure ends the stream like the main one's."""
        self._tasks.append(asyncio.create_task(self._guard(make)))

    async def emit(self, event: Any) -> None:
        assert self._q is not None
        await self._q.put(event)

    async def _guard(self, make: Callable[[], Awaitable[None]]) -> None:
        try:
            await make()
        except asyncio.CancelledError:
            raise
        except FetchError as exc:
            await self.emit(exc)
        except self.unsupported as exc:
            await self.emit(FetchError(exc.problem.message))  # type: ignore[attr-defined]
        except Exception as exc:  # a bug must end the stream with one line, not hang it
            await self.emit(FetchError(f"{self.label} fetcher failed: {type(exc).__name__}: {one_line(exc, 160)}"))

    async def backoff(self, source: str, message: str, failures: int, *, waiting: str = "retrying in") -> None:
        """Sleep before the `failures`-th retry (exponential, with jitter so that many tails do not
        retry in step), after saying so in a `SourceStatus("backoff")`."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
        delay = random.uniform(delay / 2, delay)
        await self.emit(SourceStatus(source, "backoff", f"{message}; {waiting} {delay:.1f} s", delay, time.time()))
        await self._sleep(delay)
