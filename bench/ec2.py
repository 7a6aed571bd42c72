#!/usr/bin/env python3
"""Benchmark the EC2 fetcher against the simulated EC2 (real boto3 over loopback HTTP).

Prints:
  1. API calls per minute by action, for a Nitro and a Xen instance, while the console is
     busy (a boot printing) and idle (nothing new), with the fetcher's default intervals
     (console poll 2 s -> 30 s Nitro, 5 s -> 60 s Xen; screenshots every 10 s; DescribeInstances
     every 15 s).
  2. Latency from a line entering the sim's console (`ConsolePlayer.append`) to that line
     coming out of a `Session` fed by the fetcher: idle and busy console output polling with the
     default intervals, and the EC2 serial console (SSH).
  3. The same through the real command, `consolewatch tail aws:i-... --json` in a child process
     (the pipeline, the capture store and the JSON sink included), unscaled: busy console output
     with the default 2 s poll, and --serial-console.

Minutes of polling are run time-compressed: every interval (the fetcher's and the boot's byte
rate) is divided by --scale and the results multiplied back, so "calls per minute" and
latencies are those of the default intervals. Loopback HTTP takes ~3 ms per call, which the
scaling inflates by --scale: negligible against 2-second polls. The serial console is measured
in real time, unscaled.

Usage: python bench/ec2.py [--scale 20] [--minutes 5] [--samples 15]
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

from consolewatch import definitions  # noqa: E402
from consolewatch.detect.catalog import Catalog  # noqa: E402
from consolewatch.fetchers import parse_target  # noqa: E402
from consolewatch.fetchers.ec2 import Ec2Fetcher  # noqa: E402
from consolewatch.session import Session  # noqa: E402
from consolewatch.sim.ec2 import start_ec2_sim  # noqa: E402

IID = "i-0123456789abcdef0"
ACTIONS = ("GetConsoleOutput", "GetConsoleScreenshot", "DescribeInstances", "DescribeInstanceTypes")


def real_boot() -> bytes:
    """Real console output: every QEMU serial log under samples/, in path order (~360 KB)."""
    return b"".join(p.read_bytes() for p in sorted((ROOT / "samples").glob("qemu/*/serial.log")))


def options(scale: float, nitro: bool, **extra) -> dict:
    poll, top = (2.0, 30.0) if nitro else (5.0, 60.0)
    return {"poll": poll / scale, "poll_max": top / scale, "screenshots": 10.0 / scale,
            "state_poll": 15.0 / scale, "backoff": 1.0 / scale, **extra}


async def follow(opts: dict, stop: asyncio.Event, on_line=None, session: Session | None = None) -> None:
    fetcher = Ec2Fetcher(parse_target(f"aws:{IID}", opts))
    agen = fetcher.stream()
    try:
        async for ev in agen:
            if session is not None:
                step = session.feed(ev)
                if on_line is not None:
                    for batch in step.batches:
                        for text in batch.texts:
                            on_line(text)
            if stop.is_set():
                break
    finally:
        await agen.aclose()


def calls_per_minute(sim, scale: float, nitro: bool, seconds: float) -> dict[str, float]:
    before = {a: sim.calls(a) for a in ACTIONS}

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(follow(options(scale, nitro), stop))
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.sleep(max(0.3, 30 / scale))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    minutes = seconds * scale / 60
    return {a: (sim.calls(a) - before[a]) / minutes for a in ACTIONS}


def latency(sim, inst, opts: dict, catalog: Catalog, samples: int, spacing: float, busy: float = 0.0,
            warmup: float = 1.0) -> list[float]:
    """Seconds from player.append(marker) to the marker line leaving the Session."""
    seen: dict[str, float] = {}

    def on_line(text: str) -> None:
        if text.startswith("consolewatch-bench marker "):
            seen[text] = time.monotonic()

    async def chatter() -> None:
        while True:
            inst.player.append(b"[ bench ] busy console line " + b"x" * 40 + b"\n")
            await asyncio.sleep(busy)

    async def run() -> list[float]:
        stop = asyncio.Event()
        task = asyncio.create_task(follow(opts, stop, on_line, Session(catalog)))
        noise = asyncio.create_task(chatter()) if busy else None
        await asyncio.sleep(warmup)
        out = []
        for n in range(samples):
            await asyncio.sleep(random.uniform(0.5, 1.5) * spacing)
            marker = f"consolewatch-bench marker {n}"
            t0 = time.monotonic()
            inst.player.append(marker.encode() + b"\n")
            while marker not in seen and time.monotonic() - t0 < 120:
                await asyncio.sleep(0.002)
            out.append(seen.get(marker, float("nan")) - t0)
        stop.set()
        inst.player.append(b"end\n")
        await asyncio.sleep(0.2)
        for t in (task, noise):
            if t is not None:
                t.cancel()
        await asyncio.gather(*(t for t in (task, noise) if t is not None), return_exceptions=True)
        return out

    return asyncio.run(run())


def cli_latency(sim, inst, extra: list[str], samples: int, spacing: float, busy: float | None) -> list[float]:
    """Seconds from player.append(marker) to the marker's `line` event on `tail --json` stdout."""
    seen: dict[str, float] = {}
    ready = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CONSOLEWATCH_DATA_DIR": tmp + "/data", "CONSOLEWATCH_CONFIG_DIR": tmp + "/config"}
        proc = subprocess.Popen([sys.executable, "-m", "consolewatch", "tail", f"aws:{IID}", "--json", "--new",
                                 "--screenshots", "off", *extra], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, cwd=ROOT)

        def read() -> None:
            for raw in proc.stdout:
                doc = json.loads(raw)
                if doc.get("type") == "line" and doc["text"].startswith("consolewatch-bench marker "):
                    seen[doc["text"]] = time.monotonic()
                if doc.get("type") == "line" and doc["text"] == "booted":
                    ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        ready.wait(60)
        stop = threading.Event()

        def chatter() -> None:
            while not stop.wait(busy):
                inst.player.append(b"[ bench ] busy console line " + b"x" * 40 + b"\n")

        if busy:
            threading.Thread(target=chatter, daemon=True).start()
        out = []
        try:
            for n in range(samples):
                time.sleep(random.uniform(0.5, 1.5) * spacing)
                marker = f"consolewatch-bench marker {n}"
                t0 = time.monotonic()
                inst.player.append(marker.encode() + b"\n")
                while marker not in seen and time.monotonic() - t0 < 60:
                    time.sleep(0.002)
                out.append(seen.get(marker, float("nan")) - t0)
        finally:
            stop.set()
            proc.terminate()
            proc.wait(10)
    return out


def fmt(values: list[float], scale: float = 1.0) -> str:
    v = sorted(x * scale for x in values if x == x)
    if not v:
        return "no samples"
    p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
    unit, k = ("ms", 1000) if v[-1] < 1 else ("s", 1)
    return (f"median {statistics.median(v) * k:.1f} {unit}, p90 {p90 * k:.1f} {unit}, max {v[-1] * k:.1f} {unit} "
            f"(n={len(v)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=20.0, help="time compression (default 20)")
    ap.add_argument("--minutes", type=float, default=5.0, help="simulated minutes per calls measurement")
    ap.add_argument("--samples", type=int, default=15, help="lines per latency measurement")
    args = ap.parse_args()
    scale = args.scale
    seconds = args.minutes * 60 / scale
    catalog = Catalog(definitions.load([ROOT / "parsers"]))
    boot = real_boot()

    sim = start_ec2_sim()
    os.environ.update(sim.env())
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    print(f"EC2 fetcher against the simulated EC2 ({sim.endpoint}); intervals compressed x{scale:g}")
    print("\nAPI calls per minute (defaults: poll 2-30 s Nitro / 5-60 s Xen, screenshots 10 s, state 15 s)")
    for nitro, itype in ((True, "m5.large"), (False, "m4.large")):
        for label, rate in (("busy", len(boot) / (args.minutes * 60) * scale), ("idle", 0.0)):
            inst = sim.add_instance(IID, boot if rate else b"booted\n", instance_type=itype,
                                    bytes_per_second=rate or 0, post_interval=30.0 / scale)
            cpm = calls_per_minute(sim, scale, nitro, seconds)
            total = sum(cpm.values())
            parts = ", ".join(f"{a} {v:.1f}" for a, v in cpm.items() if v)
            print(f"  {itype:9} ({'nitro' if nitro else 'xen'}) {label}: {total:5.1f}/min  [{parts}]")
            del inst

    print("\nLatency: line printed on the console -> line out of the Session")
    inst = sim.add_instance(IID, b"booted\n", bytes_per_second=0)
    idle = latency(sim, inst, options(scale, True, screenshots="off"), catalog, args.samples, spacing=40 / scale)
    print(f"  GetConsoleOutput, idle console (poll backed off to 30 s):  {fmt(idle, scale)}")
    inst = sim.add_instance(IID, b"booted\n", bytes_per_second=0)
    busy = latency(sim, inst, options(scale, True, screenshots="off"), catalog, args.samples, spacing=4 / scale,
                   busy=0.5 / scale)
    print(f"  GetConsoleOutput, busy console (a line every 0.5 s):       {fmt(busy, scale)}")
    if sim.serial_endpoint:
        inst = sim.add_instance(IID, b"booted\n", bytes_per_second=0)
        live = latency(sim, inst, {"serial_console": True, "screenshots": "off"}, catalog, args.samples,
                       spacing=0.2, warmup=2.0)
        print(f"  EC2 serial console (SSH), unscaled:                         {fmt(live)}")

    print("\nLatency: line printed on the console -> `line` event on `consolewatch tail --json` stdout (unscaled)")
    inst = sim.add_instance(IID, b"booted\n", bytes_per_second=0)
    busy_cli = cli_latency(sim, inst, [], args.samples, spacing=3.0, busy=0.5)
    print(f"  GetConsoleOutput, busy console (default 2 s poll):         {fmt(busy_cli)}")
    if sim.serial_endpoint:
        inst = sim.add_instance(IID, b"booted\n", bytes_per_second=0)
        live_cli = cli_latency(sim, inst, ["--serial-console"], args.samples, spacing=0.3, busy=None)
        print(f"  EC2 serial console (SSH):                                   {fmt(live_cli)}")
    sim.close()


if __name__ == "__main__":
    main()
