"""Round 13's provisioning and network rules: coreos-cloudinit failing (provisioning-13.yaml),
Hermit's virtio-net driver refusing the device (network-13.yaml, and the 5.1.3.1 words of
hermit-virtio-net-driver-failed), OpenBSD dhclient's discovery wait (dhcp-discover-unanswered),
BusyBox's hex ioctl error for a missing NIC (no-network-device) and its ifupdown with no DHCP
client (netifrc-no-dhcp-client), the Azure agent unable to report Ready
(waagent-provisioning-failed), cloudbase-init finding no metadata (cloudbase-init-failed), and cloud-init's network-info banners no longer read as a
provisioning failure (cloudinit-component-failed). Then hostile bytes in their lines.

Lines are real: public pages and repository files in the search index (named at each constant),
the samples/ consoles, and lines printed by the source that prints them (the format string cited
in the rule's sample).
"""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, assert_quoted_safely, by_category

#: https://github.com/coreos/bugs/issues/74: coreos-cloudinit's journal on a cloud-config without its header
CCI_PARSE = ["Jul 13 22:43:38 localhost coreos-cloudinit[1003]: Fetching meta-data from datasource of type \"cloud-drive\"",
             "Jul 13 22:43:38 localhost coreos-cloudinit[1003]: Failed to parse user-data: Unrecognized user-data header: coreos:"]
#: https://github.com/coreos/bugs/issues/269: coreos-cloudinit run by hand on a config drive
CCI_FETCH = "Failed fetching meta-data from datasource: unexpected end of JSON input"
#: the same file's log.Println("No datasources available in time")
CCI_NO_DATASOURCE = "coreos-cloudinit[700]: 2016/03/01 08:00:05 No datasources available in time"
#: units/system-cloudinit@.service (Description=Load cloud-config from %f) failing
CCI_UNIT = "[FAILED] Failed to start Load cloud-config from /usr/share/oem/cloud-config.yml."
#: the run that found its datasource (log.Printf "Checking availability of %q", "Fetching user-data ...")
CCI_OK = ['coreos-cloudinit[876]: 2015/01/12 10:21:30 Checking availability of "cloud-drive"',
          'coreos-cloudinit[876]: 2015/01/12 10:21:30 Fetching user-data from datasource of type "cloud-drive"',
          "[  OK  ] Started Load cloud-config from /usr/share/oem/cloud-config.yml."]
#: samples/qemu/healthy/serial.log: the machine up
LOGIN = ["consolewatch-guest: ready", "", "debian login: "]

#: Hermit src/drivers/net/virtio_net.rs init_dev(): info!() then error!() (search-index files 31220190220, 7432021192)
HERMIT_WANTED = "[0][INFO] Feature set wanted by network driver are in conformance with specification."
HERMIT_ABORT = "[0][ERROR] Device features set, does not satisfy minimal features needed. Aborting!"
#: the same driver's 5.1.3.1 check (search-index file 35196603191)
HERMIT_RULES = ("[0][ERROR] Network drivers feature set 10000000000000000000000000000000000 does not satisfy rules "
                "in section 5.1.3.1 of specification v1.1. Aborting!")
#: search-index file 23506053763: a Hermit boot whose driver found a common feature set
HERMIT_OK = [HERMIT_WANTED, HERMIT_WANTED,
             "[0][INFO] Driver found a subset of features for virtio device 1041. Features are: [VIRTIO_NET_F_MAC, "
             "VIRTIO_NET_F_STATUS, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1]"]

#: OpenBSD sbin/dhclient/dhclient.c send_discover(): the older and the 6.x forms
OBSD_OLD = ["DHCPDISCOVER on vio0 - interval 1", "DHCPDISCOVER on vio0 - interval 2", "DHCPDISCOVER on vio0 - interval 4"]
OBSD_NEW = ["vio0: DHCPDISCOVER - interval 1", "vio0: DHCPDISCOVER - interval 2"]
#: search-index file 39022535743: an OpenBSD install whose dhclient was answered
OBSD_BOUND = ["em0: DHCPDISCOVER - interval 1", "em0: DHCPOFFER from 163.172.61.1 (00:81:c4:f6:e9:17)",
              "em0: DHCPREQUEST to 255.255.255.255", "em0: DHCPACK from 163.172.61.1 (00:81:c4:f6:e9:17)",
              "em0: bound to 163.172.61.249 -- renewal in 2147483647 seconds"]

#: BusyBox libbb/xfuncs_printf.c bb_ioctl_or_warn(): "ioctl %#x failed" for SIOCGIFINDEX (0x8933)
IOCTL_NO_DEVICE = "udhcpc: ioctl 0x8933 failed: No such device"
#: search-index file 36270925622: BusyBox ifup with no DHCP client installed
NO_DHCP_CLIENT = ["ifup: no dhcp clients found", "ifup: don't seem to have all the variables for eth1/inet"]

#: cloud-init cloudinit/netinfo.py route_pformat(): util.center('Route info failed', '!', 80) behind ci-info:
ROUTE_INFO_FAILED = ("[   14.017220] cloud-init[799]: ci-info: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!Route info failed"
                     "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")


def test_coreos_cloudinit_failing_is_a_provisioning_error_the_boot_goes_past(catalog):
    for lines in (CCI_PARSE, [CCI_FETCH], [CCI_NO_DATASOURCE], [KERNEL, CCI_UNIT]):
        found = by_category(run_lines(catalog, lines))
        assert [f.rule for f in found["cloudinit.error"]] == ["coreos-cloudinit-failed"], lines
        assert found["cloudinit.error"][0].verdict == "none"
    # the machine came up without its configuration: up, not as asked (neither failure nor success)
    up = run_lines(catalog, [KERNEL, *CCI_PARSE, *LOGIN])
    assert "cloudinit.error" in by_category(up)
    assert up.outcome == "unknown"
    # a run that found its datasource and a unit that started
    assert "cloudinit.error" not in by_category(run_lines(catalog, [KERNEL, *CCI_OK, *LOGIN]))


def test_hermit_virtio_net_refusing_the_device_needs_the_network_driver_s_own_line(catalog):
    found = by_category(run_lines(catalog, [HERMIT_WANTED, HERMIT_ABORT]))
    assert [f.rule for f in found["network.no-device"]] == ["hermit-virtio-net-features-refused"]
    # the driver gave up; the unikernel runs on without a NIC: a report, not the stop
    assert run_lines(catalog, [HERMIT_WANTED, HERMIT_ABORT]).outcome == "unknown"
    # the same abort words from the block, console or entropy driver: no network line before them
    assert "network.no-device" not in by_category(run_lines(catalog, [HERMIT_ABORT]))
    # the driver found a common feature set
    assert "network.no-device" not in by_category(run_lines(catalog, HERMIT_OK))
    # the 5.1.3.1 check is the network driver's own
    rules = by_category(run_lines(catalog, [HERMIT_RULES]))
    assert [f.rule for f in rules["network.no-device"]] == ["hermit-virtio-net-driver-failed"]


def test_openbsd_dhclient_still_discovering_at_the_end_is_a_stall(catalog):
    for lines in (OBSD_OLD, OBSD_NEW):
        a = run_lines(catalog, [KERNEL, *lines])
        assert [f.rule for f in by_category(a)["network.dhcp.no-lease"]] == ["dhcp-discover-unanswered"]
        assert a.outcome == "stall"
    # answered: an offer, an acknowledgement, a lease
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, *OBSD_BOUND]))


def test_busybox_hex_ioctl_error_for_a_missing_nic_and_ifupdown_with_no_dhcp_client(catalog):
    found = by_category(run_lines(catalog, [KERNEL, IOCTL_NO_DEVICE]))
    assert [f.rule for f in found["network.no-device"]] == ["no-network-device"]
    # a block device's ioctl failing is not a missing NIC
    assert "network.no-device" not in by_category(run_lines(catalog, [KERNEL, "hdparm: ioctl 0x31f failed: Invalid argument"]))
    client = by_category(run_lines(catalog, [KERNEL, *NO_DHCP_CLIENT]))
    assert [f.rule for f in client["network.dhcp.no-lease"]] == ["netifrc-no-dhcp-client"]
    # a dashboard's empty table says the same words capitalised, with no program: not the error
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, "No DHCP clients found."]))


#: WALinuxAgent azurelinuxagent/pa/provision/default.py report_ready(): logger.error("Reporting Ready failed: {0}", e)
#: (search-index file 15490173826), the agent's ProtocolError text not naming the WireServer
WAAGENT_NOT_REPORTED = ("2019/07/01 10:00:04.512203 ERROR Daemon Daemon Reporting Ready failed: [ProtocolError] "
                        "Failed to send provision status: [HttpError] HTTP POST failed")
#: the same file's logger.info("Provisioning complete")
WAAGENT_DONE = "2019/07/01 10:00:04.512203 INFO Daemon Daemon Provisioning complete"


def test_waagent_unable_to_report_ready_is_a_provisioning_error(catalog):
    found = by_category(run_lines(catalog, [KERNEL, WAAGENT_NOT_REPORTED]))
    assert [f.rule for f in found["cloudinit.error"]] == ["waagent-provisioning-failed"]
    assert found["cloudinit.error"][0].verdict == "none"
    assert "cloudinit.error" not in by_category(run_lines(catalog, [KERNEL, WAAGENT_DONE]))


#: https://github.com/Telmate/terraform-provider-proxmox/issues/403: cloudbase-init finding no config drive
CBI_NO_METADATA = [
    "2021-09-16 10:09:50.004 4456 ERROR cloudbaseinit.init [-] No metadata service found: "
    "cloudbaseinit.exception.MetadataNotFoundException: No available service found",
    "2021-09-16 10:09:50.004 4456 INFO cloudbaseinit.init [-] Plugins execution done",
    "2021-09-16 10:09:50.004 4456 INFO cloudbaseinit.init [-] Stopping Cloudbase-Init service"]


def test_cloudbase_init_without_metadata_is_no_success(catalog):
    a = run_lines(catalog, CBI_NO_METADATA)
    assert [f.rule for f in by_category(a)["cloudinit.error"]] == ["cloudbase-init-failed"]
    # the service stops as after a good run: up, but nothing it was to configure is done
    assert a.outcome == "unknown"
    assert run_lines(catalog, CBI_NO_METADATA[1:]).outcome == "success"


#: WALinuxAgent azurelinuxagent/pa/provision/cloudinit.py wait_for_ovfenv() (search-index file 3095123152)
WAAGENT_WAITING = ("2021/03/02 10:00:00.200000 INFO Daemon Waiting for cloud-init to copy ovf-env.xml to "
                   "/var/lib/waagent/ovf-env.xml [1800 retries remaining, sleeping 1s between retries]")
WAAGENT_KEY_FOUND = ["2021/03/02 10:00:09.000001 INFO Daemon ssh host key found at: /etc/ssh/ssh_host_rsa_key.pub",
                     "2021/03/02 10:00:09.500001 INFO Daemon Finished provisioning"]


def test_waagent_still_waiting_for_cloud_init_at_the_end_is_a_stall(catalog):
    a = run_lines(catalog, [WAAGENT_WAITING])
    assert [f.rule for f in by_category(a)["cloudinit.error"]] == ["waagent-waiting-for-cloud-init"]
    assert a.outcome == "stall"
    assert "cloudinit.error" not in by_category(run_lines(catalog, [WAAGENT_WAITING, *WAAGENT_KEY_FOUND]))


#: IncludeOS src/net/dhcp/dh4client.cpp (search-index file 37821086889) through INFO's "%13s ] " prefix
INCLUDEOS_TIMEOUT = ["            [ DHCPv4 ] Negotiating IP-address (xid=2769325158)",
                     "            [ DHCPv4 ] Negotiation timed out"]
#: search-index file 60821741272: NetworkManager's ACD refusing the leased address
NM_ACD = ("vm2 NetworkManager[809]: <warn>  [1733739965.4400] device (enp0s8): IP address 10.0.0.2 cannot be "
          "configured because it is already in use in the network by host 08:00:27:09:58:BA")
#: search-index file 27439572178: the conflicting lease NetworkManager did not configure
NM_ACD_LEASE = "dhcp4 (enp0s31f6): state changed new lease, address=10.10.4.2, acd conflict"
#: cloudbase-init cloudconfig.py's LOG.error("Plugin %r is currently not supported") (search-index file 42865729424)
CBI_UNSUPPORTED = ("2023-12-05 13:46:30.112 9860 ERROR cloudbaseinit.plugins.common.userdataplugins.cloudconfig [-] "
                   "Plugin 'ssh_pwauth' is currently not supported")


def test_unikernel_and_networkmanager_lease_failures_and_cloudbase_init_unsupported_keys(catalog):
    inc = by_category(run_lines(catalog, INCLUDEOS_TIMEOUT))
    assert [f.rule for f in inc["network.dhcp.no-lease"]] == ["includeos-dhcp-timed-out"]
    ok = [INCLUDEOS_TIMEOUT[0], "            [ DHCPv4 ] DHCP configuration succeeded"]
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, ok))
    # a conflicting lease is no lease: the refusal stands after NetworkManager's lease line
    acd = by_category(run_lines(catalog, [KERNEL, NM_ACD, NM_ACD_LEASE]))
    assert [f.rule for f in acd["network.dhcp.no-lease"]] == ["networkmanager-dhcp-timeout"]
    cbi = by_category(run_lines(catalog, [CBI_UNSUPPORTED]))
    assert [f.rule for f in cbi["cloudinit.error"]] == ["cloudbase-init-failed"]


def test_cloud_init_route_info_banner_is_not_a_provisioning_failure(catalog):
    assert "cloudinit.error" not in by_category(run_lines(catalog, [KERNEL, ROUTE_INFO_FAILED]))


PAD = b"A" * 70000

HOSTILE = [
    ("coreos-cloudinit-failed",
     [b"coreos-cloudinit[876]: Failed fetching user-data from datasource: \x1b]0;evil\x07Unable\x00 to fetch\xff" + PAD]),
    ("coreos-cloudinit-failed", [b"[FAILED] Failed to start Load cloud-config from /\x1b[31mevil\x00\xff."]),
    ("hermit-virtio-net-features-refused",
     [HERMIT_WANTED.encode(), b"[0][ERROR] \x1b[2JDevice features set, does not satisfy minimal features needed. Aborting!\x00"]),
    ("hermit-virtio-net-driver-failed",
     [b"[0][ERROR] Network drivers feature set \x1b]52;c;ZXZpbA==\x07\x00\xff does not satisfy rules in section 5.1.3.1 of "
      b"specification v1.1. Aborting!" + PAD]),
    ("no-network-device", [b"udhcpc: ioctl 0x8933 failed: No such device\x1b[5m\x00\xff" + PAD]),
    ("netifrc-no-dhcp-client", [b"\x1b]0;x\x07ifup: no dhcp clients found"]),
    ("waagent-provisioning-failed",
     [b"2019/07/01 10:00:04.512203 ERROR Daemon Daemon Reporting Ready failed: \x1b]0;evil\x07[ProtocolError]\x00\xff" + PAD]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[f"{c[0]}-{i}" for i, c in enumerate(HOSTILE)])
def test_hostile_bytes_in_the_round_13_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, [KERNEL.encode(), *lines])
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
