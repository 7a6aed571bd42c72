"""Screenshots in the HTML report: only PNG/JPEG, re-encoded (nothing of the original kept but
pixels), bounded in pixels and bytes; the last frame of each screen source is the one shown."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib

from PIL import Image, PngImagePlugin

from consolewatch.model import Chunk, Frame
from consolewatch.sinks.report_image import MAX_BYTES, screenshot


def _png(size=(64, 32), colour=(10, 200, 30), **info) -> bytes:
    meta = PngImagePlugin.PngInfo()
    for k, v in info.items():
        meta.add_text(k, v)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG", pnginfo=meta)
    return out.getvalue()


def test_png_is_re_encoded_without_metadata_or_trailing_bytes():
    raw = _png(Comment="<script>alert(1)</script>") + b"<html><script>alert(2)</script>"
    shot = screenshot("screen", Frame("screen", raw, "image/png"))
    assert not shot.problem and shot.media_type == "image/png" and (shot.width, shot.height) == (64, 32)
    assert b"script" not in shot.data and b"tEXt" not in shot.data and shot.data.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(shot.data)) as im:
        assert im.getpixel((5, 5)) == (10, 200, 30) and not im.info.get("Comment")


def test_jpeg_is_accepted_by_its_content_not_its_claimed_type():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (255, 255, 255)).save(out, "JPEG", comment=b"<b>hi</b>")
    shot = screenshot("ec2", Frame("ec2", out.getvalue(), "image/png"))
    assert not shot.problem and (shot.width, shot.height) == (40, 30) and b"<b>" not in shot.data


def test_other_formats_and_garbage_are_refused_with_a_reason():
    ppm = b"P6\n2 2\n255\n" + b"\x00" * 12
    assert "PNG or JPEG" in screenshot("qmp", Frame("qmp", ppm, "image/x-portable-pixmap")).problem
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, "GIF")
    assert screenshot("s", Frame("s", gif.getvalue())).problem
    assert screenshot("s", Frame("s", b"\x89PNG\r\n\x1a\n" + os.urandom(200))).problem
    assert screenshot("s", Frame("s", b"")).problem


def test_a_pixel_bomb_is_not_decoded():
    raw = bytearray(_png((1, 1)))
    # IHDR: length(4) type(4) width(4) height(4) ...; patch the size to 60000 x 60000 and fix the CRC
    struct.pack_into(">II", raw, 16, 60000, 60000)
    struct.pack_into(">I", raw, 29, zlib.crc32(bytes(raw[12:29])))
    shot = screenshot("bomb", Frame("bomb", bytes(raw)))
    assert shot.problem and not shot.data


def test_a_large_screenshot_is_scaled_to_fit():
    noise = Image.frombytes("RGB", (1900, 1200), os.urandom(1900 * 1200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > MAX_BYTES
    shot = screenshot("vnc", Frame("vnc", out.getvalue()))
    assert not shot.problem and 0 < len(shot.data) <= MAX_BYTES and max(shot.width, shot.height) <= 1600


def test_the_last_frame_of_each_source_is_kept_and_shown(catalog):
    from consolewatch.session import Session, run
    from consolewatch.sinks.report import Report
    from consolewatch.sinks.report_html import render_html

    session = Session(catalog)
    first, last = _png(colour=(255, 0, 0)), _png(colour=(0, 0, 255))
    ppm = b"P6\n2 2\n255\n" + b"\x00" * 12
    events = [Chunk("serial", b"SeaBIOS (version 1.16)\nBooting from Hard Disk...\n"),
              Frame("screen", first), Frame("screen", last), Frame("qmp", ppm, "image/x-portable-pixmap")]
    analysis = run(session, events)
    assert [(f.source, f.image) for f in analysis.screens] == [("qmp", ppm), ("screen", last)]
    html = render_html(Report(analysis))
    assert html.count("<img ") == 1 and "The last frame of <code>qmp</code> is not shown" in html
    uri = html.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    with Image.open(io.BytesIO(base64.b64decode(uri))) as im:
        assert im.getpixel((1, 1)) == (0, 0, 255)
