"""`consolewatch alerts test|outbox|flush`, and the `--alert URL` option of tail and watch.

`alerts test URL` sends a sample message now (exit 0 delivered, 1 not). `alerts outbox` lists
pending, delivered and failed deliveries (`--json`). `alerts flush` sends what is pending for
the configured routes and `--alert` URLs. URLs are never printed: only their redacted label.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, UsageError


def add_alert_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alert", action="append", default=[], metavar="URL",
                   help="send alerts here (an Apprise URL such as slack://..., json://HOST/PATH, or "
                        "alertmanager://HOST:PORT); repeatable; routes also come from config.toml")


def add_parser(sub: Any) -> None:
    a = sub.add_parser("alerts", help="alert destinations: send a test message, show the outbox")
    s = a.add_subparsers(dest="alerts_command", metavar="ACTION")
    t = s.add_parser("test", help="send a sample message to URL now")
    t.add_argument("url", metavar="URL")
    t.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS")
    o = s.add_parser("outbox", help="pending, delivered and failed deliveries")
    o.add_argument("--json", action="store_true")
    o.add_argument("--state", choices=["pending", "delivered", "failed"])
    o.add_argument("--limit", type=int, default=50)
    f = s.add_parser("flush", help="send what is pending for the configured destinations, then exit")
    add_alert_option(f)
    f.add_argument("--timeout", type=float, metavar="SECONDS", help="give up waiting after this long (default: drain_timeout)")


def settings(urls):
    from consolewatch.sinks.alerts.settings import SettingsError, load

    try:
        return load(urls)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def start(args: argparse.Namespace, store: Any, catalog: Any):
    """The Alerting of a tail/watch run, or None when no route is configured."""
    cfg = settings(getattr(args, "alert", []))
    if not cfg.routes:
        return None
    from consolewatch.sinks.alerts.service import Alerting

    return Alerting(cfg, store.path, {r.id: r for r in catalog.rules}).start()


def stop(alerting) -> None:
    """Flush and drain (bounded); say on stderr what is left in the outbox."""
    if alerting is None:
        return
    counts = alerting.close()
    if alerting.error is not None:
        print(f"consolewatch: alerts stopped: {type(alerting.error).__name__}", file=sys.stderr)
    if counts.get("pending"):
        print(f"consolewatch: {counts['pending']} alert message(s) still pending; the next tail/watch or "
              "`consolewatch alerts flush` sends them (`consolewatch alerts outbox` lists them)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    action = args.alerts_command
    if action is None:
        raise UsageError("alerts needs an action: test, outbox or flush")
    if action == "test":
        return _test(args)
    if action == "outbox":
        return _outbox(args)
    return _flush(args)


def _test(args: argparse.Namespace) -> int:
    from consolewatch.sinks.alerts.destinations import DestinationError, parse
    from consolewatch.sinks.alerts.samples import test_notice
    from consolewatch.sinks.alerts.transport import send

    try:
        dest = parse(args.url)
    except DestinationError as exc:
        raise UsageError(str(exc)) from None
    answer = send(dest, test_notice(time.time()), timeout=args.timeout)
    if answer.ok:
        print(f"consolewatch: test message delivered to {dest.label} ({dest.service})", file=sys.stderr)
        return EXIT_OK
    print(f"consolewatch: test message NOT delivered to {dest.label} ({dest.service}): {answer.error}", file=sys.stderr)
    return EXIT_FINDINGS


def _outbox(args: argparse.Namespace) -> int:
    from consolewatch.sinks.alerts import outbox
    from consolewatch.store import data_dir

    path = data_dir() / "captures.sqlite3"
    if not path.exists():
        found, counts = [], {"pending": 0, "delivered": 0, "failed": 0}
    else:
        db = outbox.connect(path)
        try:
            found, counts = outbox.rows(db, args.state, max(1, args.limit)), outbox.counts(db)
        finally:
            db.close()
    if args.json:
        print(json.dumps({"counts": counts, "deliveries": [r.as_dict() for r in found]}, ensure_ascii=False))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    from consolewatch.sinks.terminal import inert

    table = Table(title=f"outbox: {counts['pending']} pending, {counts['delivered']} delivered, {counts['failed']} failed")
    for col in ("id", "state", "destination", "route", "message", "attempts", "when", "last error"):
        table.add_column(col)
    for r in found:
        when = r.delivered_at if r.state == "delivered" else (r.next_attempt if r.state == "pending" else r.created)
        table.add_row(str(r.id), r.state, inert(r.dest_label), inert(r.route), inert(r.notice.headline),
                      str(r.attempts), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)), inert(r.last_error or ""))
    Console(highlight=False, emoji=False).print(table)
    return EXIT_OK


def _flush(args: argparse.Namespace) -> int:
    from consolewatch.sinks.alerts.service import Alerting
    from consolewatch.store import data_dir

    cfg = settings(args.alert)
    if not cfg.routes:
        raise UsageError("no destination: give --alert URL or routes in config.toml")
    alerting = Alerting(cfg, data_dir() / "captures.sqlite3").start()
    counts = alerting.close(args.timeout)
    print(f"consolewatch: {counts['delivered']} delivered, {counts['pending']} pending, {counts['failed']} failed",
          file=sys.stderr)
    return EXIT_OK if not counts["pending"] else EXIT_FINDINGS
