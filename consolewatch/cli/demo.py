"""`consolewatch demo`: the whole product on simulated clouds, without an account."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from consolewatch.cli import EXIT_OK, EXIT_USAGE, UsageError


def add_parser(sub) -> None:
    d = sub.add_parser("demo", help="watch real failed boots on simulated clouds (no account needed)")
    d.add_argument("--cloud", choices=["gce", "aws", "do", "openstack"], action="append", help="only these acts (default: all)")
    d.add_argument("--json", action="store_true", help="JSON Lines instead of the terminal view")
    d.add_argument("--speed", type=float, default=40_000.0, metavar="BYTES/S", help="how fast the machines print")
    d.add_argument("--parsers", action="append", default=[], metavar="DIR")


def run(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: every command builds this module's options (--help too)

    from consolewatch.cli.common import console, load_catalog
    from consolewatch.fetchers import FetchError, parse_target
    from consolewatch.pipeline import Follower
    from consolewatch.sim.demo import ACTS, sample_path
    from consolewatch.sinks.live import JsonLinesSink, TerminalSink
    from consolewatch.store import Store

    catalog = load_catalog(args.parsers)
    acts = [a for a in ACTS if not args.cloud or a.cloud in args.cloud]
    data = tempfile.TemporaryDirectory(prefix="consolewatch-demo-")
    store = Store(Path(data.name) / "captures.sqlite3")
    failed = []
    try:
        for act in acts:
            try:
                log = sample_path(act.log).read_bytes()
            except FileNotFoundError as exc:
                raise UsageError(str(exc)) from None
            if not args.json:
                print(f"\n=== {act.title}\n    (a simulated {act.cloud.upper()} API plays the console of a real boot: "
                      f"{act.log})", file=sys.stderr)
            target_text, env, sim = act.start(log, args.speed)
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            sink = JsonLinesSink() if args.json else TerminalSink(console())
            try:
                follower = Follower(parse_target(target_text, {"screenshots": None, **dict(act.options)}), catalog=catalog, store=store,
                                    sink=sink, until="outcome", stall_after=30.0, resume=False)
                result = asyncio.run(asyncio.wait_for(follower.run(), 120))
                if not args.json:
                    print(f"    consolewatch tail {target_text} --until outcome would exit "
                          f"{1 if result.outcome in ('failure', 'stall') else 0} ({result.outcome})", file=sys.stderr)
            except (TimeoutError, FetchError) as exc:
                failed.append(f"{act.cloud}: {exc or 'timed out'}")
            finally:
                sink.close()
                sim.close()
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    finally:
        store.close()
        data.cleanup()
    for f in failed:
        print(f"consolewatch demo: {f}", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK
