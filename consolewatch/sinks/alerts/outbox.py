"""The persistent outbox and the notification log, in the capture store (SQLite).

Tables are added next to the store's own (`CREATE TABLE IF NOT EXISTS`), so a store written by
an older consolewatch gains them the first time alerts are used and keeps its captures;
`alert_meta.schema` records the version for later migrations. No URL is stored: a destination
is its key (a hash) and its redacted label.

- `alert_outbox`: one row per message per destination: pending -> delivered | failed. A row
  becomes `delivered` only after the receiver confirmed it (2xx), so a crash at any moment
  leaves it pending and the next run sends it again (at-least-once), while a delivered row is
  never sent again. A sender leases a row (`leased_until`) so two processes do not both send it.
- `alert_log`: per route and finding fingerprint, whether the incident is firing or resolved,
  when it was last sent and the notice that carried it (dedupe, repeat interval, resolution).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from consolewatch.sinks.alerts.destinations import Destination
from consolewatch.sinks.alerts.notice import Notice

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dest_key TEXT NOT NULL,
    dest_label TEXT NOT NULL,
    route TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    notice TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    leased_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at REAL,
    UNIQUE (dest_key, notice_id)
);
CREATE INDEX IF NOT EXISTS alert_outbox_queue ON alert_outbox(dest_key, state, id);
CREATE TABLE IF NOT EXISTS alert_log (
    route TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    capture INTEGER NOT NULL,
    boot INTEGER NOT NULL,
    first_sent REAL NOT NULL,
    last_sent REAL NOT NULL,
    repeats INTEGER NOT NULL DEFAULT 0,
    notice TEXT NOT NULL,
    resolved_capture INTEGER,
    resolved_boot INTEGER,
    PRIMARY KEY (route, fingerprint)
);
CREATE INDEX IF NOT EXISTS alert_log_by_target ON alert_log(route, target, state);
"""


def connect(path: Path) -> sqlite3.Connection:
    """A connection of its own (one per thread) with the alert tables in place."""
    db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(_SCHEMA)
    db.execute("INSERT OR IGNORE INTO alert_meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    return db


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    dest_key: str
    dest_label: str
    route: str
    target: str
    status: str
    notice: Notice
    state: str
    created: float
    attempts: int
    next_attempt: float
    last_error: str | None
    delivered_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "destination": self.dest_label, "route": self.route, "target": self.target,
                "status": self.status, "state": self.state, "notice": self.notice.id, "created": self.created,
                "attempts": self.attempts, "next_attempt": self.next_attempt if self.state == "pending" else None,
                "last_error": self.last_error, "delivered_at": self.delivered_at, "headline": self.notice.headline}


_COLS = ("id, dest_key, dest_label, route, target, status, notice, state, created, attempts, next_attempt, "
         "last_error, delivered_at")


def _row(r: tuple) -> Row:
    return Row(r[0], r[1], r[2], r[3], r[4], r[5], Notice.from_dict(json.loads(r[6])), *r[7:])


def enqueue(db: sqlite3.Connection, route: str, dests: Iterable[Destination], notice: Notice, now: float) -> None:
    """One pending row per destination (inside the caller's transaction)."""
    doc = json.dumps(notice.as_dict())  # ASCII: any text round-trips, even a lone surrogate
    for d in dests:
        db.execute("INSERT OR IGNORE INTO alert_outbox(dest_key, dest_label, route, notice_id, target, status, "
                   "notice, created, next_attempt) VALUES (?,?,?,?,?,?,?,?,?)",
                   (d.key, d.label, route, notice.id, notice.target, notice.status, doc, now, now))


def next_due(db: sqlite3.Connection, dest_key: str) -> Row | None:
    """The oldest pending row of a destination (messages go out in order)."""
    r = db.execute(f"SELECT {_COLS} FROM alert_outbox WHERE dest_key=? AND state='pending' ORDER BY id LIMIT 1",
                   (dest_key,)).fetchone()
    return _row(r) if r else None


def lease(db: sqlite3.Connection, row_id: int, now: float, seconds: float) -> bool:
    """Take a row for sending; False when another sender holds it or it is no longer pending."""
    cur = db.execute("UPDATE alert_outbox SET leased_until=? WHERE id=? AND state='pending' AND leased_until<?",
                     (now + seconds, row_id, now))
    return cur.rowcount == 1


def delivered(db: sqlite3.Connection, row_id: int, now: float) -> None:
    db.execute("UPDATE alert_outbox SET state='delivered', delivered_at=?, attempts=attempts+1, last_error=NULL, "
               "leased_until=0 WHERE id=?", (now, row_id))


def retry(db: sqlite3.Connection, row_id: int, error: str, at: float) -> None:
    db.execute("UPDATE alert_outbox SET attempts=attempts+1, last_error=?, next_attempt=?, leased_until=0 "
               "WHERE id=?", (error, at, row_id))


def failed(db: sqlite3.Connection, row_id: int, error: str) -> None:
    db.execute("UPDATE alert_outbox SET state='failed', attempts=attempts+1, last_error=?, leased_until=0 "
               "WHERE id=?", (error, row_id))


def rows(db: sqlite3.Connection, state: str | None = None, limit: int = 200) -> list[Row]:
    where, args = ("WHERE state=?", [state]) if state else ("", [])
    found = db.execute(f"SELECT {_COLS} FROM alert_outbox {where} ORDER BY id DESC LIMIT ?", (*args, limit))
    return [_row(r) for r in found][::-1]


def counts(db: sqlite3.Connection) -> dict[str, int]:
    out = {"pending": 0, "delivered": 0, "failed": 0}
    for state, n in db.execute("SELECT state, COUNT(*) FROM alert_outbox GROUP BY state"):
        out[state] = n
    return out

