#!/usr/bin/env python3
"""GCE tail benchmark: API calls per minute (idle and busy) and line latency.

    python bench/gce.py [--scale 0.1] [--samples 8] [--skip-latency] [--json]

Everything runs against the simulated Compute API (consolewatch.sim.gce) on 127.0.0.1 through
the real google-cloud-compute client; nothing touches the real network.

1. API calls per minute, with the fetcher's default schedule (serial poll 1 s while output
   flows, stretching x1.5 per empty read to 10 s; instances.get every 15 s; a screenshot every
   10 s when the instance has a display device). The schedule is time-scaled by --scale (all
   intervals multiplied, the run shortened by the same factor) so two simulated minutes take
   12 s at 0.1; counts are per real minute. "idle": the boot finished printing before the
   follow began; "busy": the guest prints a line every 50 ms of simulated time throughout.
   Minute 1 includes the idle ramp (1 -> 10 s); minute 2 is the steady state.
2. Latency from `player.append(line)` in the sim to the line on the stdout of
   `consolewatch tail TARGET --json` (a real CLI process, default poll settings), measured at
   random moments: "busy" while other output flows (poll at 1 s) and "idle" after 25 s of
   silence (the poll has stretched to 10 s; --idle-samples of them, 25 s each).
   "floor": in-process, the fetcher polling every 10 ms into a Session and the JSON line
   encoder -- the cost of one HTTP round trip, parse, normalise and encode, without the wait
   for the next poll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consolewatch.fetchers.base import Target  # noqa: E402
from consolewatch.fetchers.gce import GceFetcher  # noqa: E402
from consolewatch.sim.gce import SimInstance, sample_log, start_gce_sim  # noqa: E402

TARGET = "proj/us-central1-a/vm1"
LOG = sample_log("qemu/gce-option121-ignored")


def _printer(player, stop: threading.Event, every: float) -> threading.Thread:
    def run() -> None:
        n = 0
        while not stop.wait(every):
            n += 1
            player.append(b"[ %10.6f] bench: busy output line %d\n" % (time.monotonic(), n))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def calls_per_minute(mode: str, scale: float, display: bool) -> dict:
    url, sim = start_gce_sim(SimInstance.playing(LOG, rate=0, display_device=display))
    stop = threading.Event()
    if mode == "busy":
        _printer(sim.instance().players[1], stop, 0.05 * scale)
    opts = {"endpoint": url, "poll": (1.0 * scale, 10.0 * scale), "status_every": 15.0 * scale,
            "screenshots": 10.0 * scale, "backoff": (1.0 * scale, 30.0 * scale)}
    fetcher = GceFetcher(Target("gce", TARGET, opts), env={})
    minute = 60.0 * scale
    marks: list[dict] = []

    async def follow() -> None:
        async for _ in fetcher.stream():
            pass

    async def main() -> None:
        task = asyncio.ensure_future(follow())
        for _ in range(2):
            await asyncio.sleep(minute)
            marks.append(dict(fetcher.calls))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with sim:
        asyncio.run(main())
    stop.set()
    first, second = marks
    steady = {k: second.get(k, 0) - first.get(k, 0) for k in second}
    return {"mode": mode, "display_device": display, "minute_1": first, "minute_2": steady,
            "minute_2_total": sum(steady.values())}


def floor_latency(samples: int) -> list[float]:
    from consolewatch.cli.common import load_catalog
    from consolewatch.session import Session
    from consolewatch.sinks.jsonout import dumps, line_event

    url, sim = start_gce_sim(SimInstance.playing(LOG, rate=0, display_device=False))
    player = sim.instance().players[1]
    session = Session(load_catalog([]), cloud="gce")
    opts = {"endpoint": url, "poll": (0.01, 0.01), "screenshots": "off"}
    fetcher = GceFetcher(Target("gce", TARGET, opts), env={})
    out: list[float] = []
    sent: dict[str, float] = {}

    def feeder() -> None:
        time.sleep(1.0)
        for i in range(samples):
            time.sleep(random.uniform(0.05, 0.2))
            sent[f"bench-marker-{i}"] = time.monotonic()
            player.append(b"bench-marker-%d\n" % i)

    async def follow() -> None:
        async for event in fetcher.stream():
            for batch in session.feed(event).batches:
                for line in batch:
                    dumps(line_event(line, TARGET))
                    if line.text in sent:
                        out.append(time.monotonic() - sent[line.text])
            if len(out) == samples:
                return

    threading.Thread(target=feeder, daemon=True).start()
    with sim:
        asyncio.run(asyncio.wait_for(follow(), 120))
    return out


def latency(mode: str, samples: int, poll: float | None = None) -> list[float]:
    url, sim = start_gce_sim(SimInstance.playing(LOG, rate=0, display_device=False))
    player = sim.instance().players[1]
    data = tempfile.mkdtemp(prefix="cw-bench-gce-")
    env = {**os.environ, "CONSOLEWATCH_GCE_ENDPOINT": url, "CONSOLEWATCH_DATA_DIR": data,
           "CONSOLEWATCH_CONFIG_DIR": data + "/config"}
    cmd = [sys.executable, "-m", "consolewatch", "tail", f"gce:{TARGET}", "--json", "--stall-after", "0"]
    if poll is not None:
        cmd += ["--poll", str(poll)]
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (the child writes it; read after it exits)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, env=env)
    seen: dict[str, float] = {}
    ready = threading.Event()

    def reader() -> None:
        for raw in proc.stdout:  # type: ignore[union-attr]
            doc = json.loads(raw)
            if doc.get("type") == "line":
                ready.set()
                if doc["text"].startswith("bench-marker-"):
                    seen[doc["text"]] = time.monotonic()

    threading.Thread(target=reader, daemon=True).start()
    stop = threading.Event()
    out: list[float] = []
    try:
        if not ready.wait(120):
            errors.seek(0)
            raise SystemExit(f"tail printed no line within 120 s (exit {proc.poll()}): {errors.read()[-2000:]!r}")
        if mode == "busy":
            _printer(player, stop, 0.2)
        for i in range(samples):
            # idle: 1 + 1.5 + 2.25 + 3.4 + 5.1 + 7.6 s of empty reads, then the poll is at 10 s
            time.sleep(25 + random.uniform(0, 10) if mode == "idle" else random.uniform(0.5, 3.0))
            name = f"bench-marker-{i}"
            t0 = time.monotonic()
            player.append(name.encode() + b"\n")
            deadline = t0 + 30
            while name not in seen and time.monotonic() < deadline:
                time.sleep(0.002)
            out.append(seen.get(name, float("inf")) - t0)
    finally:
        stop.set()
        proc.terminate()
        proc.wait(10)
        sim.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1, help="time scale of the calls-per-minute runs")
    ap.add_argument("--samples", type=int, default=8, help="latency samples, floor and busy")
    ap.add_argument("--idle-samples", type=int, default=3, help="idle latency samples (30 s each)")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report: dict = {"calls": [], "latency": {}}
    for mode, display in (("idle", False), ("idle", True), ("busy", False), ("busy", True)):
        r = calls_per_minute(mode, args.scale, display)
        report["calls"].append(r)
        if not args.json:
            print(f"calls/min {mode:4} display={display!s:5}: minute 1 {r['minute_1']}  "
                  f"steady minute {r['minute_2']} = {r['minute_2_total']}")
    if not args.skip_latency:
        runs = (("floor", "append -> Session line -> JSON, in-process, 10 ms poll",
                 lambda: floor_latency(args.samples)),
                ("busy", "append -> tail --json stdout, output flowing", lambda: latency("busy", args.samples)),
                ("idle", "append -> tail --json stdout, after 25 s idle",
                 lambda: latency("idle", args.idle_samples)))
        for mode, what, run in runs:
            lat = run()
            report["latency"][mode] = lat
            if not args.json:
                print(f"latency {mode:5} ({what}, n={len(lat)}): median {statistics.median(lat) * 1000:.0f} ms, "
                      f"min {min(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms")
    if args.json:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
