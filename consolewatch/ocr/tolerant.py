"""Make a regular expression tolerant of OCR misreads.

Detectors are written against console text (`VFS: Cannot open root device "xvda1"`), but
a screenshot read by tesseract says `UFS: Cannot open root device “xudai”`.
`tolerant_regex` rewrites a Python regex so each *literal* character also matches the
characters OCR confuses it with:

    v u            V U           (tesseract: xvda -> xuda, VFS -> UFS, LVM -> LUM)
    0 O o @ ©      (swapper/0 -> swapper/@, eth0 -> etho, the dotted VGA zero -> ©)
    1 l I | i      (xvda1 -> xvdal / xudai)
    5 S            8 B
    ' " ` ‘ ’ “ ” „ (quotes fold together; straight quotes come back curly)
    - – —          (hyphen, en dash, em dash)
    / -> / or 7    (one way: 10.0.0.1/32 -> 10.0.0.1732)
    w -> w or u    (one way: networking -> netuorking, gw -> gu)
    c -> c or e    (one way: udhcpc -> udhcpe, dhcp -> dhep)
    ! -> 1-2 of ! ?  (one way: ALERT! -> ALERT? or ALERT?!)
    rn <-> m       (only with rn_m=True: rare on fixed-width console fonts)

The table comes from what tesseract 5.3 actually returned for console frames (see
tests/ocr/test_tolerant.py). Not covered: spaces OCR inserts inside words (`unknown-block`
-> `unknown-b lock`) and digit-for-digit swaps (`7` -> `2`, `0` -> `8`).

Only literal characters are rewritten, by walking the pattern token by token: escapes
(`\\d`, `\\x41`, `\\1`, `\\N{...}`), character classes, group syntax (named groups are kept,
so `m.group("dev")` still works), quantifiers, anchors and verbose-mode whitespace and
comments are copied as they are. An escaped punctuation literal (`\\/`, `\\-`, `\\"`) counts
as a literal. Each rewritten character becomes one atom (`[vu]`, `(?:m|rn)`), so
quantifiers after it keep their meaning; `rn`/`m` is never expanded inside a lookbehind
(it would make the lookbehind variable-width). The result is checked to compile.
"""

from __future__ import annotations

import re

__all__ = ["tolerant_regex", "CONFUSIONS", "ONE_WAY", "DOUBLED"]

#: Groups of characters OCR reads for one another (each matches all of its group).
CONFUSIONS: tuple[str, ...] = (
    "vu",
    "VU",
    "0Oo@©",
    "1lI|i",
    "5S",
    "8B",
    "'\"`\u2018\u2019\u201c\u201d\u201e",
    "-\u2013\u2014",
)
#: One-way confusions: the pattern's character may be read as these.
ONE_WAY: dict[str, str] = {"/": "7", "w": "u", "c": "e", "!": "?"}
#: Characters OCR may also read as two characters (`!` -> `?!`): matched 1-2 times.
DOUBLED = frozenset("!")

_QUANT = re.compile(r"\{\d*(?:,\d*)?\}")
_FLAGS = re.compile(r"\(\?[aiLmsux]*(?:-[imsx]+)?[:)]")


def _alternatives() -> dict[str, str]:
    table: dict[str, str] = {}
    for group in CONFUSIONS:
        for ch in group:
            table[ch] = group
    for ch, extra in ONE_WAY.items():
        table[ch] = table.get(ch, ch) + extra
    return table


def _atom(ch: str, token: str, table: dict[str, str]) -> str:
    alts = table.get(ch)
    if not alts:
        return token
    atom = "[" + "".join(re.escape(c) for c in alts) + "]"
    return f"(?:{atom}{{1,2}})" if ch in DOUBLED else atom


def _escape_end(p: str, i: int) -> int:
    """Index just past the escape sequence starting at p[i] == '\\'."""
    if i + 1 >= len(p):
        return len(p)
    c = p[i + 1]
    if c == "x":
        return i + 4
    if c == "u":
        return i + 6
    if c == "U":
        return i + 10
    if c == "N" and i + 2 < len(p) and p[i + 2] == "{":
        return p.index("}", i) + 1
    if c == "0":
        j = i + 2
        while j < len(p) and j < i + 4 and p[j] in "01234567":
            j += 1
        return j
    if c.isdigit():
        j = i + 2
        while j < len(p) and j < i + 4 and p[j].isdigit():
            j += 1
        return j
    return i + 2


def _class_end(p: str, i: int) -> int:
    """Index just past the character class starting at p[i] == '['."""
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


def _group_open(p: str, i: int) -> tuple[int, str]:
    """(end, kind) of the group opening at p[i] == '('; kind "lookbehind", "group" or "skip"
    (a whole construct copied verbatim: comment, backreference, conditional head)."""
    if not p.startswith("(?", i):
        return i + 1, "group"
    if p.startswith(("(?#", "(?P="), i):
        return p.index(")", i) + 1, "skip"
    if p.startswith(("(?P<", "(?<") , i) and not p.startswith(("(?<=", "(?<!"), i):
        return p.index(">", i) + 1, "group"
    if p.startswith(("(?<=", "(?<!"), i):
        return i + 4, "lookbehind"
    if p.startswith("(?(", i):
        return p.index(")", i) + 1, "group"
    if p.startswith(("(?:", "(?=", "(?!", "(?>"), i):
        return i + 3, "group"
    m = _FLAGS.match(p, i)
    if m:
        return m.end(), "skip" if m.group().endswith(")") else "group"
    return i + 2, "group"


def tolerant_regex(pattern: str, *, flags: int = 0, rn_m: bool = False) -> str:
    """Rewrite `pattern` so its literal characters also match their usual OCR misreads.

    `flags`: the flags the pattern will be compiled with (only re.VERBOSE changes how it
    is read; inline flags in the pattern are honoured too). Raises re.error if `pattern`
    itself does not compile.
    """
    compiled = re.compile(pattern, flags)
    verbose = bool(compiled.flags & re.VERBOSE)
    table = _alternatives()
    out: list[str] = []
    stack: list[str] = []
    p, i, n = pattern, 0, len(pattern)

    def quantified(j: int) -> bool:
        return j < n and (p[j] in "*+?" or bool(_QUANT.match(p, j)))

    while i < n:
        c = p[i]
        if c == "\\":
            end = _escape_end(p, i)
            token = p[i:end]
            if len(token) == 2 and not token[1].isalnum():
                out.append(_atom(token[1], token, table))
            else:
                out.append(token)
            i = end
        elif c == "[":
            end = _class_end(p, i)
            out.append(p[i:end])
            i = end
        elif c == "(":
            end, kind = _group_open(p, i)
            out.append(p[i:end])
            if kind != "skip":
                stack.append(kind)
            i = end
        elif c == ")":
            if stack:
                stack.pop()
            out.append(c)
            i += 1
        elif c == "{":
            m = _QUANT.match(p, i)
            end = m.end() if m else i + 1
            out.append(p[i:end])
            i = end
        elif c in "|^$.*+?" or (verbose and c.isspace()):
            out.append(c)
            i += 1
        elif verbose and c == "#":
            end = p.find("\n", i)
            end = n if end < 0 else end
            out.append(p[i:end])
            i = end
        else:
            in_lookbehind = "lookbehind" in stack
            if rn_m and not in_lookbehind and p.startswith("rn", i) and not quantified(i + 2):
                out.append("(?:rn|m)")
                i += 2
            elif rn_m and not in_lookbehind and c == "m":
                out.append("(?:m|rn)")
                i += 1
            else:
                out.append(_atom(c, c, table))
                i += 1
    result = "".join(out)
    re.compile(result, flags)
    return result
