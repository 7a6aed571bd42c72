"""`consolewatch tail TARGET`: follow a machine's console live; a CI gate with --until."""

from __future__ import annotations

import argparse
import os
import signal
from typing import TYPE_CHECKING, Any

from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, EXIT_TIMEOUT, Options, UsageError

if TYPE_CHECKING:  # imported where used: every command builds this module's options (--help too)
    import asyncio


def add_target_options(p: argparse.ArgumentParser) -> None:
    """Options that shape how a target is fetched (shared by tail and watch)."""
    p.add_argument("--source", action="append", default=[], metavar="NAME",
                   help="only these sources of the target (e.g. console, screen, serial-2)")
    p.add_argument("--since", choices=["start", "now"], default="start", help="from the start of what the cloud keeps, or from now")
    p.add_argument("--port", type=int, action="append", default=[], metavar="N", help="GCE serial port 1-4 (repeatable)")
    p.add_argument("--qmp", metavar="SOCKET", help="qemu: take screendump frames through this QMP socket")
    p.add_argument("--screenshots", metavar="SECONDS", help="screenshot interval in seconds, or off")
    p.add_argument("--console-url", metavar="URL",
                   help="do: the droplet's console, RFB over a websocket (ws://, wss://) or vnc://; else "
                        "CONSOLEWATCH_DO_CONSOLE_URL or the config file (DigitalOcean's API has none)")
    p.add_argument("--vnc-password-file", metavar="FILE",
                   help="vnc/do: a file holding the VNC password (or CONSOLEWATCH_VNC_PASSWORD); never on the command line")
    p.add_argument("--region", help="AWS region (else the boto3 chain)")
    p.add_argument("--os-cloud", metavar="NAME", help="OpenStack: the clouds.yaml entry (else OS_CLOUD, else OS_*)")
    p.add_argument("--serial-console", action="store_true", help="AWS Nitro: read the EC2 serial console over SSH")
    p.add_argument("--wait-restart", action="store_true", help="keep following across a stop/start")
    p.add_argument("--poll", type=float, metavar="SECONDS", help="fastest poll interval")
    p.add_argument("--cloud", help="override the cloud the target implies")
    p.add_argument("--stall-after", type=float, default=120.0, metavar="SECONDS",
                   help="report boot.stall when the console is quiet this long before ready (0: never)")
    p.add_argument("--new", action="store_true", help="start a new capture instead of resuming the last one")
    p.add_argument("--prompt-after", type=float, default=1.0, metavar="SECONDS",
                   help="end an unfinished line that looks like a prompt (login:) after this long (0: never)")
    p.add_argument("--parsers", action="append", default=[], metavar="DIR", help="extra definitions directory")
    from consolewatch.cli.alerts import add_alert_option

    add_alert_option(p)


def target_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {"since": args.since}
    if args.source:
        opts["sources"] = list(args.source)
    if args.port:
        if any(not 1 <= p <= 4 for p in args.port):
            raise UsageError("--port is 1, 2, 3 or 4")
        opts["ports"] = list(args.port)
    if args.qmp:
        opts["qmp"] = args.qmp
    if args.screenshots is not None:
        if args.screenshots == "off":
            opts["screenshots"] = None
        else:
            try:
                opts["screenshots"] = opts["screen_interval"] = float(args.screenshots)
            except ValueError:
                raise UsageError("--screenshots takes seconds or off") from None
    url = args.console_url or os.environ.get("CONSOLEWATCH_DO_CONSOLE_URL")
    if url:
        opts["console_url"] = url
    if args.vnc_password_file:
        opts["vnc_password_file"] = args.vnc_password_file
    if args.region:
        opts["region"] = args.region
    if args.os_cloud:
        opts["os_cloud"] = args.os_cloud
    if args.serial_console:
        opts["serial_console"] = True
    if args.wait_restart:
        opts["wait_restart"] = True
    if args.poll:
        opts["poll"] = args.poll
    return opts


def plain_path(text: str) -> bool:
    """A target given as a plain path (as analyze takes it): `file:` is implied."""
    from pathlib import Path

    from consolewatch.fetchers import BUILTIN

    if text.startswith(("/", "./", "../", "~")) or Path(text).exists():
        return True
    kind, sep, _ = text.partition(":")
    return (not sep and not text.startswith("i-")) or (bool(sep) and "/" in kind and kind not in BUILTIN)


def parse(text: str, args: argparse.Namespace):
    from consolewatch.fetchers import parse_target

    if plain_path(text):
        import os

        text = "file:" + os.path.expanduser(text)
    try:
        return parse_target(text, target_options(args))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop, caught: list[int]) -> None:
    """SIGINT/SIGTERM end the follow gracefully (what was seen is printed and stored); the
    signal is remembered for the exit status. A second one is not caught: it ends the process."""
    def on(sig: int) -> None:
        caught.append(sig)
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(s)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on, sig)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from consolewatch.cli.common import console, gate_unmet, load_catalog, open_store, say
    from consolewatch.fetchers import FetchError
    from consolewatch.pipeline import Follower
    from consolewatch.sinks.live import JsonLinesSink, LiveSink, TerminalSink

    target = parse(args.target, args)
    catalog = load_catalog(args.parsers)
    if args.json:
        sink: LiveSink = JsonLinesSink()
    else:
        inhibits = {r.id: r.inhibits for r in catalog.rules}
        sink = LiveSink() if Options.quiet else TerminalSink(console(), inhibits=inhibits)
    store = open_store()
    from consolewatch.cli import alerts

    alerting = alerts.start(args, store, catalog)
    follower = Follower(target, catalog=catalog, store=store, sink=sink, follow=not args.no_follow,
                        until=args.until, stall_after=args.stall_after or None, resume=not args.new,
                        cloud=args.cloud, timeout=args.timeout, prompt_idle=args.prompt_after or None,
                        on_step=alerting.observe if alerting else None)
    from consolewatch.watchdog import WATCHDOG, Interrupted

    caught: list[int] = []

    async def follow():
        stop_on_signals(asyncio.get_running_loop(), follower.stop, caught)
        WATCHDOG.arm(args.timeout)  # and while a rule regex runs
        try:
            return await follower.run()
        finally:
            WATCHDOG.disarm()  # before the loop closes and puts the default handlers back

    matching = ""
    try:
        asyncio.run(follow())
    except FetchError as exc:
        raise UsageError(str(exc)) from None
    except Interrupted as exc:  # the watchdog stopped the core in the middle of a line: said as below
        matching = " while rules were matching a line (a definition regex may backtrack badly)"
        if exc.signum:
            caught[:0] = [exc.signum]
        else:
            follower.result.timed_out = True
    finally:
        sink.close()
        alerts.stop(alerting)
        store.close()
    result = follower.result
    seen = f"{follower.session.normalizer.next_seq - 1} lines, boot {follower.session.engine.boot_index}"
    if caught:
        kept = f"capture {result.capture_id} keeps everything" if result.capture_id else "nothing to store"
        say(f"consolewatch: interrupted by {signal.Signals(caught[0]).name}{matching} after {seen}: "
            f"{result.outcome or 'no outcome yet'} ({kept})")
        return 128 + caught[0]
    if result.timed_out:
        say(f"consolewatch: timed out after {args.timeout:g} s{matching}"
            + (f" (last outcome: {result.outcome})" if result.outcome else " with no outcome"))
        return EXIT_TIMEOUT
    unmet = gate_unmet(args.until, result.outcome)
    if unmet:
        say(f"consolewatch: {unmet}, after {seen}")
        return EXIT_FINDINGS
    return EXIT_FINDINGS if result.outcome in ("failure", "stall") else EXIT_OK
