"""The console against what the cloud assigned (parsers/detectors/netcfg.yaml), end to end on
real consoles: `consolewatch tail gce:...` through google-cloud-compute and the GCE sim playing
the guest kit's option-121 boots, and a droplet's context from the DO sim beside the same lines."""

from __future__ import annotations

import json

import pytest

from consolewatch.fetchers.base import Target
from consolewatch.fetchers.digitalocean import DigitalOceanFetcher
from consolewatch.fetchers.gce import GceFetcher
from consolewatch.model import Chunk, MachineContext
from consolewatch.session import Session
from consolewatch.sim.digitalocean import start_do_sim
from consolewatch.sim.gce import SimInstance, sample_log, start_gce_sim

pytest.importorskip("google.cloud.compute_v1")

TARGET = "gce:proj/us-central1-a/vm1"
APPLIED = sample_log("qemu/gce-option121-applied")
IGNORED = sample_log("qemu/gce-option121-ignored")
LEASE = "udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600"


def tail(cli, log: bytes, **instance) -> tuple[int, list[dict]]:
    url, sim = start_gce_sim(SimInstance.playing(log, rate=0, display_device=False, **instance))
    with sim:
        r = cli("tail", TARGET, "--json", "--no-follow", env={"CONSOLEWATCH_GCE_ENDPOINT": url})
    return r.returncode, [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]


def findings(events: list[dict], rule: str) -> list[dict]:
    return [e for e in events if e["type"] == "finding" and e["rule"] == rule]


def droplet_context(api_context, **droplet) -> MachineContext:
    with start_do_sim() as api:
        api.add_droplet(42, **droplet)
        return api_context(DigitalOceanFetcher(Target("do", "42", {}), env=api.env()))


def judged(catalog, ctx: MachineContext, log: bytes) -> list:
    session = Session(catalog)
    session.feed(ctx)
    session.feed(Chunk("console", log))
    session.finish()
    return session.result().findings("all")


def test_a_lease_of_another_address_than_gce_assigned_is_named_with_both(cli):
    _, events = tail(cli, APPLIED, network_ip="10.128.0.9")
    (f,) = findings(events, "address-differs-from-assigned")
    assert f["category"] == "network.static-config-missing" and f["severity"] == "error"
    assert [e["text"] for e in f["evidence"]] == [LEASE]
    assert "The guest configured 10.128.0.2; the cloud assigned this machine 10.128.0.9" in f["remediation"]
    assert "    up ip route replace default via 10.128.0.1 dev eth0" in f["remediation"]


def test_the_same_console_is_quiet_when_the_lease_is_the_assigned_address(cli):
    code, events = tail(cli, APPLIED)
    assert not [e for e in events if e["type"] == "finding" and e["category"] != "boot.success"]
    assert [e["outcome"] for e in events if e["type"] == "outcome"][-1] == "success" and code == 0


def test_a_gce_lease_without_its_route_quotes_the_gateway_the_api_gave(cli):
    code, events = tail(cli, IGNORED, gateway="10.128.0.1")
    (f,) = findings(events, "assigned-lease-without-route")
    assert f["category"] == "network.dhcp.option121-missing" and code == 1
    assert "GCE leased 10.128.0.2/32 and its gateway is 10.128.0.1" in f["remediation"]
    assert "install `ip route add 10.128.0.1 dev eth0` before `ip route add default via 10.128.0.1`" in f["remediation"]


def test_the_generic_option_121_finding_is_the_symptom_of_the_specific_one(catalog, api_context):
    url, sim = start_gce_sim(SimInstance.playing(IGNORED, rate=0, display_device=False))
    with sim:
        ctx = api_context(GceFetcher(Target("gce", "proj/us-central1-a/vm1", {}),
                                     env={"CONSOLEWATCH_GCE_ENDPOINT": url}))
    by_rule = {f.rule: f for f in judged(catalog, ctx, IGNORED)}
    assert by_rule["dhcp-lease-then-no-route"].suppressed_by == "assigned-lease-without-route"
    assert by_rule["assigned-lease-without-route"].suppressed_by is None


def test_a_droplet_whose_console_reports_another_address(catalog, api_context):
    ctx = droplet_context(api_context)
    assert isinstance(ctx, MachineContext) and ctx.fields["ipv4_address"] == "104.236.32.182"
    (f,) = [f for f in judged(catalog, ctx, APPLIED) if f.rule == "address-differs-from-assigned"]
    assert f.evidence[0].text == LEASE
    assert "DigitalOcean assigned this droplet 104.236.32.182 10.128.192.124" in f.remediation
    assert "iface eth0 inet static\n    address 104.236.32.182\n    netmask 255.255.192.0" in f.remediation


def test_a_droplet_whose_console_reports_its_own_address(catalog, api_context):
    ctx = droplet_context(api_context, public_v4=("10.128.0.2", "255.255.240.0", "10.128.0.1"))
    assert not [f for f in judged(catalog, ctx, APPLIED) if f.category.startswith("network.")]
