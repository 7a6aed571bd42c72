"""Screenshots for the HTML report: a frame's image decoded and re-encoded, or the reason not.

Frames come from the guest's screen (or a cloud API) and are untrusted: only PNG and JPEG are
accepted (by their content, not the media type they claim), their pixel count is checked before
decoding, and the pixels are re-encoded by Pillow so no metadata, ancillary chunk or trailing
data reaches the report. The result is scaled down until it fits `MAX_BYTES`.
"""

from __future__ import annotations

import io

from consolewatch.model import Frame
from consolewatch.sinks.report import Screenshot, clean

#: Largest embedded image, in bytes (before base64).
MAX_BYTES = 1_500_000
#: Largest image accepted for decoding (a 4K screen is 8.3 Mpx).
MAX_PIXELS = 16_000_000
#: Longest side of an embedded screenshot.
MAX_SIDE = 1600
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def screenshot(source: str, frame: Frame) -> Screenshot:
    name = clean(source, 120)
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - pillow is a dependency
        return Screenshot(name, problem="Pillow is not installed")
    try:
        with Image.open(io.BytesIO(frame.image), formats=list(FORMATS)) as im:
            if im.format not in FORMATS:
                return Screenshot(name, problem="not a PNG or JPEG image")
            width, height = im.size
            if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
                return Screenshot(name, problem=f"image too large to embed ({width}x{height})")
            im.load()
            pixels = im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return Screenshot(name, problem="not a readable PNG or JPEG image")
    return _fit(name, pixels)


def _fit(name: str, pixels) -> Screenshot:
    """Re-encode as PNG (sharp console text), or JPEG when PNG is too big; shrink until it fits."""
    from PIL import Image

    img = pixels
    if max(img.size) > MAX_SIDE:
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    for _ in range(6):
        png = io.BytesIO()
        img.save(png, "PNG", optimize=True)
        if png.tell() <= MAX_BYTES:
            return Screenshot(name, "image/png", png.getvalue(), *img.size)
        jpeg = io.BytesIO()
        img.save(jpeg, "JPEG", quality=80)
        if jpeg.tell() <= MAX_BYTES:
            return Screenshot(name, "image/jpeg", jpeg.getvalue(), *img.size)
        w, h = img.size
        img = img.resize((max(1, w * 2 // 3), max(1, h * 2 // 3)), Image.Resampling.LANCZOS)
    return Screenshot(name, problem=f"image does not fit in {MAX_BYTES} bytes")
