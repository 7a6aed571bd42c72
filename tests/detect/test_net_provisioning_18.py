"""Network and provisioning, round 18, from the programs' sources: the kernel's ip= autoconfiguration
(net/ipv4/ipconfig.c), nmcli's activation reasons, the wait-online units of systemd-networkd and
dracut's NetworkManager module, dracut's network-legacy ifup, ISC dhclient's and busybox udhcpc's
packet sockets, systemd-networkd's DHCP client event, cloud-init's EC2 and OpenStack datasources,
the GCE guest agent's metadata watcher and Ignition's engine. Then hostile bytes in their lines."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, assert_quoted_safely, by_category

LEASE = "udhcpc: lease of 10.0.2.15 obtained from 10.0.2.2, lease time 86400"


def _rules(a, category=None):
    return {f.rule for f in a.findings() if category is None or f.category == category}


def test_ip_autoconfig_naming_a_device_the_machine_lacks_is_no_device(catalog):
    a = run_lines(catalog, [KERNEL, "[    3.514190] IP-Config: Device `eth1' not found"])
    assert _rules(a, "network.no-device") == {"ip-autoconfig-no-device"}
    assert a.findings()[0].fields.get("interface") == "eth1"
    assert a.outcome == "failure"
    b = run_lines(catalog, [KERNEL, "[    3.100220] DHCP/BOOTP: No suitable device found"])
    assert "ip-autoconfig-no-device" in _rules(b)
    # a device skipped for its MTU while another serves, and the autoconfiguration completing: nothing
    c = run_lines(catalog, [KERNEL, "[    2.101030] DHCP/BOOTP: Ignoring device eth0, MTU 68 too small",
                            "[    3.102331] IP-Config: Complete:"])
    assert "network.no-device" not in by_category(c)


def test_nmcli_activation_failing_for_want_of_an_address_is_no_lease(catalog):
    a = run_lines(catalog, [KERNEL, "Bringing up interface eth0:  Error: Connection activation failed: IP "
                                    "configuration could not be reserved (no available address, timeout, etc.)."])
    assert "networkmanager-dhcp-timeout" in _rules(a, "network.dhcp.no-lease")
    # a Wi-Fi secret or a missing device is not a lease
    b = run_lines(catalog, [KERNEL, "Error: Connection activation failed: Secrets were required, but not provided"])
    assert "network.dhcp.no-lease" not in by_category(b)


def test_wait_online_units_of_networkd_per_interface_and_dracut_nm_are_a_failed_network(catalog):
    a = run_lines(catalog, [KERNEL, "[FAILED] Failed to start systemd-networkd-wait-online@eth0.service - "
                                    "Wait for Network Interface eth0 to be Configured."])
    assert "network-service-failed" in _rules(a, "network.dhcp.no-lease")
    b = run_lines(catalog, [KERNEL, "[FAILED] Failed to start nm-wait-online-initrd.service."])
    assert "network-service-failed" in _rules(b, "network.dhcp.no-lease")
    assert "init.unit-failed" not in {f.category for f in b.findings() if not f.suppressed_by}
    c = run_lines(catalog, [KERNEL, "[  *** ] A start job is running for nm-wait-online-initrd.service (4min 12s / no limit)"])
    assert "network-unit-still-waiting" in _rules(c) and c.outcome == "stall"
    d = run_lines(catalog, [KERNEL, "[  OK  ] Finished nm-wait-online-initrd.service."])
    assert "network.dhcp.no-lease" not in by_category(d)


def test_dracut_giving_up_dhcp_is_no_lease_unless_a_lease_came_later(catalog):
    line = "[   70.518412] dracut-initqueue[1411]: Warning: dhcp for interface ens3 failed"
    a = run_lines(catalog, [KERNEL, line])
    assert _rules(a, "network.dhcp.no-lease") >= {"dracut-dhcp-failed"}
    assert next(f for f in a.findings() if f.rule == "dracut-dhcp-failed").fields.get("interface") == "ens3"
    b = run_lines(catalog, [KERNEL, line, LEASE])
    assert "dracut-dhcp-failed" not in _rules(b)


def test_a_kernel_without_packet_sockets_stops_the_dhcp_client(catalog):
    a = run_lines(catalog, [KERNEL, "socket: Address family not supported by protocol - make sure",
                            "CONFIG_PACKET (Packet socket) and CONFIG_FILTER",
                            "(Socket Filtering) are enabled in your kernel", "configuration!"])
    assert "dhcp-client-no-packet-socket" in _rules(a, "network.dhcp.no-lease")
    b = run_lines(catalog, [KERNEL, "udhcpc: socket(AF_PACKET,2,8): Address family not supported by protocol"])
    assert "dhcp-client-no-packet-socket" in _rules(b)
    # ping on a kernel without IPv6 says the same errno: not a DHCP client
    c = run_lines(catalog, [KERNEL, "ping: socket: Address family not supported by protocol"])
    assert "dhcp-client-no-packet-socket" not in _rules(c)


def test_networkd_dhcp_client_failure_event_is_reported(catalog):
    a = run_lines(catalog, [KERNEL, "systemd-networkd[301]: eth0: DHCP error: Client failed: Network is down"])
    assert "networkd-dhcp4-config-failed" in _rules(a, "network.dhcp.no-lease")
    assert "networkd-dhcp4-config-failed" not in _rules(run_lines(catalog, [KERNEL, "systemd-networkd[301]: eth0: DHCP unknown event: 12"]))


def test_cloud_init_giving_up_on_ec2_and_openstack_metadata_is_metadata_unreachable(catalog):
    a = run_lines(catalog, [KERNEL, "[   31.207711] cloud-init[601]: 2024-03-01 10:12:40,118 - DataSourceEc2.py[WARNING]: "
                                    "IMDS's HTTP endpoint is probably disabled"])
    assert "cloudinit-gave-up-on-metadata" in _rules(a, "network.metadata-unreachable")
    b = run_lines(catalog, [KERNEL, "cloudinit.sources.InvalidMetaDataException: No active metadata service found"])
    assert "cloudinit-gave-up-on-metadata" in _rules(b)
    c = run_lines(catalog, [KERNEL, "2024-03-01 10:12:40,118 - DataSourceEc2.py[DEBUG]: Using metadata source: "
                                    "'http://169.254.169.254'"])
    assert "network.metadata-unreachable" not in by_category(c)


def test_guest_agent_watch_errors_except_its_own_stop(catalog):
    a = run_lines(catalog, [KERNEL, 'google_guest_agent[611]: ERROR main.go:206 Error watching metadata: Get '
                                    '"http://169.254.169.254/computeMetadata/v1/?alt=json": context deadline exceeded'])
    assert "gce-agent-metadata-request-failed" in _rules(a, "network.metadata-unreachable")
    for tail in ("context canceled", "invalid character '<' looking for beginning of value"):
        b = run_lines(catalog, [KERNEL, f"Error watching metadata: {tail}"])
        assert "gce-agent-metadata-request-failed" not in _rules(b)


def test_ignition_engine_config_failures_are_provisioning_errors(catalog):
    a = run_lines(catalog, ["CRITICAL : merging configs resulted in an invalid config"])
    assert "ignition-provisioning-failed" in _rules(a, "cloudinit.error")
    b = run_lines(catalog, [KERNEL, "[   14.200311] ignition[912]: disks failed", "[   14.200402] ignition[912]: Full config:"])
    assert "ignition-provisioning-failed" in _rules(b)
    assert "ignition-provisioning-failed" not in _rules(run_lines(catalog, ["INFO     : disks passed"]))


PAD = b"A" * 70000

HOSTILE = [
    ("ip-autoconfig-no-device", [b"IP-Config: Device `\x1b]0;evil\x07eth1' not found" + PAD]),
    ("networkmanager-dhcp-timeout",
     [b"Error: Connection activation failed: IP configuration could not be reserved \x1b[2J\x00\xff" + PAD]),
    ("network-service-failed",
     [b"[FAILED] Failed to start systemd-networkd-wait-online@eth0.service - Wait for Network Interface "
      b"e\x1b[31mth0 to be Configured."]),
    ("dracut-dhcp-failed", [b"Warning: dhcp for interface \x1b]52;c;ZXZpbA==\x07eth0 failed"]),
    ("dhcp-client-no-packet-socket", [b"Open a socket for LPF: \x1b]0;evil\x07\x00\xff" + PAD]),
    ("networkd-dhcp4-config-failed", [b"eth0: DHCP error: Client failed: Network is down \x1b]0;evil\x07\x1b[2J" + PAD]),
    ("cloudinit-gave-up-on-metadata",
     [b"cloudinit.sources.InvalidMetaDataException: IOError contacting metadata service: \x1b]0;evil\x07\x00" + PAD]),
    ("gce-agent-metadata-request-failed", [b"Error watching metadata: \x1b]52;c;ZXZpbA==\x07\xff" + PAD]),
    ("ignition-provisioning-failed", [b"CRITICAL : failed to parse cached config: \x1b[31m\x00\xff" + PAD]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[f"{c[0]}-{i}" for i, c in enumerate(HOSTILE)])
def test_hostile_bytes_in_the_round_18_network_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, [KERNEL.encode(), *lines])
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)


def test_networkmanager_dhcp_client_failing_to_start_is_no_lease(catalog):
    a = run_lines(catalog, [KERNEL, "NetworkManager[612]: <info>  [1733739965.4400] device (eth0): state change: "
                                    "ip-config -> failed (reason 'dhcp-start-failed', sys-iface-state: 'managed')"])
    assert "networkmanager-dhcp-timeout" in _rules(a, "network.dhcp.no-lease")
    b = run_lines(catalog, [KERNEL, "NetworkManager[612]: <info>  [1733739965.4400] device (eth0): state change: "
                                    "activated -> failed (reason 'carrier-changed', sys-iface-state: 'managed')"])
    assert "networkmanager-dhcp-timeout" not in _rules(b)


def test_charrua_restarting_without_a_lease_is_no_lease_until_one_comes(catalog):
    timeout = "2019-03-02 10:14:{:02d} -00:00: INF [dhcp_client_lwt] Timeout expired without a usable lease!  Starting over..."
    a = run_lines(catalog, [timeout.format(5), timeout.format(9)])
    assert "mirage-dhcp-no-offer" in _rules(a, "network.dhcp.no-lease")
    b = run_lines(catalog, [timeout.format(5), timeout.format(9),
                            "2019-03-02 10:14:10 -00:00: INF [dhcp_client_lwt] Lease obtained! IP: 10.0.0.2, routers: 10.0.0.1"])
    assert "mirage-dhcp-no-offer" not in _rules(b)


def test_wait_online_units_named_instead_of_described_are_the_same_failure(catalog):
    a = run_lines(catalog, [KERNEL, "[FAILED] Failed to start systemd-networkd-wait-online.service."])
    assert "network-service-failed" in _rules(a, "network.dhcp.no-lease")
    b = run_lines(catalog, [KERNEL, "[  *** ] A start job is running for systemd-networkd-wait-online.service (1min 12s / 2min 1s)"])
    assert "network-unit-still-waiting" in _rules(b)
