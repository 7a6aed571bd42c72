"""A disk cache of compiled Hyperscan databases, so a command starts in milliseconds.

Keyed by the exact patterns, their flags and the Hyperscan version; a missing, stale or
unreadable entry just means compiling again (about 0.2 s for the built-in definitions).
Location: `$CONSOLEWATCH_CACHE_DIR/scanner/`, default the platform's user cache directory; the
newest `KEEP` entries are kept (each is about half a megabyte).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consolewatch import cachedir

#: Entries kept (one per set of patterns and flags: a checkout switching branches, `--parsers`).
KEEP = 16


def _path(patterns: Sequence[Any], salt: str) -> Path:
    key = hashlib.sha256(repr((salt, list(patterns))).encode()).hexdigest()
    return cachedir.folder("scanner") / f"{key[:32]}.hsdb"


def load(hs: Any, patterns: Sequence[Any], salt: str) -> tuple[Any, list[tuple[Any, ...]], list[int]] | None:
    """(database or None, rejected patterns, ids of the patterns scanned by a stand-in) from an
    earlier run, or None."""
    try:
        head, _, blob = _path(patterns, salt).read_bytes().partition(b"\n")
        rejected, stand_ins = json.loads(head)
        db = None
        if blob:
            db = hs.loadb(blob, hs.HS_MODE_BLOCK)
            db.scratch = hs.Scratch(db)  # a deserialised database has none
        return db, [tuple(x) for x in rejected], [int(x) for x in stand_ins]
    except Exception:  # missing, unreadable, stale or from another hyperscan: compile again
        return None


def store(hs: Any, patterns: Sequence[Any], salt: str, db: Any, rejected: list[tuple[Any, ...]],
          stand_ins: Sequence[int]) -> None:
    try:
        path = _path(patterns, salt)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        head = json.dumps([rejected, list(stand_ins)]).encode()
        tmp.write_bytes(head + b"\n" + (hs.dumpb(db) if db is not None else b""))
        os.replace(tmp, path)
        cachedir.prune(path.parent, "*.hsdb", KEEP)
    except Exception:  # a read-only home: compile next time
        pass
