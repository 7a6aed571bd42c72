"""The user's cache directory, and how each of its folders is kept small.

`$CONSOLEWATCH_CACHE_DIR`, default the platform's user cache directory, holds one folder per
cache (`definitions/`, `scanner/`). Each keeps only its newest entries: a checkout that
switches branches or a user trying `--parsers` folders would otherwise grow it without end.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def folder(name: str) -> Path:
    base = os.environ.get("CONSOLEWATCH_CACHE_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("consolewatch")
    return Path(base) / name


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
