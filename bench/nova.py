#!/usr/bin/env python3
"""OpenStack tail benchmark: API calls and bytes per poll, stitching cost, first-line latency.

    python bench/nova.py [--seconds 20]

Everything runs against the simulated Keystone + Nova (consolewatch.sim.openstack) on 127.0.0.1
through openstacksdk; nothing touches the real network.

1. A follow of a busy console (a real 26 KB boot log played over and over, 4 KB/s) with the
   default schedule (poll 2 s while output flows, doubling to 30 s when idle; server show every
   15 s; no remote console): Nova API calls per minute, console log bytes transferred per poll
   (200 lines a poll instead of the 100 KiB Nova keeps) and how many polls needed the full
   window.
2. Stitching: time to stitch one 100 KiB window (the libvirt maximum) that overlaps the last.
3. Latency: from connecting to the first console line (Keystone token, discovery, the server
   lookup and the first os-getConsoleOutput).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time

from consolewatch.fetchers.base import Target
from consolewatch.fetchers.openstack import OpenStackFetcher
from consolewatch.model import Chunk
from consolewatch.normalize.stitch import SnapshotStitcher
from consolewatch.sim.gce import sample_log
from consolewatch.sim.openstack import SimServer, start_openstack_sim
from consolewatch.sim.openstack_model import nova_console_text
from consolewatch.sim.player import ConsolePlayer


async def follow(seconds: float) -> dict:
    first = None
    start = time.monotonic()
    fetcher = OpenStackFetcher(Target("openstack", "bench-1", {"screenshots": None}))
    async with contextlib.aclosing(fetcher.stream(follow=True)) as events:
        async def consume():
            nonlocal first
            async for ev in events:
                if isinstance(ev, Chunk) and first is None:
                    first = time.monotonic() - start
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(consume(), seconds)
    return {"first_line_s": first, "calls": fetcher.api_calls}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    log = sample_log("qemu/wrong-root-virtio")
    player = ConsolePlayer(log * 200, bytes_per_second=4000)
    with start_openstack_sim(SimServer("bench-1", player=player)) as sim:
        for k, v in sim.env().items():
            os.environ[k] = v
        result = asyncio.run(follow(args.seconds))
        consoles = [length for method, length, _ in sim.log if method == "console"]
    minutes = args.seconds / 60
    print(f"follow {args.seconds:g} s of a console printing 4 KB/s (default poll 2 s):")
    print(f"  Nova calls per minute: {sum(1 for m, *_ in sim.log if m != 'unknown') / minutes:.1f} "
          f"(console log {len(consoles) / minutes:.1f}, of which full-window {consoles.count(None)})")
    print(f"  bytes a poll: about {len(nova_console_text(log, 200))} (200 lines) instead of "
          f"{len(nova_console_text(log * 10, None))} (all Nova keeps)")
    print(f"  first console line after {result['first_line_s']:.2f} s (token, discovery, lookup, first read)")
    window = nova_console_text(log * 10, None).encode()
    st = SnapshotStitcher(window=1 << 20, reset_ratio=0.5)
    st.feed(window[:-4000])
    t = time.perf_counter()
    for _ in range(50):
        st = SnapshotStitcher(window=1 << 20, seed=window[-100_000 - 4000:-4000], reset_ratio=0.5)
        st.feed(window)
    print(f"stitching a 100 KiB window: {(time.perf_counter() - t) / 50 * 1000:.2f} ms")


if __name__ == "__main__":
    main()
