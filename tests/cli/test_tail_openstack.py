"""`consolewatch tail openstack:SERVER` as a user runs it: the CLI process, openstacksdk and the
simulated Keystone + Nova playing real consoles from samples/."""

from __future__ import annotations

import json
import os
import socket

import pytest

from consolewatch.sim.gce import sample_log
from consolewatch.sim.openstack import SimServer, novnc_page_url, start_openstack_sim
from consolewatch.sim.player import ConsolePlayer

TTYLINUX = sample_log("openstack-ttylinux-no-lease-metadata-unreachable")  # a real Nova console log


def events(stdout: bytes) -> list[dict]:
    return [json.loads(x) for x in stdout.decode().splitlines() if x.strip()]


@pytest.fixture
def env(tmp_path):
    """The simulator's OS_* and nothing of the machine's own OpenStack configuration."""
    def make(sim, **extra):
        base = {k: "" for k in os.environ if k.startswith("OS_")}
        base.update(HOME=str(tmp_path), OS_CLIENT_CONFIG_FILE=str(tmp_path / "none.yaml"))
        base.update(sim.env() if sim is not None else {})
        base.update(extra)
        return base
    return make


def test_tail_until_outcome_on_a_real_failed_boot_exits_1_with_the_finding(cli, env):
    server = SimServer("ttylinux-1", player=ConsolePlayer(TTYLINUX, bytes_per_second=2000), config_drive="")
    with start_openstack_sim(server) as sim:
        r = cli("tail", "openstack:ttylinux-1", "--json", "--until", "outcome", "--poll", "0.2",
                "--screenshots", "off", "--timeout", "60", env=env(sim))
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    ctx = evs[0]
    assert ctx["type"] == "context" and ctx["cloud"] == "openstack" and ctx["fields"]["server_id"] == server.id
    assert ctx["fields"]["config_drive"] == "false"
    found = [e for e in evs if e["type"] == "finding"]
    assert found[0]["category"] == "network.dhcp.no-lease"
    assert found[0]["evidence"][0]["text"] == "No lease, forking to background"
    assert "Neutron DHCP agent" in found[0]["remediation"]  # the OpenStack fix, with the server's facts
    assert "10.0.0.12" in found[0]["remediation"]
    assert [e["outcome"] for e in evs if e["type"] == "outcome"][-1] == "failure"
    lines = [e["text"] for e in evs if e["type"] == "line"]
    assert lines[:3] == ["load Kernel Module: acpiphp  [  [1;32mOK[0;39m  ]", "load Kernel Module: e1000  "
                         "[  [1;32mOK[0;39m  ]", "load Kernel Module: ne2k-pci  [  [1;32mOK[0;39m  ]"]


def test_a_server_in_error_shows_novas_fault_beside_the_verdict(cli, env):
    log = sample_log("qemu/wrong-root-virtio")  # root=/dev/xvda1 on a KVM machine (virtio disk vda)
    server = SimServer("kvm-xvda", player=ConsolePlayer(log, bytes_per_second=1e9), status="ERROR",
                       fault={"code": 500, "message": "Instance \x1b[2Jfailed to reach ACTIVE", "created": "x"})
    with start_openstack_sim(server) as sim:
        sim.user.admin = True  # the hypervisor type and root device name are admin-only
        r = cli("tail", "openstack:kvm-xvda", "--json", "--until", "outcome", env=env(sim))
        t = cli("tail", "openstack:kvm-xvda", "--new", "--until", "outcome", env=env(sim))
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    assert evs[0]["hypervisor"] == "kvm" and evs[0]["fields"]["root_device_name"] == "/dev/vda"
    finding = next(e for e in evs if e["type"] == "finding" and e["rule"] == "root-xen-name-on-kvm")
    assert finding["category"] == "disk.root-not-found" and "/dev/vda" in finding["remediation"]
    outcome = [e for e in evs if e["type"] == "outcome"][-1]
    assert outcome["outcome"] == "failure"
    assert outcome["cloud_verdict"] == {"status": "ERROR", "fault": "Instance  [2Jfailed to reach ACTIVE",
                                        "fault_code": "500", "fault_created": "x"}  # the ESC made inert
    assert t.returncode == 1 and b"\x1b" not in t.stdout
    assert b"openstack says: ERROR, fault 500 Instance  [2Jfailed to reach ACTIVE" in t.stdout


def test_os_cloud_picks_a_clouds_yaml_entry(cli, env, tmp_path):
    with start_openstack_sim(SimServer("web-1", player=ConsolePlayer(TTYLINUX, bytes_per_second=1e9))) as sim:
        (tmp_path / "clouds.yaml").write_text(sim.clouds_yaml("lab"))
        e = env(None, OS_CLIENT_CONFIG_FILE=str(tmp_path / "clouds.yaml"))
        r = cli("tail", "openstack:web-1", "--os-cloud", "lab", "--no-follow", "--json", env=e)
        bad = cli("tail", "openstack:web-1", "--os-cloud", "nosuch", "--no-follow", env=e)
    assert r.returncode == 1, r.stderr
    assert any(ev["type"] == "finding" for ev in events(r.stdout))
    assert bad.returncode == 2 and bad.stderr.count(b"\n") == 1 and b"--os-cloud" in bad.stderr


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_bad_credentials_unknown_server_unreachable_keystone_one_line_each_exit_2(cli, env):
    with start_openstack_sim(SimServer("web-1", player=ConsolePlayer(TTYLINUX))) as sim:
        secret = sim.user.password
        cases = {
            "refused the credentials": cli("tail", "openstack:web-1", env=env(sim, OS_PASSWORD="hunter2-wrong")),
            "was not found": cli("tail", "openstack:no-such-server", env=env(sim)),
            "cannot reach Keystone": cli("tail", "openstack:web-1", env=env(
                sim, OS_AUTH_URL=f"http://127.0.0.1:{_closed_port()}/identity/v3")),
            "no usable OpenStack configuration": cli("tail", "openstack:web-1", env=env(None)),
        }
    for words, r in cases.items():
        err = r.stderr.decode()
        assert r.returncode == 2, (words, err)
        assert err.count("\n") == 1 and words in err and err.startswith("consolewatch: "), err
        assert secret not in err and "hunter2" not in err and "gAAAA" not in err
        assert r.stdout == b""


def test_the_remote_console_is_followed_over_vnc_and_read_by_ocr(cli, env):
    from consolewatch.sim.vnc import start_vnc_sim
    from consolewatch.sim.vnc_screen import SimScreen

    log = sample_log("qemu/dhcp-no-lease")
    player = ConsolePlayer(log, bytes_per_second=4000, start=float("inf"))
    with start_vnc_sim(SimScreen(player), boot_on_connect=True, ws_path="/") as vnc:
        server = SimServer("screen-only", player=None, console_url=novnc_page_url(vnc.ws_url + "?token=tok-7f3a"))
        with start_openstack_sim(server) as sim:
            r = cli("tail", "openstack:screen-only", "--json", "--until", "outcome", "--source", "screen",
                    "--timeout", "90", env=env(sim))
            remote = sim.calls["remote"]
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    assert remote >= 1
    assert any(e["type"] == "line" and e["origin"] == "ocr" for e in evs)
    assert next(e for e in evs if e["type"] == "finding")["category"] == "network.dhcp.no-lease"
    assert b"tok-7f3a" not in r.stdout + r.stderr  # the console token is a secret
