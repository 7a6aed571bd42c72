#!/usr/bin/env python3
"""Benchmark `consolewatch analyze`: throughput, memory, the grep baseline and cold start.

Builds a log of at least --mb megabytes by repeating every real console under samples/ (the
blind set, samples/blind/, included: it is real consoles too), or takes --log FILE, and prints,
each measured on whole processes:
  - analyze --json on the whole log: wall and CPU seconds (user+sys of the child), MB/s by
    both, peak RSS; the median of --runs runs;
  - the fixed grep baseline, `grep -E -c -f shared/bench/signatures.txt LOG` (50 ERE patterns,
    the environment's locale, output to a file: GNU grep stops early when it writes to
    /dev/null), and the ratio analyze/grep by CPU and by wall;
  - analyze --json on the log with its printk times moved later by 1 us per 64 KB block
    (`restamp`): the mix repeats its consoles, and a repeated line costs less than a new one
    (`analyze` remembers what it read of a line); a fleet's archive repeats messages, not times;
  - analyze --json on the first 1 MB and 10 MB of the log (one full GCE port buffer, and ten);
  - cold start: `consolewatch --help` and analyze of a 64 KB log (median of --runs).
The analyze of the whole log and the cold start are printed twice: as this environment runs the
child (with PYTHONDONTWRITEBYTECODE set, every module is compiled from source in every process)
and as installed (bytecode written once to a private PYTHONPYCACHEPREFIX, then read).
One analyze of the 64 KB log runs first, untimed, to fill the definitions and scanner caches.

The machine may be shared: wall time includes waiting for a core, CPU time does not. Compare
CPU figures between runs; wall figures only on an idle machine.

Usage: python bench/analyze.py [--mb 100] [--runs 3] [--log FILE] [--keep DIR] [--signatures FILE]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
CMD = [sys.executable, "-m", "consolewatch"]
ANALYZE = [*CMD, "analyze", "--json", "--fail-on", "never"]


class Run(NamedTuple):
    wall: float
    cpu: float
    """user + sys seconds of the child."""
    rss_mb: float
    status: int


def run(cmd: list[str], out_dir: Path, env: dict[str, str] | None = None) -> Run:
    """One child process; stdout and stderr go to files (not /dev/null, see the module doc)."""
    import time

    with open(out_dir / "stdout", "wb") as out, open(out_dir / "stderr", "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {(out_dir / 'stderr').read_text()[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


#: How the second set of figures runs the child: as a pip install does (bytecode written once).
INSTALLED = "as installed (bytecode cached)"


def installed_env(work: Path) -> dict[str, str]:
    """The environment of a child that reads bytecode as an installed copy does (pip compiles every
    module when it installs): PYTHONDONTWRITEBYTECODE dropped (a sandbox may set it, and then every
    process compiles the ~70 modules it imports from source, ~36 ms here), the bytecode kept in a
    private PYTHONPYCACHEPREFIX under `work` (written by a warm-up run; the checkout is not touched)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def median_run(cmd: list[str], runs: int, out_dir: Path, env: dict[str, str] | None = None) -> Run:
    got = [run(cmd, out_dir, env) for _ in range(runs)]
    return Run(statistics.median(r.wall for r in got), statistics.median(r.cpu for r in got),
               max(r.rss_mb for r in got), got[-1].status)


def sample_consoles() -> bytes:
    parts = []
    for p in sorted((ROOT / "samples").rglob("*")):
        if p.is_file() and p.suffix in (".log", ".txt") and p.name != "README.md":
            parts.append(p.read_bytes())
    if not parts:
        sys.exit("no sample consoles under samples/")
    return b"\n".join(parts) + b"\n"


def build_log(path: Path, mb: int) -> None:
    unit = sample_consoles()
    with path.open("wb") as f:
        for _ in range((mb << 20) // len(unit) + 1):
            f.write(unit)


_PRINTK = re.compile(rb"\[( *)(\d+)\.(\d{6})\]")


def _later(m: re.Match[bytes], shift: int) -> bytes:
    """A printk time `shift` microseconds later, in the same width (0.000000 kept: a boot's start)."""
    if m[2] == b"0" and m[3] == b"000000":
        return m[0]
    body = b"%d.%06d" % divmod(int(m[2]) * 1_000_000 + int(m[3]) + shift, 1_000_000)
    return b"[" + body.rjust(len(m[1]) + len(m[2]) + 7) + b"]"


def restamp(src: Path, dst: Path, block: int = 64 << 10) -> None:
    """`src` with every printk time but 0.000000 moved later by one microsecond per 64 KB block
    before it: the mix repeats its consoles, so without this every copy after the first meets
    lines the caches of `analyze` already hold (a fleet's consoles repeat messages under new
    clocks). Order and width are kept; syslog and ISO times are left as they are."""
    with src.open("rb") as f, dst.open("wb") as out:
        shift, rest = 0, b""
        while chunk := f.read(block):
            shift += 1
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            out.write(_PRINTK.sub(lambda m: _later(m, shift), chunk[:cut]))
            rest = chunk[cut:]
        out.write(_PRINTK.sub(lambda m: _later(m, shift), rest))


def head(src: Path, dst: Path, size: int) -> None:
    """The first `size` bytes of `src`, ending at a line end."""
    with src.open("rb") as f:
        data = f.read(size)
    dst.write_bytes(data[: data.rfind(b"\n") + 1] or data)


def find_signatures() -> Path | None:
    for base in (ROOT, *ROOT.parents):
        p = base / "shared" / "bench" / "signatures.txt"
        if p.is_file():
            return p
    return None


def line(label: str, r: Run, mb: float) -> str:
    return (f"{label}: CPU {r.cpu:.2f} s ({mb / r.cpu:.1f} MB/s), wall {r.wall:.2f} s ({mb / r.wall:.1f} MB/s), "
            f"peak RSS {r.rss_mb:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100, help="size of the log built from samples/")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--log", type=Path, help="use this log instead of building one (keeps the mix fixed)")
    ap.add_argument("--keep", help="build the logs in this directory and keep them")
    ap.add_argument("--signatures", type=Path, help="grep patterns (default: shared/bench/signatures.txt)")
    args = ap.parse_args()
    sigs = args.signatures or find_signatures()
    if sigs is None or not sigs.is_file():
        sys.exit("no grep baseline patterns: pass --signatures (shared/bench/signatures.txt)")
    work = Path(args.keep or tempfile.mkdtemp(prefix="cw-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        big = args.log or work / "big.log"
        if args.log is None:
            build_log(big, args.mb)
        mb = big.stat().st_size / (1 << 20)
        with big.open("rb") as f:
            count = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        print(f"log: {big} ({mb:.1f} MB, {count:,} lines); median of {args.runs} runs each")

        # The first run of a checkout whose definitions or patterns the caches do not hold yet
        # compiles them (~2.3 s CPU; its peak RSS ~13 MB higher for the whole run): once here,
        # on 64 KB, so every timed run reads the caches as a user's repeated runs do.
        small = work / "64k.log"
        head(big, small, 64 << 10)
        w = run([*ANALYZE, str(small)], work)
        print(f"cache warm-up (analyze of 64 KB, compiles what the caches lack): CPU {w.cpu:.2f} s, "
              f"peak RSS {w.rss_mb:.0f} MB")
        inst = installed_env(work)
        run([*ANALYZE, str(small)], work, inst)  # writes the bytecode the installed-like runs read
        run([*CMD, "--help"], work, inst)
        a = median_run([*ANALYZE, str(big)], args.runs, work)
        print(line("analyze --json", a, mb))
        ai = median_run([*ANALYZE, str(big)], args.runs, work, inst)
        print(line(f"analyze --json, {INSTALLED}", ai, mb))

        grep = shutil.which("grep") or "grep"
        n = sum(1 for s in sigs.read_text().splitlines() if s)
        g = median_run([grep, "-E", "-c", "-f", str(sigs), str(big)], max(args.runs, 3), work)
        locale = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or "C"
        print(f"grep -E -c -f {sigs.name} ({n} patterns, locale {locale}): CPU {g.cpu:.2f} s ({mb / g.cpu:.1f} MB/s), "
              f"wall {g.wall:.2f} s")
        print(f"ratio analyze/grep: {a.cpu / g.cpu:.1f}x by CPU, {a.wall / g.wall:.1f}x by wall "
              f"(goal: 5x, {5 * g.cpu:.2f} s CPU here); {INSTALLED}: {ai.cpu / g.cpu:.1f}x by CPU")
        varied = work / "restamped.log"
        restamp(big, varied)
        rv = median_run([*ANALYZE, str(varied)], args.runs, work)
        print(line("analyze --json, printk times moved per 64 KB (the mix's copies no longer repeat lines)", rv, mb)
              + f"; {rv.cpu / g.cpu:.1f}x grep by CPU")

        for size in (1, 10):
            part = work / f"{size}m.log"
            head(big, part, size << 20)
            r = median_run([*ANALYZE, str(part)], args.runs, work)
            print(line(f"analyze --json, first {size} MB", r, part.stat().st_size / (1 << 20)))

        runs = max(args.runs, 5)
        h = median_run([*CMD, "--help"], runs, work)
        s = median_run([*CMD, "analyze", "--fail-on", "never", str(small)], runs, work)
        print(f"cold start, median of {runs}: consolewatch --help {h.wall * 1000:.0f} ms (CPU {h.cpu * 1000:.0f} ms); "
              f"analyze of a 64 KB log {s.wall * 1000:.0f} ms (CPU {s.cpu * 1000:.0f} ms)")
        h = median_run([*CMD, "--help"], runs, work, inst)
        s = median_run([*CMD, "analyze", "--fail-on", "never", str(small)], runs, work, inst)
        print(f"cold start, {INSTALLED}: consolewatch --help {h.wall * 1000:.0f} ms (CPU {h.cpu * 1000:.0f} ms); "
              f"analyze of a 64 KB log {s.wall * 1000:.0f} ms (CPU {s.cpu * 1000:.0f} ms)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
