#!/usr/bin/env python3
"""How long a console line takes from being written to appearing in `tail --json` output.

Two sources, each as a whole `consolewatch tail` process:
  - file:  a growing file (libvirt/Firecracker console logs, QEMU -serial file:);
  - qemu:  a unix socket served the way QEMU's `-serial unix:PATH,server=on` serves it.
A writer emits lines carrying a sequence number at random intervals (0-200 ms); a reader
timestamps each `line` event. Prints p50, p99 and max in milliseconds.

Usage: python bench/tail_latency.py [--lines 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CMD = [sys.executable, "-m", "consolewatch", "tail", "--json", "--stall-after", "0", "--new"]


def measure(target: str, write, n: int, env: dict) -> list[float]:
    proc = subprocess.Popen([*CMD, target], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    sent: dict[str, float] = {}
    got: dict[str, float] = {}

    def reader() -> None:
        for raw in proc.stdout:  # type: ignore[union-attr]
            ev = json.loads(raw)
            if ev["type"] == "line" and ev["text"].startswith("latency-probe "):
                got[ev["text"]] = time.perf_counter()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(1.5)  # the process imports and opens its source
    for i in range(n):
        text = f"latency-probe {i} " + "x" * random.randint(10, 100)
        sent[text] = time.perf_counter()
        write((text + "\r\n").encode())
        time.sleep(random.uniform(0, 0.2))
    deadline = time.time() + 5
    while len(got) < n and time.time() < deadline:
        time.sleep(0.05)
    proc.terminate()
    proc.wait(10)
    missing = n - len(got)
    if missing:
        print(f"  {missing} lines never appeared", file=sys.stderr)
    return [(got[k] - sent[k]) * 1000 for k in got]


def report(name: str, ms: list[float]) -> None:
    ms.sort()
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{name}: {len(ms)} lines, p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=300)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cw-latency-"))
    env = {**os.environ, "CONSOLEWATCH_DATA_DIR": str(work / "data")}

    log = work / "console.log"
    log.write_bytes(b"")
    f = log.open("ab", buffering=0)
    report("file:  (growing file)", measure(f"file:{log}", f.write, args.lines, env))

    path = str(work / "serial.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    conns: list[socket.socket] = []
    threading.Thread(target=lambda: conns.append(server.accept()[0]), daemon=True).start()

    def send(data: bytes) -> None:
        while not conns:
            time.sleep(0.01)
        conns[0].sendall(data)

    report("qemu:  (unix socket, as -serial unix:...,server=on)", measure(f"qemu:{path}", send, args.lines, env))


if __name__ == "__main__":
    main()
