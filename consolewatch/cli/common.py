"""Helpers shared by commands: loading definitions with all their problems reported."""

from __future__ import annotations

from typing import Sequence

from consolewatch import definitions
from consolewatch.cli import UsageError
from consolewatch.detect.catalog import Catalog


def load_catalog(extra_dirs: Sequence[str], *, strict: bool = True) -> Catalog:
    """Definitions from the search path plus `extra_dirs`; any problem is a usage error."""
    defs = definitions.load(definitions.search_path(extra_dirs))
    if defs.problems and strict:
        lines = "\n".join(f"  {p}" for p in defs.problems)
        raise UsageError(f"{len(defs.problems)} problem(s) in detector/format definitions:\n{lines}")
    return Catalog(defs)


def open_store():
    """The capture store, with the configured retention applied (old captures removed)."""
    from consolewatch import config
    from consolewatch.store import Store

    try:
        cfg = config.load()
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    store = Store()
    store.prune(older_than=cfg.retention_days * 86400 if cfg.retention_days else None,
                max_bytes=int(cfg.max_size_mb * (1 << 20)) if cfg.max_size_mb else None)
    return store
