"""`consolewatch analyze PATH...`: diagnose a captured console."""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from typing import Iterator

from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, UsageError
from consolewatch.cli.common import load_catalog
from consolewatch.detect.catalog import Catalog
from consolewatch.inputs import InputError, open_input, source_name
from consolewatch.model import Frame, severity_rank
from consolewatch.session import Analysis, Session


def analyze_paths(paths: list[str], session: Session) -> Analysis:
    if sum(p == "-" for p in paths) > 1:
        raise UsageError("stdin (-) can be given once")
    if len(paths) > 1:
        session.expect_frames()
    try:
        for path in paths:
            sources = {source_name(path)}
            for event in open_input(path):
                if isinstance(event, Frame):
                    session.expect_frames()
                sources.add(getattr(event, "source", ""))
                session.feed(event)
            for source in sources:  # this input has ended: so has its last line
                session.end_source(source)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    session.finish()
    return session.result()


@contextlib.contextmanager
def _collecting_less_often() -> Iterator[None]:
    """An analysis allocates a few objects per interesting line (lines, fields, findings) and
    almost none in reference cycles, so the cycle collector need not run every 700 allocations,
    nor look at the loaded definitions again. About 5-8% of analyze's CPU on the 100 MB bench
    log (bench/stages.py); memory stays bounded (bench/analyze.py prints peak RSS). Restored
    afterwards: `run` is also called in-process (tests, bench/compare_json.py)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.parsers)
    with _collecting_less_often():
        return _run(args, catalog)


def _run(args: argparse.Namespace, catalog: Catalog) -> int:
    session = Session(catalog, cloud=args.cloud or "unknown", hypervisor=args.hypervisor or "unknown")
    analysis = analyze_paths(args.paths, session)
    if args.json:
        from consolewatch.sinks.jsonout import analysis_dict, dumps

        sys.stdout.write(dumps(analysis_dict(analysis, args.boot)) + "\n")
    else:
        from rich.console import Console

        from consolewatch.sinks.terminal import render

        render(analysis, Console(highlight=False, emoji=False), args.boot)
    if args.fail_on == "never":
        return EXIT_OK
    worst = analysis.worst(args.boot)
    failed = worst is not None and severity_rank(worst) >= severity_rank(args.fail_on)
    return EXIT_FINDINGS if failed else EXIT_OK
