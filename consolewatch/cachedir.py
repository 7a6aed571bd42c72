"""The user's cache directory, and how each of its folders is kept small.

`$CONSOLEWATCH_CACHE_DIR`, default the platform's user cache directory, holds one folder per
cache (`definitions/`, `scanner/`, `keys/`: the definitions' key by their files' stat). Each keeps
only its newest entries: a checkout that switches branches or a user trying `--parsers` folders
would otherwise grow it without end.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

try:  # CPython's own BLAKE2, the one hashlib hands out: importing hashlib initialises OpenSSL
    from _blake2 import blake2b as _blake2b  # (its sha256 and friends), ~2 ms of every command
except ImportError:  # pragma: no cover - a Python without the module
    from hashlib import blake2b as _blake2b


def folder(name: str) -> Path:
    base = os.environ.get("CONSOLEWATCH_CACHE_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("consolewatch")
    return Path(base) / name


def digest(data: bytes = b"") -> _blake2b:
    """A hash object (BLAKE2b) for the caches' keys: `update`, `hexdigest`."""
    return _blake2b(data)


def prune(where: Path, pattern: str, keep: int) -> None:
    """Delete all but the newest `keep` files matching `pattern` (another command may be
    pruning or writing at the same time: a file that vanishes meanwhile is skipped)."""
    dated = []
    for path in where.glob(pattern):
        with contextlib.suppress(OSError):
            dated.append((path.stat().st_mtime_ns, path))
    dated.sort(reverse=True)
    for _, old in dated[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
