"""`consolewatch captures list|show|export|import|rm|prune`: the capture store."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from consolewatch.cli import EXIT_OK, UsageError


def add_parser(sub) -> None:
    c = sub.add_parser("captures", help="list, show, export, import and remove stored captures")
    cs = c.add_subparsers(dest="captures_command", metavar="ACTION")
    cl = cs.add_parser("list", help="every capture: id, target, sources, time, boots, outcome")
    cl.add_argument("--json", action="store_true")
    cl.add_argument("--target")
    sh = cs.add_parser("show", help="replay a capture's events (the tail --json shape with --json)")
    sh.add_argument("id", type=int)
    sh.add_argument("--json", action="store_true")
    sh.add_argument("--parsers", action="append", default=[], metavar="DIR")
    ex = cs.add_parser("export", help="write a capture as one JSON file (analyze accepts it)")
    ex.add_argument("id", type=int)
    ex.add_argument("-o", "--output", help="file to write (default: stdout)")
    im = cs.add_parser("import", help="store a capture exported elsewhere")
    im.add_argument("path")
    rm = cs.add_parser("rm", help="remove captures")
    rm.add_argument("ids", type=int, nargs="+")
    pr = cs.add_parser("prune", help="remove old captures (retention by age and total size)")
    pr.add_argument("--older-than", metavar="DAYS", type=float)
    pr.add_argument("--max-size", metavar="MB", type=float)


def run(args: argparse.Namespace) -> int:
    from consolewatch.store import Store, default_path

    action = args.captures_command
    if action in ("list", "show", "export") and not default_path().is_file():
        if action == "list":  # nothing stored yet: do not create a store to say so
            return _list(None, args)
        raise UsageError(f"no capture {args.id} (no capture store at {default_path()})")
    store = Store(readonly=action in ("list", "show", "export"))
    try:
        if action == "list":
            return _list(store, args)
        if action == "show":
            return _show(store, args)
        if action == "export":
            return _export(store, args)
        if action == "import":
            return _import(store, args)
        if action == "rm":
            return _rm(store, args)
        if action == "prune":
            if args.older_than is None and args.max_size is None:
                raise UsageError("prune needs --older-than DAYS and/or --max-size MB")
            removed = store.prune(older_than=args.older_than * 86400 if args.older_than is not None else None,
                                  max_bytes=int(args.max_size * (1 << 20)) if args.max_size is not None else None)
            from consolewatch.cli.common import say

            say(f"removed {len(removed)} capture(s)")
            return EXIT_OK
        raise UsageError("captures needs an action: list, show, export, import, rm, prune")
    finally:
        store.close()


def _list(store, args) -> int:
    infos = store.list(target=args.target) if store is not None else []
    if args.json:
        sys.stdout.write(json.dumps({"captures": [i.as_dict() for i in infos]}) + "\n")
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    from consolewatch.cli.common import console
    from consolewatch.safetext import one_line
    from consolewatch.sinks.terminal import EndOf

    fmt = lambda t: time.strftime("%m-%d %H:%M", time.localtime(t))  # noqa: E731
    # Every cell from the store (an import brings another machine's strings) is one escaped
    # row of Text: never markup, controls and bidi characters escaped; the target is cut from
    # the left where the width ends, never at a fixed length.
    rows = [(str(i.id), one_line(i.target), one_line(",".join(i.sources), 300), fmt(i.created),
             one_line(i.summary.get("boots") or "-", 20), one_line(i.summary.get("outcome") or "-", 40),
             _size(i.size)) for i in infos]
    heads = ("id", "target", "sources", "started", "boots", "outcome", "size")
    out = console()
    widths = [max([len(h), *(len(r[k]) for r in rows)]) for k, h in enumerate(heads)]
    room = out.width - sum(widths) + widths[1] - 2 * (len(heads) - 1)
    widths[1] = max(16, min(room, widths[1]))  # every column whole but the target, cut from the left
    table = Table.grid(padding=(0, 2))
    for k, col in enumerate(heads):
        table.add_column(no_wrap=True, width=widths[k], justify="right" if col == "size" else "left")
    table.add_row(*(Text(h, style="bold") for h in heads))
    for r in rows:
        table.add_row(r[0], EndOf(r[1]), *(Text(x) for x in r[2:]))
    out.print(table)
    return EXIT_OK


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return ""


def _rm(store, args) -> int:
    from consolewatch.cli.common import say
    from consolewatch.safetext import one_line

    found = [(i, store.capture(i)) for i in args.ids]
    missing = [str(i) for i, info in found if info is None]
    for i, info in found:
        if info is not None and store.remove(i):
            say(f"removed capture {i}: {one_line(info.target)}, {info.size:,} bytes, "
                f"{info.summary.get('boots') or 0} boot(s), {info.summary.get('outcome') or 'no outcome'}")
    if missing:
        raise UsageError(f"no capture {', '.join(missing)}")
    return EXIT_OK


def _show(store, args) -> int:
    import asyncio

    from consolewatch.cli.common import load_catalog
    from consolewatch.pipeline import Follower
    from consolewatch.sinks.live import JsonLinesSink, TerminalSink

    info = store.capture(args.id)
    if info is None:
        raise UsageError(f"no capture {args.id} (consolewatch captures list shows them)")
    from consolewatch.fetchers import Target, parse_target

    try:
        target = parse_target(info.target)
    except ValueError:
        target = Target("import", info.target)
    from consolewatch.cli.common import console

    sink = JsonLinesSink() if args.json else TerminalSink(console())
    replay = Follower(target, catalog=load_catalog(args.parsers), store=store, sink=sink, follow=False)
    replay.name = info.target
    try:
        asyncio.run(replay.replay_only(args.id))
    finally:
        sink.close()
    return EXIT_OK


def _export(store, args) -> int:
    from consolewatch.capture_file import dumps, export_capture

    try:
        doc = export_capture(store, args.id)
    except KeyError:
        raise UsageError(f"no capture {args.id}") from None
    text = dumps(doc) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _import(store, args) -> int:
    from consolewatch.capture_file import import_capture

    from consolewatch.cli.common import say

    try:
        doc = json.loads(Path(args.path).read_bytes())
        if not isinstance(doc, dict):
            raise ValueError("the file is not a JSON object")
        new_id, added = import_capture(store, doc)
    except FileNotFoundError:
        raise UsageError(f"{args.path}: no such file") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UsageError(f"{args.path}: not a consolewatch capture export: {exc}") from None
    if not added:
        say(f"{args.path} was imported before: capture {new_id}")
    print(new_id)
    return EXIT_OK
