"""render_screen: a VGA text-mode screenshot like QEMU's (720x400, 9x16 cells, grey on black)."""

from __future__ import annotations

import inspect
import io

import pytest
from PIL import Image

from consolewatch.sim.screen import FG, render_screen, screen_rows


def _img(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_signature_is_the_contract():
    sig = inspect.signature(render_screen)
    assert str(sig) == "(lines: 'Sequence[str]', *, cols: 'int' = 80, rows: 'int' = 25, fmt: 'str' = 'PNG', quality: 'int' = 75) -> 'bytes'"


def test_png_is_720x400_grey_on_black():
    img = _img(render_screen(["Hello"]))
    assert img.format == "PNG" and img.size == (720, 400) and img.mode == "RGB"
    colours = {c for _, c in img.getcolors()}
    assert colours == {(0, 0, 0), FG} == {(0, 0, 0), (170, 170, 170)}
    # "H" occupies the first cell only: nothing lit past 5 cells, nothing below row 0
    assert img.crop((45, 0, 720, 400)).getbbox() is None
    assert img.crop((0, 16, 720, 400)).getbbox() is None


def test_jpeg_and_quality():
    lines = [f"line {i} " + "x" * 60 for i in range(30)]
    hi = render_screen(lines, fmt="JPEG", quality=95)
    lo = render_screen(lines, fmt="jpg", quality=20)
    assert _img(hi).format == _img(lo).format == "JPEG"
    assert len(lo) < len(hi)
    with pytest.raises(ValueError, match="unsupported"):
        render_screen(["x"], fmt="TIFF")


def test_other_grid_sizes():
    assert _img(render_screen(["x"], cols=40, rows=10)).size == (360, 160)


def test_last_rows_wrap_tabs_and_controls():
    rows = screen_rows([f"l{i}" for i in range(30)] + ["y" * 85, "a\tb", "ab\rX", "bell\x07!"], cols=80, rows=25)
    assert len(rows) == 25 and all(len(r) == 80 for r in rows)
    assert rows[-5].rstrip() == "y" * 80 and rows[-4].rstrip() == "yyyyy"
    assert rows[-3].rstrip() == "a       b"
    assert rows[-2].rstrip() == "Xb"
    assert rows[-1].rstrip() == "bell!"
    assert rows[0].rstrip() == "l10"  # 30 + 2 wrapped + 3 rows, last 25 shown


def test_short_screen_leaves_blank_rows_at_bottom():
    rows = screen_rows(["one", "", "three"])
    assert [r.rstrip() for r in rows[:4]] == ["one", "", "three", ""]


def test_ninth_column_is_blank_except_line_graphics():
    img = _img(render_screen(["─M─", "╔═╗"])).convert("L")
    ninth = lambda col, row: [img.getpixel((col * 9 + 8, row * 16 + y)) for y in range(16)]  # noqa: E731
    assert any(ninth(0, 0)) and any(ninth(0, 1)) and any(ninth(1, 1))  # box drawing joins up
    assert not any(ninth(1, 0))  # "M" keeps the gap


def test_unknown_characters_draw_as_question_mark():
    assert render_screen(["\u4e2d"]) == render_screen(["?"])
