"""Helpers shared by commands: definitions, the library call, the store, exit status."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from consolewatch.cli import UsageError
from consolewatch.detect.catalog import Catalog

if TYPE_CHECKING:
    from consolewatch.baseline import Comparison
    from consolewatch.session import Analysis


def load_catalog(extra_dirs: Sequence[str]) -> Catalog:
    """Definitions from the search path plus `extra_dirs`; any problem is a usage error."""
    from consolewatch.analysis import DefinitionsError
    from consolewatch.analysis import load_catalog as load

    try:
        return load(extra_dirs)
    except DefinitionsError as exc:
        raise UsageError(str(exc)) from None


def analyze(args, detail: str = "all") -> Analysis:
    """`consolewatch.analyze` for a command's arguments (paths, --cloud, --hypervisor, --parsers)."""
    from consolewatch.analysis import InputError
    from consolewatch.analysis import analyze as run

    try:
        with collecting_less_often():
            catalog = load_catalog(args.parsers)
            gc.freeze()  # the definitions just read live as long as the command
            return run(args.paths, cloud=args.cloud, hypervisor=args.hypervisor, catalog=catalog, detail=detail)
    except InputError as exc:
        raise UsageError(str(exc)) from None


@contextlib.contextmanager
def collecting_less_often() -> Iterator[None]:
    """An analysis allocates a few objects per interesting line (lines, fields, findings) and
    almost none in reference cycles, so the cycle collector need not run every 700 allocations,
    nor look at the loaded definitions again (frozen once read, inside this). About 5-8% of analyze's CPU on the 100 MB bench
    log (bench/stages.py); memory stays bounded (bench/analyze.py prints peak RSS). Restored
    afterwards: commands also run in-process (tests, bench/compare_json.py)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def analyze_against_baseline(args, detail: str = "all") -> tuple[Analysis, str, Comparison | None]:
    """The analysis narrowed to --boot, and with --baseline GOOD the comparison of its verdict
    (last) boot with the good boot. `detail`: see `consolewatch.analysis.analyze`."""
    if not getattr(args, "baseline", None):
        analysis, scope = narrow(analyze(args, detail), args.boot)
        return analysis, scope, None
    from consolewatch.analysis import InputError
    from consolewatch.baseline import compare, comparison, learn

    catalog = load_catalog(args.parsers)
    try:
        good = learn(args.baseline, catalog=catalog, cloud=args.cloud, hypervisor=args.hypervisor)
        analysis, matcher = compare(args.paths, good, catalog=catalog, cloud=args.cloud, hypervisor=args.hypervisor)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    analysis, scope = narrow(analysis, args.boot)
    return analysis, scope, comparison(matcher, analysis.boots[-1]) if analysis.boots else None


def narrow(analysis: Analysis, boot: str | int) -> tuple[Analysis, str]:
    """The analysis and scope for `--boot last|all|N` (N as `journalctl -b` counts)."""
    if isinstance(boot, str):
        return analysis, boot
    one = analysis.only_boot(boot)
    if one is None:
        raise UsageError(f"no boot {boot} (the capture has {len(analysis.boots)}; "
                         "1 is the first, 0 the last, -1 the one before)")
    return one, "last"


def exit_status(analysis: Analysis, scope: str, fail_on: str) -> int:
    """1 when a boot in scope failed or stalled, or a finding reaches `fail_on`; else 0."""
    from consolewatch.cli import EXIT_FINDINGS, EXIT_OK
    from consolewatch.model import severity_rank

    if fail_on == "never":
        return EXIT_OK
    if analysis.failed(scope):
        return EXIT_FINDINGS
    worst = analysis.worst(scope)
    return EXIT_FINDINGS if worst is not None and severity_rank(worst) >= severity_rank(fail_on) else EXIT_OK


def gate_unmet(until: str | None, outcome: str | None) -> str | None:
    """Why a follow that waited for success or for an outcome (`--until success|outcome`) does not
    pass: its console ended (`--no-follow`, a source that closed) while the boot was still
    undecided; None when it was decided. Exit 0 means the boot came up (README, "gate CI on it")."""
    if until not in ("success", "outcome") or outcome in ("success", "failure", "stall"):
        return None
    awaited = "success" if until == "success" else "an outcome"
    return f"the console ended before the boot reached {awaited} ({outcome or 'no outcome'})"


def console(**kw):
    """A rich Console for human output: never markup from data, silent under -q."""
    from rich.console import Console

    from consolewatch.cli import Options

    kw.setdefault("quiet", Options.quiet)
    if Options.no_color:
        kw["color_system"] = None
    return Console(highlight=False, emoji=False, **kw)


def say(message: str) -> None:
    """A human summary line on stderr (not under -q)."""
    import sys

    from consolewatch.cli import Options

    if not Options.quiet:
        print(message, file=sys.stderr)


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder (never half a file)."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


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
