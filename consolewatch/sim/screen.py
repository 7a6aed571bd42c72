"""Render console text as a VGA text-mode screenshot, the way QEMU's `-vga std` shows it.

The simulated clouds use this for their screenshot APIs (EC2 `GetConsoleScreenshot` hands
out a JPEG, GCE `getScreenshot`, the VNC server's framebuffer). The picture is what a real
80x25 text console looks like: 9x16 character cells (720x400), light grey (170,170,170) on
black, glyphs from the VGA BIOS 8x16 font QEMU shows (characters code page 437 lacks are
drawn from console-setup's Lat15-VGA16). The 9th pixel column of a cell is blank,
except for glyphs 0xC0-0xDF (the box-drawing block of the VGA code page), whose 8th column
is repeated there exactly as VGA hardware does with "line graphics" enabled.

Lines longer than `cols` wrap onto the next row, as a console with auto-wrap does; tabs
advance to the next multiple of 8; control characters are dropped; characters the font
lacks are drawn as `?`. Only the last `rows` rows are shown (the console has scrolled).
Pillow is imported when a screen is rendered, not when this module is imported.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

__all__ = ["render_screen", "screen_mask", "screen_rows", "FG", "BG"]

FG = (170, 170, 170)
BG = (0, 0, 0)
CELL_W = 9
CELL_H = 16
_LINE_GRAPHICS = range(0xC0, 0xE0)


def screen_rows(lines: Sequence[str], *, cols: int = 80, rows: int = 25) -> list[str]:
    """The text rows the screen shows: wrapped at `cols`, last `rows` of them, each padded
    to exactly `cols` characters (a trailing newline does not add a row)."""
    if cols < 1 or rows < 1:
        raise ValueError("cols and rows must be positive")
    out = wrap_rows(lines[-rows:] if isinstance(lines, list) else lines, cols)[-rows:]
    return [r.ljust(cols) for r in out] + [" " * cols] * (rows - len(out))


def wrap_rows(lines: Sequence[str], cols: int) -> list[str]:
    """Every screen row the lines take, unpadded: each line wrapped at `cols`."""
    out: list[str] = []
    for line in lines:
        for part in str(line).split("\n"):
            text = _clean(part)
            if not text:
                out.append("")
                continue
            for i in range(0, len(text), cols):
                out.append(text[i : i + cols])
    return out


def _clean(text: str) -> str:
    """Apply what a console does to one line: tabs advance to 8-column stops, a carriage
    return goes back to column 0 (later text overwrites), other control characters vanish."""
    buf: list[str] = []
    col = 0
    for ch in text:
        if ch == "\t":
            col += 8 - col % 8
        elif ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            continue
        else:
            if col >= len(buf):
                buf.extend(" " * (col - len(buf) + 1))
            buf[col] = ch
            col += 1
            continue
        if col > len(buf):
            buf.extend(" " * (col - len(buf)))
    return "".join(buf)


@functools.lru_cache(maxsize=4)
def _glyph_rows(cell_w: int = CELL_W, font: str = "rom") -> tuple[dict[str, tuple[bytes, ...]], tuple[bytes, ...]]:
    """Per character: 16 rows of `cell_w` bytes (0 = background, 1 = foreground). `font` "rom"
    draws with the VGA BIOS font (Lat15 for what code page 437 lacks), "lat15" the other way round
    (console-setup's font, what a Debian framebuffer console shows)."""
    from consolewatch.ocr.font import BUILTIN_FONT, ROM_FONT, builtin_font

    order = (BUILTIN_FONT, ROM_FONT) if font == "rom" else (ROM_FONT, BUILTIN_FONT)
    table: dict[str, tuple[bytes, ...]] = {}
    for name in order:  # the second font wins
        f = builtin_font(name)
        for ch, gi in f.index.items():
            rows = []
            for row in f.pixels(gi):
                cells = [1 if p else 0 for p in row[:8]] + [0] * (8 - len(row[:8]))
                ninth = [cells[7] if gi in _LINE_GRAPHICS and name == ROM_FONT else 0] * (cell_w - 8)
                rows.append(bytes(cells + ninth))
            table[ch] = tuple(rows)
    return table, table["?"]


def screen_mask(text_rows: Sequence[str], *, cell_w: int = CELL_W, font: str = "rom") -> bytes:
    """The pixels of text rows as bytes, 1 where a glyph is lit and 0 elsewhere, row after row
    (width `len(row) * cell_w`, height `16 * len(text_rows)`)."""
    return b"".join(_row_mask(text, cell_w, font) for text in text_rows)


@functools.lru_cache(maxsize=512)
def _row_mask(text: str, cell_w: int, font: str) -> bytes:
    table, unknown = _glyph_rows(cell_w, font)
    blank = table.get(" ", unknown)
    cells = [blank if ch == " " else table.get(ch, unknown) for ch in text]
    return b"".join(b"".join(c[y] for c in cells) for y in range(CELL_H))


def render_screen(
    lines: Sequence[str],
    *,
    cols: int = 80,
    rows: int = 25,
    fmt: str = "PNG",
    quality: int = 75,
) -> bytes:
    """Render the last `rows` lines of console text as a VGA text-mode screenshot.

    Returns encoded image bytes (`fmt` "PNG" or "JPEG"/"JPG"; `quality` applies to JPEG) of
    `cols*9` x `rows*16` pixels: 720x400 for the default 80x25 console.
    """
    fmt_u = fmt.upper()
    if fmt_u == "JPG":
        fmt_u = "JPEG"
    if fmt_u not in ("PNG", "JPEG", "PPM", "BMP"):
        raise ValueError(f"unsupported screenshot format {fmt!r}: use PNG or JPEG")
    if isinstance(lines, str):
        lines = lines.splitlines()
    text_rows = screen_rows(lines, cols=cols, rows=rows)
    from PIL import Image

    width, height = cols * CELL_W, rows * CELL_H
    mask = Image.frombytes("L", (width, height), screen_mask(text_rows))
    img = Image.merge("RGB", [mask.point([bg] + [fg] * 255) for fg, bg in zip(FG, BG)])
    buf = io.BytesIO()
    if fmt_u == "JPEG":
        img.save(buf, "JPEG", quality=max(1, min(int(quality), 100)))
    else:
        img.save(buf, fmt_u)
    return buf.getvalue()
