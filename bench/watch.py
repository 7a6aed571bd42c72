#!/usr/bin/env python3
"""`consolewatch watch` following many machines in one process: CPU and memory.

Starts N growing console files (real boot logs from samples/ replayed line by line at a
steady rate, as N machines booting), runs `consolewatch watch file:... --json` on all of them
for a while, then reports the watch process's CPU seconds per target-minute and peak RSS.

Usage: python bench/watch.py [--targets 200] [--seconds 60] [--lines-per-second 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from itertools import cycle
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--lines-per-second", type=float, default=5, help="per target")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cw-watch-"))
    logs = sorted((ROOT / "samples").rglob("*.log"))
    sources = [p.read_bytes().splitlines(keepends=True) for p in logs]
    files, feeds = [], []
    for i in range(args.targets):
        path = work / f"vm{i:03d}.log"
        path.write_bytes(b"")
        files.append(path.open("ab", buffering=0))
        feeds.append(cycle(sources[i % len(sources)]))
    targets = [f"file:{work / f'vm{i:03d}.log'}" for i in range(args.targets)]
    (work / "targets.txt").write_text("\n".join(targets) + "\n")
    env = {**os.environ, "CONSOLEWATCH_DATA_DIR": str(work / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "consolewatch", "watch", "--targets-file", str(work / "targets.txt"), "--json",
         "--stall-after", "0", "--concurrency", str(args.targets)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    start = time.monotonic()
    written = 0
    interval = 1.0 / args.lines_per_second
    next_tick = start
    while time.monotonic() - start < args.seconds:
        for f, feed in zip(files, feeds):
            f.write(next(feed))
            written += 1
        next_tick += interval
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - start
    proc.send_signal(signal.SIGINT)
    proc.wait(120)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    minutes = elapsed / 60
    print(f"{args.targets} targets for {elapsed:.0f} s, {written:,} lines written ({written / elapsed:.0f} lines/s)")
    print(f"watch process: {cpu:.1f} CPU s in all, {cpu / (args.targets * minutes):.3f} CPU s per target-minute, "
          f"peak RSS {usage.ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
