"""Fuzz targets: one function per parser or decoder, `target(data: bytes) -> None`.

A target feeds arbitrary bytes to one of consolewatch's hostile-input parsers and raises only
when consolewatch misbehaves: an exception other than the documented "this input is not
usable" one, output that is not inert, or JSON that does not parse. The same functions run
under atheris (`python bench/fuzz/run.py TARGET`, coverage-guided) and in the test suite,
which replays every input of `tests/fuzz_corpus/TARGET/` (inputs that once failed, plus seeds).

The targets for the parsers that landed later live beside this file, one module per family:
`fuzz_fetchers.py` (the RFB client, DigitalOcean's and OpenStack's answers) and `fuzz_alerts.py`
(the chat and Alertmanager formatters); `TARGETS` holds them all, `INSTRUMENT` the modules
atheris instruments. Adding a target: write `def fuzz_NAME(data)` (here or in such a module),
add it to `TARGETS`, and create `tests/fuzz_corpus/NAME/` with at least one seed input; the
corpus test picks it up and `run.py NAME` fuzzes it.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _path in (ROOT, HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import fuzz_alerts  # noqa: E402
import fuzz_fetchers  # noqa: E402
from tests.hostile import Misbehaved  # noqa: E402


@lru_cache(maxsize=1)
def catalog():
    from consolewatch import definitions
    from consolewatch.detect.catalog import Catalog

    return Catalog(definitions.load([ROOT / "parsers"]))


def _check_inert(texts) -> None:
    from consolewatch.safetext import is_inert

    for text in texts:
        if not is_inert(text):
            raise Misbehaved(f"not inert: {text!r}")


def _chunks(data: bytes) -> list[bytes]:
    """The first byte picks a chunk size, so the fuzzer explores chunk boundaries too."""
    if not data:
        return []
    size = 1 + data[0] % 64
    body = data[1:]
    return [body[i:i + size] for i in range(0, len(body), size)]


def _analysis_json(session) -> None:
    from consolewatch.sinks.jsonout import analysis_dict, dumps

    doc = dumps(analysis_dict(session.result(), "all"))
    json.loads(doc, parse_constant=_no_constant)


def _no_constant(name: str):
    raise Misbehaved(f"{name} in JSON output")


# -- targets ---------------------------------------------------------------------------------------

def fuzz_normalizer(data: bytes) -> None:
    """Console bytes in any chunking -> lines: same lines as one chunk, every line inert."""
    from consolewatch.normalize.assembler import LineAssembler

    whole = LineAssembler(cap=256)
    parts = LineAssembler(cap=256)
    body = data[1:]
    a = whole.feed(body) + whole.flush()
    b = b"".join(parts.feed(c) for c in _chunks(data)) + parts.flush()
    if a != b:
        raise Misbehaved("chunking changed the lines")
    _check_inert(a.decode("utf-8").split("\n"))


def fuzz_engine(data: bytes) -> None:
    """Lines made of real definition samples and fuzzed bytes -> the whole session and engine."""
    from consolewatch.model import Chunk
    from consolewatch.session import Session

    cat = catalog()
    samples = _samples()
    out = bytearray()
    for i in range(0, len(data) - 1, 2):
        op, arg = data[i], data[i + 1]
        if op % 4 == 0:
            out += samples[arg % len(samples)].encode() + b"\n"
        elif op % 4 == 1:
            out += b"[%5d.%06d] " % (arg, op) + samples[arg % len(samples)].encode() + b"\n"
        else:
            out.append(arg)
    session = Session(cat)
    for chunk in _chunks(bytes(out[:1]) + bytes(out)):
        session.feed(Chunk("console", chunk))
    session.finish()
    _analysis_json(session)


@lru_cache(maxsize=1)
def _samples() -> list[str]:
    defs = catalog().defs
    lines = [s.line for f in defs.formats.values() for s in f.samples]
    lines += [line for r in defs.rules.values() for s in (*r.match_samples, *r.no_match_samples) for line in s.lines]
    return lines


def fuzz_frame(data: bytes) -> None:
    """Screenshot bytes (PNG/JPEG/...) -> a bounded RGB image or OcrError."""
    from consolewatch.ocr.base import OcrError
    from consolewatch.ocr.image import MAX_PIXELS, decode_image

    media = ("image/png", "image/jpeg", None)[data[0] % 3] if data else None
    try:
        img = decode_image(data[1:], media)
    except OcrError:
        return
    if img.mode != "RGB" or img.size[0] * img.size[1] > MAX_PIXELS:
        raise Misbehaved(f"decoded to {img.mode} {img.size}")


def fuzz_cloud_json(data: bytes) -> None:
    """EC2/GCE answers: GetConsoleOutput (raw base64 and boto3's text), screenshots, the JSON a
    user hands to analyze (aws ec2 get-console-output, GCE serial output), GCE Instance facts."""
    from consolewatch.fetchers import ec2_api, gce_api
    from consolewatch.inputs import InputError, _from_json

    text = data.decode("utf-8", "surrogatepass") if _decodes(data) else data.decode("latin-1")
    for response in ({ec2_api.RAW_KEY: text}, {"Output": text}):
        out, _note = ec2_api.console_bytes(response)
        if not isinstance(out, bytes) or len(out) > ec2_api.MAX_OUTPUT:
            raise Misbehaved("console_bytes returned too much")
    ec2_api.image_bytes(text)
    try:
        gce_api.decode_screenshot(text)
    except ValueError:
        pass
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return
    try:
        _from_json(doc, "fuzz.json", "fuzz.json")
    except InputError:
        pass
    if isinstance(doc, dict):
        _gce_instance(doc)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8", "surrogatepass")
        return True
    except UnicodeDecodeError:
        return False


def _gce_instance(doc: dict) -> None:
    try:
        from google.cloud import compute_v1
    except ImportError:  # pragma: no cover
        return
    from consolewatch.fetchers.gce_api import GceTarget, machine_context

    try:
        inst = compute_v1.Instance.from_json(json.dumps(doc), ignore_unknown_fields=True)
    except Exception:  # the client library refuses it: never reaches consolewatch
        return
    ctx = machine_context(inst, GceTarget("p", "z", "vm"), (1,))
    _check_inert(str(v) for v in ctx.fields.values())


def fuzz_snapshots(data: bytes) -> None:
    """EC2 console windows in any order and overlap -> the stitcher never emits more than it got."""
    from consolewatch.normalize.stitch import SnapshotStitcher

    st = SnapshotStitcher(window=128, key=16, min_overlap=4)
    fed = 0
    for part in data.split(b"\xff\xfe"):
        window = part[-128:]
        new, _gap = st.feed(window)
        fed += len(window)
        if not window.endswith(new) or st.emitted > fed:
            raise Misbehaved("stitcher emitted bytes it was not given")


def fuzz_capture_import(data: bytes) -> None:
    """A capture export -> an import into a real (in-memory) store (or a refusal that leaves
    nothing behind), its replay."""
    from consolewatch.capture_file import import_capture
    from consolewatch.store import Store

    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return
    if not isinstance(doc, dict):
        return
    store = Store(Path(":memory:"))
    try:
        try:
            cid, _ = import_capture(store, doc)
        except (ValueError, KeyError, TypeError):  # refused with a message, as `captures import` does
            if store.list():
                raise Misbehaved("a refused export left a capture behind") from None
            return
        _replay(store, cid)
    finally:
        store.close()


def _replay(store, cid: int) -> None:
    import asyncio

    from rich.console import Console

    from consolewatch.fetchers import Target
    from consolewatch.pipeline import Follower
    from consolewatch.sinks.live import JsonLinesSink, TerminalSink

    [info] = store.list(capture_id=cid)
    json.dumps(info.as_dict(), allow_nan=False)
    out = io.StringIO()
    for sink in (JsonLinesSink(out), TerminalSink(Console(file=io.StringIO(), width=80))):
        f = Follower(Target("import", info.target), catalog=catalog(), store=store, sink=sink, follow=False)
        asyncio.run(f.replay_only(cid))
        sink.close()
    for row in out.getvalue().splitlines():
        json.loads(row, parse_constant=_no_constant)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "normalizer": fuzz_normalizer,
    "engine": fuzz_engine,
    "frame": fuzz_frame,
    "cloud_json": fuzz_cloud_json,
    "snapshots": fuzz_snapshots,
    "capture_import": fuzz_capture_import,
    **fuzz_fetchers.TARGETS,
    **fuzz_alerts.TARGETS,
}

#: The consolewatch modules atheris instruments (imported under its hook before fuzzing).
INSTRUMENT = ("consolewatch.capture_file", "consolewatch.inputs", "consolewatch.normalize.normalizer",
              "consolewatch.pipeline", "consolewatch.session", "consolewatch.sinks.jsonout", "consolewatch.ocr.image",
              "consolewatch.fetchers.ec2_api", "consolewatch.fetchers.gce_api",
              *fuzz_fetchers.INSTRUMENT, *fuzz_alerts.INSTRUMENT)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
