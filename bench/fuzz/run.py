"""Coverage-guided fuzzing of one target with atheris (libFuzzer), and a summary to stdout.

    pip install -e '.[fuzz]'                       # atheris (the `fuzz` extra)
    python bench/fuzz/run.py normalizer --runs 200000
    python bench/fuzz/run.py --all --runs 200000   # every target, one after the other
    python bench/fuzz/run.py chat --seconds 600    # at most ten minutes (the slow targets)

Seeds come from `tests/fuzz_corpus/TARGET/` (the inputs that once failed and the real
samples each directory holds); new coverage is kept in `bench/fuzz/work/TARGET/` (not
committed). libFuzzer is run with `-rss_limit_mb=250`, so a run that passes also stayed
under 250 MB. A crash leaves `bench/fuzz/work/crash-*`: copy it into the corpus once fixed.
Prints, per target: executions, seconds, executions per second, peak RSS, and the result.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT / "tests" / "fuzz_corpus"
WORK = HERE / "work"
RSS_LIMIT_MB = 250


def child(target: str, argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["consolewatch"]):
        sys.path.insert(0, str(HERE))
        import importlib

        import targets
        for module in targets.INSTRUMENT:  # instrumented before use (targets import lazily)
            importlib.import_module(module)
    fn = targets.TARGETS[target]
    fn(b"\x00warm-up")
    if target == "engine":
        targets.catalog()
    atheris.Setup([sys.argv[0], *argv], fn)
    atheris.Fuzz()


def fuzz(target: str, runs: int, max_len: int, seconds: int = 0) -> dict:
    work = WORK / target
    work.mkdir(parents=True, exist_ok=True)
    seeds = CORPUS / target
    args = [f"-runs={runs}", f"-rss_limit_mb={RSS_LIMIT_MB}", f"-max_len={max_len}", "-print_final_stats=1",
            f"-artifact_prefix={WORK}/crash-{target}-", "-timeout=30", f"-max_total_time={seconds}", str(work), str(seeds)]
    t0 = time.time()
    proc = subprocess.run([sys.executable, __file__, "--child", target, "--", *args],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.time() - t0
    log = proc.stdout + proc.stderr
    (WORK / f"{target}.log").write_text(log)
    execs = _stat(log, "number_of_executed_units")
    rss = _stat(log, "peak_rss_mb")
    return {"target": target, "execs": execs, "seconds": seconds, "rss_mb": rss,
            "ok": proc.returncode == 0 and "ERROR:" not in log}


def _stat(log: str, name: str) -> int:
    m = re.search(rf"stat::{name}:\s*(\d+)", log)
    return int(m.group(1)) if m else 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[4:])
        return 0
    sys.path.insert(0, str(HERE))
    import targets

    ap = argparse.ArgumentParser(description="fuzz consolewatch's parsers with atheris")
    ap.add_argument("target", nargs="*", help=f"one of: {', '.join(targets.TARGETS)}")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--runs", type=int, default=100_000, help="executions per target")
    ap.add_argument("--max-len", type=int, default=4096)
    ap.add_argument("--seconds", type=int, default=0, help="stop a target after this long (0: no limit)")
    args = ap.parse_args()
    names = list(targets.TARGETS) if args.all else args.target
    if not names:
        ap.error("name a target or --all")
    total, ok = 0, True
    print(f"{'target':<16} {'executions':>11} {'seconds':>8} {'exec/s':>7} {'peak RSS':>9}  result")
    for name in names:
        r = fuzz(name, args.runs, args.max_len, args.seconds)
        total += r["execs"]
        ok &= r["ok"]
        rate = r["execs"] / max(r["seconds"], 1e-6)
        print(f"{name:<16} {r['execs']:>11,} {r['seconds']:>8.0f} {rate:>7.0f} {r['rss_mb']:>6} MB  "
              + ("ok" if r["ok"] else f"FAILED (see {WORK / (name + '.log')})"), flush=True)
    print(f"{'total':<16} {total:>11,}  (RSS limit {RSS_LIMIT_MB} MB per target)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
