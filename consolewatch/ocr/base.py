"""The OCR interface: what an engine is, what it returns, how it fails.

An engine turns one decoded picture of a console screen into text lines. Engines are
small objects with a `name` and a `read(image)` method taking a Pillow image already
checked and converted by `consolewatch.ocr.image.decode_image` (RGB, at most
`MAX_PIXELS`). An engine that cannot read this kind of frame (the grid engine on a
picture that is not a text-mode screen) raises `NotApplicable`, and `read_frame` tries the
next engine; any other failure is an `OcrError` with a one-line message.

Built-in engines are registered in `ENGINES` under their names; third-party engines can
be registered through the `consolewatch.ocr_engines` entry-point group (an entry point
naming a zero-argument factory), loaded only when OCR actually runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # Pillow is imported lazily everywhere else
    from PIL.Image import Image

__all__ = [
    "OcrLine",
    "OcrResult",
    "OcrError",
    "NotApplicable",
    "OcrEngine",
    "ENGINES",
    "ENTRY_POINT_GROUP",
    "register_engine",
    "get_engine",
]

ENTRY_POINT_GROUP = "consolewatch.ocr_engines"


class OcrError(Exception):
    """A frame that cannot be read: bad image, missing tesseract, engine failure.

    `str(err)` is always one line, fit to show the user as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class NotApplicable(OcrError):
    """This engine cannot read this kind of frame; another engine may."""


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One line of text read from the screen."""

    text: str
    """The text, trailing spaces removed; inner spacing kept as on screen where known."""
    confidence: float
    """0..1: how sure the engine is of this line."""
    row: int
    """0-based text row on the screen (empty rows are not returned but still counted)."""


@dataclass(frozen=True, slots=True)
class OcrResult:
    """What one engine read from one frame."""

    lines: tuple[OcrLine, ...]
    engine: str
    width: int
    height: int
    cols: int | None = None
    """Text columns when the engine knows the grid (text mode), else None."""
    rows: int | None = None
    """Text rows when the engine knows the grid, else None."""

    @property
    def text(self) -> str:
        """The lines joined by newlines (empty rows between them are not reproduced)."""
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float:
        """Mean line confidence weighted by line length (1.0 for an empty screen)."""
        total = sum(len(line.text) for line in self.lines)
        if not total:
            return 1.0
        return sum(line.confidence * len(line.text) for line in self.lines) / total

    def row_texts(self) -> list[str]:
        """Screen rows from row 0 to the last non-empty one; empty rows as ""."""
        if not self.lines:
            return []
        out = [""] * (max(line.row for line in self.lines) + 1)
        for line in self.lines:
            out[line.row] = line.text
        return out


@runtime_checkable
class OcrEngine(Protocol):
    """An OCR engine: `read` a decoded RGB Pillow image, return an OcrResult."""

    name: str

    def read(self, image: Image) -> OcrResult:
        """Read the frame; raise NotApplicable if this engine cannot, OcrError on failure."""
        ...


ENGINES: dict[str, Callable[[], OcrEngine]] = {}
_loaded_entry_points = False


def register_engine(name: str, factory: Callable[[], OcrEngine]) -> None:
    """Register an engine factory under `name` (a later registration replaces an earlier)."""
    ENGINES[name] = factory


def _load_entry_points() -> None:
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register_engine(ep.name, ep.load())
        except Exception:  # a broken plugin must not break OCR with the built-ins
            continue


def _register_builtins() -> None:
    if "grid" not in ENGINES:
        from consolewatch.ocr.grid import GridEngine
        from consolewatch.ocr.tesseract import TesseractEngine

        ENGINES.setdefault("grid", GridEngine)
        ENGINES.setdefault("tesseract", TesseractEngine)


def get_engine(name: str) -> OcrEngine:
    """An engine instance by registered name; OcrError if none has that name."""
    _register_builtins()
    if name not in ENGINES:
        _load_entry_points()
    factory = ENGINES.get(name)
    if factory is None:
        raise OcrError(f"unknown OCR engine {name!r} (known: {', '.join(sorted(ENGINES))})")
    return factory()
