"""Remediation texts quote the cloud API's facts when it was asked (`{field|text}`), and say
something generic, never a raw placeholder, when only a log was read."""

from __future__ import annotations

from consolewatch.detect.remedy import placeholders, render
from consolewatch.model import Chunk, MachineContext
from consolewatch.session import Session

TEXTS = {"default": "Write /etc/network/interfaces:\n{interfaces_stanza|`address A.B.C.D` (the droplet's)}",
         "gce": "On GCE: {thing|nothing to quote}."}
LINE = "udhcpc: no lease, failing"  # samples/qemu/dhcp-no-lease/serial.log


def test_a_field_with_a_fallback_is_the_field_when_known_else_the_text():
    assert render(TEXTS, "do", "kvm", {"interfaces_stanza": "auto eth0"}).endswith(":\nauto eth0")
    assert render(TEXTS, "do", "kvm", {}).endswith(":\n`address A.B.C.D` (the droplet's)")
    assert render(TEXTS, "gce", "kvm", {}) == "On GCE: nothing to quote."
    assert render(TEXTS, "gce", "kvm", {"thing": "{x}"}) == "On GCE: {x}."  # values are never formatted
    assert placeholders(TEXTS) == ("interfaces_stanza", "thing")


def test_a_dhcp_failure_on_a_droplet_quotes_its_own_addresses(catalog):
    stanza = "auto eth0\niface eth0 inet static\n    address 203.0.113.7\n    netmask 255.255.240.0"
    with_api, log_only = Session(catalog), Session(catalog, cloud="do", hypervisor="kvm")
    with_api.feed(MachineContext("droplet", "do", "kvm", {"interfaces_stanza": stanza}))
    fixes = []
    for s in (with_api, log_only):
        s.feed(Chunk("screen", (LINE + "\n").encode()))
        s.finish()
        (f,) = [f for f in s.result().findings() if f.category == "network.static-config-missing"]
        fixes.append(f.remediation)
    assert stanza in fixes[0] and "A.B.C.D" not in fixes[0]
    assert "iface eth0 inet static" in fixes[1] and "203.0.113.7" not in fixes[1] and "{" not in fixes[1]
