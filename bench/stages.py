#!/usr/bin/env python3
"""Where `analyze` spends its CPU time, stage by stage, on one console file.

Feeds FILE through the real pipeline in 1 MB chunks (as `analyze` reads it) and prints the CPU
seconds (this process's user+sys, so other load on the machine does not count) of each stage:

  assemble   bytes -> sanitised complete lines (normalize/assembler.py, terminal.py)
  scan       the multi-pattern scan over whole blocks (normalize/scanner.py)
  lines      per flagged line: stamps, formats, boots (normalize/normalizer.py, catalog.read)
  engine     rules, milestones, boot closing (detect/engine.py, conditions.py, firing.py,
             closing.py, bootstate.py)
  json       building and printing the analyze --json document

Start-up (imports, loading and compiling definitions) is printed apart.

Usage: python bench/stages.py FILE [--profile N]   (--profile: also the top N functions, cProfile)
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = time.process_time()
from consolewatch.cli.common import collecting_less_often, load_catalog  # noqa: E402
from consolewatch.inputs import READ_SIZE  # noqa: E402
from consolewatch.model import Chunk  # noqa: E402
from consolewatch.session import Session  # noqa: E402
from consolewatch.sinks.jsonout import analysis_dict, dumps  # noqa: E402


class Clock:
    """CPU seconds per stage; a stage timed inside another is subtracted from it."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._stack: list[list] = []

    def wrap(self, name: str, fn):
        def timed(*a, **kw):
            self._stack.append([name, time.process_time(), 0.0])
            try:
                return fn(*a, **kw)
            finally:
                stage, t0, inner = self._stack.pop()
                dt = time.process_time() - t0
                self.spent[stage] = self.spent.get(stage, 0.0) + dt - inner
                if self._stack:
                    self._stack[-1][2] += dt
        return timed


def run(path: str, clock: Clock) -> tuple[float, str]:
    t = time.process_time()
    catalog = load_catalog([])
    session = Session(catalog)
    startup = time.process_time() - t
    norm = session.normalizer
    catalog.scanner.scan = clock.wrap("scan", catalog.scanner.scan)
    norm.feed = clock.wrap("lines", norm.feed)
    norm.flush = clock.wrap("lines", norm.flush)
    session.engine.feed = clock.wrap("engine", session.engine.feed)
    session.engine.finish = clock.wrap("engine", session.engine.finish)
    asm = norm._assembler(Path(path).name)  # created here so its feed can be timed
    asm.feed = clock.wrap("assemble", asm.feed)
    with collecting_less_often(), open(path, "rb") as f:  # as `analyze` runs
        while data := f.read(READ_SIZE):
            session.feed(Chunk(Path(path).name, data))
        session.end_source(Path(path).name)
        session.finish()
    doc = clock.wrap("json", lambda: dumps(analysis_dict(session.result())) + "\n")()
    return startup, doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    args = ap.parse_args()
    clock = Clock()
    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.process_time()
    imports = t0 - T0
    catalog, _ = run(args.file, clock)
    total = time.process_time() - t0 - catalog
    if prof is not None:
        prof.disable()
    mb = Path(args.file).stat().st_size / (1 << 20)
    print(f"{args.file}: {mb:.1f} MB; CPU seconds per stage{' (under cProfile)' if prof else ''}:")
    print(f"  {'start-up':<9} {imports + catalog:7.2f}   (imports, definitions)")
    for name in ("assemble", "scan", "lines", "engine", "json"):
        print(f"  {name:<9} {clock.spent.get(name, 0.0):7.2f}")
    other = total - sum(clock.spent.values())
    print(f"  {'other':<9} {other:7.2f}   (reading, session glue)")
    print(f"  {'total':<9} {total + imports + catalog:7.2f}   {mb / max(total, 1e-9):.1f} MB/s after start-up")
    if prof is not None:
        import pstats

        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
