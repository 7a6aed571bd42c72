"""Helpers shared by commands: definitions, the library call, the store, exit status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from consolewatch.cli import UsageError
from consolewatch.detect.catalog import Catalog

if TYPE_CHECKING:
    from consolewatch.session import Analysis


def load_catalog(extra_dirs: Sequence[str]) -> Catalog:
    """Definitions from the search path plus `extra_dirs`; any problem is a usage error."""
    from consolewatch.analysis import DefinitionsError, load_catalog as load

    try:
        return load(extra_dirs)
    except DefinitionsError as exc:
        raise UsageError(str(exc)) from None


def analyze(args) -> Analysis:
    """`consolewatch.analyze` for a command's arguments (paths, --cloud, --hypervisor, --parsers)."""
    from consolewatch.analysis import InputError, analyze as run

    catalog = load_catalog(args.parsers)
    try:
        return run(args.paths, cloud=args.cloud, hypervisor=args.hypervisor, catalog=catalog)
    except InputError as exc:
        raise UsageError(str(exc)) from None


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
