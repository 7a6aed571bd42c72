"""Clients that ask again and again with no answer and print no failure word (issue 10):
systemd-networkd, NetworkManager and OpenWrt's netifd in dhcp-discover-unanswered; the kernel's
and klibc's ip= autoconfiguration cut off while asking (ip-autoconfig-retrying-forever); a
firmware's or boot loader's network boot still waiting (netboot-dhcp-unanswered); CirrOS and early
cloud-init still asking their metadata service (cirros-metadata-still-retrying,
cloudinit-legacy-metadata-still-retrying). Each client's own answer ends the
wait, so a healthy boot never fires.

Lines are real: systemd-networkd 252 and dnsmasq 2.89 run in a network namespace for this
branch, a QEMU 7.2 + Debian OVMF boot with a NIC on a hub with no DHCP server, public threads
and pages (search index file ids at each constant) and the samples/ consoles; IncludeOS's lines
are synthetic, from its source (it is named at the constant).
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category, serial_lines

#: systemd-networkd 252 (Debian 12), SYSTEMD_LOG_LEVEL=debug, DHCP=ipv4 on a veth with no server
NETWORKD_ASKING = ["veth0: DHCPv4 client: STARTED on ifindex 3",
                   "veth0: DHCPv4 client is configured, acquiring DHCPv4 lease.",
                   "veth0: DHCPv4 client: DISCOVER", "veth0: DHCPv4 client: DISCOVER",
                   "veth0: DHCPv4 client: DISCOVER"]
#: the same with dnsmasq 2.89 answering on the veth's peer
NETWORKD_LEASED = ["veth0: DHCPv4 client: STARTED on ifindex 3",
                   "veth0: DHCPv4 client is configured, acquiring DHCPv4 lease.",
                   "veth0: DHCPv4 client: DISCOVER",
                   "veth0: DHCPv4 client: Received message from RAW socket, processing.",
                   "veth0: DHCPv4 client: OFFER", "veth0: DHCPv4 client: REQUEST (requesting)",
                   "veth0: DHCPv4 client: ACK",
                   "veth0: DHCPv4 address 10.77.0.60/24, gateway 10.77.0.1 acquired from 10.77.0.1"]
#: search index file id 1217443809 (OpenWrt netifd quoting udhcpc) and 49001682015 (answered)
NETIFD_ASKING = ["daemon.notice netifd: E3372_Dongle_4 (2114): udhcpc: started, v1.30.1",
                 "daemon.notice netifd: E3372_Dongle_4 (2114): udhcpc: sending discover",
                 "daemon.notice netifd: E3372_Dongle_4 (2114): udhcpc: sending discover"]
NETIFD_LEASED = ["daemon.notice netifd: wan (1222): udhcpc: sending discover",
                 "daemon.notice netifd: wan (1222): udhcpc: sending select for 10.146.35.11",
                 "daemon.notice netifd: wan (1222): udhcpc: lease of 10.146.35.11 obtained, lease time 43200"]
#: search index file ids 57094531599 (transaction begun) and 56564753562 (NetworkManager 1.4x's lease)
NM_BEGIN = ("Dez 28 13:03:26 wattux NetworkManager[1606]: <info>  [1545998606.0202] dhcp4 (enp0s8): activation: "
            "beginning transaction (timeout in 45 seconds)")
NM_LEASE = ("Apr 14 09:51:32 intergenos NetworkManager[353]: <info>  [1776178292.8608] dhcp4 (wlo1): state changed "
            "new lease, address=192.168.1.192, acd pending")
#: search index file id 4030645994: the kernel's ip=dhcp with an NFS root, link late
KERNEL_ASKING = ["[  102.243439] Waiting up to 20 more seconds for network.",
                 "[  122.243446] Sending DHCP requests ..."]
#: search index file id 47450671785: answered
KERNEL_ANSWERED = ["[    8.202822] Sending DHCP requests ., OK",
                   "[    8.247120] IP-Config: Got DHCP answer from 10.1.194.1, my address is 10.1.194.22",
                   "[    8.255491] IP-Config: Complete:"]
#: https://github.com/kernelci/kernelci-core/pull/1099 (klibc ipconfig in the initramfs)
KLIBC_ASKING = ["IP-Config: enx002432307ccc hardware address 00:24:32:30:7c:cc mtu 1500 DHCP"]
KLIBC_ANSWERED = KLIBC_ASKING + ["IP-Config: enx002432307ccc complete (dhcp from 192.168.201.1):"]
#: search index file ids 3441647926 (U-Boot's dhcp, cut before its answer) and 40958707051 (answered)
UBOOT_ASKING = ["BOOTP broadcast 1", "BOOTP broadcast 2", "BOOTP broadcast 3", "BOOTP broadcast 4"]
UBOOT_BOUND = ["BOOTP broadcast 1", "BOOTP broadcast 2", "BOOTP broadcast 3",
               "DHCP client bound to address 192.168.100.67 (937 ms)"]
#: search index file id 56885774397: a SiS legacy PXE ROM asking (the poster hid the MAC)
PXE_ROM_ASKING = ["SIS900 PXE BootROM v1.09f - ZL5_0324  Use BEU/BBS", "=== Press ESC to bypass LAN check ===",
                  "CLIENT MAC ADDR: [insert wrong MAC adress here]", "DHCP: . . . . . . . . . . . . . ."]
#: QEMU 7.2 q35, Debian OVMF, -boot n, a virtio NIC on a hub with no DHCP server (run for this branch)
OVMF_ASKING = ['BdsDxe: failed to load Boot0001 "UEFI QEMU DVD-ROM QM00005 " from '
               'PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x2,0xFFFF,0x0): Not Found', "", ">>Start PXE over IPv4."]
#: synthetic, from IncludeOS's dh4client.cpp (search index file ids 37821086889, 5246665554) through INFO's prefix
INCLUDEOS_ASKING = ["            [ DHCPv4 ] Negotiating IP-address (xid=2769325158)",
                    "            [ DHCPv4 ] No reply for 10 tries, retrying every 10 second"]
INCLUDEOS_LEASED = ["            [ DHCPv4 ] Negotiating IP-address (xid=2769325158)",
                    "            [ DHCPv4 ] Received possible DHCP OFFER from 10.0.0.1",
                    "            [ DHCPv4 ] DHCP configuration succeeded"]
#: search index file id 57005319978 (cloud-init 0.5 on UEC/Eucalyptus, 2011)
LEGACY_ASKING = ["  10:54:46 [99/100]: url error [timed out]"]
LEGACY_GAVE_UP = ["  10:55:08 [100/100]: url error [timed out]", "giving up on md after 1258 seconds"]
#: search index file id 45292565756 (KubeVirt docs, still retrying) and 43776582973 (answered)
CIRROS_ASKING = ["checking http://169.254.169.254/2009-04-04/instance-id", "failed 1/20: up 60.13. request failed",
                 "failed 2/20: up 72.24. request failed"]
CIRROS_ANSWERED = ["cirros-ds 'net' up at 4.38", "checking http://169.254.169.254/2009-04-04/instance-id",
                   "successful after 1/20 tries: up 4.51. iid=i-00000005"]


def _rules(a, category: str) -> list[str]:
    return [f.rule for f in by_category(a).get(category, [])]


def test_os_dhcp_clients_that_only_ask_are_named_and_their_answers_end_the_wait(catalog):
    for asking in (NETWORKD_ASKING, NETIFD_ASKING, [NM_BEGIN], INCLUDEOS_ASKING):
        assert _rules(run_lines(catalog, asking), "network.dhcp.no-lease") == ["dhcp-discover-unanswered"], asking
    for answered in (NETWORKD_LEASED, NETIFD_LEASED, [NM_BEGIN, NM_LEASE], INCLUDEOS_LEASED):
        assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, answered)), answered


def test_the_kernel_cut_off_while_asking_is_a_stall_and_its_ok_is_not(catalog):
    asking = run_lines(catalog, KERNEL_ASKING)
    assert _rules(asking, "network.dhcp.no-lease") == ["ip-autoconfig-retrying-forever"]
    assert asking.outcome == "stall"
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, KERNEL_ANSWERED))
    assert _rules(run_lines(catalog, KLIBC_ASKING), "network.dhcp.no-lease") == ["ip-autoconfig-retrying-forever"]
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, KLIBC_ANSWERED))


def test_a_network_boot_still_asking_is_the_boot_loader_waiting(catalog):
    for asking in (UBOOT_ASKING, PXE_ROM_ASKING):
        a = run_lines(catalog, asking)
        assert _rules(a, "boot.bootloader-error") == ["netboot-dhcp-unanswered"], asking
        assert "network.dhcp.no-lease" not in by_category(a)
        assert a.outcome == "stall", asking
    # UEFI's PXE client prints nothing while it asks: one ">>Start PXE" line is reported, undecided
    # (round 15: the boot manager falling through to PXE when the capture ends is no wait yet)
    for asking in (OVMF_ASKING[-1:], OVMF_ASKING):
        a = run_lines(catalog, asking)
        assert "uefi-pxe-unanswered" in _rules(a, "boot.bootloader-error"), asking
        assert "netboot-dhcp-unanswered" not in _rules(a, "boot.bootloader-error")
        assert a.outcome == "unknown", asking
    assert "boot.bootloader-error" not in by_category(run_lines(catalog, UBOOT_BOUND))
    # one ask is no wait: an excerpt cut at U-Boot's first broadcast says nothing
    assert "boot.bootloader-error" not in by_category(run_lines(catalog, UBOOT_ASKING[:1]))


def test_cirros_still_asking_its_metadata_service_is_a_stall_until_it_answers(catalog):
    asking = run_lines(catalog, CIRROS_ASKING)
    assert _rules(asking, "network.metadata-unreachable") == ["cirros-metadata-still-retrying"]
    assert asking.outcome == "stall"
    assert "network.metadata-unreachable" not in by_category(run_lines(catalog, CIRROS_ANSWERED))
    # early cloud-init: still asking is a stall; its giving up is another rule's
    legacy = run_lines(catalog, LEGACY_ASKING)
    assert _rules(legacy, "network.metadata-unreachable") == ["cloudinit-legacy-metadata-still-retrying"]
    assert legacy.outcome == "stall"
    assert "cloudinit-legacy-metadata-still-retrying" not in _rules(run_lines(catalog, LEGACY_GAVE_UP),
                                                                    "network.metadata-unreachable")


def test_healthy_consoles_with_these_clients_stay_quiet(catalog):
    retry_rules = {"dhcp-discover-unanswered", "ip-autoconfig-retrying-forever", "netboot-dhcp-unanswered",
                   "cirros-metadata-still-retrying", "cloudinit-legacy-metadata-still-retrying"}
    for case in ("qemu/healthy", "qemu-ipxe-gce-32-lease-handled"):
        a = run_lines(catalog, serial_lines(case))
        assert not retry_rules & {f.rule for f in a.findings()}, case


def test_hostile_bytes_in_an_asking_line_do_not_break_the_wait(catalog):
    hostile = ["BOOTP broadcast 1\x1b[2J\x00", "\xff\x1b]0;x\x07" * 5000, "BOOTP broadcast 2"]
    a = run_lines(catalog, hostile)
    assert _rules(a, "boot.bootloader-error") == ["netboot-dhcp-unanswered"]
