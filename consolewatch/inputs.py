"""Reading `analyze` inputs: a text log, `-`, a screenshot, EC2 or gcloud output, a capture export,
a stored capture (`capture:ID`, replayed from the store), or a target (`gce:PROJECT/ZONE/NAME`,
`aws:i-...`, `qemu:SOCKET`, ...) read once from its source.

Each input becomes source events (the replay fetcher's job, synchronous here). Unusable inputs
(missing, a directory, unreadable, a malformed export) raise `InputError` with one clear line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from consolewatch.model import Chunk, Frame
from consolewatch.safetext import to_bytes

READ_SIZE = 1 << 20
#: JSON documents larger than this are not parsed as JSON (they are read as console text).
JSON_LIMIT = 64 << 20

_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"P6": "image/x-portable-pixmap"}


class InputError(Exception):
    """An input that cannot be analysed (exit status 2)."""


def media_type(head: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
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
        yield from _stream(sys.stdin.buffer, "stdin")
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
        kind = media_type(head)
        if kind is not None:
            rest = f.read(64 << 20)
            yield Frame(name, head + rest, kind)
            return
        if head.lstrip()[:1] == b"{" and os.fstat(f.fileno()).st_size <= JSON_LIMIT:
            data = head + f.read()
            events = _from_json(_json(data), name, path)
            yield from events if events is not None else [Chunk(name, data)]
            return
        yield from _stream(f, name, head)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _from_json(doc: Any, name: str, path: str) -> list[Any] | None:
    """Events for a JSON document this module knows, or None (then it is read as text)."""
    if not isinstance(doc, dict):
        return None
    if "Output" in doc and ("InstanceId" in doc or "Timestamp" in doc):
        # `aws ec2 get-console-output` prints Output already decoded from base64.
        output = doc.get("Output")
        if output is None:
            return []  # no output posted yet: an empty capture
        if not isinstance(output, str):
            raise InputError(f"{path}: `Output` in EC2 console JSON is not text")
        return [Chunk(name, to_bytes(output))]
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
        return [Chunk(name, to_bytes(contents))]
    return None
