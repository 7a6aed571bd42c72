#!/usr/bin/env python3
"""A/B: CPU time of `analyze --json` in two checkouts, runs interleaved, on a shared machine.

On a machine other people use, one run's CPU time moves by 10-20 % with the load. Timing the
base and this checkout one after the other (A B A B ...) under the same load and taking the
minimum of each side shows a change of a few percent. Prints, per side, the min and median CPU
seconds (user+sys of the child), MB/s by the min, peak RSS, and the load average before and
after; and whether both sides printed the same JSON document.

    python bench/ab_analyze.py LOG --base-ref main            # base: `git archive main` in a temp dir
    python bench/ab_analyze.py LOG --base /path/to/checkout [--runs 5] [-- extra analyze args]

Each side runs `python -m consolewatch` from its own checkout, with the Python running this script;
one untimed run per side first fills the caches a checkout's first run compiles.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(checkout: Path, log: Path, extra: list[str], out: Path) -> tuple[float, float, str]:
    """CPU seconds, peak RSS in MB and a digest of stdout of one analyze run in `checkout`."""
    cmd = [sys.executable, "-m", "consolewatch", "analyze", "--json", "--fail-on", "never", *extra, str(log)]
    with out.open("wb") as f:
        proc = subprocess.Popen(cmd, cwd=checkout, stdout=f, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"{checkout}: analyze failed ({os.waitstatus_to_exitcode(status)})")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", type=Path)
    side = ap.add_mutually_exclusive_group(required=True)
    side.add_argument("--base", type=Path, help="the other checkout")
    side.add_argument("--base-ref", help="a git ref of this repository, exported to a temp dir")
    ap.add_argument("--runs", type=int, default=3, help="runs per side (default 3)")
    ap.add_argument("extra", nargs="*", help="more analyze arguments (after --)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cw-ab-"))
    try:
        base = args.base
        if base is None:
            base = tmp / "base"
            base.mkdir()
            # Piped, not read into this process: a child's peak RSS (wait4) counts this process's
            # peak at the time it was spawned.
            archive = subprocess.Popen(["git", "archive", args.base_ref], cwd=ROOT, stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(base)], stdin=archive.stdout, check=True)
            archive.stdout.close()  # type: ignore[union-attr]
            if archive.wait():
                sys.exit(f"git archive {args.base_ref} failed")
        sides = {"base": base.resolve(), "this": ROOT}
        mb = args.log.stat().st_size / (1 << 20)
        load0 = os.getloadavg()[0]
        cpu: dict[str, list[float]] = {k: [] for k in sides}
        rss: dict[str, float] = {k: 0.0 for k in sides}
        digests: dict[str, set[str]] = {k: set() for k in sides}
        for checkout in sides.values():  # untimed: fills the caches a side's first run would compile
            one_run(checkout, args.log, args.extra, tmp / "warm.json")
        for _ in range(args.runs):
            for name, checkout in sides.items():
                c, r, d = one_run(checkout, args.log, args.extra, tmp / f"{name}.json")
                cpu[name].append(c)
                rss[name] = max(rss[name], r)
                digests[name].add(d)
        print(f"{args.log} ({mb:.1f} MB), {args.runs} interleaved runs per side, "
              f"load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after")
        for name, checkout in sides.items():
            best = min(cpu[name])
            print(f"  {name:<5} CPU min {best:.2f} s ({mb / best:.1f} MB/s), median {statistics.median(cpu[name]):.2f} s, "
                  f"peak RSS {rss[name]:.0f} MB  ({checkout})")
        print(f"  this/base by min CPU: {min(cpu['this']) / min(cpu['base']):.3f}")
        same = len(digests["base"] | digests["this"]) == 1
        print(f"  JSON output: {'identical' if same else 'DIFFERENT'}")
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
