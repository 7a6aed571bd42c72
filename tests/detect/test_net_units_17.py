"""Round 17's network-script and unit rules: the scripts that bring the interfaces up failing is
the unit's failure, and a missing lease only when what ran next shows no address
(network-scripts-failed-no-address; network-service-failed keeps the waits for the network);
cloud-init's network summary cut off before its rows, or a NIC left down, proves nothing
(cloudinit-netinfo-no-address), but a NIC without an address and no route at all does
(cloudinit-netinfo-no-address-no-route);
ifup failing because the address or route is already there is no missing lease
(ifupdown-address-or-route-exists, ifupdown-failed-to-bring-up a fallback, in ifupdown 0.7's wording
too), and a static stanza without its address is a static configuration missing
(ifupdown-static-address-missing); cloud-init's datasource
failure in the DEBUG record util.logexc() writes with the traceback (cloudinit-datasource-failed);
systemd giving up on a service's start (service-start-timed-out). Then hostile bytes in their lines.

Lines are real (public pages and repository files in the search index, named at each constant,
and the samples/ consoles) or printed from the format strings of the programs that print them,
as the rules' samples say.
"""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, assert_quoted_safely, by_category

#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log
LSB_FAILED = "[FAILED] Failed to start LSB: Bring up/down networking."
TABLE = ["[  311.844614] cloud-init[2214]: ci-info: +++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++",
         "[  311.849250] cloud-init[2214]: ci-info: +--------+------+-----------+-----------+-------+-------------------+",
         "[  311.853612] cloud-init[2214]: ci-info: | Device |  Up  |  Address  |    Mask   | Scope |     Hw-Address    |",
         "[  311.873730] cloud-init[2214]: ci-info: +--------+------+-----------+-----------+-------+-------------------+",
         "[  311.878685] cloud-init[2214]: ci-info: | eth0:  | True |     .     |     .     |   .   | 52:54:00:59:b9:59 |",
         "[  311.900503] cloud-init[2214]: ci-info: |  lo:   | True | 127.0.0.1 | 255.0.0.0 |   .   |         .         |",
         "[  311.913055] cloud-init[2214]: ci-info: +--------+------+-----------+-----------+-------+-------------------+"]
#: a cloud-init 0.7.5 network summary with an address (search-index file 34187708640)
TABLE_OK = ["ci-info: | Device |  Up  |    Address    |      Mask     |     Hw-Address    |",
            "ci-info: +--------+------+---------------+---------------+-------------------+",
            "ci-info: |   lo   | True |   127.0.0.1   |   255.0.0.0   |         .         |",
            "ci-info: |  eth0  | True | 10.100.10.237 | 255.255.255.0 | 02:12:05:f8:97:82 |"]
#: Debian ifupdown's networking.service (Description=Raise network interfaces) in systemd's [FAILED] form
RAISE_FAILED = "[FAILED] Failed to start Raise network interfaces."
#: https://github.com/bluerobotics/companion/issues/201 (ifupdown 0.7's wording)
EXISTS = ["Interface eth0 is down", "RTNETLINK answers: File exists", "Failed to bring up config-server."]
#: iproute2's "RTNETLINK answers: %s" for EEXIST, then ifupdown 0.8's warnx("failed to bring up %s"), as the journal
#: relays them; then ISC dhclient's lease lines before it (parsers/formats/dhclient.yaml's forms)
EXISTS_JOURNAL = ["Jan 12 10:02:11 host dhclient[418]: DHCPACK of 10.128.0.2 from 10.128.0.1",
                  "Jan 12 10:02:11 host dhclient[418]: bound to 10.128.0.2 -- renewal in 1800 seconds.",
                  "Jan 12 10:02:11 host ifup[412]: RTNETLINK answers: File exists",
                  "Jan 12 10:02:11 host ifup[412]: ifup: failed to bring up ens3"]
#: cloudinit/sources/__init__.py find_source()'s util.logexc(LOG, "Getting data from %s failed", cls): its DEBUG record
DS_DEBUG = ["2024-05-02 10:11:12,345 - util.py[DEBUG]: Getting data from <class "
            "'cloudinit.sources.DataSourceOpenStack.DataSourceOpenStack'> failed", "Traceback (most recent call last):"]
#: public repository file in the search index (file id 35478538717): a Puppet agent's journal
PUPPET = ["marras 05 15:37:36 kuusi systemd[1]: Starting Puppet agent...",
          "marras 05 15:39:06 kuusi systemd[1]: puppet.service: Start operation timed out. Terminating."]


def _rules(a, category=None):
    return {f.rule for f in a.findings() if category is None or f.category == category}


def test_network_scripts_failing_alone_are_the_units_failure_not_a_lease(catalog):
    for failed in (LSB_FAILED, RAISE_FAILED):
        a = run_lines(catalog, [KERNEL, failed, "[  OK  ] Reached target Network."])
        assert "network.dhcp.no-lease" not in by_category(a)
        assert _rules(a, "init.unit-failed") == {"unit-failed-to-start"}
        assert a.outcome != "failure"


def test_network_scripts_failing_then_a_table_without_an_address_is_no_lease(catalog):
    a = run_lines(catalog, [KERNEL, LSB_FAILED, *TABLE])
    assert "network-scripts-failed-no-address" in _rules(a, "network.dhcp.no-lease")
    ok = run_lines(catalog, [KERNEL, LSB_FAILED, *TABLE_OK])
    assert "network.dhcp.no-lease" not in by_category(ok)


def test_the_wait_for_the_network_failing_is_still_no_lease(catalog):
    a = run_lines(catalog, [KERNEL, "[FAILED] Failed to start Wait for Network to be Configured."])
    assert _rules(a, "network.dhcp.no-lease") == {"network-service-failed"}


def test_a_network_summary_cut_off_before_its_rows_proves_nothing(catalog):
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, *TABLE[:3]]))
    assert "cloudinit-netinfo-no-address" in _rules(run_lines(catalog, [KERNEL, *TABLE]))


def test_a_nic_left_down_without_an_address_is_no_missing_lease(catalog):
    down = [*TABLE_OK[:2], "ci-info: |  eth1  | False |       .       |       .       | 02:12:05:f8:97:83 |"]
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, *down]))


#: search-index file 3769468684 (Microsoft's "Can't connect to Azure Linux VM through network", Ubuntu's "Error 2")
DOWN_NO_ROUTE = ["ci-info: | eth0 | False | . | . | 00:0d:3a:21:f9:ad |",
                 "ci-info: +--------+-------+-----------+-----------+-------------------+",
                 "ci-info: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!Route info failed!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"]
#: search-index file 5460416501 (a console checker's test fixture): the route command failing after an address
ADDRESS_NO_ROUTE = ["ci-info: |  eth0  | True | 192.168.10.11 | 255.255.255.0 | fa:88:88:88:48:9a |",
                    "ci-info: +--------+------+---------------+---------------+-------------------+",
                    "ci-info: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!Route info failed!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"]


def test_a_nic_without_an_address_and_no_route_at_all_is_no_lease(catalog):
    a = run_lines(catalog, [KERNEL, *DOWN_NO_ROUTE])
    assert _rules(a, "network.dhcp.no-lease") == {"cloudinit-netinfo-no-address-no-route"}
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, *ADDRESS_NO_ROUTE]))


def test_ifup_failing_on_an_address_already_there_is_no_missing_lease(catalog):
    for lines in (EXISTS, EXISTS_JOURNAL):
        a = run_lines(catalog, [KERNEL, *lines])
        assert "network.dhcp.no-lease" not in by_category(a)
        assert "ifupdown-address-or-route-exists" in _rules(a, "init.unit-failed")
        assert a.outcome != "failure"


#: public repository file in the search index (file id 56699781081): ifupdown 0.8 on Ubuntu, a Xen bridge's stanza
STATIC_MISSING = ["ifup: missing required variable: address",
                  "ifup: missing required configuration variables for interface xenbr0/inet",
                  "ifup: failed to bring up xenbr0"]


def test_a_static_stanza_without_its_address_is_a_static_configuration_missing(catalog):
    a = run_lines(catalog, [KERNEL, *STATIC_MISSING])
    assert _rules(a, "network.static-config-missing") == {"ifupdown-static-address-missing"}
    assert "network.dhcp.no-lease" not in by_category(a)  # the fallback is explained
    assert "ifupdown-failed-to-bring-up" in _rules(run_lines(catalog, [KERNEL, "Failed to bring up eth1."]))


def test_ifup_failing_alone_is_still_no_lease(catalog):
    a = run_lines(catalog, [KERNEL, "ifup[412]: ifup: failed to bring up ens3"])
    assert _rules(a, "network.dhcp.no-lease") == {"ifupdown-failed-to-bring-up"}


def test_a_datasource_failure_in_its_debug_record_is_reported(catalog):
    a = run_lines(catalog, DS_DEBUG)
    assert "cloudinit-datasource-failed" in _rules(a, "cloudinit.error")
    quiet = run_lines(catalog, ["2024-05-02 10:11:12,345 - DataSourceNoCloud.py[DEBUG]: Attempting to use data from /dev/sr0"])
    assert "cloudinit.error" not in by_category(quiet)


def test_a_service_start_timing_out_is_a_unit_failure_that_decides_nothing(catalog):
    a = run_lines(catalog, PUPPET)
    assert _rules(a, "init.unit-failed") == {"service-start-timed-out"}
    assert a.outcome == "unknown"
    assert "init.unit-failed" not in by_category(run_lines(catalog, PUPPET[:1]))


PAD = b"A" * 70000

HOSTILE = [
    ("network-scripts-failed-no-address",
     [b"[FAILED] Failed to start \x1b]0;evil\x07Raise network interfaces.", b"connect: Network is unreachable \x00\xff" + PAD]),
    ("ifupdown-address-or-route-exists",
     [b"RTNETLINK answers: File exists \x1b[2J\x00\xff" + PAD, b"ifup: failed to bring up eth0"]),
    ("cloudinit-netinfo-no-address-no-route",
     [b"ci-info: | \x1b]0;evil\x07eth0 | False | . | . | 00:0d:3a:21:f9:ad | \x00\xff" + PAD,
      b"ci-info: !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!Route info failed!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"]),
    ("ifupdown-static-address-missing",
     [b"\x1b]0;evil\x07\x1b[31mifup: missing required variable: address", b"\x1b]52;c;ZXZpbA==\x07" + PAD]),
    ("cloudinit-datasource-failed",
     [b"util.py[DEBUG]: Getting data from <class 'DataSource\x1b]52;c;ZXZpbA==\x07Evil'> failed " + PAD]),
    ("service-start-timed-out",
     [b"systemd[1]: evil\x1b[31m.service: Start operation timed out. Terminating. \x00\xff" + PAD]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[f"{c[0]}-{i}" for i, c in enumerate(HOSTILE)])
def test_hostile_bytes_in_the_round_17_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, [KERNEL.encode(), *lines])
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
