"""Reading `analyze` inputs: a text log, `-`, a screenshot, EC2 or gcloud output, a capture export,
a stored capture (`capture:ID`, replayed from the store), or a target (`gce:PROJECT/ZONE/NAME`,
`aws:i-...`, `qemu:SOCKET`, ...) read once from its source.

Each input becomes source events (the replay fetcher's job, synchronous here). Unusable inputs
(missing, a directory, unreadable, a malformed export) raise `InputError` with one clear line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from consolewatch.model import Chunk, Frame, MachineContext
from consolewatch.safetext import to_bytes

READ_SIZE = 1 << 20
#: JSON documents larger than this are not parsed as JSON (they are read as console text).
JSON_LIMIT = 64 << 20

_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"P6": "image/x-portable-pixmap"}
#: Files that are surely not a console: magic bytes -> what to call them.
_NOT_CONSOLE = {
    b"\x7fELF": "an ELF binary (a program or kernel image), not console output",
    b"\x1f\x8b": "a gzip archive; decompress it first (zcat FILE | consolewatch analyze -)",
    b"PK\x03\x04": "a zip archive; extract the console log from it first",
    b"PK\x05\x06": "an empty zip archive",
    b"\xfd7zXZ\x00": "an xz archive; decompress it first (xzcat FILE | consolewatch analyze -)",
    b"\x28\xb5\x2f\xfd": "a zstd archive; decompress it first (zstdcat FILE | consolewatch analyze -)",
    b"BZh": "a bzip2 archive; decompress it first (bzcat FILE | consolewatch analyze -)",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive; extract the console log from it first",
}
#: The smallest picture that can hold one character cell of a console font.
MIN_IMAGE_SIDE = 8
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
#: How a JSON document starts: an object, or an array of values (a printk line starts `[    0.0`).
_JSON_START = re.compile(rb'\s*(?:\{|\[\s*[\[{"\]])')


class InputError(Exception):
    """An input that cannot be analysed (exit status 2)."""


def media_type(head: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def not_a_console(head: bytes) -> str | None:
    """What a file is when its first bytes prove it is no console (an ELF binary, an archive)."""
    for magic, what in _NOT_CONSOLE.items():
        if head.startswith(magic) and (magic != b"BZh" or head[4:10] == b"1AY&SY"):
            return what
    if head[257:262] == b"ustar":
        return "a tar archive; extract the console log from it first"
    return None


def _image_problem(data: bytes) -> str | None:
    """Why an image cannot hold console text (too small), or None."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Exception:  # unreadable images are reported by the OCR as a note, like a bad frame
        return None
    if w < MIN_IMAGE_SIDE or h < MIN_IMAGE_SIDE:
        return f"an image of {w}x{h} pixels, too small to hold console text"
    return None


def _stream(f: BinaryIO, source: str, first: bytes = b"") -> Iterator[Chunk]:
    if first:
        yield Chunk(source, first)
    while True:
        data = f.read(READ_SIZE)
        if not data:
            return
        yield Chunk(source, data)


def source_name(path: str) -> str:
    return "stdin" if path == "-" else Path(path).name or path


def _target(path: str) -> Any | None:
    """The target a PATH names (gce:..., aws:..., i-..., file:..., qemu:...), if it is no file."""
    if path == "-" or Path(path).exists():
        return None
    from consolewatch.fetchers import BUILTIN, parse_target

    kind = "aws" if path.startswith("i-") else path.partition(":")[0]
    if kind not in BUILTIN and not path.startswith("vnc"):
        return None
    try:
        return parse_target(path)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _fetch_once(target: Any) -> list[Any]:
    """What the target's console holds now (one read, no follow): a post-mortem from the cloud."""
    import asyncio

    from consolewatch.fetchers import FetchError, fetcher_class

    async def collect() -> list[Any]:
        fetcher = fetcher_class(target.kind)(target)
        return [ev async for ev in fetcher.stream(follow=False)]

    try:
        return asyncio.run(collect())
    except FetchError as exc:
        raise InputError(f"{target}: {exc}") from None


def _stored_capture(path: str) -> Iterator[Any]:
    """The events of a stored capture, `capture:ID`, in the order they were stored."""
    ident = path.partition(":")[2].strip()
    if not (ident.isascii() and ident.isdigit()):
        raise InputError(f"{path}: a capture id is a number (consolewatch captures list shows them)")
    import sqlite3

    from consolewatch.store import Store, StoreError, data_dir

    db = data_dir() / "captures.sqlite3"
    if not db.is_file():  # do not create an empty store just to say the capture is not there
        raise InputError(f"{path}: no capture {int(ident)} (no capture store at {data_dir()})")
    try:
        store = Store(db, readonly=True)  # a read-only store (or directory) is still read
    except StoreError as exc:
        raise InputError(f"{path}: {exc}") from None
    try:
        if store.capture(int(ident)) is None:
            raise InputError(f"{path}: no capture {int(ident)} (consolewatch captures list shows them)")
        yield from store.events(int(ident))
    except (sqlite3.Error, ValueError) as exc:
        raise InputError(f"{path}: cannot read the stored capture: {exc}") from None
    finally:
        store.close()


def open_input(path: str) -> Iterator[Any]:
    """Events for one input path (a generator: errors surface when iterated)."""
    if path == "-":
        head = sys.stdin.buffer.read(READ_SIZE)
        what = not_a_console(head)
        if what is not None:
            raise InputError(f"stdin: {what}")
        yield from _stream(sys.stdin.buffer, "stdin", head)
        return
    if path.startswith("capture:") and not Path(path).exists():
        yield from _stored_capture(path)
        return
    target = _target(path)
    if target is not None:
        yield from _fetch_once(target)
        return
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a directory; give a console log, a screenshot or a capture export")
    try:
        f = p.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    name = source_name(path)
    with f:
        try:
            head = f.read(READ_SIZE)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
        what = not_a_console(head)
        if what is not None:
            raise InputError(f"{path}: {what}")
        kind = media_type(head)
        if kind is not None:
            image = head + f.read(64 << 20)
            problem = _image_problem(image)
            if problem is not None:
                raise InputError(f"{path}: {problem}")
            yield Frame(name, image, kind)
            return
        if _JSON_START.match(head) and os.fstat(f.fileno()).st_size <= JSON_LIMIT:
            data = head + f.read()
            doc = _json(data)
            if doc is None:  # not JSON after all: a console that starts with a brace
                yield from (Chunk(name, data[i:i + READ_SIZE]) for i in range(0, len(data), READ_SIZE))
                return
            yield from _from_json(doc, name, path)
            return
        yield from _stream(f, name, head)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _decoded(output: str) -> bytes:
    """EC2's `Output`: `aws ec2 get-console-output` prints it decoded; the raw API (and some
    SDKs) leave it base64. Console text has spaces; base64 has none and decodes to text."""
    packed = "".join(output.split())
    if len(packed) >= 8 and len(packed) % 4 == 0 and " " not in output.strip() and _BASE64.fullmatch(packed):
        import base64

        try:
            raw = base64.b64decode(packed, validate=True)
            raw.decode("utf-8")
            return raw
        except ValueError:  # binascii.Error and UnicodeDecodeError both are
            pass
    return to_bytes(output)


def _from_json(doc: Any, name: str, path: str) -> list[Any]:
    """Events for a JSON document this module knows; InputError for any other JSON."""
    if not isinstance(doc, dict):
        doc = {}
    if ("Output" in doc and ("InstanceId" in doc or "Timestamp" in doc)) or {"InstanceId", "Timestamp"} <= doc.keys():
        output = doc.get("Output")
        context = MachineContext(name, cloud="aws")
        if output is None:
            return [context]  # no output posted yet: an empty capture
        if not isinstance(output, str):
            raise InputError(f"{path}: `Output` in EC2 console JSON is not text")
        return [context, Chunk(name, _decoded(output))]
    if str(doc.get("schema", "")).startswith("consolewatch.capture/"):
        from consolewatch.capture_file import events_from_export

        try:
            return list(events_from_export(doc))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: malformed capture export: {exc}") from None
    if "contents" in doc and "next" in doc:
        # The REST/JSON form of GCE getSerialPortOutput.
        contents = doc.get("contents")
        if not isinstance(contents, str):
            raise InputError(f"{path}: `contents` in serial port JSON is not text")
        return [MachineContext(name, cloud="gce"), Chunk(name, to_bytes(contents))]
    raise InputError(f"{path}: JSON that is not console output (analyze reads the JSON of aws ec2 "
                     "get-console-output, of GCE getSerialPortOutput and consolewatch capture exports)")
