"""`consolewatch ocr IMAGE...`: the text of real QEMU screens, per engine, against the rows their
serial console shows; hostile images exit 2 with one line each, the other images still read."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocr"))
from helpers import FRAMES, cer, real_screens  # noqa: E402

PANIC = FRAMES / "qemu-linux-vfs-panic.png"


def _docs(r) -> list[dict]:
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def _error_rate(screens, docs) -> tuple[int, int]:
    dist = chars = 0
    for (_, path, truth), doc in zip(screens, docs):
        assert doc["path"] == str(path)
        d, c = cer(truth, {x["row"]: x["text"] for x in doc["lines"]})
        dist, chars = dist + d, chars + c
    return dist, chars


def test_json_on_the_real_qemu_screens_matches_their_serial_text(cli):
    screens = real_screens()
    r = cli("ocr", "--json", *[str(p) for _, p, _ in screens])
    assert r.returncode == 0, r.stderr
    docs = _docs(r)
    assert len(docs) == len(screens) == 10
    assert {d["engine"] for d in docs} == {"grid"}  # text-mode screens: the glyph grid reads them
    assert all(0 < x["confidence"] <= 1 and set(x) >= {"text", "confidence"} for d in docs for x in d["lines"])
    dist, chars = _error_rate(screens, docs)
    assert chars > 10_000 and dist / chars < 0.001, (dist, chars)
    panic = next(d for d in docs if d["path"] == str(PANIC))
    assert panic["lines"][-1] == {"text": " on unknown-block(0,0) ]---", "confidence": 1.0, "row": 23}


def test_tesseract_reads_them_too_with_its_engine_named(cli):
    screens = [s for s in real_screens() if s[0] in ("qemu/seabios", "samples/console-silent")]
    r = cli("ocr", "--json", "--engine", "tesseract", *[str(p) for _, p, _ in screens])
    assert r.returncode == 0, r.stderr
    docs = _docs(r)
    assert [d["engine"] for d in docs] == ["tesseract", "tesseract"]
    dist, chars = _error_rate(screens, docs)
    assert chars > 1000 and dist / chars < 0.08, (dist, chars)  # 4.1 % here; bench/ocr.py measures all real screens
    assert docs[0]["lines"][-1]["text"] == "No bootable device."


def test_terminal_view_gutter_confidence_and_engine(cli):
    r = cli("ocr", str(PANIC), env={"COLUMNS": "200"})
    assert r.returncode == 0
    out = r.stdout.decode().splitlines()
    assert out[3] == " 100% | [    1.715969] Kernel panic - not syncing: VFS: Unable to mount root fs on unkno"
    err = r.stderr.decode()
    assert "24 lines read by the glyph grid engine (80x25 text mode), mean confidence 100%" in err
    plain = cli("ocr", "--text", str(PANIC)).stdout.decode().splitlines()
    assert plain[4] == "wn-block(0,0)" and len(plain) == 24


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb() -> bytes:
    """A small PNG whose header claims 100,000 x 100,000 pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 4096)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


@pytest.fixture
def hostile(tmp_path) -> dict[str, Path]:
    from PIL import Image

    png = PANIC.read_bytes()
    jpeg = tmp_path / "real.jpg"
    Image.open(PANIC).convert("RGB").save(jpeg, "JPEG", quality=75)
    files = {
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": jpeg.read_bytes()[:3000],
        "bomb.png": _bomb(),
        "text-named.png": b"[    0.000000] Linux version 6.1.0\n",
        "wrong-magic.jpg": b"\xff\xd8\xff\xe0" + b"\x00garbage" * 64,
        "empty.png": b"",
        "name-\x1b[31mred\x07.png": b"\x89PNG\r\n\x1a\n",
    }
    out = {}
    for name, data in files.items():
        out[name] = tmp_path / name
        out[name].write_bytes(data)
    return out


def test_unusable_images_exit_2_with_one_line_each_and_the_rest_is_read(cli, hostile, tmp_path):
    r = cli("ocr", "--json", str(PANIC), *map(str, hostile.values()), str(tmp_path), timeout=120)
    assert r.returncode == 2
    docs = _docs(r)
    assert [d["path"] for d in docs] == [str(PANIC)] and docs[0]["lines"]
    err = r.stderr.decode().splitlines()
    assert len(err) == len(hostile) + 1, err  # one line per unusable image, the directory too
    assert all(line.startswith("consolewatch: ") for line in err) and "Traceback" not in r.stderr.decode()
    said = dict(zip(list(hostile) + ["dir"], err))
    assert "decompression bomb" in said["bomb.png"] or "too large" in said["bomb.png"]
    assert "truncated" in said["truncated.png"] and "truncated" in said["truncated.jpg"]
    assert "not a supported image" in said["text-named.png"]
    assert "empty" in said["empty.png"]
    assert "\x1b" not in r.stderr.decode() and "\x07" not in r.stderr.decode()  # a file name cannot reach the terminal raw


def test_an_image_on_stdin(cli):
    r = cli("ocr", "--json", "-", input=PANIC.read_bytes())
    assert r.returncode == 0 and _docs(r)[0]["path"] == "-" and _docs(r)[0]["engine"] == "grid"
