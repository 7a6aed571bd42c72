"""PSF font loader: the bundled fonts, and corrupt fonts failing with FontError only."""

from __future__ import annotations

import gzip
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolewatch.ocr.font import BUILTIN_FONT, ROM_FONT, Font, FontError, builtin_font, dump_psf2, load_font


def test_bundled_lat15_font_is_8x16_with_unicode_table():
    font = builtin_font(BUILTIN_FONT)
    assert (font.width, font.height, len(font.glyphs)) == (8, 16, 256)
    for ch in "AZaz09 []/\"'─│└█é€":
        assert ch in font.index, ch
    assert font.glyphs[font.index["~"]] == font.glyphs[font.index["˜"]]  # drawn alike


def test_bundled_rom_font_is_cp437_and_has_the_dotted_zero():
    rom, lat = builtin_font(ROM_FONT), builtin_font(BUILTIN_FONT)
    assert (rom.width, rom.height, len(rom.glyphs)) == (8, 16, 256)
    cp437 = bytes(range(256)).decode("cp437")
    assert all(rom.index[cp437[i]] == i for i in range(0x20, 0x7F))
    assert rom.index["╔"] == 0xC9
    assert rom.glyphs[rom.index["0"]] != lat.glyphs[lat.index["0"]]
    assert rom.glyphs[rom.index["A"]] == lat.glyphs[lat.index["A"]]


def test_pixels_of_underscore():
    font = builtin_font(ROM_FONT)
    rows = font.pixels(font.index["_"])
    assert rows[13] == [True] * 8 and not any(any(r) for i, r in enumerate(rows) if i != 13)


def test_psf2_roundtrip_and_uncompressed_psf1():
    font = builtin_font(BUILTIN_FONT)
    again = load_font(dump_psf2(font))
    assert again.glyphs == font.glyphs and again.index["€"] == font.index["€"]
    raw = gzip.decompress(_bundled_bytes())
    assert load_font(raw).glyphs == font.glyphs


def _bundled_bytes() -> bytes:
    from importlib import resources

    return resources.files("consolewatch.ocr").joinpath("fonts").joinpath(BUILTIN_FONT).read_bytes()


def test_psf_without_unicode_table_assumes_cp437():
    data = b"\x36\x04\x00\x10" + bytes(256 * 16)
    font = load_font(data)
    assert font.index["A"] == 0x41 and font.index["█"] == 0xDB


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not a PSF font"),
        (b"hello world", "not a PSF font"),
        (b"\x36\x04", "truncated PSF1 header"),
        (b"\x36\x04\x02\x10" + bytes(100), "truncated PSF1 glyph data"),
        (b"\x36\x04\x02\x00", "zero glyph height"),
        (b"\x36\x04\x02\x10" + bytes(4096) + b"\x41\x00", "truncated PSF1 unicode table"),
        (b"\x72\xb5\x4a\x86" + bytes(8), "truncated PSF2 header"),
        (b"\x72\xb5\x4a\x86" + struct.pack("<7I", 0, 32, 0, 10, 16, 16, 8), "truncated PSF2 glyph data"),
        (b"\x72\xb5\x4a\x86" + struct.pack("<7I", 0, 32, 0, 10**9, 16, 16, 8), "glyph count"),
        (b"\x72\xb5\x4a\x86" + struct.pack("<7I", 0, 32, 0, 1, 99, 16, 8), "bytes per glyph"),
        (b"\x72\xb5\x4a\x86" + struct.pack("<7I", 0, 10**6, 0, 1, 16, 16, 8), "header size"),
        (b"\x72\xb5\x4a\x86" + struct.pack("<7I", 0, 32, 1, 1, 16, 16, 8) + bytes(16) + b"\xc3\x28\xff", "UTF-8"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (gzip.compress(b"\x36\x04\x02\x10" + bytes(64))[:-10], "gzip"),
    ],
)
def test_corrupt_fonts_raise_font_error(data, message):
    with pytest.raises(FontError, match=message):
        load_font(data)


def test_gzip_bomb_is_refused():
    with pytest.raises(FontError, match="larger than"):
        load_font(gzip.compress(b"\x36\x04\x02\x10" + bytes(8 * 1024 * 1024)))


def test_not_bytes():
    with pytest.raises(FontError, match="expected bytes"):
        load_font("a string")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=5000), st.sampled_from([b"", b"\x36\x04", b"\x72\xb5\x4a\x86"]))
def test_arbitrary_bytes_only_raise_font_error(tail, magic):
    try:
        font = load_font(magic + tail)
    except FontError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(font, Font)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_real_font_only_raises_font_error(data):
    raw = bytearray(gzip.decompress(_bundled_bytes()))
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        load_font(bytes(raw[:cut]))
    except FontError:
        pass
