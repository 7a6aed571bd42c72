"""DigitalOceanFetcher against the simulated API v2 (consolewatch.sim.digitalocean) and the
simulated console (consolewatch.sim.vnc): the droplet as context, the missing serial port, the
console URL from the option, the environment or the config file, and the API's errors."""

from __future__ import annotations

import asyncio
import json

import pytest

from consolewatch.fetchers import fetcher_class, parse_target
from consolewatch.fetchers.base import FetchError, Target
from consolewatch.fetchers.digitalocean import DigitalOceanFetcher
from consolewatch.fetchers.digitalocean_api import machine_context
from consolewatch.model import Frame, MachineContext, SourceStatus, SourceUnavailable
from consolewatch.sim.digitalocean import droplet_resource, start_do_sim
from consolewatch.sim.gce import sample_log
from consolewatch.sim.player import ConsolePlayer
from consolewatch.sim.vnc import start_vnc_sim
from consolewatch.sim.vnc_screen import SimScreen

STANZA = """auto eth0
iface eth0 inet static
    address 104.236.32.182
    netmask 255.255.192.0
    gateway 104.236.0.1
iface eth0 inet6 static
    address 2604:a880:0:1010::18a:a001
    netmask 64
    gateway 2604:a880:0:1010::1
auto eth1
iface eth1 inet static
    address 10.128.192.124
    netmask 255.255.0.0"""


def collect(address: str, env: dict, options: dict | None = None, *, follow: bool = False, timeout: float = 20):
    async def run():
        fetcher = DigitalOceanFetcher(Target("do", address, {"backoff": (0.05, 0.1), **(options or {})}), env=env)
        return [e async for e in fetcher.stream(follow=follow)]

    return asyncio.run(asyncio.wait_for(run(), timeout))


@pytest.fixture
def sims():
    screen = SimScreen(ConsolePlayer(sample_log("qemu/dhcp-no-lease"), bytes_per_second=0), cursor=False)
    with start_do_sim() as api, start_vnc_sim(screen) as console:
        api.add_droplet(123, name="unikernel-test")
        yield api, console


def test_do_targets_are_served_by_the_digitalocean_fetcher():
    assert fetcher_class(parse_target("do:123").kind) is DigitalOceanFetcher


def test_the_droplet_its_missing_serial_port_and_its_screen(sims, tmp_path):
    api, console = sims
    events = collect("123", api.env(CONSOLEWATCH_DO_CONSOLE_URL=console.ws_url, CONSOLEWATCH_CONFIG_DIR=str(tmp_path)))
    ctx, serial = events[0], events[1]
    assert isinstance(ctx, MachineContext) and (ctx.cloud, ctx.hypervisor) == ("do", "kvm")
    assert ctx.fields["name"] == "unikernel-test" and ctx.fields["region"] == "nyc3"
    assert ctx.fields["size"] == "s-1vcpu-1gb" and ctx.fields["status"] == "active"
    assert (ctx.fields["public_ipv4"], ctx.fields["public_ipv4_netmask"], ctx.fields["public_ipv4_gateway"]) == \
        ("104.236.32.182", "255.255.192.0", "104.236.0.1")
    assert ctx.fields["interfaces_stanza"] == STANZA
    assert isinstance(serial, SourceUnavailable) and serial.source == "serial"
    assert "DigitalOcean has no serial output" in serial.reason
    assert [type(e) for e in events[2:]] == [SourceStatus, Frame]
    headers = api.headers_seen[-1]
    assert headers["Authorization"] == f"Bearer {api.token}"
    assert not any(api.token in str(e) for e in events)


def test_the_console_url_can_come_from_the_config_file(sims, tmp_path):
    api, console = sims
    (tmp_path / "config.toml").write_text(
        f'[digitalocean]\nconsole_url = "ws://127.0.0.1:9/nowhere"\n'
        f'[digitalocean.console_urls]\n"123" = "{console.ws_url}"\n')
    events = collect("123", api.env(CONSOLEWATCH_CONFIG_DIR=str(tmp_path)))
    assert isinstance(events[-1], Frame)


def test_without_a_console_url_or_token_each_missing_piece_says_what_to_do(tmp_path):
    events = []

    async def run():
        fetcher = DigitalOceanFetcher(Target("do", "123", {}), env={"CONSOLEWATCH_CONFIG_DIR": str(tmp_path)})
        async for e in fetcher.stream(follow=True):
            events.append(e)

    with pytest.raises(FetchError, match="nothing to watch without the droplet's console: give --console-url"):
        asyncio.run(run())
    gone = {e.source: e for e in events if isinstance(e, SourceUnavailable)}
    assert set(gone) == {"droplet", "serial", "screen"} and len(events) == 3
    assert "DIGITALOCEAN_ACCESS_TOKEN" in gone["droplet"].reason
    assert "--console-url" in gone["screen"].hint and "does not give one out" in gone["screen"].reason


@pytest.mark.parametrize("ident, token, words", [
    ("999", None, "no such droplet (not_found"),
    ("123", "dop_v1_wrong", "DIGITALOCEAN_ACCESS_TOKEN was refused (401: Unauthorized: Unable to authenticate you)"),
    ("droplet-7", None, "do:DROPLET_ID (a number)"),
])
def test_api_errors_the_user_must_fix_are_one_line(sims, tmp_path, ident, token, words):
    api, _ = sims
    env = api.env(CONSOLEWATCH_CONFIG_DIR=str(tmp_path))
    if token:
        env["DIGITALOCEAN_ACCESS_TOKEN"] = token
    with pytest.raises(FetchError) as err:
        collect(ident, env)
    assert words in str(err.value) and "\n" not in str(err.value) and (token or api.token) not in str(err.value)


def test_rate_limits_and_resets_are_retried(sims, tmp_path):
    api, console = sims
    api.inject(429, "reset")
    events = collect("123", api.env(CONSOLEWATCH_DO_CONSOLE_URL=console.tcp_url, CONSOLEWATCH_CONFIG_DIR=str(tmp_path)))
    states = [e for e in events if isinstance(e, SourceStatus) and e.source == "droplet"]
    assert [s.state for s in states] == ["backoff", "backoff"]
    assert "429" in states[0].detail and "cannot reach" in states[1].detail
    assert isinstance(events[2], MachineContext) and isinstance(events[-1], Frame)


def test_an_api_that_keeps_failing_leaves_the_console_followed(sims, tmp_path):
    api, console = sims
    api.inject("invalid-json", 503, "invalid-json")
    events = collect("123", api.env(CONSOLEWATCH_DO_CONSOLE_URL=console.tcp_url, CONSOLEWATCH_CONFIG_DIR=str(tmp_path)))
    (gone,) = [e for e in events if isinstance(e, SourceUnavailable) and e.source == "droplet"]
    assert "unreadable answer" in gone.reason and "(3 attempts)" in gone.reason
    assert not [e for e in events if isinstance(e, MachineContext)] and isinstance(events[-1], Frame)


def test_answers_nested_too_deep_are_unreadable_and_retried_not_a_crash(sims, tmp_path):
    """json.loads raises RecursionError (not a ValueError) on deep nesting, which escaped the
    fetcher, from a droplet answer and from an error body (fuzz corpus: digitalocean/deep-*)."""
    api, console = sims
    api.inject(("raw", 200, b'{"droplet": ' + b"[" * 100_000), ("raw", 503, b"[" * 100_000))
    events = collect("123", api.env(CONSOLEWATCH_DO_CONSOLE_URL=console.tcp_url, CONSOLEWATCH_CONFIG_DIR=str(tmp_path)))
    states = [e.detail for e in events if isinstance(e, SourceStatus) and e.source == "droplet"]
    assert len(states) == 2 and "unreadable answer" in states[0] and "answered 503" in states[1]
    assert isinstance(events[2], MachineContext) and events[2].fields["name"] == "unikernel-test"


def test_hostile_droplet_fields_never_reach_a_remediation_unchecked():
    droplet = droplet_resource(5, name="evil\x1b[2J\nname" + "x" * 500)
    droplet["networks"]["v4"] = [
        {"ip_address": "1.2.3.4\n    gateway 6.6.6.6", "netmask": "255.255.255.0", "gateway": "1.2.3.1", "type": "public"},
        {"ip_address": "203.0.113.9", "netmask": "not-a-mask", "gateway": "203.0.113.1", "type": "public"},
        {"ip_address": "198.51.100.7", "netmask": "255.255.255.0", "gateway": "$(reboot)", "type": "public"},
    ]
    droplet["networks"]["v6"] = "nonsense"
    droplet["region"] = ["not", "an", "object"]
    ctx = machine_context(json.loads(json.dumps(droplet)), "5")
    assert ctx.fields["public_ipv4"] == "198.51.100.7" and "public_ipv4_gateway" not in ctx.fields
    assert ctx.fields["interfaces_stanza"].splitlines()[-1] == "    netmask 255.255.255.0"
    assert "\x1b" not in ctx.fields["name"] and "\n" not in ctx.fields["name"] and len(ctx.fields["name"]) <= 80
    assert "region" not in ctx.fields and "public_ipv6" not in ctx.fields
