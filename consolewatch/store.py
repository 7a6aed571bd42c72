"""The capture store: every event a fetcher yields, written to SQLite before it is processed.

A capture is one follow of one target (possibly resumed after a crash). Its events are kept in
arrival order with their source, cursor and receive time, so `tail` resumes from the stored
cursors, `captures show` replays exactly what was seen, and an export can be analysed on
another machine. SQLite in WAL mode; one writer per process; readers never block it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

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


class StoreError(Exception):
    """The store's environment is at fault (a damaged file, a read-only place, a full disk,
    another writer): one line naming the store and what to do, exit status 2."""


def default_path() -> Path:
    return data_dir() / "captures.sqlite3"


def explain(exc: BaseException, path: Path | None = None) -> StoreError:
    """The one line a user sees for an SQLite or OS error of the store at `path`."""
    path = path or default_path()
    text = str(exc)
    low = text.lower()
    code = getattr(exc, "errno", None)
    where = f"capture store {path}"
    if isinstance(exc, StoreError):
        return exc
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return StoreError(f"the {where} is damaged ({text}): move it aside (mv {path} {path}.damaged) and run "
                          "again to start a new store")
    if "disk is full" in low or code == errno.ENOSPC:
        return StoreError(f"the disk holding the {where} is full: free space there, remove old captures "
                          "(consolewatch captures prune --max-size MB), or set CONSOLEWATCH_DATA_DIR to another disk")
    if ("readonly" in low or "read-only" in low or "unable to open" in low
            or code in (errno.EROFS, errno.EACCES, errno.EPERM)):
        return StoreError(f"the {where} cannot be written ({text}): make {path.parent} writable or set "
                          "CONSOLEWATCH_DATA_DIR to a writable directory (analyze capture:ID and report can "
                          "still read it)")
    if "locked" in low:
        return StoreError(f"the {where} is locked by another process ({text}): try again when it has finished")
    return StoreError(f"the {where} failed: {text}")


class Store:
    def __init__(self, path: Path | None = None, *, readonly: bool = False) -> None:
        """`readonly`: only read (analyze capture:ID, report, captures list): works on a
        read-only file or directory, and never creates the store."""
        self.path = path = Path(path) if path is not None else default_path()
        self.readonly = readonly
        try:
            self.db = self._open(path, readonly)
        except (sqlite3.Error, OSError) as exc:
            raise explain(exc, path) from None

    @staticmethod
    def _open(path: Path, readonly: bool) -> sqlite3.Connection:
        if readonly:
            db = None
            try:
                db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30, isolation_level=None)
                db.execute("SELECT COUNT(*) FROM captures").fetchone()
                return db
            except sqlite3.OperationalError as exc:
                if db is not None:
                    db.close()
                if "unable to open" not in str(exc) or not path.is_file():
                    raise
            # A WAL store in a read-only directory: SQLite cannot create its shared-memory
            # file there. Read it as an immutable file (what was checkpointed: a follow that
            # ended normally left everything there).
            db = sqlite3.connect(f"file:{quote(str(path))}?immutable=1", uri=True, isolation_level=None)
            db.execute("SELECT COUNT(*) FROM captures").fetchone()
            return db
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return db

    def close(self) -> None:
        self.db.close()

    # -- one writer per target -----------------------------------------------------------

    def writer_lock(self, target: str) -> "TargetLock":
        """Hold this while following `target`: a second `tail` of the same target is refused
        with a line naming the process that follows it (its capture would be written twice)."""
        return TargetLock(self.path.parent / "locks", target)

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


class TargetBusy(StoreError):
    """Another consolewatch process is following the same target."""


class TargetLock:
    """An exclusive lock on one target (an OS file lock, so a process killed with -9 releases
    it), with the holder's pid and start time written in the lock file for the message."""

    def __init__(self, folder: Path, target: str) -> None:
        self.target = target
        self.path = folder / (hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> "TargetLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise explain(exc, self.path.parent.parent / "captures.sqlite3") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
            os.close(fd)
            who = f"process {holder[0]}" if holder else "another process"
            raise TargetBusy(f"{self.target} is already being followed by consolewatch ({who}); one writer per "
                             "target: stop it first, or watch its capture with consolewatch captures show ID") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {time.time():.0f}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
