"""`consolewatch watch TARGET...`: many machines in one process, one summary table."""

from __future__ import annotations

import argparse
import sys

from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, EXIT_TIMEOUT, UsageError


def add_parser(sub) -> None:
    from consolewatch.cli.tail import add_target_options

    w = sub.add_parser("watch", help="follow many machines at once: a summary table, or JSON Lines")
    w.add_argument("targets", nargs="*", metavar="TARGET")
    w.add_argument("--targets-file", metavar="FILE", help="more targets, one per line")
    w.add_argument("--json", action="store_true", help="JSON Lines of every event (each names its target)")
    w.add_argument("--concurrency", type=int, default=64, help="targets followed at the same time (default 64)")
    w.add_argument("--until", choices=["success", "failure", "outcome"], help="end each target's follow at this")
    w.add_argument("--timeout", type=float, metavar="SECONDS", help="end the whole watch after this long (exit 3)")
    w.add_argument("--no-follow", action="store_true", help="fetch what exists for each target and exit")
    add_target_options(w)


def run(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: every command builds this module's options (--help too)

    from consolewatch.cli.common import gate_unmet, load_catalog, open_store
    from consolewatch.cli.tail import parse, stop_on_signals
    from consolewatch.fetchers import FetchError, Target
    from consolewatch.fetchers.ratelimit import limiter_for
    from consolewatch.model import SourceUnavailable
    from consolewatch.pipeline import Follower
    from consolewatch.sinks.live import JsonLinesSink
    from consolewatch.sinks.summary import SummarySink

    texts = list(args.targets)
    if args.targets_file:
        try:
            with open(args.targets_file, encoding="utf-8") as f:
                texts += [t.strip() for t in f if t.strip() and not t.startswith("#")]
        except OSError as exc:
            raise UsageError(f"{args.targets_file}: {exc.strerror}") from None
    if not texts:
        raise UsageError("watch needs at least one target")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    targets = []
    for text in dict.fromkeys(texts):
        t = parse(text, args)
        targets.append(Target(t.kind, t.address, {**t.options, "limiter": limiter_for(t.kind)}))
    catalog = load_catalog(args.parsers)
    store = open_store()
    from consolewatch.cli import alerts

    alerting = alerts.start(args, store, catalog)
    if args.json:
        sink = SummarySink(JsonLinesSink())
    else:
        from consolewatch.cli.common import console

        sink = SummarySink(None, console())
    followers = [Follower(t, catalog=catalog, store=store, sink=sink, follow=not args.no_follow,
                          until=args.until, stall_after=args.stall_after or None, resume=not args.new,
                          cloud=args.cloud, prompt_idle=args.prompt_after or None,
                          on_step=alerting.observe if alerting else None) for t in targets]
    errors: dict[str, str] = {}
    caught: list[int] = []

    async def one(f: Follower, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                await f.run()
            except FetchError as exc:
                errors[f.name] = str(exc)
                sink.note(f.name, SourceUnavailable("*", str(exc)))
                sink.flush()

    async def main() -> bool:
        gate = asyncio.Semaphore(args.concurrency)
        tasks = [asyncio.create_task(one(f, gate)) for f in followers]
        def stop_all() -> None:
            for f in followers:
                f.stop()

        stop_on_signals(asyncio.get_running_loop(), stop_all, caught)
        _, pending = await asyncio.wait(tasks, timeout=args.timeout)
        if pending:
            for f in followers:
                f.stop()
            await asyncio.wait(pending, timeout=30)
        return bool(pending)

    try:
        timed_out = asyncio.run(main())
    finally:
        sink.close()
        alerts.stop(alerting)
        store.close()
    for name, err in errors.items():
        print(f"consolewatch: {name}: {err}", file=sys.stderr)
    outcomes = [f.result.outcome for f in followers]
    if not caught and not timed_out:
        for follower in followers:
            unmet = gate_unmet(args.until, follower.result.outcome)
            if unmet:
                print(f"consolewatch: {follower.name}: {unmet}", file=sys.stderr)
    if caught:
        return 128 + caught[0]
    if timed_out:
        return EXIT_TIMEOUT
    if errors or any(o in ("failure", "stall") or gate_unmet(args.until, o) is not None for o in outcomes):
        return EXIT_FINDINGS
    return EXIT_OK

