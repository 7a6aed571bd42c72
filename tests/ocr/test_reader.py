"""read_frame: grid first, tesseract as fallback; hostile images fail with one-line OcrError."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from helpers import FRAMES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from consolewatch.ocr import OcrError, OcrResult, read_frame
from consolewatch.ocr.image import MAX_PIXELS
from consolewatch.sim.screen import render_screen

PANIC = ["VFS: Cannot open root device \"xvda1\" or unknown-block(0,0): error -6"]


def _encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"")) + _png_chunk(b"IEND", b"")


def test_grid_first():
    result = read_frame(render_screen(PANIC), "image/png")
    assert result.engine == "grid" and result.lines[0].text == PANIC[0]


def test_jpeg_media_type_hint_and_mismatch():
    data = render_screen(PANIC, fmt="JPEG")
    assert read_frame(data, "image/jpeg").lines[0].text == PANIC[0]
    assert read_frame(data, "image/png").lines[0].text == PANIC[0]  # bytes decide
    assert read_frame(data).lines[0].text == PANIC[0]


def test_tesseract_fallback_for_frames_that_are_not_text_mode():
    img = Image.open(io.BytesIO(render_screen(["No bootable device."]))).crop((0, 0, 701, 100))
    result = read_frame(_encode(img))
    assert result.engine == "tesseract" and result.lines[0].text == "No bootable device."


def test_real_frame():
    result = read_frame((FRAMES / "qemu-linux-vfs-panic.png").read_bytes())
    assert result.engine == "grid"
    assert "VFS: Unable to mount root fs on unkno" in result.text


def test_result_is_frozen():
    result = read_frame(render_screen(PANIC))
    with pytest.raises(AttributeError):
        result.engine = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.lines[0].text = "x"  # type: ignore[misc]


def test_palette_alpha_grey_and_16_bit_images():
    rgb = Image.open(io.BytesIO(render_screen(PANIC)))
    grey = rgb.convert("L")
    rgba = rgb.convert("RGBA")
    rgba.putalpha(255)
    variants = {
        "palette": _encode(rgb.convert("P")),
        "rgba": _encode(rgba),
        "la": _encode(grey.convert("LA")),
        "grey": _encode(grey),
        "16-bit": _encode(grey.point(lambda v: v * 257, "I").convert("I;16")),
        "1-bit": _encode(grey.point(lambda v: 255 if v > 80 else 0).convert("1")),
        "gif": _encode(rgb, "GIF"),
        "bmp": _encode(rgb, "BMP"),
        "ppm": _encode(rgb, "PPM"),
        "cmyk-jpeg": _encode(rgb.convert("CMYK"), "JPEG", quality=90),
    }
    for name, data in variants.items():
        result = read_frame(data)
        assert result.lines and result.lines[0].text == PANIC[0], name


def test_transparent_pixels_are_composited_over_black():
    img = Image.open(io.BytesIO(render_screen(PANIC))).convert("RGBA")
    img.putalpha(Image.new("L", img.size, 0))  # fully transparent: a black screen
    assert read_frame(_encode(img)).lines == ()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty frame"),
        (b"this is not an image at all", "not a supported image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt or truncated|not a supported"),
        (render_screen(PANIC)[:300], "corrupt or truncated"),
        (render_screen(PANIC, fmt="JPEG")[:2000], "corrupt or truncated"),
        (_png_header_only(100_000, 100_000), "too large"),
        (_png_header_only(MAX_PIXELS // 1000 + 1, 1000), "too large"),
        (_png_header_only(0, 400), "no pixels|corrupt|not a supported"),
        (b"GIF89a\x00\x00\x00\x00", "corrupt|not a supported|no pixels"),
        (b"P6\n720 400\n255\n" + b"\x00" * 100, "corrupt or truncated"),
        (b"P6\n99999 99999\n255\n", "too large"),
        (_encode(Image.new("RGB", (10, 10)), "TIFF"), "not a supported image"),
        ("a string", "must be bytes"),
    ],
)
def test_hostile_frames_raise_one_line_ocr_error(data, message):
    with pytest.raises(OcrError, match=message) as exc:
        read_frame(data)  # type: ignore[arg-type]
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 300


def test_jpeg_bomb_header_is_refused_before_decoding():
    data = bytearray(_encode(Image.new("RGB", (16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60000, 60000)
    with pytest.raises(OcrError, match="too large"):
        read_frame(bytes(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_frames_never_raise_anything_but_ocr_error(data):
    base = data.draw(st.sampled_from([render_screen(PANIC), render_screen(PANIC, fmt="JPEG")]))
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    try:
        result = read_frame(bytes(raw), engines=("grid",))
    except OcrError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, OcrResult)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(blob):
    try:
        read_frame(blob, engines=("grid",))
    except OcrError as exc:
        assert "\n" not in str(exc)
