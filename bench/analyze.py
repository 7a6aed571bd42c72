#!/usr/bin/env python3
"""Benchmark `consolewatch analyze`: throughput, memory, grep ratio and cold start.

Builds a log of at least --mb megabytes by repeating every real console under samples/, then
prints, as whole processes:
  - analyze --json throughput (MB/s) and peak RSS;
  - `grep -E -c -f` of the engine's own regexes on the same file (converted from Python `re`
    syntax to ERE), and the ratio between the two;
  - cold-start wall time of `consolewatch --help` and of `analyze` on a 64 KB log (median of N).

Usage: python bench/analyze.py [--mb 100] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consolewatch import definitions  # noqa: E402
from consolewatch.detect.catalog import Catalog  # noqa: E402

CMD = [sys.executable, "-m", "consolewatch"]


def sample_consoles() -> bytes:
    parts = []
    for p in sorted((ROOT / "samples").rglob("*")):
        if p.is_file() and p.suffix in (".log", ".txt") and p.name != "README.md":
            parts.append(p.read_bytes())
    if not parts:
        sys.exit("no sample consoles under samples/")
    return b"\n".join(parts) + b"\n"


def build_log(path: Path, mb: int) -> int:
    unit = sample_consoles()
    reps = (mb << 20) // len(unit) + 1
    with path.open("wb") as f:
        for _ in range(reps):
            f.write(unit)
    return path.stat().st_size


def timed(cmd: list[str], **kw) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS (KB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    # stdout to a pipe, not /dev/null: GNU grep stops at the first match when writing to /dev/null
    proc = subprocess.run(cmd, capture_output=True, **kw)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return wall, proc.returncode, max(after, before)


def peak_rss(cmd: list[str]) -> int:
    """Peak RSS (KB) of one run, measured in a fresh child so earlier runs don't mask it."""
    code = (
        "import resource,subprocess,sys;"
        "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


_ERE = [
    (re.compile(r"\(\?P<\w+>"), "("),
    (re.compile(r"\(\?:"), "("),
    (re.compile(r"\\d"), "[0-9]"),
    (re.compile(r"\\s"), "[[:space:]]"),
    (re.compile(r"\\S"), "[^[:space:]]"),
    (re.compile(r"\\w"), "[[:alnum:]_]"),
    (re.compile(r"([*+?}])\?"), r"\1"),
]


def to_ere(src: str) -> str | None:
    if re.search(r"\(\?[=!<]|\\[bBAZ]|\(\?[aiLmsux-]", src):
        return None  # lookarounds, word boundaries, inline flags: no ERE equivalent
    for rx, rep in _ERE:
        src = rx.sub(rep, src)
    return src


def engine_regexes() -> tuple[list[str], int]:
    catalog = Catalog(definitions.load())
    sources = [p.regex.pattern for p in catalog.patterns.values()]
    sources += sorted({m.regex.pattern for r in catalog.rules for m in r.matchers if m.regex is not None})
    ere = [e for e in (to_ere(s) for s in sources) if e is not None]
    return ere, len(sources) - len(ere)


def median_wall(cmd: list[str], runs: int) -> float:
    return statistics.median(timed(cmd)[0] for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="build the logs in this directory and keep them")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="cw-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        big = work / "big.log"
        size = build_log(big, args.mb)
        mb = size / (1 << 20)
        print(f"log: {mb:.1f} MB, {sum(1 for _ in big.open('rb')):,} lines, from samples/")

        wall, _, _ = timed([*CMD, "analyze", "--json", "--fail-on", "never", str(big)])
        rss = peak_rss([*CMD, "analyze", "--json", "--fail-on", "never", str(big)])
        print(f"analyze --json: {wall:.2f} s  {mb / wall:.1f} MB/s  peak RSS {rss / 1024:.0f} MB")

        ere, skipped = engine_regexes()
        pats = work / "patterns.ere"
        pats.write_text("\n".join(ere) + "\n")
        grep = shutil.which("grep")
        env = {**os.environ, "LC_ALL": "C"}
        gwall = statistics.median(timed([grep, "-E", "-c", "-f", str(pats), str(big)], env=env)[0] for _ in range(3))
        print(f"grep -E -c -f ({len(ere)} regexes, {skipped} without an ERE form, LC_ALL=C): "
              f"{gwall:.2f} s  {mb / gwall:.1f} MB/s")
        print(f"ratio analyze/grep: {wall / gwall:.1f}x")

        small = work / "64k.log"
        small.write_bytes(big.read_bytes()[: 64 << 10])
        print(f"cold start, median of {args.runs}: consolewatch --help "
              f"{median_wall([*CMD, '--help'], args.runs) * 1000:.0f} ms; "
              f"analyze of a 64 KB log {median_wall([*CMD, 'analyze', '--fail-on', 'never', str(small)], args.runs) * 1000:.0f} ms")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
