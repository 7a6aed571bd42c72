"""Tesseract engine with the real tesseract binary: accuracy, OMP_THREAD_LIMIT, failures."""

from __future__ import annotations

import os

import pytesseract
import pytest
from helpers import FRAMES, char_accuracy, log_lines, serial_truth, truth_rows

from consolewatch.ocr import OcrError
from consolewatch.ocr.image import decode_image
from consolewatch.ocr.tesseract import TesseractEngine, _ink_height
from consolewatch.sim.screen import render_screen


def _rows(result, n=25):
    rows = result.row_texts()
    return rows + [""] * (n - len(rows))


def test_rendered_screen_accuracy_and_spacing():
    lines = log_lines("aws-nixos-reboot-kill-init-panic.log")
    result = TesseractEngine().read(decode_image(render_screen(lines, fmt="JPEG")))
    assert result.engine == "tesseract" and (result.cols, result.rows) == (80, 25)
    assert char_accuracy(truth_rows(lines), _rows(result)) > 0.90
    # words are put back on the character grid: the printk stamp keeps its padding
    assert any(line.text.startswith("[    ") for line in result.lines)
    assert all(0.0 <= line.confidence <= 1.0 for line in result.lines)


def test_real_seabios_frame_is_read_exactly():
    result = TesseractEngine().read(decode_image((FRAMES / "qemu-seabios-no-bootable-device.png").read_bytes()))
    assert [ln.text for ln in result.lines] == (FRAMES / "qemu-seabios-no-bootable-device.txt").read_text().splitlines()
    assert [ln.row for ln in result.lines] == [0, 1, 2, 4, 5, 7]


def test_real_kernel_panic_frame_accuracy():
    result = TesseractEngine().read(decode_image((FRAMES / "qemu-linux-vfs-panic.png").read_bytes()))
    truth = serial_truth(FRAMES / "qemu-linux-vfs-panic.serial.log")
    assert char_accuracy(truth, _rows(result)) > 0.85


def test_omp_thread_limit_is_set_for_the_subprocess_only(monkeypatch):
    seen = []
    real = pytesseract.pytesseract.run_tesseract

    def spy(*args, **kwargs):
        seen.append(os.environ.get("OMP_THREAD_LIMIT"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pytesseract.pytesseract, "run_tesseract", spy)
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    TesseractEngine().read(decode_image(render_screen(["hello"])))
    assert seen == ["1"] and "OMP_THREAD_LIMIT" not in os.environ
    monkeypatch.setenv("OMP_THREAD_LIMIT", "7")
    TesseractEngine().read(decode_image(render_screen(["hello"])))
    assert seen[-1] == "1" and os.environ["OMP_THREAD_LIMIT"] == "7"


def test_missing_tesseract_binary(monkeypatch):
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(OcrError, match="install tesseract-ocr") as exc:
        TesseractEngine().read(decode_image(render_screen(["hello"])))
    assert "\n" not in str(exc.value)


def test_missing_language_data_is_a_clear_error():
    with pytest.raises(OcrError, match="tesseract failed"):
        TesseractEngine(lang="zz_nonexistent").read(decode_image(render_screen(["hello"])))


def test_upscale_auto_for_small_text():
    from PIL import ImageOps

    big = ImageOps.invert(decode_image(render_screen(["Kernel panic"] * 5)).convert("L"))
    small = big.resize((720, 200))
    assert _ink_height(big) >= 10 > _ink_height(small)
