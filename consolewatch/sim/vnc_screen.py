"""What the simulated VNC server shows, and how it encodes it: a real boot log scrolling on a
text console, drawn with a real console font, as RFB rectangles (Raw, CopyRect, ZRLE).

`SimScreen` turns what a `ConsolePlayer` has printed into the text rows of a console in one of
two modes -- VGA text mode (720x400: 80x25 cells of 9x16, the VGA BIOS font, what QEMU shows
with vgacon) and a framebuffer console (1024x768: 128x48 cells of 8x16, console-setup's
Lat15-VGA16, what fbcon shows after setupcon) -- optionally switching from the first to the
second when the log prints a marker line (as a kernel's DRM driver takes the console over),
with a blinking underline cursor after the last character. Escape sequences are dropped and
lines wrap at the screen width (sim.screen.screen_rows). A screen is a pixel mask: index 0 is
the background, 1 the glyphs.

The encoders write what a real server would for 32-bit true-colour clients: pixels in the
client's SetPixelFormat (any shifts, either byte order), ZRLE tiles solid or packed-palette
("auto", what a server picks for two colours) or cycling through raw, packed palette, plain RLE
and palette RLE ("mixed", so every decoder branch runs).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from consolewatch.fetchers.rfb.protocol import ENC_COPYRECT, ENC_RAW, ENC_ZRLE, PixelFormat
from consolewatch.sim.player import ConsolePlayer
from consolewatch.sim.screen import BG, CELL_H, FG, screen_mask, wrap_rows

_ESC = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]")
TILE = 64
#: index bytes 0/1 -> the digits "0"/"1" (a row of them read as a binary number is the packed row)
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    cols: int
    rows: int
    cell_w: int
    font: str

    @property
    def size(self) -> tuple[int, int]:
        return self.cols * self.cell_w, self.rows * CELL_H


VGA = Mode("vga", 80, 25, 9, "rom")
FBCON = Mode("fbcon", 128, 48, 8, "lat15")


@dataclass(frozen=True, slots=True)
class Picture:
    mode: Mode
    rows: tuple[str, ...]
    cursor: tuple[int, int] | None
    """(column, row) of a visible cursor."""

    def mask(self) -> bytes:
        data = bytearray(screen_mask(self.rows, cell_w=self.mode.cell_w, font=self.mode.font))
        if self.cursor is not None:
            col, row = self.cursor
            width = self.mode.size[0]
            for y in (row * CELL_H + 14, row * CELL_H + 15):  # the VGA cursor: scanlines 14-15
                start = y * width + col * self.mode.cell_w
                data[start : start + self.mode.cell_w] = b"\x01" * self.mode.cell_w
        return bytes(data)


class SimScreen:
    def __init__(self, player: ConsolePlayer, *, mode: Mode = VGA, switch_at: bytes | None = None,
                 switch_to: Mode = FBCON, cursor: bool = True) -> None:
        self.player = player
        self.mode = mode
        self.switch_at = switch_at
        self.switch_to = switch_to
        self.cursor = cursor

    def picture(self) -> Picture:
        printed = self.player.printed()
        mode, text = self.mode, printed
        if self.switch_at is not None:
            at = printed.find(self.switch_at)
            if at >= 0:  # the new console starts with the marker's line
                mode, text = self.switch_to, printed[printed.rfind(b"\n", 0, at) + 1 :]
        lines = _ESC.sub(b"", text[-32768:]).replace(b"\r\n", b"\n").decode("utf-8", "replace").split("\n")
        shown = wrap_rows(lines[-mode.rows :], mode.cols)[-mode.rows :]
        rows = [r.ljust(mode.cols) for r in shown] + [" " * mode.cols] * (mode.rows - len(shown))
        cursor = None
        if self.cursor and shown and int(self.player.clock() * 2) % 2 == 0:
            cursor = (min(mode.cols - 1, len(shown[-1])), len(shown) - 1)
        return Picture(mode, tuple(rows), cursor)


# -- encoders ----------------------------------------------------------------------------------

def pixel_bytes(fmt: PixelFormat, rgb: tuple[int, int, int]) -> bytes:
    if fmt.bits_per_pixel != 32 or not fmt.true_colour:
        raise ValueError(f"the simulator serves 32-bit true colour only, not {fmt}")
    r, g, b = (c * m // 255 for c, m in zip(rgb, (fmt.red_max, fmt.green_max, fmt.blue_max)))
    value = (r << fmt.red_shift) | (g << fmt.green_shift) | (b << fmt.blue_shift)
    return value.to_bytes(4, "big" if fmt.big_endian else "little")


def _palette(fmt: PixelFormat) -> list[bytes]:
    return [pixel_bytes(fmt, BG), pixel_bytes(fmt, FG)]


def _cpixel(fmt: PixelFormat, pixel: bytes) -> bytes:
    """ZRLE's 3-byte CPIXEL: the 3 bytes of the pixel that hold the colour."""
    value = int.from_bytes(pixel, "big" if fmt.big_endian else "little")
    low = value < (1 << 24)
    if fmt.big_endian:
        return pixel[1:] if low else pixel[:3]
    return pixel[:3] if low else pixel[1:]


def region(mask: bytes, width: int, x: int, y: int, w: int, h: int) -> bytes:
    return b"".join(mask[(y + r) * width + x : (y + r) * width + x + w] for r in range(h))


def raw_pixels(indices: bytes, fmt: PixelFormat) -> bytes:
    pal = _palette(fmt)
    out = bytearray(4 * len(indices))
    for k in range(4):
        out[k::4] = indices.translate(bytes([pal[0][k], pal[1][k]]) + bytes(254))
    return bytes(out)


def rect_header(x: int, y: int, w: int, h: int, encoding: int) -> bytes:
    return struct.pack(">HHHHi", x, y, w, h, encoding)


def raw_rect(mask: bytes, width: int, x: int, y: int, w: int, h: int, fmt: PixelFormat) -> bytes:
    return rect_header(x, y, w, h, ENC_RAW) + raw_pixels(region(mask, width, x, y, w, h), fmt)


def copy_rect(x: int, y: int, w: int, h: int, src_x: int, src_y: int) -> bytes:
    return rect_header(x, y, w, h, ENC_COPYRECT) + struct.pack(">HH", src_x, src_y)


class ZrleEncoder:
    """One per connection (one zlib stream, flushed at the end of each rectangle)."""

    def __init__(self, mode: str = "auto") -> None:
        self.mode = mode
        self.z = zlib.compressobj(6)
        self.tiles = 0

    def rect(self, mask: bytes, width: int, x: int, y: int, w: int, h: int, fmt: PixelFormat) -> bytes:
        cp = [_cpixel(fmt, p) for p in _palette(fmt)]
        body = bytearray()
        for ty in range(y, y + h, TILE):
            for tx in range(x, x + w, TILE):
                tw, th = min(TILE, x + w - tx), min(TILE, y + h - ty)
                body += self.tile(region(mask, width, tx, ty, tw, th), tw, th, cp)
        data = self.z.compress(bytes(body)) + self.z.flush(zlib.Z_SYNC_FLUSH)
        return rect_header(x, y, w, h, ENC_ZRLE) + struct.pack(">I", len(data)) + data

    def tile(self, idx: bytes, tw: int, th: int, cp: list[bytes]) -> bytes:
        self.tiles += 1
        used = sorted(set(idx))
        if len(used) == 1:
            return b"\x01" + cp[used[0]]
        kind = "packed" if self.mode == "auto" else ("raw", "packed", "rle", "palette-rle")[self.tiles % 4]
        if kind == "raw":
            return b"\x00" + b"".join(cp[i] for i in idx)
        if kind == "packed":  # 2 colours: 1 bit per pixel, rows padded to a byte
            pad = b"0" * (-tw % 8)
            width = (tw + 7) // 8
            packed = b"".join(int(idx[r * tw : (r + 1) * tw].translate(_DIGITS) + pad, 2).to_bytes(width, "big")
                              for r in range(th))
            return b"\x02" + cp[0] + cp[1] + packed
        out = bytearray(b"\x80" if kind == "rle" else b"\x82" + cp[0] + cp[1])
        for value, length in _runs(idx):
            if kind == "rle":
                out += cp[value] + _length(length)
            elif length == 1:
                out.append(value)
            else:
                out += bytes([value | 128]) + _length(length)
        return bytes(out)


def _runs(idx: bytes) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for m in re.finditer(rb"(.)\1*", idx, re.S):
        runs.append((m.group()[0], len(m.group())))
    return runs


def _length(n: int) -> bytes:
    """An RLE run length: (n - 1) as bytes of 255 then the rest."""
    n -= 1
    return b"\xff" * (n // 255) + bytes([n % 255])


def zlib_bomb(inflated: int = 64 << 20) -> bytes:
    """zlib data a few tens of KB long that inflates to `inflated` zero bytes."""
    z = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = b"".join(z.compress(chunk) for _ in range(inflated >> 20))
    return out + z.flush(zlib.Z_SYNC_FLUSH)
