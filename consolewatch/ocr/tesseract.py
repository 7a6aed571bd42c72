"""Tesseract OCR engine (pytesseract) for frames the grid engine cannot read.

Preprocessing follows the measurements in the API brief (section 5): grayscale, invert
(console text is light on dark; tesseract wants dark on light), a 2x Lanczos upscale when
the text is small (line ink under `small_text_px` pixels high, e.g. an 80x50 screen), and
`--psm 6` (one uniform block of text). `OMP_THREAD_LIMIT=1` is put in the environment the
tesseract subprocess inherits: with OpenMP's default thread count tesseract is ~10x slower
on small machines. Lines come from `image_to_data`; words are placed back on a character
grid (their x position divided by the cell width) so that inner spacing such as the
padding in `[    1.234567]` survives, and each line's confidence is the mean of its words'.

pytesseract and Pillow are imported on first use. A missing tesseract binary raises
OcrError telling the user to install `tesseract-ocr`.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from consolewatch.ocr.base import OcrError, OcrLine, OcrResult
from consolewatch.ocr.framing import restore_framing

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["TesseractEngine"]

_ENV_LOCK = threading.Lock()
_TEXT_MODE_CELL = {(720, 400): (9, 16), (640, 400): (8, 16), (640, 480): (8, 16)}


class TesseractEngine:
    """OCR with the tesseract binary through pytesseract."""

    name = "tesseract"

    def __init__(
        self,
        *,
        lang: str = "eng",
        psm: int = 6,
        upscale: bool | None = None,
        small_text_px: int = 10,
        timeout: float = 60.0,
    ) -> None:
        self.lang = lang
        self.psm = psm
        self.upscale = upscale
        self.small_text_px = small_text_px
        self.timeout = timeout

    def read(self, image: Image) -> OcrResult:
        try:
            import pytesseract
        except ImportError:
            raise OcrError("pytesseract is not installed: pip install pytesseract") from None
        from PIL import Image, ImageOps

        width, height = image.size
        grey = ImageOps.invert(image.convert("L"))
        scale = 1
        upscale = self.upscale if self.upscale is not None else _ink_height(grey) < self.small_text_px
        if upscale:
            scale = 2
            grey = grey.resize((width * 2, height * 2), Image.Resampling.LANCZOS)
        try:
            with _single_thread_env():
                data = pytesseract.image_to_data(
                    grey,
                    lang=self.lang,
                    config=f"--psm {int(self.psm)}",
                    output_type=pytesseract.Output.DICT,
                    timeout=self.timeout,
                )
        except pytesseract.TesseractNotFoundError:
            raise OcrError(
                "tesseract is not installed or not on PATH: install tesseract-ocr "
                "(Debian/Ubuntu: apt-get install tesseract-ocr)"
            ) from None
        except pytesseract.TesseractError as exc:
            raise OcrError(f"tesseract failed: {exc.message or exc.status}") from None
        except RuntimeError as exc:  # pytesseract's timeout
            raise OcrError(f"tesseract: {exc} after {self.timeout:g} s") from None
        except OSError as exc:
            raise OcrError(f"tesseract could not run: {exc}") from None
        grid = _text_grid(width, height, data, scale)
        lines = _lines(data, scale, grid[0] if grid else None)
        cols, rows = grid[1] if grid else (None, None)
        return OcrResult(tuple(lines), self.name, width, height, cols, rows)


def _text_grid(width: int, height: int, data: dict[str, Any], scale: int
               ) -> tuple[tuple[float, float], tuple[int, int]] | None:
    """((cell width, cell height), (cols, rows)) of a text-mode screen: one of the VGA frame
    sizes, or one scaled by any factor (a cloud console's or a viewer's resized screenshot,
    which the glyph grid cannot read) when the frame keeps the mode's shape and the words'
    own character width agrees with the scaled cell (a graphical console of the same shape
    has smaller cells). Otherwise None: columns come from the words alone."""
    cell = _TEXT_MODE_CELL.get((width, height))
    if cell:
        return cell, (width // cell[0], height // cell[1])
    for (w, h), (cw, ch) in _TEXT_MODE_CELL.items():
        if (w, h) == (640, 480) or abs(width / height - w / h) > 0.01:
            continue  # 4:3 is every graphical console's shape too
        cols, rows = w // cw, h // ch
        scaled = (width / cols, height / rows)
        measured = _char_width(_word_lines(data, scale))
        if measured and abs(measured - scaled[0]) / scaled[0] < 0.2:
            return scaled, (cols, rows)
    return None


def _word_lines(data: dict[str, Any], scale: int) -> list[list[Word]]:
    """The words tesseract read, grouped by the line it put them on."""
    grouped: dict[Any, list[Word]] = {}
    for i, text in enumerate(data.get("text", [])):
        text = (text or "").strip()
        if not text:
            continue
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        grouped.setdefault(key, []).append((key, data["left"][i] / scale, data["top"][i] / scale,
                                            data["width"][i] / scale, data["height"][i] / scale, text, conf))
    return list(grouped.values())


class _single_thread_env:
    """Set OMP_THREAD_LIMIT=1 while pytesseract spawns tesseract (it passes os.environ)."""

    def __enter__(self) -> None:
        _ENV_LOCK.acquire()
        self.saved = os.environ.get("OMP_THREAD_LIMIT")
        os.environ["OMP_THREAD_LIMIT"] = "1"

    def __exit__(self, *exc: object) -> None:
        if self.saved is None:
            os.environ.pop("OMP_THREAD_LIMIT", None)
        else:
            os.environ["OMP_THREAD_LIMIT"] = self.saved
        _ENV_LOCK.release()


def _ink_height(grey: Image) -> float:
    """Median height in pixels of the horizontal bands that hold ink (~ text line height).
    `grey` is inverted: ink is dark."""
    w, h = grey.size
    data = grey.point(lambda v: 1 if v < 128 else 0).tobytes()
    inked = [b"\x01" in data[y * w : (y + 1) * w] for y in range(h)]
    runs, run = [], 0
    for flag in inked + [False]:
        if flag:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    return statistics.median(runs) if runs else float("inf")


Word = tuple[Any, float, float, float, float, str, float]
"""One word tesseract read: (line key, left, top, width, height, text, confidence)."""


def _char_width(lines: Iterable[list[Word]]) -> float:
    """Character pitch of a monospaced screen: left-to-left distance of neighbouring words
    over (first word's length + 1), median over all pairs (most words are one space
    apart; side bearings cancel out, unlike in word widths)."""
    pitches: list[float] = []
    for ws in lines:
        ws = sorted(ws, key=lambda w: w[1])
        for a, b in itertools.pairwise(ws):
            pitches.append((b[1] - a[1]) / (len(a[5]) + 1))
    if pitches:
        return float(statistics.median(pitches))
    widths = [w[3] / len(w[5]) for ws in lines for w in ws]
    return statistics.median(widths) * 1.1 if widths else 8.0


def _lines(data: dict[str, Any], scale: int, cell: tuple[float, float] | None) -> list[OcrLine]:
    groups = _word_lines(data, scale)
    words = [w for ws in groups for w in ws]
    if not words:
        return []
    char_w: float
    pitch: float
    if cell:
        char_w, pitch = cell
        x0 = 0.0
    else:
        char_w, x0, pitch = _char_width(groups), min(w[1] for w in words), 0.0
    ordered = sorted(groups, key=lambda ws: min(w[2] for w in ws))
    centres = [statistics.median(w[2] + w[4] / 2 for w in ws) for ws in ordered]
    if not cell:
        steps = [b - a for a, b in itertools.pairwise(centres) if b - a > 2]
        pitch = statistics.median(steps) if steps else max(w[4] for w in words) * 1.5
    base = 0.0 if cell else centres[0] - pitch / 2
    out: list[OcrLine] = []
    last_row = -1
    for ws, centre in zip(ordered, centres):
        ws.sort(key=lambda w: w[1])
        text = ""
        for _, left, _, _, _, word, _ in ws:
            col = max(0, round((left - x0) / char_w))
            if text:
                col = max(col, len(text) + 1)
            text = text.ljust(col) + word
        confs = [(c, len(t)) for *_, t, c in ws if c >= 0]
        total = sum(n for _, n in confs)
        conf = sum(c * n for c, n in confs) / total / 100 if total else 0.0
        row = max(0, int((centre - base) // pitch)) if pitch > 0 else last_row + 1
        row = max(row, last_row + 1)
        last_row = row
        out.append(OcrLine(restore_framing(text.rstrip()), round(min(1.0, max(0.0, conf)), 4), row))
    return out
