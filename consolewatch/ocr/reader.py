"""`read_frame`: one screenshot in, text lines out, whatever the engine.

Decodes the bytes defensively (`consolewatch.ocr.image`), then tries the engines in order
(default: the grid engine, exact and fast on VGA text-mode frames, then tesseract). An
engine raising `NotApplicable` passes the frame on; the first result wins. Every failure
reaches the caller as an `OcrError` with a one-line message, never another exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from consolewatch.ocr.base import NotApplicable, OcrError, OcrResult, get_engine

__all__ = ["read_frame", "DEFAULT_ENGINES"]

DEFAULT_ENGINES: tuple[str, ...] = ("grid", "tesseract")


def read_frame(
    image: bytes,
    media_type: str | None = None,
    *,
    engines: Sequence[str] = DEFAULT_ENGINES,
) -> OcrResult:
    """Read the text on a console screenshot (PNG, JPEG, PPM, BMP, GIF or WebP bytes).

    `media_type` ("image/jpeg", ...) is a hint for the decoder; the bytes decide.
    Raises OcrError (one line) when the frame cannot be decoded or no engine can read it.
    """
    from consolewatch.ocr.image import decode_image

    try:
        picture = decode_image(image, media_type)
        skipped: list[str] = []
        for name in engines:
            engine = get_engine(name)
            try:
                return engine.read(picture)
            except NotApplicable as exc:
                skipped.append(f"{name}: {exc}")
        raise OcrError("no OCR engine could read the frame (" + "; ".join(skipped) + ")")
    except OcrError:
        raise
    except MemoryError:
        raise OcrError("out of memory while reading the frame") from None
    except Exception as exc:  # an engine bug must not escape as a traceback
        raise OcrError(f"OCR failed: {type(exc).__name__}: {exc}") from None
