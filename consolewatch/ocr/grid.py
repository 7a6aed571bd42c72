"""Grid OCR for text-mode screens: cut the frame into character cells, match each cell to
the nearest glyph of the bundled 8x16 VGA fonts.

A VGA text console is a grid of identical cells drawn from one bitmap font, so reading it
is template matching, not recognition. The templates are the glyphs of the VGA BIOS font
(what QEMU and SeaBIOS-based clouds show) and of console-setup's Lat15-VGA16 (what a
Debian/Ubuntu console shows after setupcon): exact on lossless frames, and robust to JPEG
(measured by bench/ocr.py). The grid is found from the frame size: 720x400 is 80x25 cells
of 9x16 (the 9th column is the VGA inter-character gap), 640x400/640x480 are cells of 8x16,
and whole multiples of those (a 2x-scaled 1440x800) are scaled back first. Other sizes whose
width divides by 8 are tried as 8x16 framebuffer consoles (fbcon); the distance check below
rejects them if the font does not fit.

Per cell: intensity is the brightest RGB channel (so red or blue text reads like grey);
a cell whose contrast is below `min_contrast` is a space; otherwise it is binarised at
the midpoint of its own darkest and brightest pixel (coloured text, coloured backgrounds
and inverse video all work) and matched by Hamming distance, on both polarities when more
than half the cell is lit. The VGA cursor (two full-width scanlines at the bottom of a
cell) is masked out before matching. The frame is accepted when the mean distance of the
non-blank cells is at most `max_mean_distance`, few cells are far from every glyph and
most blank cells share one background level (a smooth picture has no contrast per cell);
otherwise the engine raises `NotApplicable` and `read_frame` falls back to tesseract.
Pure Python on bytes (no numpy): ~10-60 ms for an 80x25 frame.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from consolewatch.ocr.base import NotApplicable, OcrLine, OcrResult
from consolewatch.ocr.font import BUILTIN_FONT, ROM_FONT, Font, builtin_font

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["GridEngine", "Geometry", "geometry_for"]

_TEXT_MODES = {(720, 400): 9, (640, 400): 8, (640, 480): 8}
_THRESHOLD_TABLES = [bytes(1 if v > t else 0 for v in range(256)) for t in range(256)]
_INVERT = bytes([1, 0]) + bytes(254)


@dataclass(frozen=True, slots=True)
class Geometry:
    """Where the character cells are: `cols` x `rows` cells of `cell_w` x 16 from (0, 0)
    after dividing the frame by `scale`."""

    cell_w: int
    cols: int
    rows: int
    scale: int = 1


def geometry_for(width: int, height: int, cell_h: int = 16) -> list[Geometry]:
    """Grids worth trying for a frame of this size, most likely first."""
    out: list[Geometry] = []
    for (w, h), cw in _TEXT_MODES.items():
        for scale in (1, 2, 3):
            if (width, height) == (w * scale, h * scale):
                out.append(Geometry(cw, w // cw, h // cell_h, scale))
    if not out and width % 8 == 0 and height >= cell_h and width // 8 <= 320 and height // cell_h <= 160:
        out.append(Geometry(8, width // 8, height // cell_h))
    return out


@functools.lru_cache(maxsize=4)
def _templates(fonts: tuple[Font, ...]) -> tuple[dict[bytes, str], dict[int, list[tuple[int, str, int]]]]:
    """Exact lookup (0/1 bytes -> char) and glyphs bucketed by pixel count for the nearest
    search: pop -> [(bits as int, char, penalty)]. ASCII wins over other glyphs drawing the
    same bitmap (Lat15 draws `~` and `˜` alike), earlier fonts over later ones; non-ASCII
    glyphs pay a small penalty."""
    for font in fonts:
        if font.width != 8 or font.height != 16:
            raise NotApplicable(f"grid engine needs 8x16 fonts, {font.name} is {font.width}x{font.height}")
    order = sorted(
        ((font, i) for font in fonts for i in range(len(font.glyphs))),
        key=lambda fi: (0 if any(" " <= c <= "~" for c in fi[0].chars[fi[1]]) else 1, fonts.index(fi[0]), fi[1]),
    )
    exact: dict[bytes, str] = {}
    buckets: dict[int, list[tuple[int, str, int]]] = {}
    for font, gi in order:
        chars = [c for c in font.chars[gi] if c.isprintable() or c == " "]
        if not chars:
            continue
        char = next((c for c in chars if " " <= c <= "~"), chars[0])
        bits = bytes(1 if p else 0 for row in font.pixels(gi) for p in row)
        if bits in exact:
            continue
        exact[bits] = char
        penalty = 0 if " " <= char <= "~" else 2
        buckets.setdefault(bits.count(1), []).append((int.from_bytes(bits, "big"), char, penalty))
    return exact, buckets


class GridEngine:
    """Template-matching OCR for VGA text-mode frames (see the module docstring).

    `fonts`: 8x16 fonts whose glyphs are matched (default: the VGA ROM font, then Lat15).
    """

    name = "grid"

    def __init__(
        self,
        fonts: tuple[Font, ...] | None = None,
        *,
        min_contrast: int = 56,
        max_mean_distance: float = 0.06,
        max_bad_cells: float = 0.05,
    ) -> None:
        self.fonts = tuple(fonts or (builtin_font(ROM_FONT), builtin_font(BUILTIN_FONT)))
        self.min_contrast = min_contrast
        self.max_mean_distance = max_mean_distance
        self.max_bad_cells = max_bad_cells

    def read(self, image: Image) -> OcrResult:
        width, height = image.size
        geometries = geometry_for(width, height)
        if not geometries:
            raise NotApplicable(f"{width}x{height} is not a text-mode frame size")
        exact, buckets = _templates(self.fonts)
        reasons = []
        for geo in geometries:
            result, reason = self._read_grid(image, geo, exact, buckets)
            if result is not None:
                return result
            reasons.append(reason)
        raise NotApplicable(f"{width}x{height} frame does not match the VGA font: {'; '.join(reasons)}")

    def _read_grid(self, image: Image, geo: Geometry, exact: dict[bytes, str],
                   buckets: dict[int, list[tuple[int, str, int]]]) -> tuple[OcrResult | None, str]:
        from PIL import Image, ImageChops

        width, height = image.size
        if geo.scale != 1:
            image = image.resize((width // geo.scale, height // geo.scale), Image.Resampling.BOX)
        r, g, b = image.split()
        grey = ImageChops.lighter(ImageChops.lighter(r, g), b)
        w = grey.size[0]
        data = grey.tobytes()
        cw, ch = geo.cell_w, 16
        cell_pixels = 8 * ch
        lines: list[OcrLine] = []
        dist_sum = 0
        inked = 0
        bad = 0
        levels: dict[int, int] = {}  # background level (//32) of the blank cells
        for row in range(geo.rows):
            base = row * ch * w
            scan = [data[base + y * w : base + (y + 1) * w] for y in range(ch)]
            chars: list[str] = []
            row_conf = 0.0
            row_inked = 0
            for col in range(geo.cols):
                x = col * cw
                key = b"".join([s[x : x + 8] for s in scan])
                hi, lo = max(key), min(key)
                if hi - lo < self.min_contrast:
                    chars.append(" ")
                    levels[hi >> 5] = levels.get(hi >> 5, 0) + 1
                    continue
                table = _THRESHOLD_TABLES[(hi + lo) // 2]
                bits = key.translate(table)
                mask_rows = _cursor_rows(bits, scan, x, cw, table)
                char, dist = _match(bits, mask_rows, exact, buckets)
                if dist and bits.count(1) > cell_pixels // 2:
                    inv_char, inv_dist = _match(bits.translate(_INVERT), mask_rows, exact, buckets)
                    if inv_dist < dist:
                        char, dist = inv_char, inv_dist
                chars.append(char)
                if char == " " and not dist:
                    continue
                row_inked += 1
                dist_sum += dist
                if dist > cell_pixels * 0.15:
                    bad += 1
                row_conf += max(0.0, 1.0 - dist / 32)
            text = "".join(chars).rstrip()
            inked += row_inked
            if text:
                conf = row_conf / row_inked if row_inked else 1.0
                lines.append(OcrLine(text, round(conf, 4), row))
        blank = sum(levels.values())
        if blank and max(levels.values()) < 0.6 * blank:
            return None, f"{geo.cols}x{geo.rows} cells: background is not uniform (a picture, not text)"
        if inked:
            mean = dist_sum / inked / cell_pixels
            if mean > self.max_mean_distance:
                return None, f"{geo.cols}x{geo.rows} cells: mean distance {mean:.3f} > {self.max_mean_distance}"
            if bad > max(2, self.max_bad_cells * inked):
                return None, f"{geo.cols}x{geo.rows} cells: {bad} of {inked} cells match no glyph"
        return OcrResult(tuple(lines), self.name, width, height, geo.cols, geo.rows), ""


def _cursor_rows(bits: bytes, scan: list[bytes], x: int, cw: int, table: bytes) -> tuple[int, ...]:
    """Scanlines covered by the VGA cursor in this cell: a band of >= 2 fully lit rows at
    the bottom (row 12 or below) whose row above is not full; in 9-wide cells the band also
    lights the 9th column, which no glyph of the VGA font does at those rows."""
    full = b"\x01" * 8
    height = len(scan)
    band = [y for y in range(12, height) if bits[y * 8 : y * 8 + 8] == full]
    if len(band) < 2 or band[-1] - band[0] + 1 != len(band) or bits[(band[0] - 1) * 8 : band[0] * 8] == full:
        return ()
    if cw == 9:
        if any(len(scan[y]) <= x + 8 or not table[scan[y][x + 8]] for y in band):
            return ()
    return tuple(band)


def _match(bits: bytes, mask_rows: tuple[int, ...], exact: dict[bytes, str],
           buckets: dict[int, list[tuple[int, str, int]]]) -> tuple[str, int]:
    """Nearest glyph by Hamming distance (plus the non-ASCII penalty); rows in `mask_rows`
    (the cursor) are ignored on both sides."""
    if not mask_rows:
        hit = exact.get(bits)
        if hit is not None:
            return hit, 0
        value = int.from_bytes(bits, "big")
        pop = bits.count(1)
        best, best_char = 1 << 30, " "
        delta = 0
        while delta < best and delta <= 128:
            for p in {pop - delta, pop + delta}:
                for g, char, penalty in buckets.get(p, ()):
                    d = (value ^ g).bit_count() + penalty
                    if d < best:
                        best, best_char = d, char
            delta += 1
        return best_char, best
    keep = bytearray(b"\x01" * len(bits))
    for y in mask_rows:
        keep[y * 8 : y * 8 + 8] = bytes(8)
    keep_int = int.from_bytes(keep, "big")
    value = int.from_bytes(bits, "big") & keep_int
    best, best_char = 1 << 30, " "
    for group in buckets.values():
        for g, char, penalty in group:
            d = ((value ^ g) & keep_int).bit_count() + penalty
            if d < best:
                best, best_char = d, char
    return best_char, best
