"""Literal stand-ins: what Hyperscan scans for in place of a pattern that is costly to scan for.

A pattern with a broad unbounded repeat (`\\S+`, `.*`, `[^)]+`) keeps Hyperscan's automata busy
on nearly every byte once a frequent prefix (`: `, a blank) has been seen: the ~620 patterns of
the catalog scanned at ~125 MB/s, a third of `analyze`'s CPU, and a tenth of the patterns cost
more than the other nine tenths. When every branch of such a pattern holds a long run of literal
characters, the scanner looks for those runs instead (Hyperscan's literal matcher does this at
memory speed) and confirms each line they flag with the pattern itself (Python `re`, as the `re`
backend does), so the lines reported stay those the pattern matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

#: Shortest literal run that stands in for a pattern (shorter ones flag too many lines to confirm).
MIN_LITERAL = 8

_META = frozenset("\\.^$|?*+()[]{}")


def literal_stand_ins(src: str, flags: int) -> list[str] | None:
    """Hyperscan sources (one per top-level branch) of the longest literal run each branch of
    `src` requires, when a branch repeats a broad class without bound before its run and every
    branch has a run of at least `MIN_LITERAL` characters; else None (`src` is scanned as it is).
    (A pattern whose broad repeats all come after its literal is cheap: Hyperscan runs them only
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
        out.append("".join("\\" + c if c in _META else c for c in run))
    return out if costly else None


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
    """Whether `seq` (a parsed pattern) repeats, without bound, a class that takes nearly any
    character: `.`, `\\S`, a negated class or character."""
    for op, av in seq:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            _, hi, body = av
            if (hi is C.MAXREPEAT and any(_any_char(o, a) for o, a in body)) or _broad(body):
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


def _any_char(op: Any, av: Any) -> bool:
    if op in (C.ANY, C.NOT_LITERAL):
        return True
    if op is C.IN:
        return any(o is C.NEGATE or (o is C.CATEGORY and a is C.CATEGORY_NOT_SPACE) for o, a in av)
    return False
