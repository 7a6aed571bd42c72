"""Literal stand-ins: what Hyperscan scans for in place of a pattern that is costly to scan for.

A pattern that repeats a character class without bound (`\\S+`, `.*`, `\\d+`, `\\s*`) before
its longest literal keeps Hyperscan's automata busy on nearly every byte after each frequent
prefix (`: `, a blank, a digit): the ~620 patterns of the catalog scanned at ~125 MB/s, a third
of `analyze`'s CPU, and a few such patterns cost more than hundreds of others. When every branch
of such a pattern holds a long run of literal characters, the scanner looks for those runs
instead (Hyperscan's literal matcher does that at memory speed) and confirms each line they flag
with the pattern itself (Python `re`, as the `re` backend checks a candidate line), so the lines
reported are those the pattern matches.

A pattern with no such run in a branch that begins with a broad repeat (`^/\\S*: ...`,
`^\\s*...`: most of the `^`-led patterns, whose anchor the prefilter drops) is scanned for by
what follows its last broad repeat in that branch (`tail_stand_ins`), when that holds enough
literal characters; its other branches are scanned as they are, and only the lines a stand-in
flags are confirmed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

from consolewatch.normalize.rxsource import escaped, source

#: Shortest literal run that stands in for a pattern (shorter ones flag too many lines to confirm).
MIN_LITERAL = 10

#: Fewest literal characters what follows a branch's last broad repeat must hold to stand in for it.
MIN_TAIL = 6

#: A branch whose first broad repeat comes after this many literal characters is cheap to scan as it is.
LEAD_LITERAL = 3

#: Literal characters each alternative must begin with for a branch to be scanned as its
#: alternatives (`_spelt_out`), and the largest leading class spelt out as literals.
SPELT_LEAD = 2
SPELT_CLASS = 4

#: Shortest run of blanks a branch must begin with to be scanned by blanks (`_blank_led`).
MIN_BLANKS = 4


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
        out.append("".join(map(escaped, run)))
    return out if costly else None


def tail_stand_ins(src: str, flags: int) -> list[tuple[str, bool]] | None:
    """What stands in for `src` when `literal_stand_ins` finds nothing: per top-level branch, an
    expression and whether a line it flags must be confirmed with `src`. A branch whose broad
    repeats come after a literal (or that has none) is scanned as it is; one that begins with a
    broad repeat, by its longest literal run (`MIN_LITERAL`) or else by what follows its last
    broad repeat (`MIN_TAIL` literal characters at least): `\\S*: (?:exec: )?\\d+: (?P<p>\\S+):
    (?:not found|Permission denied)` is scanned for as `: (?:not found|Permission denied)`, or
    else by its first part that literals lead (`_literal_led_cut`); a branch that begins with
    an alternation is scanned as its alternatives, each led by literals (`_spelt_out`: exact, no
    confirmation), and one that begins with a long run of blanks by the blanks and what follows
    (`_blank_led`). None when a branch has none of these or no branch needs a stand-in. What a
    branch begins with that can match nothing is left out (the pattern is searched for, not
    anchored: the same lines)."""
    try:
        tree = _parser.parse(src, flags)
    except re.error:
        return None
    if tree.state.flags & (re.I | re.X):
        return None
    items = tree.data
    branches = items[0][1][1] if len(items) == 1 and items[0][0] is C.BRANCH else [items]
    out: list[tuple[str, bool]] = []
    changed = False
    try:
        for branch in branches:
            flat = _flat(branch)
            lead = 0
            while lead < len(flat) and _nullable(flat[lead]):
                lead += 1  # `\s*X`, `(?:|\]: )X` find a line where `X` does (the prefilter drops a `^`)
            if lead == len(flat):
                return None  # the pattern matches the empty string: scanned as it is
            flat, changed = flat[lead:], changed or lead > 0
            broad = [i for i, item in enumerate(flat) if _broad([item])]
            at, run = _longest_run(flat)
            if not broad:
                if _spaced(flat, at, run):
                    out.append(("".join(map(escaped, run)), True))
                else:
                    out.append((source(flat), False))  # no broad repeat: cheap as it is
                continue
            if _required(flat[:broad[0]]) >= LEAD_LITERAL:
                out.append((source(flat), False))  # literals lead to its broad repeats: cheap as it is
                continue
            last = broad[-1]
            if len(run) >= MIN_LITERAL and _broad(flat[:at]):
                out.append(("".join(map(escaped, run)), True))
            elif _required(flat[last + 1:]) >= MIN_TAIL:
                out.append((source(flat[last + 1:]), True))
            elif (cut := _literal_led_cut(flat, broad[0])) is not None:
                out.append((source(flat[cut:]), True))
            elif (spelt := _spelt_out(flat)) is not None:
                out.extend((source(alt), False) for alt in spelt)
            elif (blank := _blank_led(flat)) is not None:
                out.extend((expr, True) for expr in blank)
            else:
                return None
    except ValueError:  # a construct the writer does not write back
        return None
    return out if changed or any(confirm for _, confirm in out) else None


def _spaced(flat: Sequence[tuple[Any, Any]], at: int, run: str) -> bool:
    """Whether a branch with no broad repeat is costly as it is and its longest literal run
    (`run`, at `at`) should stand in for it: a literal repeated without bound (`\\[ +pid +\\] +uid`)
    comes after fewer than `LEAD_LITERAL` literal characters and before a run of `MIN_TAIL`.
    Hyperscan then keys the branch on its short lead (`[ `, which begins every printk stamp) and
    runs the rest as automata on nearly every line."""
    if len(run) < MIN_TAIL:
        return False
    rep = next((i for i, (op, av) in enumerate(flat)
                if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[1] is C.MAXREPEAT), None)
    return rep is not None and rep < at and _required(flat[:rep]) < LEAD_LITERAL


def _literal_led_cut(flat: Sequence[tuple[Any, Any]], after: int) -> int | None:
    """Where the first part of `flat` begins (past index `after`) that starts a literal run, leads
    with `LEAD_LITERAL` literal characters before any broad repeat and holds `MIN_TAIL` in all:
    `[A-Z][\\w.]* \\d+\\.\\d+ \\((?:tty\\w*|console)\\)` is scanned for as ` \\((?:tty\\w*|console)\\)`."""
    for k in range(after + 1, len(flat)):
        if flat[k][0] is C.LITERAL and flat[k - 1][0] is not C.LITERAL:
            tail = flat[k:]
            if _lead(tail)[0] >= LEAD_LITERAL and _required(tail) >= MIN_TAIL:
                return k
    return None


def _spelt_out(flat: Sequence[tuple[Any, Any]]) -> list[list[tuple[Any, Any]]] | None:
    """`flat` as the union of its leading alternation's alternatives, each followed by the rest,
    with a leading class of a few characters spelt out as literals, when every one of them then
    begins with `SPELT_LEAD` literal characters: `(?:nvme\\d+n\\d+|xvd[a-z]+|[shv]d[a-z]+): \\w+` is
    scanned as `nvme\\d+n\\d+: \\w+`, `xvd[a-z]+: \\w+`, `sd[a-z]+: \\w+`, `hd...`, `vd...`. The
    same lines: Hyperscan finds each by its literal instead of running the class automata on
    every byte. None when `flat` does not begin so."""
    op, av = flat[0]
    if op is C.SUBPATTERN and not av[1] and not av[2] and len(av[3]) == 1:
        op, av = av[3][0]
    if op is not C.BRANCH:
        return None
    out: list[list[tuple[Any, Any]]] = []
    for alt in av[1]:
        seq = _flat(alt) + list(flat[1:])
        head, body = seq[0] if seq else (None, ())
        if head is C.IN and len(body) <= SPELT_CLASS and all(o is C.LITERAL for o, _ in body):
            out.extend([(C.LITERAL, c), *seq[1:]] for _, c in body)
        else:
            out.append(seq)
    return out if all(_lead(seq)[0] >= SPELT_LEAD for seq in out) else None


def _blank_led(flat: Sequence[tuple[Any, Any]]) -> list[str] | None:
    """Stand-ins for a branch that begins with a run of at least `MIN_BLANKS` blanks (`\\s{8,}`):
    that many spaces, or any other blank, each followed by the rest. In a line, a run of blanks
    ending before the rest is either all spaces (its last `n` then stand in) or holds a TAB (or
    another blank; from the last one on it stands in). None when `flat` does not begin so."""
    op, av = flat[0]
    if op not in (C.MAX_REPEAT, C.MIN_REPEAT) or len(flat) < 2:
        return None
    lo, hi, body = av
    if hi is not C.MAXREPEAT or lo < MIN_BLANKS or list(body) != [(C.IN, [(C.CATEGORY, C.CATEGORY_SPACE)])]:
        return None
    tail = list(flat[1:])
    while tail and (tail[-1] == (C.AT, C.AT_END) or _nullable(tail[-1])):
        tail.pop()  # `\\s*$`: the stand-ins need not find the line's end, the confirmation does
    if not tail:
        return None
    rest = source(tail)
    # one expression per other blank: each is then a literal Hyperscan looks for, not a class it
    # tries at every byte
    return [" " * lo + rest] + [blank + r"[\t\x0b\x0c\r ]*" + rest for blank in (r"\t", r"\x0b", r"\x0c", r"\r")]


def _lead(seq: Sequence[tuple[Any, Any]]) -> tuple[int, bool]:
    """How many literal characters every match of `seq` holds before its first broad repeat, and
    whether it has one."""
    n = 0
    for op, av in seq:
        if op is C.LITERAL:
            n += 1
        elif _broad([(op, av)]) and op not in (C.SUBPATTERN, C.BRANCH):
            return n, True
        elif op is C.SUBPATTERN:
            m, stop = _lead(av[-1])
            n += m
            if stop:
                return n, True
        elif op is C.BRANCH:
            leads = [_lead(b) for b in av[1]]
            n += min(m for m, _ in leads)
            if any(stop for _, stop in leads):
                return n, True
    return n, False


def _nullable(item: tuple[Any, Any]) -> bool:
    """Whether the parsed item can always match the empty string (an optional or `*` repeat, an
    alternation with an empty branch): a search for `item` + X finds a line iff one for X does."""
    op, av = item
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        return bool(av[0] == 0)
    if op is C.SUBPATTERN:
        return not av[1] and not av[2] and all(map(_nullable, av[3]))
    if op is C.BRANCH:
        return any(all(map(_nullable, b)) for b in av[1])
    return False


def _flat(seq: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """`seq` with each group that holds a plain sequence (no alternation, no flags) spliced in."""
    out: list[tuple[Any, Any]] = []
    for op, av in seq:
        if op is C.SUBPATTERN and not av[1] and not av[2] and not any(o is C.BRANCH for o, _ in av[3]):
            out.extend(_flat(av[3]))
        else:
            out.append((op, av))
    return out


def _required(seq: Sequence[tuple[Any, Any]]) -> int:
    """How many literal characters every match of `seq` holds, at least."""
    n = 0
    for op, av in seq:
        if op is C.LITERAL:
            n += 1
        elif op is C.SUBPATTERN:
            n += _required(av[-1])
        elif op is C.BRANCH:
            n += min(_required(b) for b in av[1])
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1:
            n += _required(av[2])
    return n


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
