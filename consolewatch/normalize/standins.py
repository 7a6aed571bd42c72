"""Literal stand-ins: what Hyperscan scans for in place of a pattern that is costly to scan for.

A pattern that repeats a character class without bound (`\\S+`, `.*`, `\\d+`, `\\s*`) before
its longest literal keeps Hyperscan's automata busy on nearly every byte after each frequent
prefix (`: `, a blank, a digit): the ~620 patterns of the catalog scanned at ~125 MB/s, a third
of `analyze`'s CPU, and a few such patterns cost more than hundreds of others. When every branch
of such a pattern holds a long run of literal characters, the scanner looks for those runs
instead (Hyperscan's literal matcher does that at memory speed) and confirms each line they flag
with the pattern itself (Python `re`, as the `re` backend checks a candidate line), so the lines
reported are those the pattern matches."""

from __future__ import annotations

import re
from collections.abc import Sequence
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

#: Shortest literal run that stands in for a pattern (shorter ones flag too many lines to confirm).
MIN_LITERAL = 10

_META = frozenset("\\.^$|?*+()[]{}")


def literal_stand_ins(src: str, flags: int) -> list[str] | None:
    """Hyperscan sources (one per top-level branch) of the longest literal run each branch of
    `src` requires, when a branch repeats a character class without bound before its run and every
    branch has a run of at least `MIN_LITERAL` characters; else None (`src` is scanned as it is).
    (A pattern whose class repeats all come after its literal is cheap: Hyperscan runs them only
    from where the literal was found.)"""
    try:
        tree = _parser.parse(src, flags)
    except re.error:
        return None
    if tree.state.flags & (re.I | re.X):
        return None  # a global (?i) or (?x) changes what a literal character means
    items = tree.data
    branches = items[0][1][1] if len(items) == 1 and items[0][0] is C.BRANCH else [items]
    out, costly = [], False
    for branch in branches:
        at, run = _longest_run(branch)
        if len(run) < MIN_LITERAL:
            return None
        costly = costly or _broad(branch[:at])
        out.append("".join(map(_escaped, run)))
    return out if costly else None


def _escaped(c: str) -> str:
    """`c` as a literal in a Hyperscan expression (a C string: no NUL, no raw control bytes)."""
    if c in _META:
        return "\\" + c
    return f"\\x{ord(c):02x}" if ord(c) < 0x20 or c == "\x7f" else c


def _longest_run(seq: Sequence[tuple[Any, Any]]) -> tuple[int, str]:
    """(index in `seq`, text) of the longest run of literal characters."""
    best, best_at, run = "", 0, []
    for i, (op, av) in enumerate([*seq, (None, None)]):
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        if len(run) > len(best):
            best, best_at = "".join(run), i - len(run)
        run = []
    return best_at, best


def _broad(seq: Sequence[tuple[Any, Any]]) -> bool:
    """Whether `seq` (a parsed pattern) repeats a character class without bound (`\\S+`,
    `.*`, `[^)]+`, `\\d+`, `\\s*`)."""
    for op, av in seq:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            _, hi, body = av
            if (hi is C.MAXREPEAT and any(_a_class(o) for o, _ in body)) or _broad(body):
                return True
        elif op is C.SUBPATTERN:
            if _broad(av[-1]):
                return True
        elif op is C.BRANCH:
            if any(_broad(b) for b in av[1]):
                return True
        elif op in (C.ASSERT, C.ASSERT_NOT) and _broad(av[1]):
            return True
    return False


def _a_class(op: Any) -> bool:
    return op in (C.ANY, C.NOT_LITERAL, C.IN)
