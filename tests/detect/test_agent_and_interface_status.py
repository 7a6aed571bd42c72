"""Guest agents that cannot reach their metadata service, and network tools' per-interface
statuses (issue 10: parsers/detectors/guest-agent-metadata.yaml, interface-status.yaml), as a user
meets them with the shipped catalog: the failure is named with its category while nothing
later shows the network working, and a boot that got through says nothing about it.

The dhcpcd lines are real: dhcpcd 9.4.1 (Debian 12) run here in a network namespace on a veth
whose peer was down, then brought up. The GCE agent, waagent and wicked lines are their source's
format strings filled in (each rule's samples name the file). The boot around them is
samples/qemu/healthy/serial.log's.
"""

from __future__ import annotations

import time

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found

START = ["[    1.901233] Run /init as init process"]
LEASE = ["udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600"]
UP = ["consolewatch-guest: ready", "", "debian login: "]

GCE_ERROR = ("Network error when requesting metadata, make sure your instance has an active network "
             "and can reach the metadata server.")
WAAGENT = ["2021/04/02 20:56:32.606973 INFO Daemon WireServer is not responding. Reset dhcp endpoint",
           "2021/04/02 20:56:32.606973 INFO Daemon Protocol endpoint not found: WireProtocol, [ProtocolError] "
           "[Wireserver Exception] [HttpError] [HTTP Failed] GET http://168.63.129.16/?comp=versions -- "
           "IOError timed out -- 6 attempts made",
           "2021/04/02 20:56:42.606973 INFO Daemon Retry detect protocols: retry=0"]


def test_the_gce_agent_that_never_reached_the_metadata_server_is_reported_and_a_late_network_is_not(catalog):
    a = run_lines(catalog, START + LEASE + [GCE_ERROR] + UP)
    [f] = _found(a)["network.metadata-unreachable"]
    assert f.rule == "gce-agent-metadata-request-failed"
    assert "metadata.google.internal" in f.remediation
    late = run_lines(catalog, START + LEASE + [GCE_ERROR, "Created google sudoers file"] + UP)
    assert "network.metadata-unreachable" not in _found(late)


def test_waagent_probing_a_silent_wireserver_is_reported_until_it_negotiates_the_protocol(catalog):
    a = run_lines(catalog, START + LEASE + WAAGENT, cloud="azure")
    assert "waagent-wireserver-unreachable" in {f.rule for f in _found(a)["network.metadata-unreachable"]}
    got_through = run_lines(catalog, START + LEASE + WAAGENT + [
        "2021/04/02 20:56:52.606973 INFO Daemon Wire protocol version:2012-11-30"] + UP, cloud="azure")
    # (network.yaml's metadata-unreachable still notes the IOError line as a warning: its
    # supersession does not know waagent's success line)
    assert "waagent-wireserver-unreachable" not in {f.rule for f in got_through.findings()}
    assert got_through.outcome == "success"


def test_wicked_leaving_the_nic_in_progress_fails_the_boot_and_a_late_lease_clears_it(catalog):
    a = run_lines(catalog, START + ["[   12.345678] wicked[1046]: lo              up",
                                    "[   12.345679] wicked[1046]: eth0            setup-in-progress"])
    assert a.outcome == "failure"
    [f] = _found(a)["network.dhcp.no-lease"]
    assert "eth0" in f.remediation and "setup-in-progress" in f.remediation
    late = run_lines(catalog, START + ["eth0            setup-in-progress",
                                       "eth0: Committed DHCPv4 lease with address 10.0.2.15"] + UP)
    assert "network.dhcp.no-lease" not in _found(late)
    assert late.outcome == "success"


def test_wicked_configuring_a_nic_the_machine_lacks_is_no_device_unless_another_nic_got_an_address(catalog):
    a = run_lines(catalog, START + ["lo              up", "eth0            no-device"])
    assert a.outcome == "failure"
    assert "ifcfg-eth0" in _found(a)["network.no-device"][0].remediation
    second = run_lines(catalog, START + ["eth0: Committed DHCPv4 lease with address 10.0.2.15",
                                         "eth0            up", "eth1            no-device"] + UP)
    assert second.outcome == "success"
    assert all(f.severity in ("info", "warning") for f in _found(second).get("network.no-device", []))


def test_dhcpcd_still_waiting_for_a_carrier_at_the_end_is_a_stall_and_a_carrier_ends_the_wait(catalog):
    a = run_lines(catalog, START + ["dhcpcd-9.4.1 starting", "v2: waiting for carrier"])
    assert a.outcome == "stall"
    assert "network.dhcp.no-lease" in _found(a)
    came = run_lines(catalog, START + ["dhcpcd-9.4.1 starting", "v2: waiting for carrier", "v2: carrier acquired",
                                       "v2: soliciting a DHCP lease", "v2: leased 10.0.2.15 for 86400 seconds"] + UP)
    assert "network.dhcp.no-lease" not in _found(came)


def test_hostile_status_lines_stay_bounded_and_say_nothing(catalog):
    hostile = ["\x1b[2J\x1b]0;x\x07" + "a" * 200_000 + "            no-device",
               "eth0" + " " * 200_000 + "setup-in-progressX",
               "\x00\xff WireServer is not respondin",
               "-" * 100_000 + ": waiting for carrier!"]
    t = time.perf_counter()
    a = run_lines(catalog, START + LEASE + hostile + UP)
    assert time.perf_counter() - t < 5
    found = _found(a)
    assert "network.no-device" not in found and "network.dhcp.no-lease" not in found
    assert "network.metadata-unreachable" not in found


def test_cloud_init_on_gce_giving_up_on_the_metadata_server_is_reported_unless_a_later_stage_found_it(catalog):
    warn = ('[   14.209876] cloud-init[402]: 2024-01-01 00:00:00,000 - DataSourceGCE.py[WARNING]: '
            'address "http://metadata.google.internal/computeMetadata/v1/" is not resolvable')
    a = run_lines(catalog, START + LEASE + [warn] + UP, cloud="gce")
    assert [f.rule for f in _found(a)["network.metadata-unreachable"]] == ["cloudinit-gce-metadata-unreachable"]
    found = run_lines(catalog, START + LEASE + [warn, "Cloud-init v. 23.4 finished at Mon, 01 Jan 2024 00:00:09 +0000. "
                                                "Datasource DataSourceGCE.  Up 9.35 seconds"] + UP, cloud="gce")
    assert "network.metadata-unreachable" not in _found(found)


def test_a_console_ending_while_systemd_waits_for_the_network_unit_is_a_dhcp_stall_until_the_unit_starts(catalog):
    waiting = ["[  *** ] A start job is running for Raise network interfaces (2min 3s / 5min 3s)",
               "[ ***  ] A start job is running for Raise network interfaces (2min 4s / 5min 3s)"]
    a = run_lines(catalog, START + waiting)
    assert a.outcome == "stall"
    [f] = _found(a)["network.dhcp.no-lease"]
    assert "2min 4s" in f.remediation and "Raise network interfaces" in f.remediation
    started = run_lines(catalog, START + waiting + ["[  OK  ] Started Raise network interfaces."] + UP)
    assert "network.dhcp.no-lease" not in _found(started)


def test_a_windows_console_ending_while_ec2launch_waits_for_imds_is_a_metadata_stall(catalog):
    wait = ["2020/08/13 17:28:02Z: Windows sysprep configuration complete.",
            "2020/08/13 17:28:03Z: Message: Waiting for meta-data accessibility..."]
    a = run_lines(catalog, wait, cloud="aws")
    assert a.outcome == "stall"
    assert [f.rule for f in _found(a)["network.metadata-unreachable"]] == ["ec2launch-metadata-wait-cut-off"]
    answered = run_lines(catalog, wait + ["2020/08/13 17:28:03Z: Message: Meta-data is now available.",
                                          "2020/08/13 17:28:13Z: Message: Windows is Ready to use"], cloud="aws")
    assert "network.metadata-unreachable" not in _found(answered)
    assert answered.outcome == "success"
