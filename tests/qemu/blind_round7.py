"""Blind QEMU scenarios of the seventh round: DHCP (the link going down mid-exchange, a DHCP
server slower than the client's patience, dhcpcd without carrier, an option 121 holding only
the gateway's host route), provisioning (a metadata server answering 500, 403 without GCE's
Metadata-Flavor header, an HTML page instead of JSON, or only after 30 s; a NoCloud seed whose
user-data is broken JSON, a seed with the wrong label, a user-data script that fails while
the boot goes on to its login) and noisy healthy boots (initcall_debug, a DHCP exchange that
needs a second DISCOVER, module and clock warnings), plus blind_round7_boot.py (firmware, loops, file systems, root devices). Annotated from the fault
injected, as the rest of the blind set.

Halves: per family (families in alphabetical order), scenarios ordered by the SHA-256 of their
case folder name (the scenario name), alternating study/holdout with the toggle carried across
families, starting with study; a boot's excerpt and screen copies stay with it."""

from __future__ import annotations

import dataclasses
import hashlib

from blind_model import LOGIN, READY_THEN_GETTY, Action, BlindScenario
from blind_network import (
    BASE_FILES,
    DHCPCD,
    FETCH_THEN_READY,
    NET_MODULES,
    NET_STOP,
    SIMPLE_SCRIPT,
    UDHCPC_SIMPLE,
)
from blind_round6 import USER_DATA_URL, _agent
from blind_round7_boot import BOOT7
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import GETTY, IDLE, READY

UDHCPC_RUN = f"mkdir -p /run\nudhcpc -i eth0 -n -q -t 3 -T 2 -s {SIMPLE_SCRIPT}\n"
NO_LEASE = "udhcpc: no lease, failing"
METADATA_JSON_URL = "http://169.254.169.254/computeMetadata/v1/?recursive=true"


def _udhcpc(name: str, title: str, what: str, family: str, run: str = UDHCPC_RUN,
            **kw) -> BlindScenario:
    """busybox udhcpc (its example script) on the GCE-like network, then the metadata fetch."""
    return BlindScenario(
        name=name, title=title, family=family, injected=what, append="console=ttyS0",
        initramfs=InitramfsSpec(run + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        **UDHCPC_SIMPLE, network="gce", stop=NET_STOP, timeout=55, **kw)


NETWORK: list[BlindScenario] = [
    _udhcpc("udhcpc-link-down-mid-dhcp",
            "The NIC's link goes down while udhcpc waits for an offer: no lease",
            "dnsmasq answers after 4 s (--dhcp-reply-delay=4); half a second after udhcpc's "
            "first DISCOVER the link is set down from the QEMU monitor (set_link n0 off: a "
            "cable pulled, a host's switch port flapping), so the offer never arrives; "
            "busybox udhcpc -t 3 -T 2 with busybox's example script, then the metadata fetch",
            "network-dhcp",
            dnsmasq_args=["--dhcp-reply-delay=4"],
            actions=[Action(r"udhcpc: broadcasting discover", hmp="set_link n0 off", delay=0.5)],
            excerpt=60, excerpt_head=True, excerpt_outcome="unknown",
            outcome="failure", categories=["network.dhcp.no-lease"],
            optional=["network.metadata-unreachable"],
            evidence={"network.dhcp.no-lease": [NO_LEASE]},
            excerpt_evidence={},
            notes="The excerpt is the first 60 lines (a capture cut short during the kernel's "
                  "start): nothing wrong shows yet, so it is [] with outcome unknown."),
    _udhcpc("udhcpc-dhcp-server-too-slow",
            "The DHCP server answers after 10 s; udhcpc gives up after 3 tries of 2 s",
            "dnsmasq delays every answer by 10 s (--dhcp-reply-delay=10: an overloaded relay); "
            "busybox udhcpc -t 3 -T 2 -n gives up before the first offer; then the metadata "
            "fetch", "network-dhcp",
            dnsmasq_args=["--dhcp-reply-delay=10"],
            outcome="failure", categories=["network.dhcp.no-lease"],
            optional=["network.metadata-unreachable"],
            evidence={"network.dhcp.no-lease": [NO_LEASE]}),
    BlindScenario(
        name="dhcpcd-no-carrier",
        title="dhcpcd on a NIC whose link is down from the start: waits for carrier for ever",
        family="network-dhcp",
        injected="the NIC's link is set down from the QEMU monitor (set_link n0 off) as init "
                 "starts (an unplugged cable); Debian's dhcpcd -4 -1 -t 10 -B eth0, then the "
                 "metadata fetch; stopped 20 s after 'waiting for carrier'",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "sleep 1\nmkdir -p /var/lib/dhcpcd /run/dhcpcd\n/usr/sbin/dhcpcd -4 -1 -t 10 -B eth0\n"
            + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        **DHCPCD, network="gce",
        actions=[Action(r"Run /init as init process", hmp="set_link n0 off")],
        stop=[StopRule(r"waiting for carrier", settle=20.0)], timeout=55,
        outcome="stall", categories=["network.dhcp.no-lease"], optional=["boot.stall"],
        evidence={"network.dhcp.no-lease": ["eth0: waiting for carrier"]},
        notes="dhcpcd's -t 10 does not start while it waits for carrier (found at the first "
              "boot, not planned): it waits for ever; stopped 20 s into the wait."),
    BlindScenario(
        name="dhcpcd-option121-host-route-only",
        title="Option 121 carries only the gateway's host route: dhcpcd ignores the router, "
              "no default route",
        family="network-dhcp",
        injected="dnsmasq hands out a /32 lease with router 10.128.0.1 and an option 121 that "
                 "holds only 10.128.0.1/32 (the default route left out of a hand-written "
                 "classless-static-route); RFC 3442 tells clients to ignore the router option "
                 "when option 121 is present, so Debian's dhcpcd -4 -1 -B eth0 installs no "
                 "default route; then the metadata fetch",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcpcd /run/dhcpcd\n/usr/sbin/dhcpcd -4 -1 -B eth0\n"
            + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        **DHCPCD, network="gce-no-121",
        dnsmasq_args=["--dhcp-option-force=option:classless-static-route,10.128.0.1/32,0.0.0.0"],
        stop=NET_STOP, timeout=55,
        outcome="failure", categories=["network.metadata-unreachable"],
        evidence={"network.metadata-unreachable": ["wget: can't connect to remote host"]},
        notes="The lease is fine; its option 121 routes only the gateway, so nothing beyond "
              "it is reachable."),
]


def _metadata(name: str, title: str, what: str, mode: str, agent: str, evidence: dict,
              categories=("network.metadata-unreachable",),
              optional=("cloudinit.error",), **kw) -> BlindScenario:
    sc = _agent(name, title, what + "; the provisioning agent (busybox wget unless said) "
                "stops when its fetch fails", agent, metadata=mode, outcome="failure",
                categories=list(categories), optional=list(optional), evidence=evidence)
    return dataclasses.replace(sc, **{"stop": NET_STOP, **kw})


def _seed(name: str, title: str, what: str, data: str, agent: str, evidence: dict,
          **kw) -> BlindScenario:
    return BlindScenario(
        name=name, title=title, family="provisioning",
        injected=what + "; the agent stops when that fails",
        append="console=ttyS0",
        initramfs=InitramfsSpec("mkdir -p /seed /run/cloud\n" + agent
                                + f"then {READY_THEN_GETTY}fi\n" + IDLE,
                                modules=["virtio_blk", "virtio_pci"]),
        data=data, outcome="failure", categories=["cloudinit.error"], evidence=evidence, **kw)


IF_FETCH = "if wget -O /run/user-data {url}; then echo {ready}; {getty} fi\n"
PROVISIONING: list[BlindScenario] = [
    _metadata("metadata-500-user-data",
              "The metadata server answers 500 Internal Server Error for the user-data",
              "a working GCE-like lease (udhcpc applying option 121); the metadata server "
              "answers every request 500", "error",
              IF_FETCH.format(url=USER_DATA_URL, ready=READY, getty=GETTY) + IDLE,
              {"network.metadata-unreachable": ["wget: server returned error: HTTP/1.0 500"]}),
    _metadata("metadata-403-no-flavor-header",
              "The agent omits the Metadata-Flavor header: the metadata server answers 403",
              "a working GCE-like lease; the metadata server answers 403 Forbidden to requests "
              "without 'Metadata-Flavor: Google' (as GCE's does), and the agent's busybox wget "
              "sends none (an agent ported from another cloud)", "forbidden",
              IF_FETCH.format(url=USER_DATA_URL, ready=READY, getty=GETTY) + IDLE,
              {"network.metadata-unreachable": ["wget: server returned error: HTTP/1.0 403"]}),
    _metadata("metadata-html-instead-of-json",
              "The metadata request returns an HTML sign-in page: the agent's JSON parse fails",
              "a working GCE-like lease; the metadata address answers 200 with an HTML page "
              "(a transparent proxy's sign-in page) instead of the instance JSON; the agent "
              "fetches ?recursive=true with the header and parses it with this machine's jq",
              "garbage",
              f"wget -q -O /run/md.json --header 'Metadata-Flavor: Google' '{METADATA_JSON_URL}'\n"
              f"if /usr/bin/jq -e -r .instance.hostname /run/md.json; then echo {READY}; {GETTY} fi\n"
              + IDLE,
              {"cloudinit.error": ["parse error"]},
              categories=("cloudinit.error",), optional=(),
              host_programs={"/usr/bin/jq": "/usr/bin/jq"},
              stop=[StopRule(r"parse error", settle=3.0), StopRule(r"login: ", settle=1.0)]),
    _metadata("metadata-slow-curl-timeout",
              "The metadata server answers only after 30 s: the agent's curl (--max-time 5) "
              "times out",
              "a working GCE-like lease; the metadata server answers each request 30 s late; "
              "the agent is this machine's curl -sS with --max-time 5 --retry 2; stopped 2 s "
              "after curl's first error line", "slow",
              "if /usr/bin/curl -sS --max-time 5 --retry 2 -H 'Metadata-Flavor: Google' -o /run/user-data "
              f"{USER_DATA_URL}; then echo {READY}; {GETTY} fi\n" + IDLE,
              {"network.metadata-unreachable": ["curl: (28) Operation timed out"]},
              host_programs={"/usr/bin/curl": "/usr/bin/curl"}, timeout=60,
              stop=[StopRule(r"curl: \(28\)", settle=2.0), StopRule(r"login: ", settle=1.0)]),
    _seed("nocloud-user-data-broken-json",
          "The seed's user-data (JSON) lacks a comma: the agent cannot parse it",
          "a NoCloud-style seed disk (virtio, vda: ext4 labelled cidata) with meta-data and a "
          "JSON user-data missing the comma after its users array; the agent mounts it "
          "read-only and validates the user-data with this machine's jq", "seed-config-broken-json",
          "mount -t ext4 -o ro /dev/vda /seed\nif /usr/bin/jq . /seed/user-data > /run/cloud/config.json; ",
          {"cloudinit.error": ["parse error"]},
          host_programs={"/usr/bin/jq": "/usr/bin/jq"},
          stop=[StopRule(r"parse error", settle=3.0), StopRule(r"login: ", settle=1.0)]),
    _seed("nocloud-seed-wrong-label",
          "The seed disk is labelled config-2, the agent looks for cidata: no datasource",
          "a complete NoCloud seed (meta-data, user-data) on a disk (virtio, vda) whose ext4 "
          "is labelled config-2 (an OpenStack config-drive label) instead of cidata; the agent "
          "mounts LABEL=cidata read-only", "seed-wrong-label",
          "if mount -t ext4 -o ro LABEL=cidata /seed && cp /seed/meta-data /seed/user-data "
          "/run/cloud/; ",
          {"cloudinit.error": ["LABEL=cidata"]},
          stop=[StopRule(r"mount: ", settle=3.0), StopRule(r"login: ", settle=1.0)]),
]

# recorded after the first batch (the split is by name, so the order does not matter)
PROVISIONING.append(BlindScenario(
    name="user-data-script-fails-then-login",
    title="The user-data script fails (apt-get not found); the agent logs it and the boot "
          "goes on to login",
    family="provisioning",
    injected="a NoCloud-style seed disk (virtio, vda: ext4 labelled cidata) whose user-data is "
             "a shell script (set -e) installing a package with apt-get, which this image "
             "lacks; the agent mounts the seed read-only and runs the script with sh (as "
             "runcmd/scripts-user do); the script's failure does not stop init, which offers a "
             "login",
    append="console=ttyS0",
    initramfs=InitramfsSpec("mkdir -p /seed\nmount -t ext4 -o ro /dev/vda /seed\n"
                            "sh /seed/user-data\n" + READY_THEN_GETTY + IDLE,
                            modules=["virtio_blk", "virtio_pci"]),
    data="seed-user-script", stop=LOGIN,
    outcome="success", categories=["boot.success", "cloudinit.error"],
    evidence={"cloudinit.error": ["apt-get: not found"], "boot.success": ["debian login:"]},
    notes="The machine is up but its provisioning failed (cloudinit.error next to "
          "boot.success, as a failed data mount beside a login is)."))

CURL = {"/usr/bin/curl": "/usr/bin/curl"}
PROVISIONING += [
    _metadata("metadata-404-curl-fail",
              "The instance has no user-data: the agent's curl -f fails on the 404",
              "a working GCE-like lease; the metadata server serves the hostname but no "
              "attributes/user-data; the agent is this machine's curl -fsS with the header",
              "up",
              "if /usr/bin/curl -fsS -H 'Metadata-Flavor: Google' -o /run/user-data "
              f"{USER_DATA_URL}; then echo {READY}; {GETTY} fi\n" + IDLE,
              {"cloudinit.error": ["The requested URL returned error: 404"]},
              categories=("cloudinit.error",), optional=(), host_programs=CURL,
              stop=[StopRule(r"curl: \(", settle=2.0), StopRule(r"login: ", settle=1.0)],
              notes="User-data missing is cloudinit.error (round 6's convention)."),
    _metadata("metadata-name-curl-no-resolver",
              "The agent's curl asks for metadata.google.internal and the image has no "
              "resolver configuration",
              "a working GCE-like lease (udhcpc with a script that writes no "
              "/etc/resolv.conf); the agent is this machine's curl -fsS asking for the "
              "metadata server by name", "up",
              "if /usr/bin/curl -fsS -H 'Metadata-Flavor: Google' -o /run/hostname "
              "http://metadata.google.internal/computeMetadata/v1/instance/hostname; then "
              f"echo {READY}; {GETTY} fi\n" + IDLE,
              {"network.metadata-unreachable": ["Could not resolve host: metadata.google.internal"]},
              host_programs=CURL,
              stop=[StopRule(r"curl: \(", settle=2.0), StopRule(r"login: ", settle=1.0)]),
]

HEALTHY: list[BlindScenario] = [
    BlindScenario(
        name="initcall-debug-noisy-login",
        title="A boot with initcall_debug: thousands of initcall lines, some returning errors, "
              "then the login prompt",
        family="healthy",
        injected="nothing wrong (control case): initcall_debug ignore_loglevel on the command "
                 "line (left from a boot-time investigation), so every initcall is logged with "
                 "its return value (-19 for hardware this machine lacks); init offers a login",
        append="console=ttyS0 initcall_debug ignore_loglevel",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        stop=LOGIN, timeout=60, excerpt=30,
        outcome="success", categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
        excerpt_evidence={"boot.success": ["debian login:"]},
        notes="The excerpt is the last 30 lines (a capture starting mid-boot): the login "
              "prompt among initcall lines."),
    _udhcpc("udhcpc-second-discover-lease",
            "The DHCP server answers the first DISCOVER late: a second one, then a lease",
            "nothing wrong (control case): dnsmasq answers after 3 s (--dhcp-reply-delay=3), "
            "so busybox udhcpc (-t 5 -T 2) sends a second DISCOVER before the offer arrives, "
            "then takes the lease; the metadata fetch works and init offers a login",
            "healthy",
            run=f"mkdir -p /run\nudhcpc -i eth0 -n -q -t 5 -T 2 -s {SIMPLE_SCRIPT}\n",
            dnsmasq_args=["--dhcp-reply-delay=3"],
            outcome="success", categories=["boot.success"],
            evidence={"boot.success": ["debian login:"]}),
    BlindScenario(
        name="module-and-clock-warnings-login",
        title="Init's module loads and clock set fail harmlessly; the boot reaches login",
        family="healthy",
        injected="nothing wrong with the machine (control case): init asks for modules the "
                 "image does not ship (floppy, pcspkr, as a generic image's module list "
                 "does) and sets the clock from /dev/rtc0 with busybox hwclock before the "
                 "device node exists, then offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec("modprobe floppy\nmodprobe pcspkr\nhwclock -s -f /dev/rtc9\n"
                                + READY_THEN_GETTY + IDLE),
        stop=LOGIN,
        outcome="success", categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
        notes="The warnings did not stop anything."),
]

ROUND7: list[BlindScenario] = NETWORK + PROVISIONING + HEALTHY + BOOT7


def _split(scenarios: list[BlindScenario]) -> None:
    toggle = 0
    for family in sorted({sc.family for sc in scenarios}):
        ordered = sorted((sc for sc in scenarios if sc.family == family),
                         key=lambda sc: hashlib.sha256(sc.name.encode()).hexdigest())
        for sc in ordered:
            sc.half = ("study", "holdout")[toggle % 2]
            toggle += 1


_split(ROUND7)
