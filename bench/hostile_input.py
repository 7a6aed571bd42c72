"""Adversarial consoles through the whole pipeline: time and memory must grow linearly.

Each family is a kind of input a hostile or broken guest can print that once made (or could
make) a normaliser step superlinear: runs of carriage returns (issue 12 item 1), cursor jumps
and erasures, huge CSI parameters, unterminated OSC strings, bidi and zero-width floods, a
line with no end, one-byte chunks. For every family the script feeds 1/8, 1/4, 1/2 and 1 of
`--mb` megabytes through `Session` (normaliser, scanner, boot tracker, rule engine) and prints
CPU seconds, MB/s and the ratio of the largest time to the smallest (linear: about 8).

    python bench/hostile_input.py            # 1 MB per family
    python bench/hostile_input.py --mb 8     # bigger
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile import FAMILIES, chunks_of  # noqa: E402


def run(family: str, size: int) -> float:
    from consolewatch import definitions
    from consolewatch.detect.catalog import Catalog
    from consolewatch.session import Session

    catalog = run.catalog = getattr(run, "catalog", None) or Catalog(definitions.load(definitions.search_path([])))
    session = Session(catalog)
    pieces = list(chunks_of(family, size))
    t0 = time.process_time()
    for chunk in pieces:
        session.feed(chunk)
    session.finish()
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--family", action="append", help="only these families")
    args = ap.parse_args()
    full = int(args.mb * (1 << 20))
    sizes = [full // 8, full // 4, full // 2, full]
    print(f"{'family':<18} " + " ".join(f"{s / (1 << 20):>8.3f}MB" for s in sizes) + "    MB/s  ratio")
    worst = 0.0
    for name in args.family or list(FAMILIES):
        times = [run(name, s) for s in sizes]
        ratio = times[-1] / max(times[0], 1e-3)
        worst = max(worst, ratio)
        rate = full / (1 << 20) / max(times[-1], 1e-6)
        print(f"{name:<18} " + " ".join(f"{t:>9.3f}s" for t in times) + f" {rate:>7.1f} {ratio:>6.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB; size x8 -> time x{worst:.1f} at worst (linear: ~8, quadratic: ~64)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
