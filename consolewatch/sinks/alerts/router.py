"""Routing in the spirit of Alertmanager: findings -> grouped, deduplicated notices in the outbox.

- Group: the findings of one boot of one target (per route) wait `group_wait` seconds from the
  first one, or until the boot closes, and go out as ONE message.
- Inhibit: a symptom muted by a root cause of the same boot (the engine's rule `inhibits`,
  applied here to the findings seen so far) is not alerted; the message names it as muted.
- Dedupe: each finding has a fingerprint (target, rule, evidence text); the notification log
  in the store remembers which are firing, so re-polls, restarts (which replay the capture) and
  overlapping snapshots send nothing new.
- Repeat: a fingerprint still firing after `repeat_interval` is sent again as a reminder.
- Resolve: when a later boot of the same target succeeds, what was firing for it resolves and
  one resolved message goes out per route.

Every decision is written to the store in the same transaction as the outbox rows it creates.
The router runs on the alert thread; it never touches the network.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consolewatch.detect.sieves import apply_inhibition
from consolewatch.model import Boot, Finding
from consolewatch.sinks.alerts import notice as notices
from consolewatch.sinks.alerts.outbox import enqueue
from consolewatch.sinks.alerts.settings import Route, Settings

MAX_GROUPS = 2000
MAX_FINDINGS_PER_BOOT = 200


@dataclass
class BootSeen:
    """What the router knows of one boot of one target."""

    cloud: str = "unknown"
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    closed: Boot | None = None
    deadline: float | None = None
    """When the pending group goes out (None: nothing pending)."""


class Router:
    def __init__(self, db: sqlite3.Connection, settings: Settings, rules: dict[str, Any], *,
                 report: Callable[[int], str] = lambda capture: "", on_enqueue: Callable[[], None] = lambda: None):
        self.db = db
        self.settings = settings
        self.rules = rules
        self.report = report
        self.on_enqueue = on_enqueue
        self.boots: dict[tuple[str, int, int], BootSeen] = {}
        self.targets: set[str] = set()
        self._next_repeat_check = 0.0

    # -- input ---------------------------------------------------------------------------

    def observe(self, target: str, capture: int, cloud: str, findings: list[Finding], boots: list[Boot],
                now: float) -> None:
        self.targets.add(target)
        for f in findings:
            seen = self._boot(target, capture, f.boot, cloud)
            if len(seen.findings) < MAX_FINDINGS_PER_BOOT:
                seen.findings.setdefault((f.rule, f.evidence[0].text if f.evidence else ""), f)
            if f.verdict == "success":
                self._success(target, capture, f.boot, f"booted: {f.title} (line {f.first_seq})", now)
            elif any(r.wants(target, f) for r in self.settings.routes) and seen.deadline is None:
                seen.deadline = now + self.settings.group_wait
        for b in boots:
            seen = self._boot(target, capture, b.index, cloud)
            seen.closed = b
            if seen.deadline is not None:
                seen.deadline = now  # the boot is over: no finding will join its group
            if b.outcome == "success":
                self._success(target, capture, b.index, f"booted: {b.reason}", now)
        self.tick(now)

    def _boot(self, target: str, capture: int, boot: int, cloud: str) -> BootSeen:
        key = (target, capture, boot)
        seen = self.boots.get(key)
        if seen is None:
            if len(self.boots) >= MAX_GROUPS:
                for old in [k for k, v in self.boots.items() if v.deadline is None][: MAX_GROUPS // 2]:
                    del self.boots[old]
            seen = self.boots[key] = BootSeen(cloud)
        if cloud != "unknown":
            seen.cloud = cloud
        return seen

    # -- time ----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        for key, seen in list(self.boots.items()):
            if seen.deadline is not None and seen.deadline <= now:
                seen.deadline = None
                self._flush(key, seen, now)
        if self.settings.repeat_interval and now >= self._next_repeat_check:
            self._next_repeat_check = now + min(10.0, self.settings.repeat_interval / 4)
            self._repeat(now)

    def flush_all(self, now: float) -> None:
        for seen in self.boots.values():
            if seen.deadline is not None:
                seen.deadline = now
        self.tick(now)

    # -- decisions -----------------------------------------------------------------------

    def _final(self, seen: BootSeen) -> list[Finding]:
        if seen.closed is not None:
            return list(seen.closed.findings)
        return apply_inhibition(list(seen.findings.values()), self.rules)

    def _flush(self, key: tuple[str, int, int], seen: BootSeen, now: float) -> None:
        target, capture, boot = key
        findings = self._final(seen)
        for route in self.settings.routes:
            wanted = [f for f in findings if route.wants(target, f) and not f.suppressed_by]
            if not wanted:
                continue
            rules = {f.rule for f in wanted}
            muted = [f.category for f in findings if f.suppressed_by in rules]
            self._send_group(route, target, capture, boot, seen.cloud, wanted, muted, now)

    def _send_group(self, route: Route, target: str, capture: int, boot: int, cloud: str,
                    wanted: list[Finding], muted: list[str], now: float) -> None:
        fresh = []
        for f in wanted:
            fp = notices.fingerprint(target, f)
            row = self.db.execute("SELECT state, resolved_capture, resolved_boot FROM alert_log "
                                  "WHERE route=? AND fingerprint=?", (route.name, fp)).fetchone()
            if row is None or (row[0] == "resolved" and (capture, boot) > (row[1] or 0, row[2] or 0)):
                fresh.append((fp, f))
        if not fresh:
            return  # already sent (firing: repeats come from the timer; resolved: an old boot seen again)
        n = notices.firing(target, cloud, capture, boot, wanted, muted=muted, report=self.report(capture), now=now)
        doc = json.dumps(n.as_dict())  # ASCII: any text round-trips
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for fp, _ in fresh:
                self.db.execute(
                    "INSERT INTO alert_log(route, fingerprint, target, state, capture, boot, first_sent, last_sent, "
                    "notice) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(route, fingerprint) DO UPDATE SET "
                    "state='firing', capture=excluded.capture, boot=excluded.boot, last_sent=excluded.last_sent, "
                    "repeats=0, notice=excluded.notice, resolved_capture=NULL, resolved_boot=NULL",
                    (route.name, fp, target, "firing", capture, boot, now, now, doc))
            enqueue(self.db, route.name, route.destinations, n, now)
        self.on_enqueue()

    def _success(self, target: str, capture: int, boot: int, reason: str, now: float) -> None:
        # Whatever is still pending for earlier boots goes out first: firing, then resolved.
        for key, seen in self.boots.items():
            if key[0] == target and key[1:] < (capture, boot) and seen.deadline is not None:
                seen.deadline = None
                self._flush(key, seen, now)
        for route in self.settings.routes:
            if not route.wants_target(target):
                continue
            rows = self.db.execute("SELECT fingerprint, capture, boot, notice FROM alert_log WHERE route=? AND "
                                   "target=? AND state='firing'", (route.name, target)).fetchall()
            earlier = [r for r in rows if (r[1], r[2]) < (capture, boot)]
            if not earlier:
                continue
            fired: dict[str, notices.Notice] = {}
            for _, _, _, doc in earlier:
                n = notices.Notice.from_dict(json.loads(doc))
                fired.setdefault(n.id, n)
            n = notices.resolved(fired.values(), boot=boot, capture=capture, reason=reason, now=now)
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany(
                    "UPDATE alert_log SET state='resolved', resolved_capture=?, resolved_boot=? "
                    "WHERE route=? AND fingerprint=?", [(capture, boot, route.name, r[0]) for r in earlier])
                enqueue(self.db, route.name, route.destinations, n, now)
            self.on_enqueue()

    def _repeat(self, now: float) -> None:
        limit = now - self.settings.repeat_interval
        for route in self.settings.routes:
            rows = self.db.execute("SELECT fingerprint, target, notice, repeats FROM alert_log WHERE route=? AND "
                                   "state='firing' AND last_sent<=?", (route.name, limit)).fetchall()
            by_notice: dict[str, list] = {}
            for fp, target, doc, repeats in rows:
                if target in self.targets:  # only machines this process follows
                    by_notice.setdefault(doc, []).append((fp, repeats))
            for doc, fps in by_notice.items():
                old = notices.Notice.from_dict(json.loads(doc))
                count = max(r for _, r in fps) + 1
                n = notices.reminder(old, count, now)
                with self.db:
                    self.db.execute("BEGIN IMMEDIATE")
                    self.db.executemany("UPDATE alert_log SET last_sent=?, repeats=? WHERE route=? AND fingerprint=?",
                                        [(now, count, route.name, fp) for fp, _ in fps])
                    enqueue(self.db, route.name, route.destinations, n, now)
                self.on_enqueue()
