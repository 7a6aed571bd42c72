"""OCR benchmark: character accuracy and ms/frame of each engine, on PNG and JPEG q75.

    python bench/ocr.py [--runs N] [--real-only]

Frames: (1) synthetic VGA screens drawn by `consolewatch.sim.screen.render_screen` from the
real boot logs in tests/ocr/data/ (ground truth: the log text); (2) real QEMU screendumps in
tests/ocr/frames/ (ground truth: the serial log of the same boot, or the .txt beside the
frame). Each frame is also re-encoded as JPEG q75 (EC2's GetConsoleScreenshot is a JPEG).
Accuracy = 1 - Levenshtein / characters over the screen rows; time = median of N runs of
the engine alone (decoding excluded). Tesseract runs with OMP_THREAD_LIMIT=1.

Then the character error rate per engine of `consolewatch ocr --json --engine E` (the command
a user runs) on every real QEMU screen of the suite (tests/ocr/frames/ and its scroll/ frames,
samples/qemu/*/screen.png) against the rows their serial console shows (the VGA text buffer
for the console-silent sample, whose serial port was silent): edit distance / characters.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ocr"))

from helpers import DATA, FRAMES, cer, char_accuracy, real_screens, serial_truth, truth_rows  # noqa: E402
from PIL import Image  # noqa: E402

from consolewatch.ocr import NotApplicable, get_engine  # noqa: E402
from consolewatch.ocr.image import decode_image  # noqa: E402
from consolewatch.sim.screen import render_screen  # noqa: E402


def frames() -> list[tuple[str, bytes, list[str]]]:
    out = []
    for log in sorted(DATA.glob("*.log")):
        lines = log.read_text(encoding="utf-8").splitlines()
        out.append((f"synthetic/{log.stem}", render_screen(lines), truth_rows(lines)))
    seabios = FRAMES / "qemu-seabios-no-bootable-device.png"
    truth = [""] * 25
    for row, text in zip([0, 1, 2, 4, 5, 7], (FRAMES / "qemu-seabios-no-bootable-device.txt").read_text().splitlines()):
        truth[row] = text
    out.append(("qemu/seabios", seabios.read_bytes(), truth))
    panic = serial_truth(FRAMES / "qemu-linux-vfs-panic.serial.log")
    out.append(("qemu/vfs-panic", (FRAMES / "qemu-linux-vfs-panic.png").read_bytes(), panic))
    out.append(("qemu/vfs-panic-cursor", (FRAMES / "qemu-linux-vfs-panic-cursor.png").read_bytes(), panic))
    return out


def jpeg(data: bytes, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--real-only", action="store_true", help="only the error rate on the real QEMU screens")
    args = ap.parse_args()
    if not args.real_only:
        engines_bench(args.runs)
    real_cer()
    return 0


def real_cer() -> None:
    import json
    import subprocess

    screens = real_screens()
    print(f"\nreal QEMU screens, `consolewatch ocr --json --engine E` ({len(screens)} frames):")
    for engine in ("grid", "tesseract"):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "consolewatch", "ocr", "--json", "--engine", engine,
                            *[str(p) for _, p, _ in screens]], capture_output=True, text=True, cwd=ROOT, check=True)
        seconds = time.perf_counter() - t0
        dist = chars = 0
        for (name, _, truth), line in zip(screens, r.stdout.splitlines()):
            d, c = cer(truth, {x["row"]: x["text"] for x in json.loads(line)["lines"]})
            dist, chars = dist + d, chars + c
        print(f"  {engine:10} character error rate {dist / chars:7.3%}  ({dist} edits in {chars} characters; "
              f"{seconds:.1f} s for the command)")


def engines_bench(runs: int) -> None:
    engines = {"grid": get_engine("grid"), "tesseract": get_engine("tesseract")}
    print(f"{'frame':58} {'fmt':5} {'engine':10} {'accuracy':>9} {'ms/frame':>9}")
    totals: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for name, png, truth in frames():
        for fmt, data in (("PNG", png), ("JPEG", jpeg(png))):
            image = decode_image(data)
            for ename, engine in engines.items():
                times, result = [], None
                for _ in range(runs):
                    t0 = time.perf_counter()
                    try:
                        result = engine.read(image)
                    except NotApplicable:
                        result = None
                    times.append((time.perf_counter() - t0) * 1000)
                ms = statistics.median(times)
                if result is None:
                    print(f"{name:58} {fmt:5} {ename:10} {'rejected':>9} {ms:9.1f}")
                    continue
                rows = result.row_texts()
                acc = char_accuracy(truth, rows + [""] * (len(truth) - len(rows)))
                totals.setdefault((ename, fmt), []).append((acc, ms))
                print(f"{name:58} {fmt:5} {ename:10} {acc:9.2%} {ms:9.1f}")
    print("\nmean over frames:")
    for (ename, fmt), vals in sorted(totals.items()):
        acc = statistics.mean(a for a, _ in vals)
        ms = statistics.mean(m for _, m in vals)
        print(f"  {ename:10} {fmt:5} accuracy {acc:7.2%}  {ms:8.1f} ms/frame  ({len(vals)} frames)")


if __name__ == "__main__":
    sys.exit(main())
