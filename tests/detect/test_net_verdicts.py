"""When a failure to get an address is not the boot's verdict (consolewatch/detect/netjudge.py), for
every client: the boot got an address anyway, or it died of something else after it (then the
DHCP failure is a warning next to the real failure); an ip= attempt whose root was then mounted
from a local disk; the metadata server out of reach as every agent says it; a NIC renamed away
from the name its configuration uses.

Lines are real: a QEMU boot with the guest kit (samples/qemu-dhcp-no-lease-then-init-missing,
tests/qemu/dhcp_retry.py), Python requests in an empty network namespace, public threads (named
at each constant), and the rule samples' own lines.
"""

from __future__ import annotations

from pathlib import Path

from consolewatch.detect.checks import run_lines
from consolewatch.detect.engine import Engine
from consolewatch.model import Line

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: klibc ipconfig giving up (https://github.com/kernelci/kernelci-core/pull/1099)
IP_NO_RESPONSE = "IP-Config: no response after 2 secs - giving up"
#: a root on NFS the kernel cannot mount (search index file id 38836297486: a blog post's console)
NFS_PANIC = "[    1.955765] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,255)"
#: a local root device missing (samples/qemu/ boots, the kernel's panic)
LOCAL_PANIC = "[    1.826033] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
#: samples/qemu/fs-error/serial.log
ROOT_MOUNTED = "[    2.450338] VFS: Mounted root (ext4 filesystem) readonly on device 259:1."
#: Python requests 2.34.2 / urllib3 2.8.0 in an empty network namespace (unshare -n)
REQUESTS_UNREACHABLE = (
    "ConnectionError: HTTPConnectionPool(host='169.254.169.254', port=80): Max retries exceeded with url: "
    "/latest/meta-data/instance-id (Caused by NewConnectionError(\"HTTPConnection(host='169.254.169.254', "
    "port=80): Failed to establish a new connection: [Errno 101] Network is unreachable\"))")
#: the guest agent stopping (GoogleCloudPlatform/guest-agent#562: not the metadata server out of reach)
AGENT_STOPPING = "Error watching metadata: context canceled"
#: a board whose Debian renamed eth0 to end0 by predictable names (search index file id 70713049089)
RENAMED = ["macb e000b000.ethernet end0: renamed from eth0", "ifup: failed to bring up eth0"]


def _serial(name: str) -> list[str]:
    return (SAMPLES / name / "serial.log").read_text(encoding="utf-8", errors="replace").splitlines()


def _by_category(analysis, prefix: str):
    return [f for f in analysis.findings() if f.category.startswith(prefix)]


def test_a_dhcp_failure_before_the_boot_died_of_something_else_is_a_warning(catalog):
    lines = _serial("qemu-dhcp-no-lease-then-init-missing")  # no lease, then /init execs a missing program
    died = run_lines(catalog, lines)
    assert died.outcome == "failure"
    assert died.boots[-1].reason.startswith("init.not-found")
    [f] = _by_category(died, "network.dhcp.no-lease")
    assert (f.rule, f.severity, f.verdict, f.demoted_from) == ("udhcpc-no-lease", "warning", "none", "error")
    # the same boot cut off right after the DHCP failure: nothing else explains its end
    cut = run_lines(catalog, lines[: next(i for i, x in enumerate(lines) if "no lease, failing" in x) + 1])
    assert cut.outcome == "failure"
    [f] = _by_category(cut, "network.dhcp.no-lease")
    assert (f.severity, f.verdict) == ("error", "failure")


def test_an_init_that_exits_for_want_of_a_lease_keeps_the_dhcp_failure_as_its_cause(catalog):
    exits = run_lines(catalog, _serial("qemu-dhcp-no-lease-init-exits"))  # udhcpc ... || exit 1
    assert exits.outcome == "failure"
    [f] = _by_category(exits, "network.dhcp.no-lease")
    assert (f.rule, f.severity, f.verdict) == ("udhcpc-no-lease", "error", "failure")


def test_a_root_on_nfs_that_cannot_mount_keeps_the_dhcp_failure_as_its_cause(catalog):
    nfs = run_lines(catalog, [IP_NO_RESPONSE, NFS_PANIC])
    [f] = _by_category(nfs, "network.dhcp.no-lease")
    assert (f.rule, f.severity, f.verdict) == ("ip-autoconfig-no-lease", "error", "failure")
    local = run_lines(catalog, [IP_NO_RESPONSE, LOCAL_PANIC])  # a local disk missing: another failure
    [f] = _by_category(local, "network.dhcp.no-lease")
    assert (f.severity, f.demoted_from) == ("warning", "error")
    assert local.outcome == "failure"


def test_an_ip_attempt_is_moot_once_the_root_is_mounted_from_a_local_disk(catalog):
    assert _by_category(run_lines(catalog, [IP_NO_RESPONSE, ROOT_MOUNTED]), "network.") == []
    no_device = "IP-Config: No network devices available"  # the kernel's pr_err (net/ipv4/ipconfig.c)
    alone = run_lines(catalog, [no_device])
    assert [f.rule for f in _by_category(alone, "network.")] == ["ip-autoconfig-no-device"]
    assert _by_category(run_lines(catalog, [no_device, ROOT_MOUNTED]), "network.") == []


def test_every_agent_saying_the_metadata_server_is_out_of_reach_is_heard(catalog):
    got = run_lines(catalog, [REQUESTS_UNREACHABLE])
    rules = {f.rule for f in _by_category(got, "network.metadata-unreachable")}
    assert rules >= {"metadata-unreachable", "metadata-no-route"}  # no route, and nothing later worked
    assert got.outcome == "failure"
    assert _by_category(run_lines(catalog, [AGENT_STOPPING]), "network.") == []
    # the same error, then the network shown working: a retry, not reported
    ping = ["PING 10.128.0.1 (10.128.0.1): 56 data bytes", "64 bytes from 10.128.0.1: seq=0 ttl=64 time=0.060 ms"]
    assert _by_category(run_lines(catalog, [REQUESTS_UNREACHABLE, *ping]), "network.") == []


def test_a_nic_renamed_away_from_its_configured_name_is_named(catalog):
    got = run_lines(catalog, RENAMED)
    [f] = _by_category(got, "network.no-device")
    assert f.rule == "interface-renamed-config-names-old"
    assert "end0" in f.remediation and "eth0" in f.remediation
    assert _by_category(run_lines(catalog, RENAMED[:1]), "network.") == []  # renamed, nothing failed


def test_hostile_bytes_around_the_lines_change_nothing(catalog):
    hostile = ["\x1b[2J\x1b]0;renamed from eth0\x07", "169.254.169.254 " + "x" * 5000 + " Network is unreachable",
               "\x00" * 64, "\udcff\udcfe"]
    lines = _serial("qemu-dhcp-no-lease-then-init-missing")
    cut = next(i for i, x in enumerate(lines) if "no lease, failing" in x) + 1
    got = run_lines(catalog, [*lines[:cut], *hostile, *lines[cut:]])
    assert got.outcome == "failure" and got.boots[-1].reason.startswith("init.not-found")
    assert {f.severity for f in _by_category(got, "network.dhcp.no-lease")} == {"warning"}


#: a GCE instance's journal (search index file id 5651897535): dhclient leasing from GCE's DHCP server
GCE_DHCLIENT = ["Oct 02 07:06:05 test-instance-2 dhclient[301]: DHCPACK of 10.128.0.4 from 169.254.169.254",
                "Oct 02 07:06:05 test-instance-2 dhclient[301]: bound to 10.128.0.4 -- renewal in 5 seconds."]
#: https://github.com/nii-cloud/dodai-deploy/issues/20
WGET_UNREACHABLE = "wget: can't connect to remote host (169.254.169.254): Network is unreachable"


def test_a_lease_from_gces_dhcp_server_then_no_route_is_option_121(catalog):
    got = run_lines(catalog, [*GCE_DHCLIENT, WGET_UNREACHABLE])
    assert "network.dhcp.option121-missing" in {f.category for f in got.findings()}
    assert got.outcome == "failure"
    assert _by_category(run_lines(catalog, GCE_DHCLIENT), "network.") == []  # a lease, nothing failing


#: a blog post's OpenRC console (search index file id 8627994268; openrc-network-service-failed's sample)
OPENRC_NET_FAILED = " * ERROR: net.eth0 failed to start"
#: samples/qemu-dhcp-second-nic-no-lease/serial.log: busybox udhcpc's lease, the guest's login prompt
LEASE = "udhcpc: lease of 10.0.2.15 obtained from 10.0.2.2, lease time 86400"
LOGIN = "debian login: "


def test_a_machine_that_comes_up_without_its_network_is_up_but_unreachable(catalog):
    # a real boot: the NIC's driver is missing from the initramfs, the login prompt comes anyway
    nic = run_lines(catalog, _serial("qemu-nic-driver-missing-then-login"))
    assert nic.outcome == "unknown"
    assert "up, not as it was asked to be" in nic.boots[-1].reason
    [f] = _by_category(nic, "network.no-device")
    assert (f.rule, f.severity, f.verdict) == ("nic-driver-module-missing", "error", "none")
    assert "boot.success" not in {g.category for g in nic.findings()}
    # another client's report, another category: the same verdict
    openrc = run_lines(catalog, [OPENRC_NET_FAILED, LOGIN])
    assert openrc.outcome == "unknown"
    assert openrc.boots[-1].reason.startswith("reached ready at line 2, but network.dhcp.no-lease")


def test_a_network_failure_is_no_verdict_once_the_machine_has_an_address(catalog):
    # another interface got its address before (netjudge's first principle), or a lease came after (superseded)
    before = run_lines(catalog, [LEASE, OPENRC_NET_FAILED, LOGIN])
    assert before.outcome == "success"
    assert [f.rule for f in _by_category(before, "network.")] == ["openrc-network-service-failed"]  # still reported
    after = run_lines(catalog, [OPENRC_NET_FAILED, LEASE, LOGIN])
    assert after.outcome == "success" and _by_category(after, "network.") == []
    # and a failure that stops the boot stays the verdict, login prompt or not (samples/qemu-dhcp-*)
    failing = run_lines(catalog, ["udhcpc: no lease, failing", LOGIN])
    assert failing.outcome == "failure"


def _console(name: str) -> list[str]:
    return (SAMPLES / name / "console.log").read_text(encoding="utf-8", errors="replace").splitlines()


def test_a_dhcp_failure_the_boot_went_on_after_decides_nothing(catalog):
    """A client that gave up, then lines of the boot going on (a program's, not the kernel's) and
    nothing else that stopped it: the capture ends before the boot does (unknown). Cut at the
    client's report, or followed only by the kernel's own messages, it is judged as it stands."""
    serial = _serial("qemu/dhcp-no-lease")
    failed = next(i for i, x in enumerate(serial) if "no lease, failing" in x) + 1
    ttylinux = _console("openstack-ttylinux-no-lease-metadata-unreachable")
    init_going_on = ttylinux[14:19]  # ttylinux's init: "startup klogd [ OK ]", "stty: /dev/console", ...
    went_on = run_lines(catalog, serial[:failed] + init_going_on)
    assert went_on.outcome == "unknown"
    [f] = _by_category(went_on, "network.dhcp.no-lease")
    assert (f.rule, f.severity, f.verdict, f.demoted_from) == ("udhcpc-no-lease", "error", "none", None)
    assert run_lines(catalog, serial[:failed] + init_going_on[:2]).outcome == "failure"  # the client's last words
    # the kernel's own later lines are not the boot going on (samples/qemu/no-network-device)
    assert run_lines(catalog, _serial("qemu/no-network-device")).outcome == "failure"
    # what stopped the boot after the failure still decides, the DHCP failure first among causes
    lease_gone = ttylinux.index("No lease, forking to background") + 1
    cut = run_lines(catalog, ttylinux[: lease_gone + 2])  # then the metadata fetch starts retrying
    assert cut.outcome == "failure"
    assert cut.boots[-1].reason.startswith("network.dhcp.no-lease")


def test_a_live_gate_still_ends_on_a_dhcp_failure_the_boot_goes_on_after(catalog):
    """Followed live, the capture has not ended: the client giving up is the boot's failure as far
    as the console shows (a `tail --until outcome` gate ends there, exit 1); only a capture that
    then ends leaves it unknown."""
    serial = _serial("qemu/dhcp-no-lease")
    failed = next(i for i, x in enumerate(serial) if "no lease, failing" in x) + 1
    ttylinux = _console("openstack-ttylinux-no-lease-metadata-unreachable")
    engine = Engine(catalog)
    for seq, text in enumerate(serial[:failed] + ttylinux[14:19], start=1):
        engine.feed(Line(seq=seq, text=text, source="console"))
    assert engine.provisional() == "failure"
