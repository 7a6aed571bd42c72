"""A DHCP failure that a later lease makes moot is a retry, not the boot's failure
(parsers/README.md, `superseded_by`); one on another interface of a boot that got its address and
reached its target is a warning; the same failure with nothing after it still fails the boot.
Option 121 is named only for an IPv4 route or destination failing after a /32 lease, and not once
the network is shown working.

Lines are real: DHCP clients run in network namespaces against a dnsmasq that starts late (the
sources are the rule samples' in parsers/detectors/network.yaml), and two QEMU boots with the
guest kit (samples/qemu-dhcp-*/, tests/qemu/dhcp_retry.py).
"""

from __future__ import annotations

from pathlib import Path

from consolewatch.detect.checks import run_lines
from consolewatch.detect.engine import Engine
from consolewatch.model import Line

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: ISC dhclient 4.4.3-P1 `dhclient -4 -d -v` (timeout 6, retry 4), dnsmasq starting 12 s later
DHCLIENT_RETRY = [
    "Listening on LPF/veth0/6a:6e:d4:39:0e:ed",
    "DHCPDISCOVER on veth0 to 255.255.255.255 port 67 interval 2",
    "DHCPDISCOVER on veth0 to 255.255.255.255 port 67 interval 3",
    "No DHCPOFFERS received.",
    "No working leases in persistent database - sleeping.",
    "DHCPDISCOVER on veth0 to 255.255.255.255 port 67 interval 2",
    "DHCPOFFER of 10.128.0.2 from 10.128.0.1",
    "DHCPREQUEST for 10.128.0.2 on veth0 to 255.255.255.255 port 67",
    "DHCPACK of 10.128.0.2 from 10.128.0.1",
    "bound to 10.128.0.2 -- renewal in 1664 seconds.",
]
#: the same dhclient on two NICs at once, veth2 with no DHCP server behind it
DHCLIENT_TWO_NICS = [
    "DHCPDISCOVER on veth2 to 255.255.255.255 port 67 interval 1",
    "DHCPDISCOVER on veth0 to 255.255.255.255 port 67 interval 1",
    "DHCPOFFER of 10.128.0.2 from 10.128.0.1",
    "DHCPREQUEST for 10.128.0.2 on veth0 to 255.255.255.255 port 67",
    "DHCPACK of 10.128.0.2 from 10.128.0.1",
    "bound to 10.128.0.2 -- renewal in 1587 seconds.",
    "DHCPDISCOVER on veth2 to 255.255.255.255 port 67 interval 2",
    "No DHCPOFFERS received.",
    "No working leases in persistent database - sleeping.",
    "DHCPDISCOVER on veth2 to 255.255.255.255 port 67 interval 1",
    "No DHCPOFFERS received.",
]
#: dhcpcd 9.4.1 `dhcpcd -4 -w -L -t 5 -j LOG` (every interface), its log file
DHCPCD_LOG = [
    "Dec 06 23:10:57 [5652]: veth2: soliciting a DHCP lease",
    "Dec 06 23:10:58 [5652]: veth0: soliciting a DHCP lease",
    "Dec 06 23:11:02 [5652]: timed out",
    "Dec 06 23:11:12 [5652]: veth0: offered 10.128.0.2 from 10.128.0.1",
    "Dec 06 23:11:12 [5652]: veth0: probing address 10.128.0.2/32",
    "Dec 06 23:11:17 [5652]: veth0: leased 10.128.0.2 for 3600 seconds",
    "Dec 06 23:11:17 [5652]: veth0: adding host route to 10.128.0.1",
]
#: busybox udhcpc (a script that sets the address only), iproute2, busybox wget and ping on a
#: GCE-like /32 lease with option 121
LEASE_32 = ["udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600",
            "    inet 10.128.0.2/32 scope global veth0",
            "       valid_lft forever preferred_lft forever"]
IPV6_UNREACHABLE = ["Connecting to [2001:db8::1] ([2001:db8::1]:80)",
                    "wget: can't connect to remote host: Network is unreachable"]
ROUTE_FAILED = "Error: Nexthop has invalid gateway."
PING_REPLY = ["PING 10.128.0.1 (10.128.0.1): 56 data bytes",
              "64 bytes from 10.128.0.1: seq=0 ttl=64 time=0.060 ms"]
#: samples/qemu-ipxe-no-dhcp-no-bootable-device, then samples/qemu-floppy-failed-then-disk-boots
IPXE_FAILED = "Configuring (net0 52:54:00:12:34:56).................. No configuration methods "
DISK_BOOT = ["Booting from Hard Disk...", "GRUB loading...", "Welcome to GRUB!"]


def _network(analysis):
    return [f for f in analysis.findings() if f.category.startswith("network.")]


def _serial(name: str) -> list[str]:
    return (SAMPLES / name / "serial.log").read_text(encoding="utf-8", errors="replace").splitlines()


def test_a_client_that_retried_and_got_its_lease_did_not_fail(catalog):
    cut = DHCLIENT_RETRY.index("No working leases in persistent database - sleeping.") + 1
    failed = run_lines(catalog, DHCLIENT_RETRY[:cut])  # the capture ends before the retry
    assert failed.outcome == "failure"
    assert "dhclient-no-lease" in {f.rule for f in _network(failed)}
    retried = run_lines(catalog, DHCLIENT_RETRY)
    assert _network(retried) == [] and retried.outcome != "failure"
    # dhcpcd: the daemon timed out waiting, went to the background and got the lease there
    assert _network(run_lines(catalog, DHCPCD_LOG)) == []
    assert {f.rule for f in _network(run_lines(catalog, DHCPCD_LOG[:3]))} >= {"dhcpcd-timed-out"}


def test_a_boot_whose_client_gave_up_twice_then_got_its_lease_is_a_success(catalog):
    lines = _serial("qemu-dhcp-retry-then-lease")  # a real QEMU boot, the NIC's link down at first
    ok = run_lines(catalog, lines)
    assert (ok.outcome, _network(ok)) == ("success", [])
    second = [i for i, line in enumerate(lines) if "no lease, failing" in line][1]
    cut = run_lines(catalog, lines[: second + 1])
    assert cut.outcome == "failure"
    assert [f.rule for f in _network(cut)] == ["udhcpc-no-lease"]


def test_another_interface_failing_after_the_address_came_is_a_warning(catalog):
    lines = _serial("qemu-dhcp-second-nic-no-lease")  # eth0 leased, then eth1 on no network
    up = run_lines(catalog, lines)
    assert up.outcome == "success"
    [f] = _network(up)
    assert (f.rule, f.severity, f.verdict, f.demoted_from) == ("udhcpc-no-lease", "warning", "none", "error")
    # the same two NICs under dhclient, the second failing again after the lease: not moot (it is
    # reported), but the machine has its address, so it decides nothing, login prompt or not
    down = run_lines(catalog, DHCLIENT_TWO_NICS)
    assert {(f.rule, f.severity, f.verdict, f.demoted_from) for f in _network(down)} == {
        ("dhclient-no-lease", "warning", "none", "error")}
    assert down.outcome == "unknown"
    login = next(line for line in lines if "login: " in line)
    reached = run_lines(catalog, [*DHCLIENT_TWO_NICS, login])
    assert reached.outcome == "success"
    assert {f.severity for f in _network(reached)} == {"warning"}


def test_no_address_at_all_is_not_undone_by_a_login_prompt(catalog):
    lines = _serial("qemu-dhcp-second-nic-no-lease")
    login = next(line for line in lines if "login: " in line)
    no_lease = run_lines(catalog, [*DHCLIENT_TWO_NICS[:1], *DHCLIENT_TWO_NICS[7:], login])
    assert no_lease.outcome == "failure"  # a login prompt nobody can reach


def test_the_live_verdict_follows_the_retry(catalog):
    engine = Engine(catalog)
    seq = 0

    def feed(lines):
        nonlocal seq
        for text in lines:
            seq += 1
            engine.feed(Line(seq=seq, text=text, source="console"))

    feed(DHCLIENT_RETRY[:5])
    assert engine.provisional() == "failure"  # as far as the console shows so far
    feed(DHCLIENT_RETRY[5:])
    assert engine.provisional() is None  # the lease came: nothing decided the boot


def test_a_network_boot_that_failed_before_the_disk_booted_did_not_matter(catalog):
    # (the firmware's network boot failing is a boot loader error, not the guest's address)
    failed = run_lines(catalog, [IPXE_FAILED])
    assert [f.rule for f in failed.findings() if f.rule == "ipxe-no-dhcp"] == ["ipxe-no-dhcp"]
    booted = run_lines(catalog, [IPXE_FAILED, *DISK_BOOT])
    assert [f for f in booted.findings() if f.rule == "ipxe-no-dhcp"] == []


def test_option_121_is_named_for_an_ipv4_route_failing_after_a_32_lease_not_for_ipv6(catalog):
    ipv6 = run_lines(catalog, [*LEASE_32, *IPV6_UNREACHABLE])
    assert _network(ipv6) == [] and ipv6.outcome != "failure"
    route = run_lines(catalog, [*LEASE_32, *IPV6_UNREACHABLE, ROUTE_FAILED])
    assert route.outcome == "failure"
    assert {f.category for f in _network(route)} == {"network.dhcp.option121-missing"}
    # the host route added after the first failure, and the router answering: routes applied
    working = run_lines(catalog, [*LEASE_32, ROUTE_FAILED, *PING_REPLY])
    assert _network(working) == [] and working.outcome != "failure"


def test_a_metadata_fetch_that_failed_before_the_network_worked_is_not_reported(catalog):
    fetch_failed = "wget: can't connect to remote host (169.254.169.254): Network is unreachable"
    alone = run_lines(catalog, [fetch_failed])
    assert {f.category for f in _network(alone)} == {"network.metadata-unreachable"}
    assert _network(run_lines(catalog, [fetch_failed, *PING_REPLY])) == []


def test_superseded_by_is_checked_when_the_rules_load():
    from consolewatch.detect.ruleparse import parse_rules_file

    base = {"id": "x-rule", "title": "t", "category": "network.dhcp.no-lease", "severity": "error",
            "match": {"line": {"regex": "No lease"}}, "remediation": "r",
            "samples": {"match": [{"line": "No lease", "source": "s"}],
                        "no_match": [{"line": "lease", "source": "s"}]}}
    bad = [({"reached": ["netwerk-up"]}, "unknown value"), ("network-up", "mapping"),
           ({"line": {"regex": "("}}, "compile"), ({}, "needs"), ({"reached": ["ready"], "when": 1}, "when")]
    for value, said in bad:
        rules, problems = parse_rules_file({"rules": [{**base, "superseded_by": value}]}, "x.yaml")
        assert not rules and any(said in str(p) for p in problems), (value, problems)
    boot = {**base, "match": {"boot": {"reached": ["kernel"]}}, "superseded_by": {"reached": ["ready"]}}
    assert not parse_rules_file({"rules": [boot]}, "x.yaml")[0]
    [rule], _ = parse_rules_file({"rules": [{**base, "superseded_by": {"reached": ["network-up"],
                                                                        "line": {"regex": "saved"}}}]}, "x.yaml")
    assert rule.superseded_reached == ("network-up",) and rule.superseded_at == len(rule.matchers) - 1


def test_hostile_lines_around_a_retry_change_nothing(catalog):
    hostile = ["\x1b[2J\x1b]0;No DHCPOFFERS received.\x07", "bound to " + "9" * 5000, "\x00" * 100]
    a = run_lines(catalog, [*DHCLIENT_RETRY[:5], *hostile, *DHCLIENT_RETRY[5:]])
    assert _network(a) == []


#: samples/qemu-systemd-wait-online-timeout/serial.log
WAIT_ONLINE_FAILED = "[FAILED] Failed to start systemd-ne…Wait for Network to be Configured."
#: search index file id 45400316007 (an EC2 Ubuntu 18.04 console): cloud-init found its datasource
DATASOURCE = ("Cloud-init v. 19.4-33-gbb4131a2-0ubuntu1~18.04.1 finished at Wed, 08 Apr 2020 17:22:21 +0000. "
              "Datasource DataSourceEc2Local.")


def test_a_network_service_that_failed_before_the_network_was_shown_working_did_not_leave_it_down(catalog):
    # two real consoles' lines: systemd's wait-online unit failing, then cloud-init reaching its
    # datasource (the network worked; wait-online waited for a link nobody configured)
    failed = run_lines(catalog, [WAIT_ONLINE_FAILED])
    assert {f.category for f in _network(failed)} == {"network.dhcp.no-lease"}
    assert _network(run_lines(catalog, [WAIT_ONLINE_FAILED, DATASOURCE])) == []


def test_a_missing_interface_name_then_a_lease_on_the_one_that_exists_is_moot(catalog):
    missing = 'Device "eth0" does not exist.'  # iproute2 6.1 in an empty network namespace
    lease = "udhcpc: lease of 10.0.2.15 obtained from 10.0.2.2, lease time 86400"  # samples/qemu/healthy
    assert {f.category for f in _network(run_lines(catalog, [missing]))} == {"network.no-device"}
    assert _network(run_lines(catalog, [missing, lease])) == []
