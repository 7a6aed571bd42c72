"""DHCP clients and root devices as a user meets them (issue 10, items 4 and 5), with the shipped
catalog: each client's way of failing is named, each client's healthy lease raises no error, and a
root device that cannot be found is named with what the console shows of its cause.

Lines are real console lines or program output; each names where it was seen (the rule samples
cite the same). The kernel's own root and ip= messages that no console here shows are taken from
the source that prints them and say so.
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines

#: klibc-utils 2.0.12 `ipconfig` in a network namespace against the guest kit's GCE-like dnsmasq
KLIBC_GCE = [
    "IP-Config: veth0 hardware address 42:30:41:09:5c:60 mtu 1500 DHCP RARP",
    "IP-Config: veth0 complete (dhcp from 10.128.0.1):",
    " address: 10.128.0.2       broadcast: 10.128.15.255    netmask: 255.255.255.255 ",
    " routes : 10.128.0.1/32, 0.0.0.0/0 via 10.128.0.1",
    " dns0   : 169.254.169.254  dns1     : 0.0.0.0         ",
    " rootserver: 10.128.0.1 rootpath: ",
]
#: systemd-networkd 252 (Debian 12, DHCP=ipv4) in a network namespace against the same dnsmasq
NETWORKD_GCE = [
    "veth0: Link UP",
    "veth0: Gained carrier",
    "veth0: Configuring with /run/systemd/network/10-veth0.network.",
    "veth0: Gained IPv6LL",
    "veth0: DHCPv4 address 10.128.0.2/32, gateway 10.128.0.1 acquired from 10.128.0.1",
]
#: ISC dhclient 4.4.3-P1 (Debian 12, its rfc3442 hook) `dhclient -4 -d -1 -v veth0` against the same dnsmasq
DHCLIENT_GCE = [
    "Listening on LPF/veth0/f2:90:01:1b:12:49",
    "DHCPDISCOVER on veth0 to 255.255.255.255 port 67 interval 8",
    "DHCPOFFER of 10.128.0.2 from 10.128.0.1",
    "DHCPREQUEST for 10.128.0.2 on veth0 to 255.255.255.255 port 67",
    "DHCPACK of 10.128.0.2 from 10.128.0.1",
    "bound to 10.128.0.2 -- renewal in 1549 seconds.",
]
#: search index file id 47289622583 (an OSv unikernel booted with --verbose)
OSV_SLOW_LEASE = ["[I/28 dhcp]: Waiting for IP...", "[I/28 dhcp]: Waiting for IP...",
                  "[I/198 dhcp]: Server acknowledged IP for interface eth0", "eth0: 192.168.100.201"]
#: search index file id 57054173410 (a NetworkManager journal)
NM_TIMEOUT = [
    "Jan  4 20:48:57 R4SH33D-PC NetworkManager[862]: <info>  [1483580937.5588] dhcp4 (wlp2s0): state changed timeout -> done",
    "Jan  4 20:48:57 R4SH33D-PC NetworkManager[862]: <info>  [1483580937.5594] device (wlp2s0): state change: "
    "ip-config -> failed (reason 'ip-config-unavailable') [70 120 5]",
]
#: samples/qemu/healthy/serial.log: a kernel line (a printk stamp) shows the boot itself
KERNEL_LINE = ("[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
               "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian "
               "6.1.192-2 (2026-11-16)")
#: search index file ids 49819548449 (failed) and 12941276740 (done): RHEL/CentOS initscripts
INITSCRIPTS_FAILED = ["Bringing up interface eth0:  ", "Determining IP information for eth0... failed."]
INITSCRIPTS_DONE = ["Bringing up interface eth1:", "Determining IP information for eth1... done."]
#: search index file id 32055631093 (an SGI Indy booting with the kernel's ip= autoconfiguration)
KERNEL_IPCONFIG_OFF_LINK = [
    "Sending BOOTP requests.... OK",
    "IP-Config: Got BOOTP answer from 169.238.83.43, my address is",
    "169.238.83.19",
    "IP-Config: Gateway not on directly connected network.",
]
#: samples/qemu/driver-missing/serial.log without its "Cannot open root device" line, as a screen
#: that scrolled it away shows the panic
EMPTY_LIST_PANIC = [
    '[    1.534498] Please append a correct "root=" boot option; here are the available partitions:',
    "[    1.534776] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
]
#: samples/qemu/driver-missing/serial.log
NO_DISK = ['[    1.534369] VFS: Cannot open root device "vda1" or unknown-block(0,0): error -6', *EMPTY_LIST_PANIC]
#: qemu boot: root-uuid-no-initramfs (tests/qemu/kernel_faults.py; samples/qemu-root-uuid-no-initramfs)
WAIT_UUID = "[    3.233060] Waiting for root device UUID=0f3e8a5c-1b2d-4e6f-8a9b-0c1d2e3f4a5b..."
#: kmod 30 `modprobe -S 0.0.0 virtio_blk` (a kernel version without the module)
MODPROBE = "modprobe: FATAL: Module virtio_blk not found in directory /lib/modules/0.0.0"
#: search index file id 55107896843 (recovery notes of a NixOS guest)
NIXOS_TIMEOUT = "Timed out waiting for device /dev/disk/by-label/nixos"


def _categories(a) -> set[str]:
    return {f.category for f in a.findings()}


def _errors(a) -> list:
    return [f for f in a.findings() if f.severity in ("error", "critical")]


def test_a_healthy_klibc_lease_on_gce_with_its_routes_raises_no_error(catalog):
    for cloud in ("gce", "unknown"):
        a = run_lines(catalog, KLIBC_GCE, cloud=cloud)
        assert _errors(a) == [], cloud


def test_healthy_leases_of_other_clients_raise_no_error_on_gce_or_anywhere(catalog):
    for lines in (NETWORKD_GCE, DHCLIENT_GCE, OSV_SLOW_LEASE):
        for cloud in ("gce", "unknown"):
            assert _errors(run_lines(catalog, lines, cloud=cloud)) == [], (cloud, lines[-1])


def test_an_osv_unikernel_still_waiting_for_its_ip_is_a_stall_without_a_lease(catalog):
    waiting = run_lines(catalog, OSV_SLOW_LEASE[:2])
    assert _categories(waiting) == {"network.dhcp.no-lease"}
    assert waiting.outcome == "stall"


def test_the_same_klibc_lease_without_its_routes_line_is_option121_not_applied(catalog):
    # klibc before option 121 support printed the lease without a routes line (the /32 is what matters)
    lease_only = [line for line in KLIBC_GCE if "routes" not in line]
    a = run_lines(catalog, lease_only)
    assert "network.dhcp.option121-missing" in _categories(a)


def test_the_kernels_ip_config_with_an_off_link_gateway_is_named_option121(catalog):
    a = run_lines(catalog, KERNEL_IPCONFIG_OFF_LINK)
    [f] = [f for f in a.findings() if f.category == "network.dhcp.option121-missing"]
    assert f.rule == "ipconfig-gateway-off-link"
    assert "Gateway not on directly connected network" in f.evidence[-1].text


def test_networkmanager_ip_config_unavailable_is_no_lease(catalog):
    a = run_lines(catalog, NM_TIMEOUT)
    assert _categories(a) == {"network.dhcp.no-lease"}
    # a journal excerpt shows nothing of the boot (netjudge): the failure is reported, the
    # outcome stays unknown; the same lines after a kernel line are the boot's verdict
    assert a.outcome == "unknown"
    assert run_lines(catalog, [KERNEL_LINE, *NM_TIMEOUT]).outcome == "failure"


def test_initscripts_dhcp_failure_is_no_lease_and_success_is_nothing(catalog):
    assert "network.dhcp.no-lease" in _categories(run_lines(catalog, INITSCRIPTS_FAILED))
    assert _errors(run_lines(catalog, INITSCRIPTS_DONE)) == []


def test_an_empty_partition_list_seen_alone_is_a_root_not_found_not_a_guessed_driver(catalog):
    partial = run_lines(catalog, EMPTY_LIST_PANIC)
    assert "disk.root-not-found" in _categories(partial)
    assert "disk.driver-missing" not in _categories(partial)
    [f] = [f for f in partial.findings() if f.category == "disk.root-not-found"]
    assert "no disk is visible" in f.title.lower() or "no disk" in f.title.lower()
    # with the root= line in view the cause is named, first
    full = run_lines(catalog, NO_DISK)
    cats = [f.category for f in full.findings() if f.suppressed_by is None]
    assert cats[0] == "disk.driver-missing"
    assert "disk.root-not-found" in _categories(full)


def test_a_root_by_uuid_without_initramfs_waits_for_ever_and_says_why(catalog):
    a = run_lines(catalog, [WAIT_UUID])
    assert a.outcome == "stall"
    [f] = [f for f in a.findings() if f.category == "disk.root-not-found"]
    assert "initramfs" in f.remediation


def test_a_missing_disk_driver_module_is_reported_next_to_the_root_it_hides(catalog):
    a = run_lines(catalog, [MODPROBE, *NO_DISK])
    assert {"disk.driver-missing", "disk.root-not-found"} <= _categories(a)
    drivers = [f for f in a.findings() if f.rule == "disk-driver-module-missing"]
    assert drivers and "virtio_blk" in drivers[0].remediation
    assert a.outcome == "failure"


def test_nixos_stage1_timing_out_on_its_root_is_root_not_found(catalog):
    a = run_lines(catalog, [NIXOS_TIMEOUT])
    assert "disk.root-not-found" in _categories(a)
    # systemd's line for a data disk (a period, then /boot) is not the root
    data = run_lines(catalog, ["[ TIME ] Timed out waiting for device /dev/disk/by-label/boot.",
                               "[DEPEND] Dependency failed for /boot."])
    assert "disk.root-not-found" not in _categories(data)


#: LKML thread in the search index (file id 29296511682); file id 47070819712 (a resume device)
ROOT_WAIT = ["Begin: Waiting for root file system ... Begin: Running /scripts/local-block ....",
             "Begin: Running /scripts/local-block ... done.", "Begin: Running /scripts/local-block ... done."]
RESUME_WAIT = ["Begin: Waiting for suspend/resume device ... Begin: Running /scripts/local-block ... done.",
               "Begin: Running /scripts/local-block ... done.", "Begin: Running /scripts/local-block ... done."]
#: search index file id 2705761877 (a Debian guest with a root= UUID that does not exist)
GAVE_UP = ["Begin: Waiting for root file system ... Begin: Running /scripts/local-block ... done.", "done.",
           "Gave up waiting for root file system device.  Common problems:"]


def test_an_initramfs_still_waiting_for_its_root_is_a_stall_and_a_resume_wait_is_nothing(catalog):
    waiting = run_lines(catalog, ROOT_WAIT)
    assert _categories(waiting) == {"disk.root-not-found"}
    assert waiting.outcome == "stall"
    assert _errors(run_lines(catalog, RESUME_WAIT)) == []
    gave_up = run_lines(catalog, GAVE_UP)  # the initramfs gave up: a failure, named once
    assert gave_up.outcome == "failure"
    assert [f.rule for f in gave_up.findings() if f.category == "disk.root-not-found"] == ["gave-up-waiting-for-root"]


def test_ubuntu_booting_without_its_network_is_no_lease(catalog):
    #: search index file id 56955776516 (an Ubuntu 12.04 server's boot screen)
    a = run_lines(catalog, ["Waiting for server network configuration...",
                            "Waiting up to 60 more seconds for network configuration...",
                            "Booting system without full network configuration..."])
    assert _categories(a) == {"network.dhcp.no-lease"}
    assert _errors(run_lines(catalog, ["Waiting for network configuration..."])) == []


def test_the_metadata_servers_name_not_resolving_is_named_metadata_unreachable_as_a_warning(catalog):
    #: busybox 1.35.0 wget and curl 7.88.1 in an empty network namespace
    for line in ("wget: bad address 'metadata.google.internal'",
                 "curl: (6) Could not resolve host: metadata.google.internal"):
        [f] = run_lines(catalog, [line]).findings()
        assert (f.category, f.severity) == ("network.metadata-unreachable", "warning")


def test_dhcpcd_without_a_carrier_is_no_lease_with_the_link_named(catalog):
    #: dhcpcd 9.4.1 on a veth whose peer is down
    a = run_lines(catalog, ["veth0: waiting for carrier", "timed out"])
    [f] = [f for f in a.findings() if f.category == "network.dhcp.no-lease"]
    assert f.rule == "dhcpcd-no-carrier" and "veth0 has no link" in f.remediation
