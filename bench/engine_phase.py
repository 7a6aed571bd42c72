#!/usr/bin/env python3
"""The engine alone, for counting its instructions with callgrind (deterministic, unlike CPU time).

Normalises FILE first (every batch kept), then feeds the batches to a fresh Engine, finishes it
and writes the analyze JSON, all inside one `functools.reduce` call, so that callgrind can count
that phase alone:

    PYTHONHASHSEED=0 CONSOLEWATCH_CACHE_DIR=<warm private dir> valgrind --tool=callgrind \\
        --toggle-collect=functools_reduce python bench/engine_phase.py FILE [--detail verdict]

`--wrap Engine._close` (or any `module:Class.method` / `module:function`, e.g.
`consolewatch.detect.bootstate:judge`) runs each call of that function inside `map()`, so that
`--toggle-collect=map_next` counts it alone, inclusive of what it calls (and of any collection
the cycle collector happens to make there). Prints the batches and boots it saw.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consolewatch.analysis import _feed
from consolewatch.cli.common import collecting_less_often, load_catalog
from consolewatch.detect.engine import Engine
from consolewatch.session import Session
from consolewatch.sinks.jsonout import analysis_dict, dumps


def wrap(spec: str) -> None:
    """Run every call of `spec` (module:function or module:Class.method) inside `map()`."""
    modname, _, qual = spec.rpartition(":")
    owner = importlib.import_module(modname or "consolewatch.detect.engine")
    *cls, name = qual.split(".")
    for part in cls:
        owner = getattr(owner, part)
    orig = getattr(owner, name)

    def inside_map(*a, **kw):
        return next(map(lambda _: orig(*a, **kw), (0,)))
    setattr(owner, name, inside_map)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--detail", default="verdict", help="the engine's detail (analyze --boot last: verdict)")
    ap.add_argument("--wrap", action="append", default=[], help="module:Class.method or module:function")
    args = ap.parse_args()
    for spec in args.wrap:
        wrap(spec)
    catalog = load_catalog([])
    session = Session(catalog)
    batches = []
    session.engine.feed = lambda b: batches.append(b) or []  # type: ignore[method-assign]
    session.engine.finish = lambda **kw: []  # type: ignore[method-assign]
    with collecting_less_often():
        _feed(session, args.log, None, lambda step: None)
        session.finish()

        def engine_phase(_: object, __: object) -> str:
            session.engine = Engine(catalog, detail=args.detail)
            for b in batches:
                session.engine.feed(b)
            session.engine.finish(non_text=0.0)
            return dumps(analysis_dict(session.result(), "last"))
        functools.reduce(engine_phase, [0], None)
    print(f"{len(batches)} batches, {len(session.engine.boots)} boots closed", file=sys.stderr)


if __name__ == "__main__":
    main()
