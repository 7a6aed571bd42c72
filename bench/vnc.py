#!/usr/bin/env python3
"""VNC (RFB) benchmark: frames per second decoded, CPU seconds per minute of a followed console,
and how much of a scrolling boot a follow reads, at what accuracy.

    python bench/vnc.py [--seconds 20] [--rates 2000,4000,8000] [--skip-follow] [--json]

1. Decoding, in-process, on screens of real boot logs drawn by the simulator (VGA text mode
   720x400 and a framebuffer console 1024x768): full-screen updates in ZRLE (as QEMU sends
   them) and Raw, scroll updates (CopyRect + the new rows in ZRLE), and what a picture then costs
   (PNG encoding, and the grid OCR reading it back). Figures are updates (or frames) per second.
2. CPU: the whole follow (RFB client, pictures, OCR, normaliser, detectors, JSON output) run in
   this process for --seconds against the simulated console in a child process: "busy" while
   real boot logs scroll by at 4000 B/s, "idle" on a finished boot whose cursor blinks. CPU
   seconds per minute of following = process CPU time / wall time * 60.
3. Coverage: `tail do:ID`-style follows of samples/qemu/dhcp-no-lease at each of --rates bytes
   per second (the console starts when the follow connects): lines read off the screen, how
   many are exactly a line of the log, character accuracy of the rest against the closest log line.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "qemu"))

from consolewatch.fetchers.rfb.framebuffer import Framebuffer, encode_png  # noqa: E402
from consolewatch.fetchers.rfb.protocol import CLIENT_FORMAT  # noqa: E402
from consolewatch.fetchers.rfb.zrle import ZrleDecoder  # noqa: E402
from consolewatch.sim.gce import sample_log  # noqa: E402
from consolewatch.sim.player import ConsolePlayer  # noqa: E402
from consolewatch.sim.vnc_screen import FBCON, VGA, SimScreen, ZrleEncoder, copy_rect, raw_rect  # noqa: E402

LOGS = ("qemu/healthy", "qemu/dhcp-no-lease", "qemu/oom", "qemu/fs-error")


def _screens(mode, count: int) -> list:
    """`count` pictures of real boot logs scrolling on a console in `mode`, one line apart."""
    lines = sample_log(*LOGS).split(b"\n")
    return [SimScreen(ConsolePlayer(b"\n".join(lines[: 40 + i]) + b"\n", bytes_per_second=0), mode=mode,
                      cursor=False).picture() for i in range(count)]


def _rate(fn, items: list, seconds: float = 2.0) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(items[n % len(items)])
        n += 1
    return n / (time.perf_counter() - start)


def decode_bench() -> dict:
    out: dict = {}
    for mode in (VGA, FBCON):
        w, h = mode.size
        pics = _screens(mode, 30)
        masks = [p.mask() for p in pics]
        zrle_full = [ZrleEncoder("auto").rect(m, w, 0, 0, w, h, CLIENT_FORMAT) for m in masks]
        raw_full = [raw_rect(m, w, 0, 0, w, h, CLIENT_FORMAT) for m in masks]
        enc = ZrleEncoder("auto")
        # a scroll by one line: CopyRect, then the two bottom rows (the new line, the cursor's row)
        scrolls = [copy_rect(0, 0, w, h - 16, 0, 16) + enc.rect(m, w, 0, h - 32, w, 32, CLIENT_FORMAT)
                   for m in masks]
        fb = Framebuffer(w, h)
        dec = [ZrleDecoder()]

        def full_zrle(rect: bytes) -> None:
            ZrleDecoder().decode(fb, 0, 0, w, h, rect[16:])

        def full_raw(rect: bytes) -> None:
            fb.put(0, 0, w, h, rect[12:])

        def scroll(update: bytes) -> None:
            if update is scrolls[0]:  # the updates share one zlib stream: start it again
                dec[0] = ZrleDecoder()
            fb.copy(0, 0, w, h - 16, 0, 16)
            dec[0].decode(fb, 0, h - 32, w, 32, update[32:])

        from consolewatch.ocr.reader import read_frame

        pngs = []

        def png(_: object) -> None:
            pngs.append(encode_png(*fb.snapshot()))

        scroll_rate = _rate(scroll, scrolls)
        out[f"{mode.name} {w}x{h}"] = {
            "zrle_full_per_s": round(_rate(full_zrle, zrle_full), 1),
            "zrle_full_bytes": sum(map(len, zrle_full)) // len(zrle_full),
            "raw_full_per_s": round(_rate(full_raw, raw_full), 1),
            "raw_full_bytes": len(raw_full[0]),
            "scroll_update_per_s": round(scroll_rate, 1),
            "scroll_update_bytes": sum(map(len, scrolls)) // len(scrolls),
            "png_per_s": round(_rate(png, [None]), 1),
            "ocr_grid_per_s": round(_rate(lambda im: read_frame(im, "image/png"), pngs[:5], 3.0), 1),
        }
    return out


# -- following ---------------------------------------------------------------------------------

def _serve(log_names: tuple[str, ...], rate: float, boot_on_connect: bool, conn) -> None:
    """Child process: the simulated console; sends its URL, runs until killed."""
    from consolewatch.sim.vnc import start_vnc_sim

    player = ConsolePlayer(sample_log(*log_names), bytes_per_second=rate,
                           start=float("inf") if boot_on_connect else None)
    sim = start_vnc_sim(SimScreen(player), boot_on_connect=boot_on_connect)
    conn.send(sim.ws_url)
    time.sleep(3600)


def _follow(url: str, seconds: float, until: str | None = None) -> tuple[list[dict], float, float]:
    """Follow the console in this process: (events, CPU seconds, wall seconds)."""
    from consolewatch.cli.common import load_catalog
    from consolewatch.fetchers.base import Target
    from consolewatch.pipeline import Follower
    from consolewatch.sinks.live import JsonLinesSink
    from consolewatch.store import Store

    out = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(os.path.join(tmp, "bench.sqlite3"))
        follower = Follower(Target("vnc", url, {}), catalog=load_catalog([]), store=store, sink=JsonLinesSink(out),
                            until=until, timeout=seconds, stall_after=None)
        cpu, wall = time.process_time(), time.monotonic()
        asyncio.run(follower.run())
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        store.close()
    return [json.loads(x) for x in out.getvalue().splitlines()], cpu, wall


def _with_console(log_names, rate, boot_on_connect, fn):
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_serve, args=(log_names, rate, boot_on_connect, child), daemon=True)
    proc.start()
    try:
        return fn(parent.recv())
    finally:
        proc.kill()
        proc.join()


def cpu_bench(seconds: float) -> dict:
    _follow_warmup()
    busy = _with_console(LOGS * 10, 4000.0, True, lambda url: _follow(url, seconds))
    idle = _with_console(("qemu/dhcp-no-lease",), 0.0, False, lambda url: _follow(url, seconds))
    return {name: {"cpu_s_per_min": round(cpu / wall * 60, 2), "lines": sum(e["type"] == "line" for e in ev),
                   "wall_s": round(wall, 1)}
            for name, (ev, cpu, wall) in (("busy 4000 B/s", busy), ("idle, cursor blinking", idle))}


def _follow_warmup() -> None:
    """Imports and first-use costs (Pillow, fonts, definitions) are not per-minute costs."""
    _with_console(("qemu/dhcp-no-lease",), 0.0, False, lambda url: _follow(url, 2.0))


def coverage_bench(rates: list[float]) -> dict:
    from guestkit.boot import sanitize_lines
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    log_lines = [x.rstrip() for x in sanitize_lines(sample_log("qemu/dhcp-no-lease")) if x.strip()]
    out = {}
    for rate in rates:
        events, cpu, wall = _with_console(("qemu/dhcp-no-lease",), rate, True,
                                          lambda url: _follow(url, 23552 / rate + 20, until="outcome"))
        lines = [e["text"] for e in events if e["type"] == "line"]
        errors = total = 0
        for text in lines:
            best = process.extractOne(text, log_lines, scorer=Levenshtein.normalized_distance)[0]
            errors += Levenshtein.distance(text, best)
            total += max(len(text), len(best))
        out[f"{rate:g} B/s"] = {
            "log_lines": len(log_lines), "screen_lines": len(lines),
            "exact": len(set(lines) & set(log_lines)),
            "char_accuracy": round(1 - errors / max(total, 1), 4),
            "outcome": next((e["outcome"] for e in reversed(events) if e["type"] == "outcome"), None),
            "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each CPU measurement")
    ap.add_argument("--rates", default="2000,4000,8000", help="console speeds for the coverage runs (bytes/s)")
    ap.add_argument("--skip-follow", action="store_true", help="only the decoding figures")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    results: dict = {"decode": decode_bench()}
    if not args.skip_follow:
        results["cpu"] = cpu_bench(args.seconds)
        results["coverage"] = coverage_bench([float(r) for r in args.rates.split(",")])
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for section, rows in results.items():
        print(f"\n{section}")
        for name, figures in rows.items():
            print(f"  {name:24s} " + "  ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
