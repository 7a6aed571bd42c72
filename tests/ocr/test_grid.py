"""Grid engine: exact on rendered screens and on real QEMU VGA screendumps."""

from __future__ import annotations

import io

import pytest
from helpers import FRAMES, log_lines, serial_truth, truth_rows
from PIL import Image, ImageOps

from consolewatch.ocr import NotApplicable, OcrResult
from consolewatch.ocr.grid import GridEngine, geometry_for
from consolewatch.ocr.image import decode_image
from consolewatch.sim.screen import render_screen

LOGS = [
    "aws-nixos-reboot-kill-init-panic.log",
    "kvm-rumprun-solo5-hvt-hello-success.log",
    "openstack-ttylinux-no-lease-metadata-unreachable.log",
]


def _read(data: bytes) -> OcrResult:
    return GridEngine().read(decode_image(data))


def _rows(result: OcrResult, n: int = 25) -> list[str]:
    rows = result.row_texts()
    return rows + [""] * (n - len(rows))


@pytest.mark.parametrize("log", LOGS)
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_rendered_screens_read_exactly(log, fmt):
    lines = log_lines(log)
    result = _read(render_screen(lines, fmt=fmt, quality=75))
    assert result.engine == "grid" and (result.cols, result.rows) == (80, 25)
    assert _rows(result) == truth_rows(lines)
    assert all(0.95 <= line.confidence <= 1.0 for line in result.lines)


def test_empty_rows_are_dropped_but_row_index_kept():
    result = _read(render_screen(["first", "", "  third  "]))
    assert [(ln.text, ln.row) for ln in result.lines] == [("first", 0), ("  third", 2)]


def test_real_seabios_frame():
    result = _read((FRAMES / "qemu-seabios-no-bootable-device.png").read_bytes())
    assert [ln.text for ln in result.lines] == (FRAMES / "qemu-seabios-no-bootable-device.txt").read_text().splitlines()
    assert [ln.row for ln in result.lines] == [0, 1, 2, 4, 5, 7]


@pytest.mark.parametrize("name", ["qemu-linux-vfs-panic.png", "qemu-linux-vfs-panic-cursor.png"])
def test_real_kernel_panic_frames_match_the_serial_log(name):
    result = _read((FRAMES / name).read_bytes())
    assert _rows(result) == serial_truth(FRAMES / "qemu-linux-vfs-panic.serial.log")
    assert result.confidence == 1.0


def test_real_frame_as_jpeg_q75():
    img = Image.open(FRAMES / "qemu-linux-vfs-panic-cursor.png")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    assert _rows(_read(buf.getvalue())) == serial_truth(FRAMES / "qemu-linux-vfs-panic.serial.log")


def test_cursor_is_not_read_as_underscore():
    data = (FRAMES / "qemu-linux-vfs-panic-cursor.png").read_bytes()
    assert not any(line.text.strip() == "_" for line in _read(data).lines)


def _recolour(data: bytes, fg: tuple, bg: tuple) -> bytes:
    mask = Image.open(io.BytesIO(data)).convert("L").point(lambda v: 255 if v > 80 else 0)
    img = Image.composite(Image.new("RGB", mask.size, fg), Image.new("RGB", mask.size, bg), mask)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "fg, bg",
    [((170, 0, 0), (0, 0, 0)), ((255, 255, 85), (0, 0, 170)), ((0, 0, 0), (170, 170, 170)), ((85, 255, 85), (0, 0, 0))],
    ids=["red", "yellow-on-blue", "inverse", "bright-green"],
)
def test_coloured_and_inverse_text(fg, bg):
    lines = ["[FAILED] Failed to mount /sysroot.", "See 'systemctl status sysroot.mount' for details."]
    assert _rows(_read(_recolour(render_screen(lines), fg, bg)))[:2] == lines


def test_scaled_2x_frame():
    img = Image.open(io.BytesIO(render_screen(["Kernel panic - not syncing: VFS"])))
    buf = io.BytesIO()
    img.resize((1440, 800), Image.Resampling.NEAREST).save(buf, "PNG")
    result = _read(buf.getvalue())
    assert result.lines[0].text == "Kernel panic - not syncing: VFS" and result.width == 1440


def test_640x480_framebuffer_grid():
    data = render_screen(["x"])  # draw 8-wide cells by hand: 80x30 of 8x16
    img = Image.new("RGB", (640, 480))
    src = Image.open(io.BytesIO(render_screen(["root=/dev/xvda1"])))
    for col in range(15):
        img.paste(src.crop((col * 9, 0, col * 9 + 8, 16)), (col * 8, 32))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    result = _read(buf.getvalue())
    assert [(ln.text, ln.row) for ln in result.lines] == [("root=/dev/xvda1", 2)] and result.rows == 30
    assert data


def test_blank_screen_reads_as_no_lines():
    result = _read(render_screen([]))
    assert result.lines == () and result.confidence == 1.0


def test_non_text_frames_are_not_applicable():
    with pytest.raises(NotApplicable, match="not a text-mode frame size"):
        _read(_png(Image.new("RGB", (801, 333))))
    photo = Image.radial_gradient("L").resize((720, 400)).convert("RGB")
    noisy = Image.effect_noise((720, 400), 90).convert("RGB")
    for img in (photo, noisy):
        with pytest.raises(NotApplicable, match=r"does not match the VGA font.*(not uniform|distance|match no glyph)"):
            _read(_png(img))


def test_inverted_polarity_photo_of_text_is_rejected_or_exact():
    # A frame of 8x8-font text (80x50 mode) is not the 8x16 grid: it must not be misread.
    data = render_screen(["abc " * 19] * 25)
    small = Image.open(io.BytesIO(data)).resize((720, 200)).resize((720, 400), Image.Resampling.NEAREST)
    small = ImageOps.flip(small)
    with pytest.raises(NotApplicable):
        _read(_png(small))


def test_geometry_for():
    assert [(g.cell_w, g.cols, g.rows, g.scale) for g in geometry_for(720, 400)] == [(9, 80, 25, 1)]
    assert [(g.cell_w, g.cols, g.rows) for g in geometry_for(640, 480)] == [(8, 80, 30)]
    assert [(g.cell_w, g.cols, g.rows) for g in geometry_for(1024, 768)] == [(8, 128, 48)]
    assert geometry_for(1000, 10) == []


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
