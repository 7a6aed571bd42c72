"""Decode untrusted screenshot bytes into a bounded RGB Pillow image.

Screenshots come from cloud APIs and VNC servers the guest can influence, so decoding is
defensive: only a few raster formats are accepted (PNG, JPEG, PPM/PGM, BMP, GIF, WebP), the
declared size is checked against `MAX_PIXELS` before any pixel is decoded (a decompression
bomb is refused from its header), truncated or corrupt data raises `OcrError` with a
one-line message, and exotic modes are normalised: palette -> RGB, alpha composited over
black, 16-bit and 32-bit integer greys scaled to 8 bits, CMYK/YCbCr/LAB -> RGB.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from consolewatch.ocr.base import OcrError

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["decode_image", "MAX_PIXELS", "MAX_BYTES", "FORMATS"]

MAX_PIXELS = 16_000_000
"""Largest frame accepted (width x height); a 4K screen is 8.3 MP."""
MAX_BYTES = 64 * 1024 * 1024
"""Largest encoded frame accepted."""
FORMATS = ("PNG", "JPEG", "PPM", "BMP", "GIF", "WEBP")

_MEDIA_TYPES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/x-portable-pixmap": "PPM",
    "image/x-portable-graymap": "PPM",
    "image/x-portable-anymap": "PPM",
    "image/bmp": "BMP",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}


def _formats(media_type: str | None) -> list[str]:
    from PIL import Image

    Image.init()
    available = [f for f in FORMATS if f in Image.OPEN]
    hinted = _MEDIA_TYPES.get((media_type or "").split(";")[0].strip().lower())
    if hinted in available:  # try the declared type first; sniffing still decides
        available.remove(hinted)
        available.insert(0, hinted)
    return available


def decode_image(data: bytes, media_type: str | None = None) -> Image:
    """Decode `data` to an RGB image of at most MAX_PIXELS, or raise OcrError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise OcrError(f"frame must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise OcrError("empty frame: 0 bytes")
    if len(data) > MAX_BYTES:
        raise OcrError(f"frame too large: {len(data)} bytes (limit {MAX_BYTES})")
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - pillow is a dependency
        raise OcrError("Pillow is not installed: pip install pillow") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=_formats(media_type))
            width, height = img.size
            if width <= 0 or height <= 0:
                raise OcrError(f"frame has no pixels ({width}x{height})")
            if width * height > MAX_PIXELS:
                raise OcrError(
                    f"frame too large: {width}x{height} = {width * height} pixels (limit {MAX_PIXELS})"
                )
            img.seek(0)
            img.load()
            return _to_rgb(img)
    except OcrError:
        raise
    except UnidentifiedImageError:
        kind = f" ({media_type})" if media_type else ""
        raise OcrError(f"not a supported image{kind}: expected PNG, JPEG, PPM, BMP, GIF or WebP") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise OcrError(f"frame too large, refused as a decompression bomb: {exc}") from None
    except MemoryError:
        raise OcrError("frame too large to decode in memory") from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error...
        raise OcrError(f"corrupt or truncated image: {type(exc).__name__}: {exc}") from None


def _to_rgb(img: Image) -> Image:
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I") or mode == "F":
        # 16-bit greys (and 32-bit int/float): scale 0..65535 to 0..255 instead of clipping.
        return img.convert("I").point(lambda v: v * (1 / 257)).convert("L").convert("RGB")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")
