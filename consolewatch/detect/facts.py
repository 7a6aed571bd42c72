"""Line fields against the cloud's facts: the `context` tests of a rule's line matcher.

A line matcher may say `context: {differs: {address: ipv4_addresses}, equals: {...}}`: the line
matches only when each named field of the line differs from (or equals) the named field of the
machine's context (what the cloud's API said: `MachineContext.fields`, e.g. the addressing
consolewatch.netcfg derives). A test whose line field or context field is unknown does not hold:
without the cloud's word nothing is claimed, so such rules stay quiet on a bare log file.

Values are compared as what they denote: IP addresses in any spelling (`FE80::1` is `fe80::1`),
a prefix length and a dotted netmask alike (`24` is `255.255.255.0`), anything else as text. A
context value may list alternatives separated by spaces or commas (every address the machine
was assigned): `equals` holds when one of them is the line's value, `differs` when none is.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Mapping

from consolewatch.normalize.formats import Checker

OPS = ("equals", "differs")
_NAME = re.compile(r"^\w{1,64}$")
_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class ContextTest:
    field: str
    """The line's field (a named group of the matcher's regex or format pattern)."""
    fact: str
    """The context field it is compared with."""
    equal: bool
    """True: `equals`; False: `differs`."""


def parse(c: Checker, raw: Any, where: Any) -> tuple[ContextTest, ...]:
    """A matcher's `context:` mapping; problems are collected on `c`."""
    if not isinstance(raw, dict) or not raw or not set(raw) <= set(OPS):
        c.add(where, "`context` takes `equals` and/or `differs`, each mapping line fields to context fields")
        return ()
    out = []
    for op, pairs in raw.items():
        if not isinstance(pairs, dict) or not pairs:
            c.add(where, f"`context.{op}` must map line fields to context fields")
            continue
        for name, fact in pairs.items():
            if not _NAME.match(str(name)) or not isinstance(fact, str) or not _NAME.match(fact):
                c.add(where, f"`context.{op}`: {name!r}: {fact!r} must name a line field and a context field")
                continue
            out.append(ContextTest(str(name), fact, op == "equals"))
    return tuple(out)


def _readings(value: str) -> set[tuple[str, Any]]:
    """What a value may denote: an address, a prefix length, or just its text."""
    text = value.strip()
    out: set[tuple[str, Any]] = {("text", text)}
    if text.isdigit() and len(text) <= 3:
        out.add(("prefix", int(text)))
        return out
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return out
    out.add(("ip", addr))
    if addr.version == 4:
        try:
            out.add(("prefix", ipaddress.ip_network(f"0.0.0.0/{text}").prefixlen))
        except ValueError:
            pass  # not a netmask: 255.0.255.0, or an ordinary address
    return out


def same(value: str, fact: str) -> bool:
    """The line's `value` denotes what one of the alternatives in `fact` does."""
    mine = _readings(value)
    return any(mine & _readings(alt) for alt in _SPLIT.split(fact.strip()) if alt)


def holds(tests: tuple[ContextTest, ...], fields: Mapping[str, str], facts: Mapping[str, str]) -> bool:
    for t in tests:
        value, fact = fields.get(t.field), facts.get(t.fact)
        if not value or not fact or same(value, fact) != t.equal:
            return False
    return True
