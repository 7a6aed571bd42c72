"""Hostile consoles and hostile strings, shared by tests, bench/hostile_input.py and bench/fuzz/.

`FAMILIES`: adversarial console inputs by kind; `chunks_of(family, size)` yields `Chunk`s of
about `size` bytes of that kind. Every family is synthetic (written here, not captured).
`PAYLOADS`: one hostile string per protection a sink relies on (the hostile-bytes matrix).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable, Iterator

from consolewatch.model import Chunk


def _lines(row: bytes) -> Callable[[int], bytes]:
    return lambda size: row * max(1, size // len(row))


def _cr_runs(size: int) -> bytes:
    # issue 12 item 1: 64 lines of 16,380 CRs were 32-78 s; lines of CR runs scaled to `size`
    run = b"\r" * 16380 + b"\n"
    return run * max(1, size // len(run)) if size >= len(run) else b"\r" * (size - 1) + b"\n"


def _one_line(size: int) -> bytes:
    return b"A" * size  # no newline at all: a 50 MB single line


FAMILIES: dict[str, Callable[[int], bytes]] = {
    "cr-runs": _cr_runs,
    "cr-overwrite": _lines(b"\r".join([b"progress 99%"] * 400) + b"\n"),
    "crcrlf": _lines(b"text\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\n"),
    "cursor-jump-pad": _lines(b"\x1b[2K\x1b[65535Cx" * 1000 + b"\n"),
    "erase-left": _lines(b"x" * 3000 + b"\x1b[1K" * 3000 + b"\n"),
    "row-moves": _lines(b"\x1b[65535Cx\x1b[A" * 1000 + b"\n"),
    "csi-huge-param": _lines(b"\x1b[" + b"9" * 6000 + b"C" + b"x\n"),
    "csi-many-params": _lines(b"\x1b[" + b"1;" * 4000 + b"m" + b"x\n"),
    "osc-unterminated": _lines(b"\x1b]0;" + b"t" * 8000 + b"\n"),
    "esc-flood": _lines(b"\x1b" * 8000 + b"\n"),
    "c1-flood": _lines("\x9b\x9d\x90".encode() * 2000 + b"\n"),
    "bidi-flood": _lines(("\u202e\u2066\u200b\ufeff\u2028" * 500).encode() + b"\n"),
    "zalgo": _lines(("e" + "\u0301" * 3000).encode() + b"\n"),
    "invalid-utf8": _lines(b"\xff\xfe\xc3" * 3000 + b"\n"),
    "long-line": _one_line,
    "many-short-lines": _lines(b"\n"),
    "kernel-like": _lines(b"[    1.234567] EXT4-fs (vda1): mounted filesystem with ordered data mode\n"),
}

#: Families delivered one byte per chunk (a slow serial port); capped: every byte is an event.
ONE_BYTE_CHUNKS = ("cr-runs", "long-line")


def chunks_of(family: str, size: int, source: str = "console") -> Iterator[Chunk]:
    data = FAMILIES[family](size)
    step = 1 if family in ONE_BYTE_CHUNKS and size <= 1 << 16 else 1 << 16
    for i in range(0, len(data), step):
        yield Chunk(source, data[i: i + step])


#: One hostile string per protection: (name, text, what must not survive into output).
PAYLOADS: list[tuple[str, str, str]] = [
    ("csi", "\x1b[2J\x1b[31mred", "\x1b"),
    ("c1-csi", "\x9b2Jclear", "\x9b"),
    ("osc-title", "\x1b]0;pwned title\x07", "\x1b"),
    ("osc-52-clipboard", "\x1b]52;c;cm0gLXJmIH4K\x07", "\x1b"),
    ("osc-8-link", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "\x1b"),
    ("dcs", "\x1bP+q544e\x1b\\", "\x1b"),
    ("bell-backspace", "ok\x08\x08no\x07", "\x08"),
    ("cr-overwrite", "ERROR\rOK   ", "\r"),
    ("bidi-override", "fix: \u202erm -rf /\u202c", "\u202e"),
    ("bidi-isolate", "\u2066isolate\u2069", "\u2066"),
    ("zero-width", "ad\u200bmin", "\u200b"),
    ("bom", "\ufeffboot", "\ufeff"),
    ("line-separator", "one\u2028=== boot 1: SUCCESS", "\u2028"),
    ("tag-chars", "ok\U000e0041\U000e0042", "\U000e0041"),
    ("rich-markup", "[bold red]FAKE[/] [link=https://evil.example]x[/link] [/", "[/]FAKE"),
]


def fuzz_targets() -> dict[str, Callable[[bytes], None]]:
    """The fuzz targets of bench/fuzz/targets.py (bench/ is not a package)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "fuzz" / "targets.py"
    spec = importlib.util.spec_from_file_location("fuzz_targets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TARGETS
