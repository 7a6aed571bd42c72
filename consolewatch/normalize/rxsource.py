"""A parsed Python regex (`re._parser`) written back as an expression, for Hyperscan.

The scanner's stand-ins (`standins`) scan for a part of a pattern: the part is cut from the
parsed pattern and written back here. Groups are written without their names (they capture
nothing in a scan); what Hyperscan and this writer do not share raises ValueError.
"""

from __future__ import annotations

from collections.abc import Sequence
from re import _constants as C  # type: ignore[attr-defined]
from typing import Any

_META = frozenset("\\.^$|?*+()[]{}")
_IN_CLASS = frozenset("\\]^-[")
_CATEGORIES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
               C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}
_AT = {C.AT_BOUNDARY: r"\b", C.AT_NON_BOUNDARY: r"\B"}


def escaped(c: str, meta: frozenset[str] = _META) -> str:
    """`c` as a literal in a Hyperscan expression (a C string: no NUL, no raw control bytes)."""
    if c in meta:
        return "\\" + c
    return f"\\x{ord(c):02x}" if ord(c) < 0x20 or c == "\x7f" else c


def source(seq: Sequence[tuple[Any, Any]]) -> str:
    """`seq` (a parsed pattern, or part of one) as an expression. ValueError for a construct it
    does not write: a back-reference, flags on a group, a line or string anchor, a possessive
    repeat, a conditional."""
    out = []
    for op, av in seq:
        if op is C.LITERAL:
            out.append(escaped(chr(av)))
        elif op is C.NOT_LITERAL:
            out.append("[^" + escaped(chr(av), _IN_CLASS) + "]")
        elif op is C.ANY:
            out.append(".")
        elif op is C.IN:
            out.append(_class(av))
        elif op is C.AT and av in _AT:
            out.append(_AT[av])
        elif op is C.SUBPATTERN and not av[1] and not av[2]:
            out.append("(?:" + source(av[3]) + ")")
        elif op is C.BRANCH:
            out.append("(?:" + "|".join(source(b) for b in av[1]) + ")")
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            out.append("(?:" + source(av[2]) + ")" + _count(av[0], av[1]) + ("?" if op is C.MIN_REPEAT else ""))
        elif op in (C.ASSERT, C.ASSERT_NOT):
            direction, body = av
            out.append("(?" + ("<" if direction < 0 else "") + ("=" if op is C.ASSERT else "!") + source(body) + ")")
        else:
            raise ValueError(f"not written back: {op}")
    return "".join(out)


def _count(lo: int, hi: Any) -> str:
    top = "" if hi is C.MAXREPEAT else str(hi)
    short = {(0, ""): "*", (1, ""): "+", (0, "1"): "?"}.get((lo, top))
    if short:
        return short
    return "{%d}" % lo if top == str(lo) else "{%d,%s}" % (lo, top)


def _class(items: Sequence[tuple[Any, Any]]) -> str:
    out = []
    for op, av in items:
        if op is C.NEGATE:
            out.append("^")
        elif op is C.LITERAL:
            out.append(escaped(chr(av), _IN_CLASS))
        elif op is C.RANGE:
            out.append(escaped(chr(av[0]), _IN_CLASS) + "-" + escaped(chr(av[1]), _IN_CLASS))
        elif op is C.CATEGORY and av in _CATEGORIES:
            out.append(_CATEGORIES[av])
        else:
            raise ValueError(f"not written back in a class: {op}")
    return "[" + "".join(out) + "]"
