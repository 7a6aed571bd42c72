"""`Alerting`: what `tail` and `watch` attach to their followers (`--alert`, config routes).

The follow loop only calls `observe()`, which puts the step's findings and closed boots on a
queue: no I/O, no lock held for long. One router thread turns them into outbox rows (group
wait, dedupe, inhibition, repeat, resolve) and one courier thread per destination sends them.
`close()` flushes what is still grouped, then waits up to `drain_timeout` for the outbox of
this run's destinations; whatever is left stays in the store for the next run (or
`consolewatch alerts flush`).
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from consolewatch.model import Boot, Finding
from consolewatch.sinks.alerts import outbox
from consolewatch.sinks.alerts.delivery import Courier, RateLimits
from consolewatch.sinks.alerts.router import Router
from consolewatch.sinks.alerts.settings import Settings


class Alerting:
    def __init__(self, settings: Settings, store_path: Path, rules: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.path = Path(store_path)
        self.rules = rules or {}
        self.queue: queue.Queue[tuple[str, int, str, list[Finding], list[Boot]]] = queue.Queue()
        self.stop_event = threading.Event()
        self.closing = threading.Event()
        self.limits = RateLimits(settings)
        self.couriers = {key: Courier(self.path, d, settings, self.limits, self.stop_event)
                         for key, d in settings.destinations().items()}
        self.router_thread = threading.Thread(target=self._route, name="alerts router", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> Alerting:
        outbox.connect(self.path).close()  # tables in place (and migrated) before any thread needs them
        self.router_thread.start()
        for c in self.couriers.values():
            c.start()
        return self

    # -- the follow loop's side -----------------------------------------------------------

    def observe(self, target: str, capture: int, cloud: str, step: Any) -> None:
        if step.findings or step.boots:
            self.queue.put((target, capture, cloud, list(step.findings), list(step.boots)))

    # -- the router thread ----------------------------------------------------------------

    def _report(self, capture: int) -> str:
        return f"consolewatch report capture:{capture} (store {self.path})" if capture else ""

    def _wake(self) -> None:
        for c in self.couriers.values():
            c.wake.set()

    def _route(self) -> None:
        db = outbox.connect(self.path)
        router = Router(db, self.settings, self.rules, report=self._report, on_enqueue=self._wake)
        try:
            while True:
                try:
                    item = self.queue.get(timeout=0.2)
                except queue.Empty:
                    item = None
                if item is not None:
                    router.observe(*item, now=time.time())
                    continue
                if self.closing.is_set():
                    router.flush_all(time.time())
                    return
                router.tick(time.time())
        except BaseException as exc:  # reported by close(); the follow goes on without alerts
            self.error = exc
        finally:
            db.close()

    # -- ending ---------------------------------------------------------------------------

    def close(self, drain: float | None = None) -> dict[str, int]:
        """Flush groups, wait for deliveries (at most `drain` s), stop. Returns the outbox counts
        of this run's destinations."""
        self.closing.set()
        self.router_thread.join()
        self._wake()
        deadline = time.time() + (self.settings.drain_timeout if drain is None else drain)
        db = outbox.connect(self.path)
        try:
            while time.time() < deadline and self._due(db, deadline):
                time.sleep(0.05)
            self.stop_event.set()
            self._wake()
            # A courier stuck in a request to a hanging receiver is not waited for: its row is
            # still pending (and leased), so the next run sends it again after the lease.
            for c in self.couriers.values():
                c.join(timeout=0.5)
            return self._counts(db)
        finally:
            db.close()

    def _due(self, db, deadline: float) -> bool:
        """Anything pending for this run's destinations that is due before the deadline?"""
        keys = list(self.couriers)
        if not keys:
            return False
        marks = ",".join("?" * len(keys))
        row = db.execute(f"SELECT MIN(next_attempt) FROM alert_outbox WHERE state='pending' AND dest_key IN ({marks})",
                         keys).fetchone()
        return row[0] is not None and row[0] < deadline

    def _counts(self, db) -> dict[str, int]:
        keys = list(self.couriers)
        out = {"pending": 0, "delivered": 0, "failed": 0}
        if keys:
            marks = ",".join("?" * len(keys))
            for state, n in db.execute(f"SELECT state, COUNT(*) FROM alert_outbox WHERE dest_key IN ({marks}) "
                                       "GROUP BY state", keys):
                out[state] = n
        return out
