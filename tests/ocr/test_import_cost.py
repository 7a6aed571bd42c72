"""Importing consolewatch.ocr must not import Pillow, pytesseract or rapidfuzz (fast CLI start)."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_lazy():
    code = (
        "import sys, consolewatch.ocr, consolewatch.sim.screen\n"
        "from consolewatch.ocr import OcrResult, OcrLine, OcrError\n"
        "heavy = [m for m in ('PIL', 'pytesseract', 'rapidfuzz', 'numpy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    import os
    from pathlib import Path

    import consolewatch

    root = str(Path(consolewatch.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == ""


def test_lazy_names_resolve():
    import consolewatch.ocr as ocr

    assert callable(ocr.read_frame) and callable(ocr.tolerant_regex)
    assert ocr.ScreenStitcher and ocr.FrameDeduper and ocr.StitchResult
    assert ocr.get_engine("grid").name == "grid" and ocr.get_engine("tesseract").name == "tesseract"
    import pytest

    with pytest.raises(ocr.OcrError, match="unknown OCR engine"):
        ocr.get_engine("nope")
    with pytest.raises(AttributeError):
        ocr.no_such_thing  # noqa: B018
