"""Round 15's provisioning, unit and root-device rules: cloud-init's stage units failing as a
provisioning error and not a second unit failure (cloudinit-unit-failed, unit-failed-to-start,
service-exited-with-error), systemd's status lines shortened in their middle or copied without
their brackets (the systemd format), the GCE guest agent failing to set up the network
(gce-agent-network-setup-failed), Ignition's config validation errors (ignition-provisioning-failed
and the end of its waits), an agent falling back to another source or asking for the network
(metadata-address-failed), and a device left in deferred probe before the root was not found
(root-disk-driver-deferred), dhclient binding a recorded lease (the dhclient format), networkd's
DHCPv4 client not starting (networkd-dhcp4-config-failed), and systemd's start job for cloud-init's
metadata stages, a bounded wait (start-job-running). Then hostile bytes in their lines.

Lines are real (public pages and repository files in the search index, named at each constant,
and the samples/ consoles) or printed from the format strings of the programs that print them,
as the rules' samples say.
"""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, assert_quoted_safely, by_category

#: samples/qemu/healthy/serial.log: the machine up
LOGIN = ["consolewatch-guest: ready", "", "debian login: "]

#: https://fedoramagazine.org/setting-up-a-vm-on-fedora-server-using-cloud-images-and-virt-install-version-3/
FINAL_FAILED = "[FAILED] Failed to start Execute cloud user/final scripts."
#: systemd src/core/show-status.c status_vprintf(): ellipsize(s, 70, 50) on an 80-column console (search-index
#: file 397887667), for "Failed to start cloud-final.service - Execute cloud user/final scripts." and cloud-init-local's
FINAL_SHORT = "[FAILED] Failed to start cloud-final.service… Execute cloud user/final scripts."
LOCAL_SHORT = "[FAILED] Failed to start cloud-init-local.se…l cloud-init job (pre-networking)."
#: https://github.com/Cray-HPE/uan-product-stream (docs/portal/developer-portal/troubleshooting/
#: Troubleshoot_UAN_Boot_Issues.md): the status tag's brackets lost
BARE_FAILED = "FAILED Failed to start Load Kernel Modules."
#: systemd src/core/service.c's "Main process exited, code=%s, status=%i/%s" for cloud-final.service
FINAL_EXITED = "systemd[1]: cloud-final.service: Main process exited, code=exited, status=1/FAILURE"

#: guest-agent google_guest_agent/addresses.go set() (search-index file 25288655933) in main.go's logFormat()
GA_IPV6 = "google_guest_agent[702]: ERROR addresses.go:301 Error configuring IPv6: exit status 1"
#: ISC DHCP common/socket.c log_fatal("no link-local IPv6 address for %s") (search-index file 989383442), dhclient -6
#: run by the agent
GA_NO_LL = "google_guest_agent[702]: no link-local IPv6 address for eth0"
#: main.go run(): logger.Infof("GCE Agent Started (version %s)")
GA_STARTED = "google_guest_agent[702]: GCE Agent Started (version 20221109.00)"
#: main.go runUpdate()'s error for the accounts manager: gce-accounts-failed's family, not the network's
GA_ACCOUNTS = "google_guest_agent[702]: ERROR main.go:95 error running &main.accountsMgr{} manager: error reading metadata"

#: https://github.com/openshift/os/issues/394: Ignition rejecting its config (before 2.0's report format)
IGN_INVALID = ["[   17.893321] ignition[886]: error at line 1, column 12409", "[   17.893321] no filesystem specified"]
#: coreos/vcontext report/report.go Entry.String() (search-index file 29065608356), Ignition 2.x at CRITICAL
IGN_INVALID_V3 = "CRITICAL : error at $.storage.files.0.contents.source, line 1 col 211: unable to parse url"
#: the same for a warning entry: the config stays valid
IGN_WARNING = ('WARNING  : warning at $.systemd.units.0.contents, line 1 col 88: unit "foo.service" has no '
               '[Install] section')
#: agent-retries.yaml's sample: systemd's start-job line for Ignition's fetch stage, no time limit
IGN_WAITING = "[  *** ] A start job is running for Ignition (fetch) (4min 2s / no limit)"

#: coreos/ignition internal/providers/azure/azure.go (search-index file 7701301793): IMDS answered with no userData
IGN_AZURE_FALLBACK = "failed to retrieve userdata from IMDS, falling back to custom data: not a config (empty)"
#: fallbacks.yaml's sample (search-index file 1257996677): cloudbase-init unable to reach the metadata service
CBI_UNREACHABLE = ("2019-09-26 16:00:15.041 4360 ERROR cloudbaseinit.metadata.services.base [-] HTTPConnectionPool("
                   "host='169.254.169.254', port=80): Max retries exceeded with url: /openstack/latest/meta_data.json")

#: drivers/base/dd.c's "deferred probe pending: %s" (as search-index file 28926587557 shows it), for a PCI device
DEFERRED = "[   10.770498] pci 0000:00:04.0: deferred probe pending: (reason unknown)"
#: the OpenZFS root-on-ZFS guide (search-index file 24358779591)
NO_POOL = "Message: cannot import 'rpool': no such pool available"
#: a KernelCI boot log (search-index file 47948502997): an audio codec left waiting on a machine that booted
DEFERRED_CODEC = "[   19.589628] i2c i2c-10EC5682:00: deferred probe pending"


def rules_of(a, category: str) -> list[str]:
    return [f.rule for f in by_category(a).get(category, [])]


def test_cloud_init_stage_units_failing_are_a_provisioning_error_not_a_second_unit_failure(catalog):
    for line in (FINAL_FAILED, FINAL_SHORT, LOCAL_SHORT, "FAILED Failed to start Execute cloud user/final scripts."):
        a = run_lines(catalog, [KERNEL, line])
        assert rules_of(a, "cloudinit.error") == ["cloudinit-unit-failed"], line
        assert "init.unit-failed" not in by_category(a), line
    assert "init.unit-failed" not in by_category(run_lines(catalog, [KERNEL, FINAL_EXITED]))
    # the boot came up without what the user data was to do: up, not as asked (neither failure nor success)
    up = run_lines(catalog, [KERNEL, FINAL_FAILED, *LOGIN])
    assert up.outcome == "unknown"
    # another unit's shortened line whose name only begins with cloud- is no cloud-init stage
    other = run_lines(catalog, [KERNEL, "[FAILED] Failed to start cloud-ramdisk.se…k for the cloud image."])
    assert "cloudinit.error" not in by_category(other)


def test_a_status_line_copied_without_its_brackets_is_still_a_unit_failure(catalog):
    a = run_lines(catalog, [KERNEL, BARE_FAILED])
    assert rules_of(a, "init.unit-failed") == ["unit-failed-to-start"]
    assert by_category(a)["init.unit-failed"][0].fields["description"] == "Load Kernel Modules"


def test_gce_agent_network_setup_failing_is_a_provisioning_error_the_boot_goes_past(catalog):
    a = run_lines(catalog, [KERNEL, GA_STARTED, GA_IPV6, GA_NO_LL])
    assert rules_of(a, "cloudinit.error") == ["gce-agent-network-setup-failed"] * 2
    assert a.outcome == "unknown"
    assert "cloudinit.error" not in by_category(run_lines(catalog, [KERNEL, GA_STARTED, GA_ACCOUNTS]))
    # dhclient -6 run by hand on a laptop, not the agent
    assert "cloudinit.error" not in by_category(run_lines(catalog, [KERNEL, "no link-local IPv6 address for wlp1s0"]))


def test_ignition_rejecting_its_config_is_its_giving_up(catalog):
    for lines in (IGN_INVALID, [IGN_INVALID_V3]):
        a = run_lines(catalog, [KERNEL, *lines])
        assert "ignition-provisioning-failed" in rules_of(a, "cloudinit.error"), lines
        assert a.outcome == "failure"
    assert "cloudinit.error" not in by_category(run_lines(catalog, [KERNEL, IGN_WARNING]))
    # systemd still showing the fetch stage's start job: the report after it ends that wait
    waited = run_lines(catalog, [KERNEL, IGN_WAITING, *IGN_INVALID])
    assert "ignition-start-job-waiting" not in rules_of(waited, "cloudinit.error")
    assert "ignition-start-job-waiting" in rules_of(run_lines(catalog, [KERNEL, IGN_WAITING]), "cloudinit.error")


def test_an_agent_falling_back_to_another_source_did_not_fail_to_reach_the_metadata(catalog):
    assert "network.metadata-unreachable" not in by_category(run_lines(catalog, [KERNEL, IGN_AZURE_FALLBACK]))
    assert "network.metadata-unreachable" in by_category(run_lines(catalog, [KERNEL, CBI_UNREACHABLE]))


def test_a_device_left_in_deferred_probe_before_the_root_went_missing_names_the_driver(catalog):
    a = run_lines(catalog, [KERNEL, DEFERRED, NO_POOL])
    assert rules_of(a, "disk.driver-missing") == ["root-disk-driver-deferred"]
    assert "disk.root-not-found" in by_category(a)   # the root's own rule decides the boot
    assert a.outcome == "failure"
    # a codec left waiting on a machine whose root was found; the root missing with nothing deferred
    assert "disk.driver-missing" not in by_category(run_lines(catalog, [KERNEL, DEFERRED_CODEC, *LOGIN]))
    assert "disk.driver-missing" not in by_category(run_lines(catalog, [KERNEL, NO_POOL]))


#: search-index file 56978795133 (a 2009 forum thread; ISC DHCP client/dhclient.c state_panic())
RECORDED = ["No DHCPOFFERS received.", "Trying recorded lease 88.207.29.163", "bound: renewal in 21607 seconds."]
#: systemd src/network/networkd-link.c / networkd-dhcp4.c (search-index files 4587270306, 2726987)
NETWORKD_NOT_STARTED = "systemd-networkd[412]: eth0: Failed to start DHCPv4 client: No such file or directory"
#: systemd src/core/manager.c's start-job status line for cloud-init's network stage and for another unit
CI_JOB = "[  *** ] A start job is running for Initial cloud-init job (metadata service crawler) (1min 2s / no limit)"
OTHER_JOB = "[   ***] (2 of 2) Job dev-mapper-var.device/start running (1min 18s / 1min 30s)"


def test_dhclient_binding_a_recorded_lease_got_the_network_up(catalog):
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, *RECORDED]))
    assert "network.dhcp.no-lease" in by_category(run_lines(catalog, [KERNEL, *RECORDED[:2]]))


def test_networkd_dhcp4_client_not_starting_leaves_the_link_without_an_address(catalog):
    a = run_lines(catalog, [KERNEL, NETWORKD_NOT_STARTED])
    assert rules_of(a, "network.dhcp.no-lease") == ["networkd-dhcp4-config-failed"]
    v6 = NETWORKD_NOT_STARTED.replace("DHCPv4", "DHCPv6")
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, [KERNEL, v6]))


def test_a_start_job_of_cloud_init_s_metadata_stage_is_no_stall_of_its_own(catalog):
    assert "boot.stall" not in by_category(run_lines(catalog, [KERNEL, CI_JOB]))
    other = run_lines(catalog, [KERNEL, OTHER_JOB])
    assert "boot.stall" in by_category(other)
    assert other.outcome == "stall"


PAD = b"A" * 70000

HOSTILE = [
    ("cloudinit-unit-failed", [b"\x1b]0;evil\x07\x00\xff[FAILED] Failed to start cloud-fina\xe2\x80\xa6 Execute cloud user/final scripts."]),
    ("unit-failed-to-start", [b"FAILED Failed to start \x1b[31mLoad\x00 Kernel\xff Modules." + PAD]),
    ("gce-agent-network-setup-failed",
     [b"google_guest_agent[702]: ERROR addresses.go:301 Error configuring IPv6: \x1b]52;c;ZXZpbA==\x07\x00\xff" + PAD]),
    ("ignition-provisioning-failed", [b"CRITICAL : error at $.storage.files.0: unable \x1b[2J\x00\xff" + PAD]),
    ("root-disk-driver-deferred",
     [b"pci 0000:00:04.0: deferred probe pending: \x1b]0;evil\x07\x00\xff" + PAD, NO_POOL.encode()]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[f"{c[0]}-{i}" for i, c in enumerate(HOSTILE)])
def test_hostile_bytes_in_the_round_15_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, [KERNEL.encode(), *lines])
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
