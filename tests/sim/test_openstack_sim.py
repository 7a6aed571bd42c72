"""The simulated Keystone + Nova on the wire: what openstacksdk relies on (tokens in
X-Subject-Token, the catalog, microversion negotiation) and Nova's console log semantics."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from consolewatch.sim.gce import sample_log
from consolewatch.sim.openstack import SimServer, start_openstack_sim
from consolewatch.sim.openstack_model import nova_console_text
from consolewatch.sim.player import ConsolePlayer


def request(url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def token(sim, password=None):
    u = sim.user
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": u.name, "password": password or u.password, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": u.project, "domain": {"name": "Default"}}}}}
    return request(sim.auth_url + "/auth/tokens", body)


def test_keystone_issues_a_token_with_a_catalog_and_refuses_a_wrong_password():
    with start_openstack_sim() as sim:
        status, headers, body = token(sim)
        bad = token(sim, "wrong")
    assert status == 201 and headers["X-Subject-Token"].startswith("gAAAA")
    compute = next(s for s in body["token"]["catalog"] if s["type"] == "compute")
    assert {e["interface"] for e in compute["endpoints"]} == {"public", "internal"}
    assert bad[0] == 401 and bad[2]["error"]["title"] == "Unauthorized"


def test_nova_needs_a_token_and_negotiates_microversions():
    with start_openstack_sim(SimServer("vm1"), max_microversion="2.60") as sim:
        url = f"{sim.compute_url}/servers/{sim.server('vm1').id}"
        tok = token(sim)[1]["X-Subject-Token"]
        none = request(url)
        old = request(url, headers={"X-Auth-Token": tok})
        new = request(url, headers={"X-Auth-Token": tok, "OpenStack-API-Version": "compute latest"})
        too_new = request(url, headers={"X-Auth-Token": tok, "X-OpenStack-Nova-API-Version": "2.90"})
        rc = request(url + "/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}},
                     {"X-Auth-Token": tok})
    assert none[0] == 401
    assert old[1]["OpenStack-API-Version"] == "compute 2.1" and "id" in old[2]["server"]["flavor"]
    assert new[1]["X-OpenStack-Nova-API-Version"] == "2.60" and new[2]["server"]["flavor"]["original_name"]
    assert "OS-EXT-SRV-ATTR:hypervisor_hostname" not in new[2]["server"]  # admin only
    assert too_new[0] == 406 and "maximum is 2.60" in too_new[2]["notAcceptable"]["message"]
    assert rc[0] == 404  # remote-consoles needs 2.6


@pytest.mark.parametrize("length", [None, 0, 3, 10_000])
def test_console_output_is_novas_tail_of_lines_without_control_characters(length):
    log = sample_log("qemu/healthy")
    with start_openstack_sim(SimServer("vm1", player=ConsolePlayer(log, bytes_per_second=1e9))) as sim:
        tok = token(sim)[1]["X-Subject-Token"]
        args = {} if length is None else {"length": length}
        status, _, body = request(f"{sim.compute_url}/servers/{sim.server('vm1').id}/action",
                                  {"os-getConsoleOutput": args}, {"X-Auth-Token": tok})
    text = body["output"]
    assert status == 200 and not any(c in text for c in "\x1b\r\x00")
    tail = log[-100 * 1024:]
    if length == 0:
        assert text == ""
    elif length == 3:
        assert text.count("\n") == 2 and log.replace(b"\r", b"").endswith(text.encode())
    else:
        assert text == nova_console_text(tail, None) and len(text) <= len(tail)
