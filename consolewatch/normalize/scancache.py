"""A disk cache of compiled Hyperscan databases, so a command starts in milliseconds.

Keyed by the exact patterns, their flags and the Hyperscan version; a missing, stale or
unreadable entry just means compiling again (about 0.2 s for the built-in definitions).
Location: `$CONSOLEWATCH_CACHE_DIR/scanner/`, default the platform's user cache directory; the
newest `KEEP` entries are kept (each is about a megabyte and a half). An entry also keeps what the
regexes that confirm stand-ins compile to (`rxcode`), so a run does not compile them again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consolewatch import cachedir
from consolewatch.normalize import rxcode

#: Entries kept (one per set of patterns and flags: a checkout switching branches, `--parsers`).
KEEP = 16


def _path(patterns: Sequence[Any], salt: str) -> Path:
    key = cachedir.digest(repr((salt, list(patterns))).encode()).hexdigest()
    return cachedir.folder("scanner") / f"{key[:32]}.hsdb"


def load(hs: Any, patterns: Sequence[Any], salt: str) -> tuple[Any, list[tuple[Any, ...]], list[tuple[Any, ...]], dict[int, rxcode.Form]] | None:
    """(database or None, rejected patterns, the patterns scanned by a stand-in (as their regexes
    confirm them), and the compiled forms (`rxcode`) of those regexes, by id) from an earlier run,
    or None."""
    try:
        head, _, blob = _path(patterns, salt).read_bytes().partition(b"\n")
        rejected, stand_ins, *rest = json.loads(head)
        db = None
        if blob:
            db = hs.loadb(blob, hs.HS_MODE_BLOCK)
            db.scratch = hs.Scratch(db)  # a deserialised database has none
        return db, [tuple(x) for x in rejected], [tuple(x) for x in stand_ins], _forms(rest[0] if rest else None)
    except Exception:  # missing, unreadable, stale or from another hyperscan: compile again
        return None


def _forms(kept: Any) -> dict[int, rxcode.Form]:
    """The forms an entry keeps, if the `re` that made them is this one."""
    if not isinstance(kept, dict) or kept.get("build") != rxcode.BUILD:
        return {}
    return {int(pid): (f[0], bytes.fromhex(f[1]), f[2], f[3], tuple(f[4])) for pid, f in kept["forms"].items()}


def store(hs: Any, patterns: Sequence[Any], salt: str, db: Any, rejected: list[tuple[Any, ...]],
          stand_ins: Sequence[tuple[Any, ...]], forms: dict[int, rxcode.Form] | None = None) -> None:
    try:
        path = _path(patterns, salt)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        kept = {"build": rxcode.BUILD, "forms": {pid: [f[0], f[1].hex(), f[2], f[3], list(f[4])] for pid, f in (forms or {}).items()}}
        head = json.dumps([rejected, [list(x) for x in stand_ins], kept]).encode()
        tmp.write_bytes(head + b"\n" + (hs.dumpb(db) if db is not None else b""))
        os.replace(tmp, path)
        cachedir.prune(path.parent, "*.hsdb", KEEP)
    except Exception:  # a read-only home: compile next time
        pass
