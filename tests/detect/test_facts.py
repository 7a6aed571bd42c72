"""`context` tests in rules: a line's fields against the cloud's facts (detect/facts.py), and
the engine firing on them only when the facts are known."""

from __future__ import annotations

import pytest
import yaml

from consolewatch.detect.facts import ContextTest, holds, same
from consolewatch.detect.ruleparse import parse_rules_file


@pytest.mark.parametrize("value,fact,expected", [
    ("10.128.0.2", "10.128.0.2", True),
    ("10.128.0.2", "10.128.0.9", False),
    ("10.128.0.2", "104.236.32.182 10.128.0.2", True),       # one of the assigned addresses
    ("10.128.0.2", "104.236.32.182,10.128.192.124", False),
    ("24", "255.255.255.0", True),                          # a prefix and a netmask alike
    ("255.255.255.255", "32", True),
    ("20", "255.255.255.0", False),
    ("FE80::4001:AFF:FE80:3D0", "fe80::4001:aff:fe80:3d0", True),
    ("10.0.0.24", "24", False),                             # an address is not a prefix
    ("eth0", "eth0", True),
    ("eth0", "ens4", False),
])
def test_values_are_compared_as_what_they_denote(value, fact, expected):
    assert same(value, fact) is expected


def test_an_unknown_field_or_fact_claims_nothing():
    differs = (ContextTest("address", "ipv4_addresses", equal=False),)
    assert holds(differs, {"address": "10.0.0.1"}, {"ipv4_addresses": "10.0.0.2"})
    assert not holds(differs, {"address": "10.0.0.1"}, {})
    assert not holds(differs, {}, {"ipv4_addresses": "10.0.0.2"})
    assert not holds(differs, {"address": "10.0.0.1"}, {"ipv4_addresses": ""})


RULE = {
    "id": "x", "title": "x", "category": "network.static-config-missing", "severity": "error",
    "remediation": {"default": "x"},
    "samples": {"match": [{"line": "a", "source": "s"}], "no_match": [{"line": "b", "source": "s"}]},
}


@pytest.mark.parametrize("context,problem", [
    ({"same": {"address": "ipv4_address"}}, "takes `equals` and/or `differs`"),
    ({"differs": "ipv4_address"}, "must map line fields"),
    ({"differs": {"address": "ipv4 address"}}, "must name a line field and a context field"),
    ({}, "takes `equals` and/or `differs`"),
])
def test_malformed_context_tests_are_reported_with_their_line(context, problem):
    doc = yaml.safe_load(yaml.safe_dump({"rules": [{**RULE, "match": {"line": {"regex": "a", "context": context}}}]}))
    rules, problems = parse_rules_file(doc, "x.yaml")
    assert not rules and any(problem in p.message for p in problems), problems


# samples/qemu/gce-option121-applied/serial.log, line 353
LEASE = "udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600"


def test_a_line_is_judged_against_the_facts_known_when_it_comes(catalog):
    """The engine remembers which rules a repeated line matched; facts that arrive (or change)
    mid-capture must still change the verdict on the next copy of the line."""
    from consolewatch.detect.engine import Engine
    from consolewatch.model import Line, MachineContext

    def differs(engine: Engine, seq: int) -> list[str]:
        return [f.rule for f in engine.feed(Line(seq, LEASE)) if f.rule == "address-differs-from-assigned"]

    engine = Engine(catalog)
    assert differs(engine, 1) == []  # no facts: a bare log says nothing of what was assigned
    engine.set_context(MachineContext("api", "gce", "kvm", {"ipv4_addresses": "10.128.0.2"}))
    assert differs(engine, 2) == []  # the address the cloud assigned
    engine.set_context(MachineContext("api", "gce", "kvm", {"ipv4_addresses": "10.128.0.9"}))
    assert differs(engine, 3) == ["address-differs-from-assigned"]
