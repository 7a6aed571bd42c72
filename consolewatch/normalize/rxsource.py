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
#: Class members that can match a newline (`_no_newline`).
_NEWLINE_CATEGORIES = frozenset({C.CATEGORY_SPACE, C.CATEGORY_NOT_DIGIT, C.CATEGORY_NOT_WORD})


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


def to_line_end(seq: Sequence[tuple[Any, Any]]) -> str:
    """`seq` (a parsed pattern holding an end anchor) as an expression that matches on the same
    lines and ends only at a line's end: each of its last alternatives that ends with `$` is kept
    as it is, each other one is extended to the line's end (`[^\\n]*$`). `P(?:A.+|B\\s*$)` is
    written `P(?:A.+[^\\n]*$|B\\s*$)`: Hyperscan then reports it once per line, not once per
    character after `A` (it refuses an end anchor followed by more, so the whole pattern cannot
    be extended). An alternative is extended only when none of its matches can end with a
    newline (its end, extended, would move to the next line). ValueError when `seq` is not so."""
    if not seq:
        raise ValueError("an empty alternative")
    *head, (op, av) = seq
    if op is C.AT and av is C.AT_END:
        return source(head) + "$"
    if op is C.SUBPATTERN and not av[1] and not av[2]:
        body = av[3]
        alts = body[0][1][1] if len(body) == 1 and body[0][0] is C.BRANCH else [body]
    elif op is C.BRANCH:
        alts = av[1]
    elif _no_newline_at_end(seq):
        return source(seq) + "[^\\n]*$"
    else:
        raise ValueError("may end with a newline")
    return source(head) + "(?:" + "|".join(to_line_end(alt) for alt in alts) + ")"


def _no_newline_at_end(seq: Sequence[tuple[Any, Any]]) -> bool:
    """Whether no match of `seq` can end with a newline (and none is empty)."""
    if not seq:
        return False
    *head, (op, av) = seq
    if op is C.LITERAL:
        return bool(av != 10)
    if op is C.ANY:
        return True  # no DOTALL in the definitions' flags
    if op is C.NOT_LITERAL:
        return bool(av == 10)
    if op is C.IN:
        return _no_newline(av)
    if op is C.SUBPATTERN and not av[1] and not av[2]:
        return _no_newline_at_end(av[3])
    if op is C.BRANCH:
        return all(_no_newline_at_end(b) for b in av[1])
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        lo, _, body = av
        return _no_newline_at_end(body) and (lo >= 1 or _no_newline_at_end(head))
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return _no_newline_at_end(head)  # takes no character
    return False


def _no_newline(items: Sequence[tuple[Any, Any]]) -> bool:
    """Whether a class (`IN`'s items) cannot match a newline."""
    for op, av in items:
        if op is C.NEGATE:
            return False
        if (op is C.LITERAL and av == 10) or (op is C.RANGE and av[0] <= 10 <= av[1]):
            return False
        if op is C.CATEGORY and av in _NEWLINE_CATEGORIES:
            return False
    return True
