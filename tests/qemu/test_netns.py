"""Private network namespaces are always removed, with everything started in them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from guestkit.netns import GCE_LEASE, NetNS, cleanup_stale, list_namespaces

HERE = Path(__file__).resolve().parent


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_namespace_and_tap_exist_inside_and_vanish_after(netns_ok):
    with NetNS() as ns:
        name = ns.name
        assert name in list_namespaces()
        ns.add_tap("tap0", "10.77.0.1/24")
        links = ns.ip("-o", "link", "show")
        assert "tap0" in links
        assert "10.77.0.1/24" in ns.ip("-o", "addr", "show", "dev", "tap0")
        # The host does not see the tap device.
        host = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
        assert "tap0" not in host.stdout or name not in host.stdout
    assert name not in list_namespaces()


def test_exception_still_cleans_up_and_kills_processes(netns_ok):
    with pytest.raises(RuntimeError):
        with NetNS() as ns:
            name = ns.name
            proc = ns.spawn(["sleep", "300"], "sleep.log")
            assert alive(proc.pid)
            raise RuntimeError("boom")
    assert name not in list_namespaces()
    assert not alive(proc.pid)


def test_dnsmasq_runs_in_the_namespace_and_is_stopped(netns_ok, dnsmasq_ok):
    with NetNS() as ns:
        ns.add_tap("tap0", GCE_LEASE.host_cidr)
        proc = ns.dnsmasq("tap0")
        assert alive(proc.pid)
        log = ns.log("dnsmasq.log")
        assert "DHCP, IP range 10.128.0.2 -- 10.128.0.2" in log, log
        # It is inside the namespace: its pid is listed there.
        pids = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True,
                              text=True).stdout.split()
        assert pids
        name = ns.name
    assert not alive(proc.pid)
    assert name not in list_namespaces()


def test_metadata_server_answers_inside_only(netns_ok):
    with NetNS() as ns:
        ns.add_address("169.254.169.254/32", "lo")
        ns.metadata_server("169.254.169.254", {"computeMetadata/v1/x": "hello\n"})
        out = subprocess.run(
            ["ip", "netns", "exec", ns.name, sys.executable, "-c",
             "import urllib.request;print(urllib.request.urlopen("
             "'http://169.254.169.254/computeMetadata/v1/x', timeout=5).read().decode())"],
            capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "hello", out.stderr


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {here!r})
    from guestkit.netns import NetNS
    ns = NetNS().__enter__()
    print(ns.name, ns.workdir, flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)           # no close(): the atexit hook must delete it
    time.sleep(60)            # SIGKILLed: the next NetNS() removes the stale namespace
""")


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_namespace_left_by_a_dead_process_is_removed(netns_ok, how):
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(here=str(HERE)), how],
                             stdout=subprocess.PIPE, text=True)
    try:
        name, workdir = child.stdout.readline().split()
        assert name.startswith("cw-")
        if how == "sigkill":
            assert name in list_namespaces()
            child.kill()
        child.wait(timeout=20)
        if how == "sigkill":
            assert name in list_namespaces()  # nothing ran to clean it
            assert name in cleanup_stale()
        assert name not in list_namespaces()
        assert not Path(workdir).exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

