"""The client's copy of the server's screen: 32-bit pixels (B, G, R, 0 in memory), kept current
by the rectangles of each FramebufferUpdate, snapshotted as PNG for the OCR.

Every rectangle is checked against the framebuffer before a byte of it is written: a server
that sends one (or a CopyRect source) outside the screen gets an RfbError, never a write past
the buffer or a silently clipped picture.
"""

from __future__ import annotations

import hashlib
import io

from consolewatch.fetchers.rfb.protocol import Limits, RfbError, check_size

BYTES_PER_PIXEL = 4


class Framebuffer:
    def __init__(self, width: int, height: int, limits: Limits = Limits()) -> None:
        check_size(width, height, limits, "the server")
        self.limits = limits
        self.width, self.height = width, height
        self.data = bytearray(width * height * BYTES_PER_PIXEL)

    def resize(self, width: int, height: int) -> None:
        """DesktopSize: a new, black framebuffer of the new size (the server sends its content next)."""
        check_size(width, height, self.limits, "a DesktopSize update")
        self.width, self.height = width, height
        self.data = bytearray(width * height * BYTES_PER_PIXEL)

    def check(self, x: int, y: int, w: int, h: int, what: str = "rectangle") -> None:
        if x + w > self.width or y + h > self.height:
            raise RfbError(f"the server sent a {what} at {x},{y} of {w}x{h}, outside the "
                           f"{self.width}x{self.height} framebuffer")

    def put(self, x: int, y: int, w: int, h: int, pixels: bytes | bytearray | memoryview) -> None:
        """Write w*h pixels (4 bytes each, rows top to bottom) at x, y."""
        self.check(x, y, w, h)
        row = w * BYTES_PER_PIXEL
        if len(pixels) != row * h:
            raise RfbError(f"{len(pixels)} bytes of pixels for a {w}x{h} rectangle")
        if x == 0 and w == self.width:
            start = y * row
            self.data[start : start + row * h] = pixels
            return
        src = memoryview(pixels)
        stride = self.width * BYTES_PER_PIXEL
        offset = (y * self.width + x) * BYTES_PER_PIXEL
        for r in range(h):
            self.data[offset : offset + row] = src[r * row : (r + 1) * row]
            offset += stride

    def fill(self, x: int, y: int, w: int, h: int, pixel: bytes) -> None:
        self.check(x, y, w, h)
        line = pixel * w
        stride = self.width * BYTES_PER_PIXEL
        offset = (y * self.width + x) * BYTES_PER_PIXEL
        for _ in range(h):
            self.data[offset : offset + len(line)] = line
            offset += stride

    def copy(self, x: int, y: int, w: int, h: int, src_x: int, src_y: int) -> None:
        """CopyRect: the w x h area at src_x, src_y appears at x, y (the areas may overlap)."""
        self.check(x, y, w, h)
        self.check(src_x, src_y, w, h, "CopyRect source")
        stride = self.width * BYTES_PER_PIXEL
        row = w * BYTES_PER_PIXEL
        first = (src_y * self.width + src_x) * BYTES_PER_PIXEL
        rows = [bytes(self.data[first + r * stride : first + r * stride + row]) for r in range(h)]
        offset = (y * self.width + x) * BYTES_PER_PIXEL
        for r in rows:
            self.data[offset : offset + row] = r
            offset += stride

    def row_hashes(self) -> list[int]:
        """One hash per pixel row (to see how far the picture scrolled: `scrolled`)."""
        stride = self.width * BYTES_PER_PIXEL
        view = memoryview(self.data)
        return [hash(view[o : o + stride].tobytes()) for o in range(0, len(self.data), stride)]

    def digest(self) -> bytes:
        return hashlib.blake2b(self.data, digest_size=16).digest() + self.width.to_bytes(2, "big")

    def snapshot(self) -> tuple[int, int, bytes]:
        return self.width, self.height, bytes(self.data)


def encode_png(width: int, height: int, data: bytes) -> bytes:
    """A snapshot as PNG (fast compression: text screens shrink ~50x anyway)."""
    from PIL import Image

    img = Image.frombuffer("RGB", (width, height), data, "raw", "BGRX", 0, 1)
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


def scrolled(old: list[int], new: list[int]) -> int | None:
    """How many pixel rows the picture moved up from `old` to `new` (row hashes, top first): 0
    when it did not move, None when `new` does not continue `old` (another picture, a resize, or
    a scroll by more than the screen). A shift counts when the rows both pictures share are
    equal but for a few (the bottom line may have grown and the cursor moved: up to 40 rows, and
    a tenth of the rest). Only shifts that line up a row found once in each picture are tried."""
    h = len(new)
    if len(old) != h or not h:
        return None

    def agrees(shift: int) -> bool:
        n = h - shift
        return n >= 32 and sum(1 for i in range(n) if old[shift + i] != new[i]) <= 40 + n // 10

    if agrees(0):
        return 0
    once_old: dict[int, int] = {}
    seen: dict[int, int] = {}
    for y, v in enumerate(old):
        seen[v] = seen.get(v, 0) + 1
        once_old[v] = y
    counts_new: dict[int, int] = {}
    for v in new:
        counts_new[v] = counts_new.get(v, 0) + 1
    shifts = sorted({once_old[v] - y for y, v in enumerate(new)
                     if counts_new[v] == 1 and seen.get(v) == 1 and once_old[v] > y})
    return next((s for s in shifts if agrees(s)), None)
