"""ZRLE (RFC 6143 §7.7.6): 64x64 tiles, each raw, solid, packed-palette, plain RLE or palette
RLE, all of a connection's rectangles inflated by one zlib stream.

The client asks for 32-bit true colour with the colour in the low three bytes, so a CPIXEL is
3 bytes (B, G, R) and becomes a 4-byte pixel by adding a 0 (§7.7.6: "CPIXEL").

A server controls the compressed length and what it inflates to, so both are bounded before
they are trusted: the compressed length may not exceed what the rectangle's tiles could need
(`max_compressed`), and inflating stops at `bound(w, h)` bytes -- the most any valid encoding
of the rectangle takes -- so a zlib bomb costs at most that much memory and is reported as one.
Decoding uses bytes.translate and slice assignment, never a Python loop per pixel, except for
RLE runs (one step per run).
"""

from __future__ import annotations

import zlib

from consolewatch.fetchers.base import one_line
from consolewatch.fetchers.rfb.protocol import RfbError

TILE = 64
CPIXEL = 3
_INDEX_BYTES = [bytes(range(n)) for n in range(256)]
_UNPACK = {bits: [bytes((b >> (8 - bits * (i + 1))) & ((1 << bits) - 1) for i in range(8 // bits))
                  for b in range(256)] for bits in (1, 2, 4)}


def bound(w: int, h: int) -> int:
    """The most bytes any valid ZRLE encoding of a w x h rectangle inflates to: per tile one
    subencoding byte and a 127-entry palette, then at most 4 bytes per pixel (plain RLE runs of
    one pixel: a CPIXEL and a length byte)."""
    tiles = -(-w // TILE) * -(-h // TILE)
    return tiles * (1 + 127 * CPIXEL) + w * h * (CPIXEL + 1)


def max_compressed(w: int, h: int) -> int:
    """The longest zlib data a rectangle may claim: its inflated bound plus deflate's worst-case
    overhead (stored blocks: 5 bytes per 16 KB) and a flush."""
    n = bound(w, h)
    return n + n // 16000 * 5 + 64


class ZrleDecoder:
    """One per connection: the zlib stream runs across all ZRLE rectangles."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj()
        self.inflated = 0
        """Bytes inflated so far (for the benchmark)."""

    def inflate(self, w: int, h: int, data: bytes) -> bytes:
        limit = bound(w, h)
        try:
            out = self._inflate.decompress(data, limit)
        except zlib.error as exc:
            raise RfbError(f"corrupt ZRLE zlib data: {one_line(exc, 80)}") from None
        if self._inflate.unconsumed_tail:
            raise RfbError(f"ZRLE data of a {w}x{h} rectangle inflates past {limit:,} bytes, the most its tiles "
                           "can need (a zlib bomb)")
        self.inflated += len(out)
        return out

    def decode(self, fb, x: int, y: int, w: int, h: int, data: bytes) -> None:
        """Inflate one rectangle's zlib data and draw its tiles into `fb` (a Framebuffer)."""
        fb.check(x, y, w, h)
        buf = self.inflate(w, h, data)
        pos = 0
        try:
            for ty in range(y, y + h, TILE):  # a strip of tiles, drawn row by row once decoded
                th = min(TILE, y + h - ty)
                strip: list[tuple[bytes | bytearray, int]] = []
                for tx in range(x, x + w, TILE):
                    tw = min(TILE, x + w - tx)
                    pixels, pos = _tile(tw, th, buf, pos)
                    strip.append((pixels, 4 * tw))
                rows = [b"".join(px[r * n : (r + 1) * n] for px, n in strip) for r in range(th)]
                fb.put(x, ty, w, th, b"".join(rows))
        except IndexError:
            raise RfbError(f"ZRLE data of a {w}x{h} rectangle ends inside a tile ({len(buf)} bytes)") from None
        if pos != len(buf):
            raise RfbError(f"ZRLE data of a {w}x{h} rectangle has {len(buf) - pos} bytes after its last tile")


def _pixels(cpixels: bytes) -> bytearray:
    """3-byte CPIXELs -> 4-byte pixels."""
    n = len(cpixels) // CPIXEL
    out = bytearray(4 * n)
    out[0::4] = cpixels[0::3]
    out[1::4] = cpixels[1::3]
    out[2::4] = cpixels[2::3]
    return out


def _indexed(indices: bytes | bytearray, palette: bytes) -> bytearray:
    """Palette indices -> 4-byte pixels (every index checked against the palette)."""
    size = len(palette) // CPIXEL
    if indices.translate(None, _INDEX_BYTES[size]):  # something left once the valid indices are removed
        raise RfbError(f"ZRLE palette index {max(indices)} with a palette of {size} colours")
    out = bytearray(4 * len(indices))
    for channel in range(3):
        table = bytes(palette[channel::3]).ljust(256, b"\0")
        out[channel::4] = indices.translate(table)
    return out


def _run(buf: bytes, pos: int) -> tuple[int, int]:
    """An RLE run length: 1 + the sum of bytes up to and including the first that is not 255."""
    length = 1
    while True:
        b = buf[pos]
        pos += 1
        length += b
        if b != 255:
            return length, pos


def _tile(tw: int, th: int, buf: bytes, pos: int) -> tuple[bytes | bytearray, int]:
    """One tile's pixels (4 bytes each, row after row) and where the next tile starts."""
    sub = buf[pos]
    pos += 1
    n = tw * th
    if sub == 0:  # raw CPIXELs
        end = pos + n * CPIXEL
        if end > len(buf):
            raise IndexError
        return _pixels(buf[pos:end]), end
    if sub == 1:  # solid
        if pos + CPIXEL > len(buf):
            raise IndexError
        return (bytes(buf[pos : pos + CPIXEL]) + b"\0") * n, pos + CPIXEL
    if 2 <= sub <= 16:  # packed palette
        palette = buf[pos : pos + sub * CPIXEL]
        pos += sub * CPIXEL
        bits = 1 if sub == 2 else 2 if sub <= 4 else 4
        row_bytes = (tw * bits + 7) // 8
        table = _UNPACK[bits]
        end = pos + row_bytes * th
        if end > len(buf) or len(palette) != sub * CPIXEL:
            raise IndexError
        if tw * bits % 8 == 0:  # rows end on a byte: the tile's bits unpack in one go
            indices: bytes | bytearray = b"".join(map(table.__getitem__, buf[pos:end]))
        else:
            indices = b"".join(b"".join(map(table.__getitem__, buf[p : p + row_bytes]))[:tw]
                               for p in range(pos, end, row_bytes))
        return _indexed(indices, palette), end
    if sub == 128:  # plain RLE
        out = bytearray()
        done = 0
        while done < n:
            pixel = bytes(buf[pos : pos + CPIXEL]) + b"\0"
            if len(pixel) != 4:
                raise IndexError
            length, pos = _run(buf, pos + CPIXEL)
            done += length
            if done > n:
                raise RfbError(f"ZRLE run of {length} pixels overflows a {tw}x{th} tile")
            out += pixel * length
        return out, pos
    if sub >= 130:  # palette RLE
        size = sub - 128
        palette = buf[pos : pos + size * CPIXEL]
        if len(palette) != size * CPIXEL:
            raise IndexError
        pos += size * CPIXEL
        indices = bytearray()
        while len(indices) < n:
            index = buf[pos]
            pos += 1
            length = 1
            if index & 128:
                length, pos = _run(buf, pos)
            if len(indices) + length > n:
                raise RfbError(f"ZRLE run of {length} pixels overflows a {tw}x{th} tile")
            indices += bytes((index & 127,)) * length
        return _indexed(bytes(indices), palette), pos
    raise RfbError(f"ZRLE tile subencoding {sub} does not exist (RFC 6143 §7.7.6)")
