"""Hostile consoles and hostile strings, shared by tests, bench/hostile_input.py and bench/fuzz/.

`FAMILIES`: adversarial console inputs by kind; `chunks_of(family, size)` yields `Chunk`s of
about `size` bytes of that kind. Every family is synthetic (written here, not captured).
`PAYLOADS`: one hostile string per protection a sink relies on (the hostile-bytes matrix).
`CHAT_PAYLOADS` and `chat_leaks(service, payload)`: what a chat service would act on (a
mention, a markup link, a tag, styling) and the check that none of it survived a formatter.
`BytesTransport`: an RFB transport reading what a server sent from fixed bytes.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any, Callable, Iterator

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


class Misbehaved(AssertionError):
    """consolewatch did something a hostile input must never make it do (a fuzz target's finding)."""


#: What chat services act on: (name, text). A formatter must pass each on as plain text.
CHAT_PAYLOADS: list[tuple[str, str]] = [
    ("slack-broadcast", "<!channel> <!here|here> <!everyone>"),
    ("slack-user", "<@U0123ABC> <#C0123|general>"),
    ("slack-link", "<https://evil.example/login|Open the report>"),
    ("at-mention", "@everyone @here @room @channel @admin"),
    ("discord-mention", "<@123456789012345678> <@&987654321098765432> <:pwn:123>"),
    ("markdown-link", "[Open the report](https://evil.example/login)"),
    ("markdown-image", "![x](https://evil.example/pixel.png)"),
    ("markdown-style", "**bold** __under__ ~~strike~~ `code` ||spoiler|| # Heading\n> quote"),
    ("html-tag", '<a href="https://evil.example">report</a> <b>bold</b> <img src=x onerror=alert(1)>'),
    ("html-entity", "&lt;b&gt;not a tag&lt;/b&gt; &amp;amp;"),
    ("teams-at", "<at>Everyone</at>"),
]

_WJ = "\u2060"
_MENTION = re.compile(r"@(?=\w)")
#: Per service: the payload fields the service reads as markup, and what it reads them as.
_MARKUP = {"slack": ("slack", ["text"]), "discord": ("markdown", ["content"]), "teams": ("markdown", ["title", "body"]),
           "telegram": ("html", ["text"]), "matrix": ("html", ["title", "body"]), "email": ("html", ["body"])}
_TAGS = ("<b>", "</b>", "<pre>", "</pre>", "<br>")
_ENTITIES = {"telegram": "amp|lt|gt"}
#: Characters Discord's and Teams' Markdown act on (links, styling, quotes, headings, lists, tags, emoji),
#: found where an even number of backslashes (none included) stands before them.
_MARKDOWN = {service: re.compile(r"(?<!\\)(?:\\\\)*([" + re.escape(chars) + "])")
             for service, chars in (("discord", "*_~`|>#-[]()<:"), ("teams", "*_~`|>#-[]()<!"))}


def _strings(doc: Any) -> Iterator[str]:
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for v in doc.values():
            yield from _strings(v)
    elif isinstance(doc, (list, tuple)):
        for v in doc:
            yield from _strings(v)


def _markup_leaks(service: str, kind: str, s: str) -> list[str]:
    if kind == "slack":
        return [f"Slack control sequence: {s!r}"] if re.search("[<>]", s) else []
    if kind == "markdown":
        found = _MARKDOWN[service].search(s.replace("**", ""))  # `**` around headings is ours
        return [f"Markdown {found.group(1)!r}: {s!r}"] if found else []
    bare = s
    for tag in _TAGS:  # ours: headings, evidence, rows
        bare = bare.replace(tag, "")
    leaks = [f"HTML tag: {s!r}"] if re.search("[<>]", bare) else []
    if re.search(f"&(?!({_ENTITIES.get(service, 'amp|lt|gt|quot|#x27')});)", s):
        leaks.append(f"HTML entity: {s!r}")
    return leaks


def chat_leaks(service: str, payload: Any) -> list[str]:
    """What a service would act on in a formatter's payload: mentions, markup links, tags,
    styling, controls; [] when there is none. Only consolewatch's own markup may act: `**`
    around headings (Discord, Teams) and <b>, <pre>, <br> (the HTML services)."""
    from consolewatch.safetext import is_inert

    leaks = []
    for s in _strings(payload):
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            leaks.append(f"cannot be sent as UTF-8: {s!r}")
        if not is_inert(s.replace(_WJ, "")):  # the word joiner is the formatters' own protection
            leaks.append(f"control or invisible character: {s!r}")
        if _MENTION.search(s):
            leaks.append(f"mention: {s!r}")
        if service in ("apprise", "json", "alertmanager") and (re.search(f"<(?!{_WJ})", s) or "](" in s):
            leaks.append(f"tag or link: {s!r}")
    if service in _MARKUP:
        kind, fields = _MARKUP[service]
        for name in fields:
            leaks += _markup_leaks(service, kind, payload.get(name, ""))
    if service == "slack" and payload.get("mrkdwn") is not False:
        leaks.append("Slack mrkdwn left on")
    if service == "discord" and payload.get("allowed_mentions") != {"parse": []}:
        leaks.append("Discord mentions allowed")
    if service == "email" and re.search("[\r\n]", payload.get("title", "")):
        leaks.append("email subject spans lines")
    return leaks


class BytesTransport:
    """An RFB transport reading from fixed bytes (what a server sent), recording what was written."""

    name = "bytes"

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.written = data, 0, bytearray()

    async def read(self, n: int, what: str) -> bytes:
        from consolewatch.fetchers.rfb.protocol import RfbClosed

        if self.pos + n > len(self.data):
            raise RfbClosed(f"closed in the middle of {what}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    async def write(self, data: bytes) -> None:
        self.written += data

    async def close(self) -> None:
        pass


def fuzz_targets() -> dict[str, Callable[[bytes], None]]:
    """The fuzz targets of bench/fuzz/targets.py (bench/ is not a package)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "fuzz" / "targets.py"
    spec = importlib.util.spec_from_file_location("fuzz_targets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TARGETS
