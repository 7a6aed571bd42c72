"""Following one screen over time: frames in, the console lines that are new on it out.

`ScreenReader` drops repeated frames (FrameDeduper), reads the rest (`read_frame`) and keeps
only what scrolled into view since the previous frame (ScreenStitcher). The session calls it
for every `Frame` of a source.
"""

from __future__ import annotations

import re

from consolewatch.model import Frame
from consolewatch.ocr.base import OcrError
from consolewatch.ocr.reader import read_frame
from consolewatch.ocr.stitch import FrameDeduper, ScreenStitcher


#: A printk stamp: a row starting with one starts a console line (a full row above it was a
#: line of exactly the screen's width, not one the screen wrapped).
_LINE_START = re.compile(r"\[ *\d+\.(\d|$)")


class ScreenReader:
    def __init__(self) -> None:
        self.stitcher = ScreenStitcher()
        self.deduper = FrameDeduper()
        self.engine: str | None = None
        self.cols: int | None = None
        self._wrapped: tuple[str, float | None] | None = None

    def _join(self, rows: list[tuple[str, float | None]], final: bool = False) -> list[tuple[str, float | None]]:
        """Rejoin console lines the screen wrapped: a row that fills every column continues below."""
        out: list[tuple[str, float | None]] = []
        for text, conf in rows:
            if self._wrapped is not None and _LINE_START.match(text):
                out.append(self._wrapped)
                self._wrapped = None
            if self._wrapped is not None:
                prev_text, prev_conf = self._wrapped
                self._wrapped = None
                text = prev_text + text
                conf = min(c for c in (prev_conf, conf) if c is not None) if (prev_conf, conf) != (None, None) else None
            if self.cols and len(text) % self.cols == 0 and text and not final:
                self._wrapped = (text, conf)
                continue
            out.append((text, conf))
        if final and self._wrapped is not None:
            out.append(self._wrapped)
            self._wrapped = None
        return out

    def read(self, frame: Frame) -> tuple[list[tuple[str, float | None]], str | None]:
        """New lines as (text, confidence), or an error message for an unreadable frame."""
        if self.deduper.seen(frame.image):
            new = self.stitcher.repeat()
        else:
            try:
                result = read_frame(frame.image, frame.media_type)
            except OcrError as exc:
                return [], f"frame not readable: {exc}"
            self.engine = result.engine
            self.cols = result.cols
            new = self.stitcher.feed(result)
        return self._join([(line.text, line.confidence) for line in new]), None

    def flush(self) -> list[tuple[str, float | None]]:
        """The bottom line held back (a panic's last line): at the end of a capture."""
        return self._join([(line.text, line.confidence) for line in self.stitcher.flush()], final=True)
