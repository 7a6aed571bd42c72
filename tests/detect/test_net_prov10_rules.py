"""Network configurers' failures of parsers/detectors/network-provisioning-10.yaml (ifupdown's
verdict, OpenRC's netifrc service, the BSD dhclients' link wait, upstart's cloud-init-nonet, udev
failing to rename the NIC), GCE's metadata.goog host name, OpenBSD dhclient's "No acceptable
DHCPOFFERS", and the one "network shown working" pattern (parsers/formats/network-evidence.yaml)
every network rule's supersession now shares.

Lines are real: public pages and repository files in the search index (named at each constant),
the samples/ consoles, runs of ISC dhclient 4.4.3 and busybox 1.35 udhcpc in a network namespace
with no DHCP server, and lines printed by the source that prints them (cited in the rules).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, by_category

#: search index file id 70713049089 (a Debian board console: ifupdown naming eth0)
IFUP_FAILED = "ifup: failed to bring up eth0"
#: iproute2 6.1 `ip link set eth7 up` in a network namespace without eth7 (this branch's run)
NO_DEVICE = 'Cannot find device "eth7"'
#: ISC dhclient 4.4.3-P1's lease lines (parsers/formats/dhclient.yaml)
LEASE = ["DHCPACK of 10.128.0.2 from 10.128.0.1", "bound to 10.128.0.2 -- renewal in 1800 seconds."]
#: search index file id 8627994268 (OpenRC's netifrc console)
NETIFRC_FAILED = " * ERROR: net.eth0 failed to start"
#: FreeBSD sbin/dhclient/dhclient.c's link wait giving up (search index file 1112364660)
BSD_NO_LINK = "vtnet0: no link ........... giving up"
#: search index file id 57046723793 (an Ubuntu 14.04 instance on AWS)
NONET = ["cloud-init-nonet[14.55]: waiting 120 seconds for network device",
         "cloud-init-nonet[134.55]: gave up waiting for a network device."]
#: search index file id 28106393120 (virtio NIC naming notes)
UDEV_RENAME = "systemd-udevd[299]: Error changing net interface name 'eth1' to 'ens3': File exists"
#: ISC dhclient 4.4.3-P1 in a network namespace with no server
NO_OFFERS = "No DHCPOFFERS received."
#: OpenBSD dhclient.c state_panic() (search index file 4662518687)
BSD_NO_OFFERS = "No acceptable DHCPOFFERS received."
#: gcpdiag's NETWORK_ERRORS (search index file 13392863039): the guest agent's dial error
GOOG_UNREACHABLE = "dial tcp metadata.goog:80: connect: network is unreachable"
#: samples/gce-windows-guest-agent-started/console.log
AGENT_STARTED = "2024/03/12 14:36:48 GCEGuestAgent: GCE Agent Started (version 20240109.00)"
#: parsers/detectors/network.yaml's WireServer sample (search index file id 24377173219)
WIRESERVER_DOWN = ("2021/04/02 20:56:32.606973 INFO Daemon Protocol endpoint not found: WireProtocol, "
                   "[ProtocolError] [Wireserver Exception] [HttpError] [HTTP Failed] GET "
                   "http://168.63.129.16/?comp=versions -- IOError timed out -- 6 attempts made")
#: WALinuxAgent's protocol util once it got through (logger.info "Negotiated wire protocol version: ...")
WIRE_NEGOTIATED = "2021/04/02 20:58:01.101010 INFO Daemon Negotiated wire protocol version: 2012-11-30"


def test_ifupdown_giving_up_on_an_interface_is_no_lease_unless_an_address_followed(catalog):
    failed = run_lines(catalog, [KERNEL, IFUP_FAILED])
    assert [f.rule for f in by_category(failed)["network.dhcp.no-lease"]] == ["ifupdown-failed-to-bring-up"]
    assert failed.outcome == "failure"
    # the primary interface got its lease afterwards: the failure concerned another interface
    leased = run_lines(catalog, [KERNEL, IFUP_FAILED, *LEASE])
    assert "network.dhcp.no-lease" not in by_category(leased)
    # the loopback failing says nothing about the network
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, "ifup: failed to bring up lo"]))


def test_a_missing_nic_explains_the_interface_that_was_not_brought_up(catalog):
    a = run_lines(catalog, [KERNEL, NO_DEVICE, IFUP_FAILED])
    found = by_category(a)
    assert found["network.no-device"][0].suppressed_by is None
    # ifup's verdict is a fallback (round 17): the root cause that explains it drops it
    assert all(f.suppressed_by for f in found.get("network.dhcp.no-lease", []))
    # netifrc's "interface does not exist" mutes the service failure that follows from it too
    netifrc = by_category(run_lines(catalog, [" *   ERROR: interface eth0 does not exist", NETIFRC_FAILED]))
    assert [f.rule for f in netifrc["network.no-device"]] == ["interface-does-not-exist"]
    assert all(f.suppressed_by for f in netifrc["network.dhcp.no-lease"])


def test_openrc_network_service_failure_is_the_network_s_not_a_unit_s(catalog):
    found = by_category(run_lines(catalog, [KERNEL, NETIFRC_FAILED]))
    assert [f.rule for f in found["network.dhcp.no-lease"]] == ["openrc-network-service-failed"]
    assert not [f for f in found.get("init.unit-failed", []) if f.suppressed_by is None]
    # a whole network service failing is a unit's failure: its cause is not shown
    whole = by_category(run_lines(catalog, [KERNEL, " * ERROR: networking failed to start"]))
    assert "network.dhcp.no-lease" not in whole
    assert [f.rule for f in whole["init.unit-failed"]] == ["openrc-service-failed"]


def test_bsd_dhclient_without_link_and_openbsd_without_offers(catalog):
    assert by_category(run_lines(catalog, [BSD_NO_LINK]))["network.dhcp.no-lease"][0].rule == "bsd-dhclient-no-link"
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, ["vtnet0: no link ..... got link"]))
    assert by_category(run_lines(catalog, [BSD_NO_OFFERS]))["network.dhcp.no-lease"][0].rule == "dhclient-no-lease"


def test_cloud_init_nonet_giving_up_is_no_lease_and_its_wait_is_not(catalog):
    assert by_category(run_lines(catalog, NONET))["network.dhcp.no-lease"][0].rule == "cloudinit-nonet-gave-up"
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, NONET[:1]))


def test_udev_failing_to_rename_the_nic_is_a_missing_device_that_explains_the_lease(catalog):
    found = by_category(run_lines(catalog, [KERNEL, UDEV_RENAME, NO_OFFERS]))
    assert [f.rule for f in found["network.no-device"]] == ["udev-interface-rename-failed"]
    assert all(f.suppressed_by for f in found["network.dhcp.no-lease"])
    # the configuration matched the NIC anyway: it got its lease
    assert "network.no-device" not in by_category(run_lines(catalog, [KERNEL, UDEV_RENAME, *LEASE]))


def test_the_metadata_goog_host_name_is_the_metadata_server(catalog):
    found = by_category(run_lines(catalog, [KERNEL, GOOG_UNREACHABLE]))
    assert "network.metadata-unreachable" in found
    # the guest agent started later (the network shown working): the error was a retry
    assert "network.metadata-unreachable" not in by_category(run_lines(catalog, [KERNEL, GOOG_UNREACHABLE, AGENT_STARTED]))


def test_one_network_working_pattern_ends_every_network_rule_alike(catalog):
    # the WireServer variant of the shared pattern: the Azure agent negotiating with the
    # WireServer shows the network working for the generic metadata rule too, not only for
    # waagent-wireserver-unreachable that carried it before the patterns were made one
    down = by_category(run_lines(catalog, [KERNEL, WIRESERVER_DOWN]))
    assert "network.metadata-unreachable" in down
    assert "network.metadata-unreachable" not in by_category(run_lines(catalog, [KERNEL, WIRESERVER_DOWN, WIRE_NEGOTIATED]))


#: kmod 30 `modprobe -S 0.0.0 virtio_net` and busybox 1.35 modprobe with an empty modules.dep (this branch's runs)
NIC_MODULE_MISSING = "modprobe: FATAL: Module virtio_net not found in directory /lib/modules/0.0.0"
BB_NIC_MODULE_MISSING = "modprobe: module virtio_net not found in modules.dep"
#: busybox 1.35 udhcpc's lease line (parsers/formats/udhcpc.yaml's form)
UDHCPC_LEASE = "udhcpc: lease of 10.0.2.15 obtained, lease time 86400"


def test_a_missing_nic_driver_module_is_a_missing_device_reported_not_deciding(catalog):
    a = run_lines(catalog, [KERNEL, NIC_MODULE_MISSING, "udhcpc: no lease, failing"])
    found = by_category(a)
    assert [f.rule for f in found["network.no-device"]] == ["nic-driver-module-missing"]
    # the lease that never came follows from the missing NIC: said as its symptom
    assert all(f.suppressed_by for f in found["network.dhcp.no-lease"])
    # a disk driver's module is the disk rules' business, and a NIC that got its lease had its driver
    assert "network.no-device" not in by_category(run_lines(catalog, [KERNEL, NIC_MODULE_MISSING.replace("virtio_net", "virtio_blk")]))
    assert "network.no-device" not in by_category(run_lines(catalog, [KERNEL, BB_NIC_MODULE_MISSING, UDHCPC_LEASE]))


#: search index file 15581400837: a Go agent's error when Azure's IMDS did not answer
IMDS_NOT_AVAILABLE = ("No resource id specified, and Azure Instance metadata service not available.  If not running "
                      "on an Azure VM, provide a value for resourceId")
#: samples/qemu/healthy/serial.log
LOGIN = "debian login: "


def test_a_metadata_service_said_not_available_is_the_metadata_unreachable_until_the_machine_is_up(catalog):
    found = by_category(run_lines(catalog, [KERNEL, IMDS_NOT_AVAILABLE]))
    assert [f.rule for f in found["network.metadata-unreachable"]] == ["metadata-address-failed"]
    # a component fallback before the machine came up was an early attempt: dropped
    assert "network.metadata-unreachable" not in by_category(run_lines(catalog, [KERNEL, IMDS_NOT_AVAILABLE, LOGIN]))
