#!/usr/bin/env python3
"""Compare `analyze --json` and `tail --json` of two checkouts on every case under samples/.

A refactoring of the pipeline (normaliser, scanner, engine) must not change what `analyze`
concludes. This runs every case folder (the files its meta.yaml lists, with the arguments its
expected.yaml gives) through `consolewatch analyze --json`, once with the verdict boot and once
with `--boot all`, and each of its text files through `tail --json --no-follow` (the timeline:
every line with its sequence number, boot and stamps, then findings and outcomes; the time a
line was read left out), in this checkout and in a base checkout, and prints each case whose
JSON documents or exit statuses differ (samples/blind/ too, unless --skip-blind). Exit status 1
when any does.

    python bench/compare_json.py --base-ref main          # base: `git archive main` in a temp dir
    python bench/compare_json.py --base-ref main --skip-blind   # every case outside samples/blind/
    python bench/compare_json.py --base /path/to/checkout

Each checkout runs in its own process (the package is imported from that checkout), with the
Python running this script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# Runs inside a checkout: analyze every case given as JSON on stdin, print one JSON object a line.
DRIVER = r"""
import contextlib, io, json, sys
from consolewatch.cli import main
for case in json.load(sys.stdin):
    for scope in ("last", "all"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                status = main(["analyze", "--json", "--boot", scope, *case["args"], *case["files"]])
            except SystemExit as exc:
                status = exc.code
        print(json.dumps({"case": case["name"], "scope": scope, "status": status, "json": out.getvalue()}))
    # The timeline: every line, finding and outcome `tail --json` prints for each text file of
    # the case, without the wall-clock time a line was read (observed_at).
    for path in case["files"]:
        if not path.endswith((".log", ".txt")):
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                status = main(["tail", "--json", "--no-follow", "file:" + path])
            except SystemExit as exc:
                status = exc.code
        events = [json.loads(e) for e in out.getvalue().splitlines()]
        for e in events:
            e.pop("observed_at", None)
        print(json.dumps({"case": case["name"], "scope": "tail " + path.rsplit("/", 1)[-1], "status": status,
                          "json": json.dumps(events)}))
"""


#: Cases per pair of driver processes: a driver grows by ~10 MB a case (1,215 cases: ~12 GB each,
#: and two of them at once exhausted a 24 GB host), so each batch gets new ones.
BATCH = 100


def _expected(samples: Path, skip_blind: bool) -> list[Path]:
    """Every case's expected.yaml; with `skip_blind`, no blind/ folder is even listed."""
    found = []
    for top, dirs, files in os.walk(samples):
        if skip_blind:
            dirs[:] = [d for d in dirs if d != "blind"]
        if "expected.yaml" in files:
            found.append(Path(top) / "expected.yaml")
    return found


def cases(samples: Path, skip_blind: bool = False) -> list[dict]:
    out = []
    for exp in sorted(_expected(samples, skip_blind)):
        case = exp.parent
        meta = yaml.safe_load((case / "meta.yaml").read_text(encoding="utf-8")) or {}
        expected = yaml.safe_load(exp.read_text(encoding="utf-8")) or {}
        files = [str(case / f) for f in meta.get("files") or []]
        if files:
            args = [str(a) for a in expected.get("args", [])]
            if "--boot" in args:  # the scope is set by the driver
                i = args.index("--boot")
                del args[i: i + 2]
            out.append({"name": str(case.relative_to(samples)), "files": files, "args": args})
    return out


def start(checkout: Path, todo: list[dict], out, data_dir: str) -> subprocess.Popen:
    # Each side keeps its own store: `tail` records its capture there, and one store takes one
    # writer per target, so two sides following one file at once would refuse each other (exit 2).
    env = {**os.environ, "CONSOLEWATCH_DATA_DIR": data_dir}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=checkout, stdin=subprocess.PIPE, stdout=out,
                            stderr=subprocess.PIPE, text=True, env=env)
    proc.stdin.write(json.dumps(todo))
    proc.stdin.close()
    return proc


def collect(checkout: Path, proc: subprocess.Popen, out) -> dict[tuple[str, str], dict]:
    err = proc.stderr.read()
    if proc.wait() != 0:
        sys.exit(f"{checkout}: the driver failed:\n{err[-3000:]}")
    out.seek(0)
    got = {}
    for line in out:
        r = json.loads(line)
        got[(r["case"], r["scope"])] = r
    return got


def first_difference(a: str, b: str) -> str:
    try:
        da, db = json.loads(a), json.loads(b)
    except ValueError:
        return "not JSON"
    def walk(x, y, path):
        if type(x) is not type(y):
            return f"{path}: {x!r:.120} != {y!r:.120}"
        if isinstance(x, dict):
            for k in sorted(set(x) | set(y), key=str):
                if k not in x or k not in y:
                    return f"{path}.{k}: only in {'this' if k in y else 'base'}"
                d = walk(x[k], y[k], f"{path}.{k}")
                if d:
                    return d
            return ""
        if isinstance(x, list):
            if len(x) != len(y):
                return f"{path}: {len(x)} items != {len(y)}"
            for i, (p, q) in enumerate(zip(x, y)):
                d = walk(p, q, f"{path}[{i}]")
                if d:
                    return d
            return ""
        return "" if x == y else f"{path}: {x!r:.120} != {y!r:.120}"
    return walk(da, db, "$")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    base_arg = ap.add_mutually_exclusive_group(required=True)
    base_arg.add_argument("--base", type=Path, help="a checkout to compare with")
    base_arg.add_argument("--base-ref", help="a git ref of this repository, exported to a temp dir")
    ap.add_argument("--samples", type=Path, default=ROOT / "samples", help="the cases (default: this checkout's)")
    ap.add_argument("--skip-blind", action="store_true", help="leave out every case under a blind/ folder")
    args = ap.parse_args()
    todo = cases(args.samples.resolve(), args.skip_blind)
    with tempfile.TemporaryDirectory(prefix="cw-base-") as tmp:
        base = args.base
        if base is None:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base_ref], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
            base = Path(tmp)
        ref: dict[tuple[str, str], dict] = {}
        now: dict[tuple[str, str], dict] = {}
        for at in range(0, len(todo), BATCH):
            part = todo[at: at + BATCH]
            with tempfile.TemporaryFile("w+") as out_ref, tempfile.TemporaryFile("w+") as out_now:
                # Both at once (two cores); each writes to a file, so neither blocks on a pipe.
                stores = (os.path.join(tmp, f".store-base-{at}"), os.path.join(tmp, f".store-this-{at}"))
                p_ref, p_now = start(base.resolve(), part, out_ref, stores[0]), start(ROOT, part, out_now, stores[1])
                ref.update(collect(base, p_ref, out_ref))
                now.update(collect(ROOT, p_now, out_now))
    differ = 0
    for key in sorted(ref):
        a, b = ref[key], now.get(key)
        if b is None or a["status"] != b["status"] or a["json"] != b["json"]:
            differ += 1
            why = "missing" if b is None else (f"exit {a['status']} != {b['status']}" if a["status"] != b["status"]
                                               else first_difference(a["json"], b["json"]))
            print(f"DIFFERS {key[0]} (--boot {key[1]}): {why}")
    print(f"{len(todo)} cases, {len(ref)} runs (2 scopes of analyze, tail of each text file): "
          f"{len(ref) - differ} identical, {differ} different"
          f" (base {args.base or args.base_ref}, samples {args.samples})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
