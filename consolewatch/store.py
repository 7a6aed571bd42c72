"""The capture store: every event a fetcher yields, written to SQLite before it is processed.

A capture is one follow of one target (possibly resumed after a crash). Its events are kept in
arrival order with their source, cursor and receive time, so `tail` resumes from the stored
cursors, `captures show` replays exactly what was seen, and an export can be analysed on
another machine. SQLite in WAL mode; one writer per process; readers never block it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from consolewatch.model import Chunk, Frame, Gap, MachineContext, SourceStatus, SourceUnavailable

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are shown to users: never reused
    target TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    ended REAL,
    printed_seq INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at REAL NOT NULL,
    cursor TEXT,
    data BLOB,
    info TEXT
);
CREATE INDEX IF NOT EXISTS events_by_capture ON events(capture_id, id);
CREATE INDEX IF NOT EXISTS captures_by_target ON captures(target, id);
"""


def data_dir() -> Path:
    env = os.environ.get("CONSOLEWATCH_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("consolewatch"))


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    id: int
    target: str
    created: float
    updated: float
    ended: float | None
    printed_seq: int
    summary: dict[str, Any]
    sources: tuple[str, ...]
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "target": self.target, "sources": list(self.sources),
            "first": self.created, "last": self.updated, "ended": self.ended, "bytes": self.size,
            "boots": self.summary.get("boots"), "outcome": self.summary.get("outcome"),
        }


def encode_event(event: Any) -> tuple[str, str, float, Any, bytes | None, dict[str, Any]]:
    """(source, kind, received_at, cursor, data, info) for one source event."""
    if isinstance(event, Chunk):
        return event.source, "chunk", event.received_at, event.cursor, event.data, {}
    if isinstance(event, Frame):
        return event.source, "frame", event.received_at, event.cursor, event.image, {"media_type": event.media_type}
    if isinstance(event, Gap):
        return event.source, "gap", event.received_at, None, None, {"lost_bytes": event.lost_bytes, "reason": event.reason}
    if isinstance(event, SourceUnavailable):
        return event.source, "unavailable", time.time(), None, None, {"reason": event.reason, "hint": event.hint}
    if isinstance(event, MachineContext):
        return event.source, "context", time.time(), None, None, {
            "cloud": event.cloud, "hypervisor": event.hypervisor, "fields": dict(event.fields)}
    if isinstance(event, SourceStatus):
        return event.source, "status", event.received_at, None, None, {
            "state": event.state, "detail": event.detail, "poll_interval": event.poll_interval}
    raise TypeError(f"cannot store {type(event).__name__}")


def decode_event(source: str, kind: str, received_at: float, cursor: Any, data: bytes | None,
                 info: dict[str, Any]) -> Any:
    if kind == "chunk":
        return Chunk(source, bytes(data or b""), cursor, received_at)
    if kind == "frame":
        return Frame(source, bytes(data or b""), info.get("media_type", "image/png"), cursor, received_at)
    if kind == "gap":
        return Gap(source, info.get("lost_bytes"), received_at, info.get("reason", ""))
    if kind == "unavailable":
        return SourceUnavailable(source, info.get("reason", ""), info.get("hint", ""))
    if kind == "context":
        return MachineContext(source, info.get("cloud", "unknown"), info.get("hypervisor", "unknown"),
                              dict(info.get("fields") or {}))
    if kind == "status":
        return SourceStatus(source, info.get("state", ""), info.get("detail", ""), info.get("poll_interval"),
                            received_at)
    raise ValueError(f"unknown stored event kind {kind!r}")


class Store:
    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            folder = data_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "captures.sqlite3"
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    # -- captures ------------------------------------------------------------------------

    def open_capture(self, target: str, *, resume: bool = True) -> tuple[int, bool]:
        """The capture to write to: the target's last unfinished one (resume) or a new one."""
        if resume:
            row = self.db.execute(
                "SELECT id FROM captures WHERE target=? AND ended IS NULL ORDER BY id DESC LIMIT 1", (target,)
            ).fetchone()
            if row:
                return int(row[0]), True
        now = time.time()
        cur = self.db.execute("INSERT INTO captures(target, created, updated) VALUES (?,?,?)", (target, now, now))
        return int(cur.lastrowid), False

    def append(self, capture_id: int, event: Any) -> None:
        """Persist one event (committed before the caller processes it)."""
        source, kind, received_at, cursor, data, info = encode_event(event)
        self.db.execute(
            "INSERT INTO events(capture_id, source, kind, received_at, cursor, data, info) VALUES (?,?,?,?,?,?,?)",
            (capture_id, source, kind, received_at or time.time(), json.dumps(cursor) if cursor is not None else None,
             data, json.dumps(info) if info else None),
        )

    def events(self, capture_id: int) -> Iterator[Any]:
        rows = self.db.execute(
            "SELECT source, kind, received_at, cursor, data, info FROM events WHERE capture_id=? ORDER BY id",
            (capture_id,))
        for source, kind, received_at, cursor, data, info in rows:
            yield decode_event(source, kind, received_at, json.loads(cursor) if cursor else None, data,
                               json.loads(info) if info else {})

    def cursors(self, capture_id: int) -> dict[str, Any]:
        """source -> cursor of the last stored chunk or frame of that source."""
        rows = self.db.execute(
            "SELECT source, cursor FROM events WHERE id IN (SELECT MAX(id) FROM events "
            "WHERE capture_id=? AND cursor IS NOT NULL GROUP BY source)", (capture_id,))
        return {source: json.loads(cursor) for source, cursor in rows}

    def mark_printed(self, capture_id: int, seq: int) -> None:
        self.db.execute("UPDATE captures SET printed_seq=MAX(printed_seq, ?), updated=? WHERE id=?",
                        (seq, time.time(), capture_id))

    def finish(self, capture_id: int, summary: dict[str, Any], *, ended: bool) -> None:
        self.db.execute("UPDATE captures SET summary=?, ended=?, updated=? WHERE id=?",
                        (json.dumps(summary), time.time() if ended else None, time.time(), capture_id))

    def capture(self, capture_id: int) -> CaptureInfo | None:
        found = self.list(capture_id=capture_id)
        return found[0] if found else None

    def list(self, *, target: str | None = None, capture_id: int | None = None) -> list[CaptureInfo]:
        where, args = [], []
        if target is not None:
            where.append("c.target=?")
            args.append(target)
        if capture_id is not None:
            where.append("c.id=?")
            args.append(capture_id)
        sql = ("SELECT c.id, c.target, c.created, c.updated, c.ended, c.printed_seq, c.summary, "
               "(SELECT group_concat(DISTINCT source) FROM events e WHERE e.capture_id=c.id), "
               "(SELECT COALESCE(SUM(LENGTH(data)), 0) FROM events e WHERE e.capture_id=c.id) "
               "FROM captures c" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY c.id")
        out = []
        for cid, target_, created, updated, ended, printed, summary, sources, size in self.db.execute(sql, args):
            out.append(CaptureInfo(cid, target_, created, updated, ended, printed, json.loads(summary or "{}"),
                                   tuple(sorted((sources or "").split(","))) if sources else (), int(size)))
        return out

    def has_data(self, capture_id: int) -> bool:
        """Did the capture store any console bytes or frames (not only statuses)?"""
        return self.db.execute("SELECT 1 FROM events WHERE capture_id=? AND kind IN ('chunk', 'frame') LIMIT 1",
                               (capture_id,)).fetchone() is not None

    def find_import(self, digest: str) -> int | None:
        """The capture an export with this digest was imported as, if it is still stored."""
        for info in self.list():
            if info.summary.get("imported_digest") == digest:
                return info.id
        return None

    def remove(self, capture_id: int) -> bool:
        cur = self.db.execute("DELETE FROM captures WHERE id=?", (capture_id,))
        return cur.rowcount > 0

    def prune(self, *, older_than: float | None = None, max_bytes: int | None = None) -> list[int]:
        """Remove captures last updated before `older_than` seconds ago, then the oldest ones
        until the stored data fits in `max_bytes`. Returns the removed ids."""
        removed: list[int] = []
        infos = self.list()
        if older_than is not None:
            limit = time.time() - older_than
            for info in infos:
                if info.updated < limit and self.remove(info.id):
                    removed.append(info.id)
        if max_bytes is not None:
            infos = self.list()
            total = sum(i.size for i in infos)
            for info in infos:  # oldest first
                if total <= max_bytes:
                    break
                if self.remove(info.id):
                    removed.append(info.id)
                    total -= info.size
        if removed:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed
