"""Text from outside made safe to show: one policy for every sink.

Console bytes, cloud API answers, capture exports, file names and target names are written by
someone else. Before any of it reaches a terminal, an HTML page, Markdown or a chat message,
the characters that could act instead of being read are shown as visible escapes:

- C0/C1 controls and DEL (escape sequences, OSC 52 clipboard writes, window titles):
  `\\xNN`. The normaliser interprets console control sequences first (`normalize.terminal`);
  this is the rule for everything else, and a second line of defence for console text.
- Bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069) and bidi marks
  (U+200E, U+200F, U+061C): `\\u202e`. They reorder how the rest of a row reads
  ("Trojan Source"), so a quoted line could say something other than what it holds.
- Zero-width and other invisible format characters (every Unicode `Cf` character: U+200B,
  U+2060-2064, U+FEFF, U+00AD, tags U+E0000-E007F, ...), line and paragraph separators
  (U+2028, U+2029, which some viewers break rows on), lone surrogates and the blank Hangul
  fillers: `\\u200b` / `\\U000e0041`. They hide text or make two different strings look equal.
- Zero-width (non-)joiners U+200C/U+200D are kept between two non-ASCII characters, where
  they shape emoji sequences and Indic/Arabic script; anywhere else they are escaped.
- More than four combining marks in a row (text that piles marks up to overprint the rows
  above and below): the marks after the fourth are escaped.

A guest that prints a literal backslash sequence looks the same as an escaped character; the
escape is what makes the difference visible, not undetectable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u180e"
    "\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb\uffa0"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\ud800-\udfff"
)
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_JOINERS = "(?<![^\\x00-\\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\\x00-\\x7f])"  # next to ASCII or an end
_UNICODE = f"[{_FORMAT}]|(?<=[{_MARKS}]{{4}})[{_MARKS}]"
#: Non-ASCII characters a console line must not carry raw (the normaliser's rule; C1 included).
UNICODE_HAZARD = re.compile(f"[\x80-\x9f]|{_UNICODE}|{_JOINERS}")
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"


def _lazy(source: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """The regex, compiled when first asked for: the Unicode classes take ~0.35 ms each to
    compile, and most runs (`analyze --json` of a console) never escape anything."""
    return functools.cache(lambda: re.compile(source, flags))


_ANY = _lazy(f"[{_CONTROLS}]|{_UNICODE}")
_ANY_ONE_LINE = _lazy(f"[\t\n{_CONTROLS}]|{_UNICODE}")
# Joiners are judged after everything else is escaped: an escape next to one is ASCII.
_JOINER = _lazy(_JOINERS)
_C1_OR_UNICODE = _lazy(f"[\x80-\x9f]|{_UNICODE}")


def escape(ch: str) -> str:
    """The visible form of one character: `\\x1b`, `\\u202e`, `\\U000e0041`."""
    n = ord(ch)
    if n < 0x100:
        return "\\x%02x" % n
    return "\\u%04x" % n if n < 0x10000 else "\\U%08x" % n


def _sub(m: re.Match[str]) -> str:
    return escape(m.group())


def escape_unicode(text: str) -> str:
    """Escape the Unicode format/bidi characters (and C1 controls) of an already control-free
    console row; ASCII rows are returned as they are."""
    if text.isascii():
        return text
    return _JOINER().sub(_sub, _C1_OR_UNICODE().sub(_sub, text))


def visible(text: object) -> str:
    """Any outside string made inert for display: TAB and newlines kept, every other control
    and hazardous format character escaped."""
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable():
        return s
    return _JOINER().sub(_sub, _ANY().sub(_sub, s))


def one_line(text: object, limit: int | None = None) -> str:
    """`visible()` for a value shown on one row (a target, a reason, a file name): newlines and
    TABs are escaped too, so it cannot start a row of its own. `limit` cuts it, marked."""
    s = text if isinstance(text, str) else str(text)
    if not (s.isascii() and s.isprintable()):
        s = _JOINER().sub(_sub, _ANY_ONE_LINE().sub(_sub, s))
    if limit is not None and len(s) > limit:
        s = s[:limit] + "\u2026"
    return s


def is_inert(text: str, *, one_row: bool = False) -> bool:
    """True when `text` holds nothing `visible()` (or `one_line()`) would escape."""
    return (_ANY_ONE_LINE if one_row else _ANY)().search(text) is None and _JOINER().search(text) is None


def to_bytes(text: str) -> bytes:
    """UTF-8 for text that came from a JSON/API string: lone surrogates (which UTF-8 cannot
    hold) become visible `\\ud800` escapes instead of an encoding error; surrogate-escaped
    bytes (U+DC80-U+DCFF from a lossless decode) become their original bytes again."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape" if _only_escaped_bytes(text) else "backslashreplace")


def utf8_text(text: str) -> str:
    """`text` as a string UTF-8 can hold (what SQLite and every output need): a file name's
    undecodable bytes (surrogate-escaped, as Python hands over command-line arguments) become
    visible `\\xff` escapes, and any other lone surrogate `\\ud800`; valid text is unchanged."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return to_bytes(text).decode("utf-8", "backslashreplace")


def _only_escaped_bytes(text: str) -> bool:
    return all(not ("\ud800" <= c <= "\udfff") or "\udc80" <= c <= "\udcff" for c in text)


# -- secrets -------------------------------------------------------------------------------------

_USERINFO = _lazy(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]*@")


def redact(label: str) -> str:
    """A target or input as output may name it: a URL loses its user:password@, query and
    fragment (a console URL's token lives there); anything else is kept."""
    if "://" not in label:
        return label
    from urllib.parse import urlsplit

    try:
        u = urlsplit(label)
        host = f"[{u.hostname}]" if ":" in (u.hostname or "") else (u.hostname or "")
        port = f":{u.port}" if u.port else ""
    except ValueError:
        return label.split("://", 1)[0] + "://\u2026"
    hidden = "@" in u.netloc or u.query or u.fragment
    return f"{u.scheme}://{host}{port}{u.path}" + ("?\u2026" if hidden else "")


def redact_urls(text: str) -> str:
    """Free text (an error message) with the credentials of any URL in it replaced by `***@`."""
    return _USERINFO().sub(r"\1***@", text) if "://" in text else text
