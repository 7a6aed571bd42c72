"""Refuse definition regexes that backtrack catastrophically, when definitions load.

Python's `re` backtracks: a pattern such as `(a+)+$` takes time exponential in the length of
a line it fails on, and a guest chooses its lines. User definitions are other people's files,
so every regex is checked here (as pySigma and Semgrep lint rules) and refused with its
file:line before it can run. The check reads the parsed pattern (`re._parser`) and flags the
two shapes behind exponential backtracking:

- a repeated group whose body can itself match one text in several ways: a variable repeat
  inside it (`(a+)+`, `(\\w+\\s?)*`, `(.+,)*`) that no mandatory part of the body, with
  characters the inner repeat cannot match, separates from the next round (`(\\d+\\.)+` is
  fine: `.` is not a digit);
- an alternation under a repeat whose one-character alternatives overlap (`(\\w|\\d)+`,
  `(a|a)*`).

Polynomial cases are not all caught; the follower's watchdog (`consolewatch.watchdog`) keeps
Ctrl-C, SIGTERM and --timeout working while any regex runs.
"""

from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

#: Characters every character set is evaluated on: ASCII and a few beyond it.
PROBES = frozenset([chr(i) for i in range(128)] + ["\u00e9", "\u0100", "\u4e00", "\U0001f600"])
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)
_BIG = 10
"""A repeat allowing more than this many rounds counts as unbounded."""

_CATEGORY = {
    C.CATEGORY_DIGIT: str.isdigit, C.CATEGORY_SPACE: str.isspace,
    C.CATEGORY_WORD: lambda c: c.isalnum() or c == "_", C.CATEGORY_LINEBREAK: lambda c: c == "\n",
}


def check(source: str, flags: int = 0) -> str | None:
    """None when `source` is safe enough to run on hostile lines, else why it is not."""
    try:
        tree = P.parse(source, flags)
    except re.error:
        return None  # compiling reports it
    ascii_only = bool(flags & re.ASCII) or bool(tree.state.flags & re.ASCII)
    ctx = _Ctx(ascii_only, bool((flags | tree.state.flags) & re.IGNORECASE), bool((flags | tree.state.flags) & re.DOTALL))
    return ctx.walk(list(tree))


class _Ctx:
    def __init__(self, ascii_only: bool, icase: bool, dotall: bool) -> None:
        self.ascii, self.icase, self.dotall = ascii_only, icase, dotall

    # -- character sets over PROBES --------------------------------------------------------

    def _cat(self, cat) -> frozenset[str]:
        neg = {C.CATEGORY_NOT_DIGIT: C.CATEGORY_DIGIT, C.CATEGORY_NOT_SPACE: C.CATEGORY_SPACE,
               C.CATEGORY_NOT_WORD: C.CATEGORY_WORD, C.CATEGORY_NOT_LINEBREAK: C.CATEGORY_LINEBREAK}
        base = neg.get(cat, cat)
        test = _CATEGORY.get(base, lambda c: True)
        got = frozenset(c for c in PROBES if test(c) and (c.isascii() or not self.ascii or base == C.CATEGORY_LINEBREAK))
        return PROBES - got if cat in neg else got

    def _lit(self, code: int) -> frozenset[str]:
        ch = chr(code)
        return frozenset({ch, ch.lower(), ch.upper()} if self.icase else {ch}) & PROBES | ({ch} if ch not in PROBES else set())

    def chars_of_item(self, op, av) -> frozenset[str]:
        """Characters one single-character element can match."""
        if op is C.LITERAL:
            return self._lit(av)
        if op is C.NOT_LITERAL:
            return PROBES - self._lit(av)
        if op is C.ANY:
            return PROBES if self.dotall else PROBES - {"\n"}
        if op is C.IN:
            out: set[str] = set()
            negate = False
            for iop, iav in av:
                if iop is C.NEGATE:
                    negate = True
                elif iop is C.LITERAL:
                    out |= self._lit(iav)
                elif iop is C.RANGE:
                    lo, hi = iav
                    out |= {c for c in PROBES if lo <= ord(c) <= hi}
                    if self.icase:
                        out |= {c.swapcase() for c in out if lo <= ord(c) <= hi} & PROBES
                elif iop is C.CATEGORY:
                    out |= self._cat(iav)
                else:
                    out |= PROBES
            return frozenset(PROBES - out if negate else out)
        if op is C.CATEGORY:
            return self._cat(av)
        return PROBES

    def chars(self, seq) -> frozenset[str]:
        """Every character a match of `seq` can contain."""
        out: set[str] = set()
        for op, av in seq:
            if op in _REPEATS or op is getattr(C, "POSSESSIVE_REPEAT", None):
                out |= self.chars(av[2])
            elif op is C.SUBPATTERN:
                out |= self.chars(av[-1])
            elif op is C.BRANCH:
                for alt in av[1]:
                    out |= self.chars(alt)
            elif op is getattr(C, "ATOMIC_GROUP", None):
                out |= self.chars(av)
            elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
                continue
            elif op is C.GROUPREF or op is C.GROUPREF_EXISTS:
                out |= PROBES
            else:
                out |= self.chars_of_item(op, av)
        return frozenset(out)

    # -- shapes ----------------------------------------------------------------------------

    @staticmethod
    def _min_len(seq) -> int:
        lo, _ = P.SubPattern(P.State(), list(seq)).getwidth() if seq else (0, 0)
        return lo

    def _variable_repeats(self, seq):
        """Variable-count repeats inside `seq` (not under an atomic group or possessive repeat)."""
        for op, av in seq:
            if op in _REPEATS:
                lo, hi, body = av
                if hi > 1 and hi != lo:
                    yield (op, av)
                yield from self._variable_repeats(body)
            elif op is C.SUBPATTERN:
                yield from self._variable_repeats(av[-1])
            elif op is C.BRANCH:
                widths = {P.SubPattern(P.State(), list(alt)).getwidth() for alt in av[1]}
                if len(widths) > 1:  # `a(?:|a)`, what `a|aa` parses to: a variable part too
                    yield (op, av)
                for alt in av[1]:
                    yield from self._variable_repeats(alt)

    def _ambiguous_body(self, body) -> str | None:
        while len(body) == 1 and body[0][0] is C.SUBPATTERN:  # (...)+ : look inside the group
            body = list(body[0][1][-1])
        for inner in self._variable_repeats(body):
            inner_chars = self.chars([inner])
            separated = False
            for item in body:
                if self._min_len([item]) == 0 or inner in list(self._variable_repeats([item])) or item == inner:
                    continue
                if not (self.chars([item]) & inner_chars):
                    separated = True
                    break
            if not separated:
                return "has a repeat inside a repeat that can match the same text in many ways"
        for op, av in body:
            if op is C.BRANCH and self._overlapping(av[1]):
                return "repeats an alternation whose alternatives can match the same text in many ways"
        return None

    def first(self, seq) -> frozenset[str]:
        """Characters a match of `seq` can begin with."""
        out: set[str] = set()
        for op, av in seq:
            if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
                continue
            if op in _REPEATS:
                out |= self.first(av[2])
                if av[0] > 0:
                    return frozenset(out)
                continue
            if op is C.SUBPATTERN:
                out |= self.first(av[-1])
                if self._min_len(av[-1]) > 0:
                    return frozenset(out)
                continue
            if op is C.BRANCH:
                for alt in av[1]:
                    out |= self.first(alt)
                if all(self._min_len(alt) > 0 for alt in av[1]):
                    return frozenset(out)
                continue
            out |= self.chars([(op, av)])
            return frozenset(out)
        return frozenset(out)

    def _overlapping(self, alts) -> bool:
        """Two alternatives that begin alike and differ in length (`a|aa`): a run of the
        shorter one's text splits in exponentially many ways."""
        alts = [list(a) for a in alts]
        heads = [(self.first(a), self._min_len(a), P.SubPattern(P.State(), a).getwidth()[1]) for a in alts]
        return any(a[0] & b[0] and (a[1], a[2]) != (b[1], b[2])
                   for i, a in enumerate(heads) for b in heads[i + 1:])

    def walk(self, seq) -> str | None:
        for op, av in seq:
            if op in _REPEATS:
                lo, hi, body = av
                if hi > _BIG or hi == C.MAXREPEAT:
                    problem = self._ambiguous_body(list(body))
                    if problem:
                        return problem
                found = self.walk(list(body))
            elif op is C.SUBPATTERN:
                found = self.walk(list(av[-1]))
            elif op is C.BRANCH:
                found = next((p for alt in av[1] if (p := self.walk(list(alt)))), None)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                found = self.walk(list(av[1]))
            else:
                found = None
            if found:
                return found
        return None
