"""`consolewatch ocr IMAGE...`: the text on console screenshots, row by row.

For people who just want the text of a screenshot, and for checking the OCR on their own
screens: each image is read as `analyze` reads a screenshot (`consolewatch.ocr.read_frame`:
the VGA glyph-grid engine, else tesseract; `--engine` picks one) and printed one screen row per
line with its confidence right of a gutter (`--text`: the text alone), or with `--json` as one
JSON object per image and line: `{"path", "engine", "lines": [{"text", "confidence", "row"}]}`.
An image that cannot be used (not an image, truncated, too large, unreadable) is named on
stderr in one line; the others are still read, and the exit status is then 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from consolewatch.cli import EXIT_OK, EXIT_USAGE

ENGINE_NAMES = {"grid": "glyph grid", "tesseract": "tesseract"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "ocr", help="print the text on console screenshots, with the OCR engine and a confidence per line",
        description="Read console screenshots (PNG, JPEG, PPM, BMP, GIF, WebP) as analyze reads them and "
                    "print their text, one screen row per line. Exit 2 when an image cannot be used.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="screenshot files; - reads one from stdin")
    p.add_argument("--json", action="store_true",
                   help='one JSON object per image: {"path", "engine", "lines": [{"text", "confidence", "row"}]}')
    p.add_argument("--engine", choices=["auto", *ENGINE_NAMES], default="auto",
                   help="auto (default): the glyph grid for text-mode screens, else tesseract")
    p.add_argument("--text", action="store_true", help="the text alone, without the confidence gutter")


def run(args: argparse.Namespace) -> int:
    from consolewatch.ocr import OcrError
    from consolewatch.ocr.reader import DEFAULT_ENGINES

    engines = DEFAULT_ENGINES if args.engine == "auto" else (args.engine,)
    failed = 0
    for path in args.images:
        try:
            result = _read(path, engines)
        except OcrError as exc:
            failed += 1
            print(f"consolewatch: {_label(path)}: {exc}", file=sys.stderr)
            continue
        if args.json:
            from consolewatch.sinks.jsonout import dumps, ocr_dict

            sys.stdout.write(dumps(ocr_dict(path, result)) + "\n")
        else:
            _show(path, result, several=len(args.images) > 1, text_only=args.text)
        sys.stdout.flush()
    return EXIT_USAGE if failed else EXIT_OK


def _read(path: str, engines):
    """The OcrResult of one image file (`-`: stdin); OcrError, one line, when it cannot be used."""
    from consolewatch.ocr import OcrError, read_frame
    from consolewatch.ocr.image import MAX_BYTES

    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise OcrError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise OcrError(f"more than {MAX_BYTES // (1 << 20)} MB: too large for a screenshot")
    return read_frame(data, engines=engines)


def _label(path: str) -> str:
    """A file name as it may be shown on a terminal (a name is hostile input too)."""
    from consolewatch.sinks.terminal import inert

    return inert(path).plain


def _show(path: str, result, *, several: bool, text_only: bool) -> None:
    from consolewatch.cli.common import console, say
    from consolewatch.sinks.terminal import Quoted, inert

    # rows wrap (under their gutter) only on a terminal; a file or pipe gets them whole
    out = console() if sys.stdout.isatty() else console(width=100_000)
    if several:
        out.print(f"==> {_label(path)} <==", markup=False, highlight=False)
    by_row = {line.row: line for line in result.lines}
    for row in range(max(by_row, default=-1) + 1):
        line = by_row.get(row)
        text = inert(line.text if line else "")
        if text_only:
            out.print(text, soft_wrap=True)
        else:
            gutter = f"{round(line.confidence * 100):>4}% | " if line else "      | "
            out.print(Quoted(gutter, text))
    mean = f", mean confidence {result.confidence:.0%}" if result.lines else ""
    grid = f" ({result.cols}x{result.rows} text mode)" if result.cols else ""
    say(f"{_label(path)}: {len(result.lines)} lines read by the {ENGINE_NAMES.get(result.engine, result.engine)} "
        f"engine{grid}{mean}")
