#!/usr/bin/env python3
"""Benchmark `analyze --baseline`: what comparing with a good boot costs, and that it stays bounded.

Builds a log of at least --mb megabytes by repeating every real console under samples/ (so it
holds thousands of boots and templates the good boot never printed), then runs, as whole
processes, `analyze --json` with and without `--baseline samples/qemu/healthy/serial.log` and
prints wall time, throughput, peak RSS and the size of the `baseline` object (bounded by
MAX_NEW_LINES per boot however large the log).

Usage: python bench/baseline.py [--mb 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "samples/qemu/healthy/serial.log"
CMD = [sys.executable, "-m", "consolewatch"]


def big_log(mb: float, folder: Path) -> Path:
    parts = [p.read_bytes() for p in sorted((ROOT / "samples").rglob("*.log")) if p.is_file()]
    block = b"\n".join(parts) + b"\n"
    path = folder / "big.log"
    with path.open("wb") as f:
        written = 0
        while written < mb * (1 << 20):
            f.write(block)
            written += len(block)
    return path


def run(*args: str) -> tuple[float, int, dict]:
    """(seconds, peak RSS in MB of the child, the JSON document)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    r = subprocess.run([*CMD, "analyze", "--json", "--fail-on", "never", *args], capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if r.returncode not in (0, 1):
        raise SystemExit(r.stderr.decode(errors="replace"))
    return seconds, max(rss, before) // 1024, json.loads(r.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = big_log(args.mb, Path(tmp))
        size = log.stat().st_size / (1 << 20)
        lines = log.read_bytes().count(b"\n")
        print(f"log: {size:.1f} MB, {lines:,} lines (every real console under samples/, repeated)")
        plain_s, plain_rss, _ = run(str(log))
        print(f"  analyze                 {plain_s:7.1f} s  {size / plain_s:6.2f} MB/s  peak RSS {plain_rss} MB")
        base_s, base_rss, doc = run(str(log), "--baseline", str(GOOD))
        b = doc["baseline"]
        print(f"  analyze --baseline      {base_s:7.1f} s  {size / base_s:6.2f} MB/s  peak RSS {base_rss} MB"
              f"  ({(base_s - plain_s) / lines * 1e6:.1f} us/line more)")
        print(f"  last boot: {b['lines_compared']} lines compared, {b['new_line_total']} new, "
              f"{len(b['new_lines'])} templates listed; JSON baseline object {len(json.dumps(b)) / 1024:.1f} KB")
        small_s, _, _ = run(str(ROOT / "samples/qemu/fs-error/serial.log"), "--baseline", str(GOOD))
        print(f"  one real boot (fs-error vs healthy), whole process: {small_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
