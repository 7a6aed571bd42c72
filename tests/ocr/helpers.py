"""Shared helpers for the OCR tests (imported by path: tests are not a package)."""

from __future__ import annotations

from pathlib import Path

from rapidfuzz.distance import Levenshtein

from consolewatch.sim.screen import screen_rows

HERE = Path(__file__).resolve().parent
FRAMES = HERE / "frames"
DATA = HERE / "data"


def log_lines(name: str) -> list[str]:
    return (DATA / name).read_text(encoding="utf-8").splitlines()


def truth_rows(lines: list[str], rows: int = 25) -> list[str]:
    """What an 80x25 console shows for these lines, trailing spaces stripped."""
    return [r.rstrip() for r in screen_rows(lines, rows=rows)]


def serial_truth(path: Path, rows: int = 25) -> list[str]:
    text = path.read_bytes().decode("utf-8", "replace")
    return truth_rows(text.split("\n"), rows)


def char_accuracy(truth: list[str], got: list[str]) -> float:
    """1 - Levenshtein / length over the non-empty truth rows (rows aligned by index)."""
    got = got + [""] * (len(truth) - len(got))
    total = sum(len(t) for t in truth if t)
    dist = sum(Levenshtein.distance(t, g) for t, g in zip(truth, got) if t or g)
    return 1 - dist / max(1, total)


SAMPLES = HERE.parent.parent / "samples"


def real_screens() -> list[tuple[str, Path, list[str]]]:
    """The real QEMU screens of the suite, each with the rows its serial console (or, when the
    serial port was silent, the VGA text buffer read from guest memory) says it shows:
    (name, png path, truth rows). A frame that shows a window of a longer log has the whole log's
    rows as its truth (`cer` finds the window)."""
    import yaml

    seabios = [""] * 8
    for row, text in zip([0, 1, 2, 4, 5, 7], (FRAMES / "qemu-seabios-no-bootable-device.txt").read_text().splitlines()):
        seabios[row] = text
    panic = serial_truth(FRAMES / "qemu-linux-vfs-panic.serial.log")
    scroll_log = (FRAMES / "scroll" / "serial.log").read_bytes().decode("utf-8", "replace").split("\n")
    scroll = [r.rstrip() for r in screen_rows(scroll_log, rows=10**6)]
    while scroll and not scroll[-1]:
        scroll.pop()  # screen_rows pads to the rows asked for
    silent = yaml.safe_load((SAMPLES / "qemu/console-silent/meta.yaml").read_text())["screen_text"].splitlines()
    out = [("qemu/seabios", FRAMES / "qemu-seabios-no-bootable-device.png", seabios),
           ("qemu/vfs-panic", FRAMES / "qemu-linux-vfs-panic.png", panic),
           ("qemu/vfs-panic-cursor", FRAMES / "qemu-linux-vfs-panic-cursor.png", panic),
           ("samples/console-silent", SAMPLES / "qemu/console-silent/screen.png", [r.rstrip() for r in silent])]
    out += [(f"qemu/scroll/{p.stem}", p, scroll) for p in sorted((FRAMES / "scroll").glob("frame-*.png"))]
    return out


def cer(truth: list[str], read: dict[int, str]) -> tuple[int, int]:
    """(edit distance, characters) between the rows read ({row: text}) and the truth rows,
    over the rows both show: the truth window (offset into a longer log) that fits best."""
    if not read:
        return 0, 0
    height = max(read) + 1
    best: tuple[int, int] | None = None
    for off in range(max(1, len(truth) - height + 1)):
        window = truth[off: off + height]
        dist = chars = 0
        for row, text in read.items():
            want = window[row] if row < len(window) else ""
            dist += Levenshtein.distance(want, text)
            chars += len(want)
        if best is None or dist < best[0]:
            best = (dist, chars)
    assert best is not None
    return best
