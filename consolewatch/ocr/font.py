"""PC Screen Font (PSF1/PSF2) loader for the console glyphs the grid OCR engine and the
screen simulator share.

A `Font` holds one bitmap per glyph (rows of bits, most significant bit = leftmost pixel)
and the unicode table that says which characters each glyph draws. The bundled font is
`fonts/Lat15-VGA16.psf.gz` (console-setup's 8x16 VGA glyphs) and `fonts/vga-rom-8x16.psf`
(the VGA BIOS font QEMU shows in text mode); see `fonts/README.md` for provenance and
licenses. Any PSF file can be loaded with `load_font`; a corrupt or truncated file raises
`FontError` with a one-line message, never an IndexError or a struct.error.
"""

from __future__ import annotations

import functools
import gzip
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

__all__ = ["Font", "FontError", "load_font", "builtin_font", "dump_psf2", "BUILTIN_FONT", "ROM_FONT"]

BUILTIN_FONT = "Lat15-VGA16.psf.gz"
ROM_FONT = "vga-rom-8x16.psf"

_PSF1_MAGIC = b"\x36\x04"
_PSF2_MAGIC = b"\x72\xb5\x4a\x86"
_MAX_FONT_BYTES = 4 * 1024 * 1024  # decompressed; real console fonts are < 100 KB
_MAX_GLYPHS = 65536


class FontError(ValueError):
    """A font file that cannot be used (not PSF, truncated, inconsistent header)."""


@dataclass(frozen=True, slots=True, eq=False)
class Font:
    """A bitmap console font.

    Compared and hashed by identity (fonts are loaded once and cached).
    `glyphs[i]` is glyph i as `height` rows of `row_bytes` bytes each (MSB = leftmost
    pixel). `chars[i]` are the characters glyph i draws (from the unicode table; empty
    when the font has none). `index` maps a character to its glyph.
    """

    name: str
    width: int
    height: int
    glyphs: tuple[bytes, ...]
    chars: tuple[tuple[str, ...], ...]
    index: Mapping[str, int]

    @property
    def row_bytes(self) -> int:
        return (self.width + 7) // 8

    def glyph_for(self, char: str, default: str = "?") -> int | None:
        """Glyph index drawing `char`, else the one drawing `default`, else None."""
        got = self.index.get(char)
        if got is None:
            got = self.index.get(default)
        return got

    def pixels(self, glyph: int) -> list[list[bool]]:
        """Glyph `glyph` as rows of booleans (True = foreground), `width` per row."""
        data = self.glyphs[glyph]
        rb = self.row_bytes
        out = []
        for y in range(self.height):
            row = int.from_bytes(data[y * rb : (y + 1) * rb], "big")
            shift = rb * 8 - 1
            out.append([bool(row >> (shift - x) & 1) for x in range(self.width)])
        return out


def _decompress(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, _MAX_FONT_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise FontError(f"corrupt gzip stream: {exc}") from None
    if len(out) > _MAX_FONT_BYTES:
        raise FontError(f"font larger than {_MAX_FONT_BYTES} bytes when decompressed")
    if not d.eof:
        raise FontError("truncated gzip stream")
    return out


def _psf1(data: bytes) -> tuple[int, int, int, list[bytes], list[tuple[str, ...]]]:
    if len(data) < 4:
        raise FontError("truncated PSF1 header")
    mode, height = data[2], data[3]
    if height == 0:
        raise FontError("PSF1 header declares zero glyph height")
    count = 512 if mode & 0x01 else 256
    width, size = 8, height
    end = 4 + count * size
    if len(data) < end:
        raise FontError(f"truncated PSF1 glyph data: need {end} bytes, have {len(data)}")
    glyphs = [data[4 + i * size : 4 + (i + 1) * size] for i in range(count)]
    chars: list[tuple[str, ...]] = [() for _ in range(count)]
    if mode & 0x02:
        chars = _psf1_unicode(data[end:], count)
    return width, height, count, glyphs, chars


def _psf1_unicode(table: bytes, count: int) -> list[tuple[str, ...]]:
    if len(table) % 2:
        table = table[:-1]
    values = struct.unpack(f"<{len(table) // 2}H", table)
    out: list[tuple[str, ...]] = []
    cur: list[str] = []
    in_seq = False
    for v in values:
        if len(out) == count:
            break
        if v == 0xFFFF:
            out.append(tuple(cur))
            cur, in_seq = [], False
        elif v == 0xFFFE:
            in_seq = True  # combining sequences: not single characters, skip them
        elif not in_seq and not 0xD800 <= v <= 0xDFFF:
            cur.append(chr(v))
    if len(out) < count:
        raise FontError(f"truncated PSF1 unicode table: {len(out)} of {count} glyph entries")
    return out


def _psf2(data: bytes) -> tuple[int, int, int, list[bytes], list[tuple[str, ...]]]:
    if len(data) < 32:
        raise FontError("truncated PSF2 header")
    _version, hsize, flags, count, size, height, width = struct.unpack("<7I", data[4:32])
    if not (32 <= hsize <= len(data)):
        raise FontError(f"PSF2 header size {hsize} out of range")
    if not (0 < width <= 64 and 0 < height <= 128):
        raise FontError(f"PSF2 glyph size {width}x{height} out of range")
    if not 0 < count <= _MAX_GLYPHS:
        raise FontError(f"PSF2 glyph count {count} out of range")
    if size != (width + 7) // 8 * height:
        raise FontError(f"PSF2 bytes per glyph {size} does not match {width}x{height}")
    end = hsize + count * size
    if len(data) < end:
        raise FontError(f"truncated PSF2 glyph data: need {end} bytes, have {len(data)}")
    glyphs = [data[hsize + i * size : hsize + (i + 1) * size] for i in range(count)]
    chars: list[tuple[str, ...]] = [() for _ in range(count)]
    if flags & 0x01:
        chars = _psf2_unicode(data[end:], count)
    return width, height, count, glyphs, chars


def _psf2_unicode(table: bytes, count: int) -> list[tuple[str, ...]]:
    entries = table.split(b"\xff")
    if len(entries) - 1 < count:  # the piece after the last 0xFF is not an entry
        raise FontError(f"truncated PSF2 unicode table: {len(entries) - 1} of {count} glyph entries")
    out: list[tuple[str, ...]] = []
    for raw in entries[:count]:
        singles = raw.split(b"\xfe", 1)[0]  # after 0xFE come combining sequences
        try:
            text = singles.decode("utf-8")
        except UnicodeDecodeError:
            raise FontError("PSF2 unicode table is not valid UTF-8") from None
        out.append(tuple(text))
    return out


def load_font(data: bytes, name: str = "font") -> Font:
    """Parse a PSF1 or PSF2 font (optionally gzip-compressed) from bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FontError(f"{name}: expected bytes, got {type(data).__name__}")
    data = _decompress(bytes(data))
    if data[:2] == _PSF1_MAGIC:
        width, height, count, glyphs, chars = _psf1(data)
    elif data[:4] == _PSF2_MAGIC:
        width, height, count, glyphs, chars = _psf2(data)
    else:
        raise FontError(f"{name}: not a PSF font (bad magic {data[:4].hex() or 'empty'})")
    index: dict[str, int] = {}
    for i, cs in enumerate(chars):
        for c in cs:
            index.setdefault(c, i)
    if not index:
        # No unicode table: assume the glyph order is CP437 like the VGA ROM font.
        cp437 = bytes(range(256)).decode("cp437")
        chars = [(cp437[i],) if i < 256 else () for i in range(count)]
        index = {c[0]: i for i, c in enumerate(chars) if c}
    return Font(name, width, height, tuple(glyphs), tuple(tuple(c) for c in chars), index)


@functools.lru_cache(maxsize=4)
def builtin_font(name: str = BUILTIN_FONT) -> Font:
    """The font bundled with consolewatch (`fonts/<name>`), parsed once and cached."""
    try:
        data = resources.files(__package__).joinpath("fonts").joinpath(name).read_bytes()
    except (OSError, ValueError) as exc:
        raise FontError(f"cannot read bundled font {name}: {exc}") from None
    return load_font(data, name)


def dump_psf2(font: Font) -> bytes:
    """Serialise `font` as PSF2 with a unicode table (used to build the bundled ROM font)."""
    header = struct.pack(
        "<4s7I", _PSF2_MAGIC, 0, 32, 1, len(font.glyphs), font.row_bytes * font.height, font.height, font.width
    )
    table = b"".join("".join(cs).encode("utf-8") + b"\xff" for cs in font.chars)
    return header + b"".join(font.glyphs) + table
