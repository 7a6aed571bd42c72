"""Network clients beyond the first ones (parsers/detectors/network-clients.yaml) and the
netjudge principles they share: a DHCP failure in a syslog excerpt that shows nothing of the
boot decides nothing; iPXE's DHCP failure is the firmware's boot failing, not the guest's
address; NetworkManager's CONNECTED_SITE/GLOBAL state is an address; metadata give-ups of
every cloud-init generation and of CirrOS; an interface that does not exist.

Lines are real: public threads and pages (named at each constant), the samples/ consoles, and
a QEMU 7.2 + OVMF boot run for this branch (a virtio NIC on a hub with no DHCP server).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, by_category, serial_lines

#: dhclient as a syslog line (https://github.com/MichaIng/DietPi/issues/6974)
SYSLOG_NO_OFFERS = "Sep 26 17:19:15 MagicCubeAudio dhclient[1527]: No DHCPOFFERS received."
#: the same client's own output (ISC dhclient 4.4.3-P1 run in a network namespace with no server)
CONSOLE_NO_OFFERS = ["DHCPDISCOVER on veth0 to 255.255.255.255 port 67 interval 4", "No DHCPOFFERS received.",
                     "Unable to obtain a lease on first try.  Exiting."]
#: samples/vmware-fcos-networkmanager-dhcp-timeout/console.log
NM_TIMEOUT = "[   94.027287] NetworkManager[541]: <warn>  [1591289268.7874] dhcp4 (eth0): request timed out"
#: search index file id 56754880633 (Ubuntu 17.04 syslog) and 56935206163 (NetworkManager 1.0)
NM_GLOBAL = ("Jul  5 21:48:21 kris-Z97X-UD3H NetworkManager[988]: <info>  [1499305701.7102] manager: "
             "NetworkManager state is now CONNECTED_GLOBAL")
NM_LOCAL = "Nov 28 16:33:14 Yak NetworkManager[852]: <info>  NetworkManager state is now CONNECTED_LOCAL"
#: QEMU 7.2 q35 + Debian OVMF 2022.11 + ipxe-qemu 1.0.0+git-20190125, no DHCP server, no disk
OVMF_IPXE = ["Configuring (net0 52:54:00:12:34:56).................. No configuration methods succeeded "
             "(http://ipxe.org/040ee186)", ">>Start PXE over IPv4.", "  PXE-E18: Server response timeout."]
#: search index file id 51872660816 (OpenStack provider network, no metadata route)
NO_MD_SERVICE = ("[    6.654122] cloud-init[549]: 2026-04-02 03:29:03,623 - log_util.py[WARNING]: No active metadata "
                 "service found")
#: samples/aws-ubuntu-cloudinit-authkey-module-failed/console.log
DS_FOUND = "Cloud-init v. 0.7.5 finished at Wed, 12 Nov 2014 05:43:10 +0000. Datasource DataSourceEc2.  Up 27.88 seconds"
#: search index file id 57005319978 (UEC/Eucalyptus 2011, cloud-init 0.5)
OLD_GIVE_UP = ["  10:55:08 [100/100]: url error [timed out]", "giving up on md after 1258 seconds",
               "Could not find data source", "Failed to get instance data"]
#: search index file id 8627994268 (OpenRC's netifrc, no driver for eth0)
NETIFRC = [" * Bringing up interface eth0", " *   ERROR: interface eth0 does not exist",
           " *   Ensure that you have loaded the correct kernel module for your hardware",
           " * ERROR: net.eth0 failed to start"]


def test_a_syslog_excerpt_of_a_dhcp_failure_leaves_the_outcome_unknown(catalog):
    logged = run_lines(catalog, [SYSLOG_NO_OFFERS])
    [f] = by_category(logged)["network.dhcp.no-lease"]
    assert logged.outcome == "unknown" and f.verdict == "none"
    # the client's own output pasted from a console: the boot stopped at its DHCP client
    pasted = run_lines(catalog, CONSOLE_NO_OFFERS)
    assert pasted.outcome == "failure"
    assert by_category(pasted)["network.dhcp.no-lease"][0].verdict == "failure"
    # a syslog line in a view that shows the boot (a kernel line) is judged as it stands
    booted = run_lines(catalog, [KERNEL, SYSLOG_NO_OFFERS])
    assert booted.outcome == "failure"


def test_ipxe_without_dhcp_is_the_firmware_boot_failing_not_the_guest_address(catalog):
    firmware = by_category(run_lines(catalog, OVMF_IPXE))
    assert "network.dhcp.no-lease" not in firmware
    assert [f.rule for f in firmware["boot.bootloader-error"]][:1] == ["ipxe-no-dhcp"]
    bios = run_lines(catalog, serial_lines("qemu-ipxe-no-dhcp-no-bootable-device"))
    assert bios.outcome == "failure" and "network.dhcp.no-lease" not in by_category(bios)


def test_networkmanager_connected_is_an_address_and_connected_local_is_not(catalog):
    up = run_lines(catalog, [NM_TIMEOUT, NM_GLOBAL])  # two real consoles' lines joined
    assert up.outcome != "failure"
    assert all(f.verdict == "none" for f in up.findings())
    local = run_lines(catalog, [NM_TIMEOUT, NM_LOCAL])
    assert local.outcome == "failure"
    assert by_category(local)["network.dhcp.no-lease"][0].verdict == "failure"


def test_cloud_init_giving_up_on_metadata_is_reported_until_a_datasource_is_found(catalog):
    for lines in ([NO_MD_SERVICE], OLD_GIVE_UP):
        [f] = by_category(run_lines(catalog, lines))["network.metadata-unreachable"]
        assert (f.rule, f.severity) == ("cloudinit-gave-up-on-metadata", "warning")
    found = by_category(run_lines(catalog, [NO_MD_SERVICE, DS_FOUND]))
    assert "network.metadata-unreachable" not in found


def test_an_interface_that_does_not_exist_is_a_missing_nic(catalog):
    a = run_lines(catalog, NETIFRC)
    [f] = by_category(a)["network.no-device"]
    assert (f.rule, f.fields.get("interface"), f.severity) == ("interface-does-not-exist", "eth0", "critical")
    assert a.outcome == "failure"


def test_hostile_bytes_around_a_syslog_dhcp_failure(catalog):
    # an OSC escape and a BEL inside the host name, a NUL and invalid UTF-8 at the end, then a line
    # far longer than any console line: the escapes never reach the evidence, the line is still
    # read as a syslog line, and the excerpt still decides nothing
    hostile = b"Sep 26 17:19:15 h\x1b]0;pwn\x07ost dhclient[1527]: No DHCPOFFERS received.\x00\xff"
    a = run_lines(catalog, [hostile, b"\x1b[2J" + b"A" * 200_000])
    [f] = by_category(a)["network.dhcp.no-lease"]
    assert not any(c in e.text for e in f.evidence for c in "\x1b\x07\x00")
    assert (f.verdict, a.outcome) == ("none", "unknown")
