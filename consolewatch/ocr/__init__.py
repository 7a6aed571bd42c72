"""Frame -> lines: read console screenshots (text-mode glyph grid first, tesseract as a
fallback), stitch the lines of a scrolling screen, match OCR text tolerantly.

    from consolewatch.ocr import read_frame, ScreenStitcher, FrameDeduper, tolerant_regex
    result = read_frame(png_bytes)          # OcrResult(lines=(OcrLine(text, confidence, row), ...), engine, ...)

Importing this package is cheap: Pillow, pytesseract and rapidfuzz are imported inside the
functions that need them, so the CLI starts fast when no frame is involved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consolewatch.ocr.base import (
    ENGINES,
    NotApplicable,
    OcrEngine,
    OcrError,
    OcrLine,
    OcrResult,
    get_engine,
    register_engine,
)

if TYPE_CHECKING:
    from consolewatch.ocr.reader import read_frame
    from consolewatch.ocr.stitch import FrameDeduper, ScreenStitcher, StitchResult
    from consolewatch.ocr.tolerant import tolerant_regex

__all__ = [
    "ENGINES",
    "FrameDeduper",
    "NotApplicable",
    "OcrEngine",
    "OcrError",
    "OcrLine",
    "OcrResult",
    "ScreenStitcher",
    "StitchResult",
    "get_engine",
    "read_frame",
    "register_engine",
    "tolerant_regex",
]

_LAZY = {
    "read_frame": "consolewatch.ocr.reader",
    "FrameDeduper": "consolewatch.ocr.stitch",
    "ScreenStitcher": "consolewatch.ocr.stitch",
    "StitchResult": "consolewatch.ocr.stitch",
    "tolerant_regex": "consolewatch.ocr.tolerant",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
