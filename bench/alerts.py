#!/usr/bin/env python3
"""Alerts: what they cost the follow loop, and how fast the outbox drains.

1. `observe()` as the follow loop calls it (per step with a finding; it only queues), in us.
2. Outbox throughput: N failed boots (N notices) through the router and one courier thread to a
   local JSON webhook on loopback, from the first observe to the last 2xx: messages per second.
3. Finding -> receiver latency with group_wait = 0, one failed boot every 50 ms (p50/max), in ms.

Usage: python bench/alerts.py [--messages 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from consolewatch.model import Evidence, Finding
from consolewatch.session import Step
from consolewatch.sinks.alerts.service import Alerting
from consolewatch.sinks.alerts.settings import from_doc


def receiver(arrived: list[float]) -> ThreadingHTTPServer:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.end_headers()
            arrived.append(time.perf_counter())

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200)
    n = ap.parse_args().messages
    arrived: list[float] = []
    server = receiver(arrived)
    url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    settings = from_doc({"alerts": {"group_wait": 0, "repeat_interval": 0}}, [url])
    base = Finding("kernel-panic", "kernel.panic", "critical", "Kernel panic", 1,
                   (Evidence(10, "Kernel panic - not syncing: VFS: Unable to mount root fs"),), "fix it",
                   verdict="failure")
    with tempfile.TemporaryDirectory() as tmp:
        alerting = Alerting(settings, Path(tmp) / "captures.sqlite3").start()
        costs, sent = [], []
        for i in range(n):
            f = dataclasses.replace(base, evidence=(Evidence(10, f"[ {i:>4}.000000] Kernel panic - not syncing"),))
            step = Step(findings=[f])
            t0 = time.perf_counter()
            alerting.observe(f"file:/vm{i}.log", 1, "gce", step)
            t1 = time.perf_counter()
            costs.append(t1 - t0)
            sent.append(t1)
        end = time.time() + 120
        while len(arrived) < n and time.time() < end:
            time.sleep(0.01)
        drained = list(arrived)
        arrived.clear()
        spaced = []
        for i in range(20):
            f = dataclasses.replace(base, evidence=(Evidence(10, f"[ {i:>4}.5] Kernel panic - not syncing"),))
            spaced.append(time.perf_counter())
            alerting.observe(f"file:/later{i}.log", 1, "gce", Step(findings=[f]))
            time.sleep(0.05)
        while len(arrived) < 20 and time.time() < end:
            time.sleep(0.01)
        counts = alerting.close(0)
    server.shutdown()
    lat = sorted(b - a for a, b in zip(spaced, sorted(arrived)))
    arrived = drained
    print(f"observe() in the follow loop: p50 {statistics.median(costs) * 1e6:.1f} us, "
          f"max {max(costs) * 1e6:.1f} us")
    print(f"outbox drain: {len(arrived)} messages in {arrived[-1] - sent[0]:.2f} s = "
          f"{len(arrived) / (arrived[-1] - sent[0]):.0f} messages/s (one destination, loopback)")
    print(f"finding -> receiver (group_wait 0): p50 {statistics.median(lat) * 1e3:.0f} ms, max {lat[-1] * 1e3:.0f} ms")
    print(f"outbox after: {counts}")
    if len(arrived) != n:
        sys.exit(f"only {len(arrived)} of {n} messages arrived")


if __name__ == "__main__":
    main()
