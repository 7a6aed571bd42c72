"""The network-dhcp half of the blind QEMU scenarios: Debian's DHCP clients (ISC dhclient,
dhcpcd, systemd-networkd, busybox udhcpc with its own example script) on a GCE-like /32 lease
with option 121 (or without its router or its option 121), as they print it."""

from __future__ import annotations

from blind_model import BlindScenario
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import GETTY, IDLE, READY, UDHCPC_APPLIES_121

NET_MODULES = ["virtio_net", "virtio_pci"]
METADATA_URL = "http://169.254.169.254/computeMetadata/v1/instance/hostname"
#: after the lease: fetch from the metadata server, then the ready marker and a login prompt
FETCH_THEN_READY = (f"if wget -O /tmp/hostname {METADATA_URL}; then echo {READY}; {GETTY} fi\n"
                    + IDLE)
NET_STOP = [StopRule(r"login: ", settle=1.0), StopRule(r"wget: ", settle=1.0)]
BASE_FILES = {
    "/etc/passwd": ("root:x:0:0:root:/root:/bin/sh\n"
                    "dhcpcd:x:100:65534:DHCP Client Daemon:/usr/lib/dhcpcd:/bin/false\n"
                    "systemd-network:x:998:998:systemd Network Management:/:/bin/false\n",
                    0o644),
    "/etc/group": ("root:x:0:\nnogroup:x:65534:\nsystemd-network:x:998:\n", 0o644),
    "/etc/fstab": ("rootfs / rootfs rw 0 0\n", 0o644),
}
#: dhclient-script is a Debian /bin/sh script that needs `run-parts --list` (busybox's applet
#: lacks it, and busybox's sh prefers its applets to PATH): Debian's dash as /bin/sh and
#: Debian's run-parts, as on a Debian system
DEBIAN_SH = {"/usr/bin/dash": "/bin/sh", "/usr/bin/run-parts": "/bin/run-parts"}
DHCLIENT_FILES = ["/sbin/dhclient", "/sbin/dhclient-script", "/etc/dhcp/dhclient.conf"]


def _networkd(name: str, extra_conf: str, what: str, **annotation) -> BlindScenario:
    """systemd-networkd from this machine, run in the initramfs, on the GCE-like network."""
    return BlindScenario(
        name=name,
        title="systemd-networkd on a GCE-like /32 lease with option 121"
              + (" (UseRoutes=no)" if extra_conf else ""),
        family="network-dhcp",
        injected=what + "this machine's systemd-networkd 252 (Debian 12) run from the "
                 "initramfs with a .network file DHCP=ipv4, logging to the console (/sys "
                 "remounted read-only: there is no udev, so networkd must not wait for it, as "
                 "in a container), on dnsmasq handing out a /32 lease with router 10.128.0.1 "
                 "and option 121",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /run/systemd /var/lib/systemd\nmount -o remount,ro /sys\n"
            "SYSTEMD_LOG_TARGET=console /lib/systemd/systemd-networkd &\n"
            "sleep 10\n" + FETCH_THEN_READY,
            modules=NET_MODULES,
            files={**BASE_FILES,
                   "/etc/machine-id": ("c0501e0000004000800000000000c0de\n", 0o444),
                   "/etc/systemd/network/10-eth0.network": (
                       "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n" + extra_conf, 0o644)}),
        host_programs={"/lib/systemd/systemd-networkd": "/lib/systemd/systemd-networkd"},
        network="gce",
        stop=NET_STOP,
        timeout=50,
        **annotation,
    )


DHCLIENT = {"host_programs": DEBIAN_SH, "package_files": {"isc-dhcp-client": DHCLIENT_FILES}}
DHCPCD = {"package_files": {"dhcpcd-base": ["/usr/sbin/dhcpcd", "/etc/dhcpcd.conf",
                                            "/usr/lib/dhcpcd"]}}
#: dhclient gives up after 10 s instead of the default 60 (the package's dhclient.conf
#: asks for the usual options and sets no timeout)
DHCLIENT_10S = {**BASE_FILES, "/etc/dhcp/dhclient.conf": ("timeout 10;\n", 0o644)}


def _client(name: str, title: str, family: str, what: str, client_run: str, client: dict,
            network: str, modules=NET_MODULES, files=BASE_FILES, after: str = FETCH_THEN_READY,
            **annotation) -> BlindScenario:
    return BlindScenario(
        name=name, title=title, family=family, injected=what, append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcp /var/lib/dhcpcd /run/dhcpcd\n" + client_run + "\n" + after,
            modules=modules, files=files),
        network=network, stop=NET_STOP, timeout=50, **client, **annotation)


ROUND3_NETWORK: list[BlindScenario] = [
    _client("dhclient-no-nic", "ISC dhclient on a machine with no network device",
            "network-dhcp",
            "no NIC attached; the initramfs loads virtio_net and runs Debian's dhclient -v -1 "
            "eth0 (with its dhclient-script), then the metadata fetch",
            "dhclient -v -1 eth0", DHCLIENT, "none",
            outcome="failure", categories=["network.no-device"],
            optional=["network.metadata-unreachable"],
            evidence={"network.no-device": ["Failed to get interface index: No such device"]},
            half="study"),
    _client("dhcpcd-nic-driver-missing",
            "dhcpcd on a machine whose NIC has no driver loaded",
            "network-dhcp",
            "a virtio NIC on the GCE-like network, but the initramfs leaves out virtio_net "
            "(no driver, so no eth0); Debian's dhcpcd -4 -1 -B eth0, then the metadata fetch",
            "/usr/sbin/dhcpcd -4 -1 -B eth0", DHCPCD, "gce", modules=[],
            outcome="failure", categories=["network.no-device"],
            optional=["network.metadata-unreachable"],
            evidence={"network.no-device": ["eth0: interface not found"]}),
    _client("dhclient-no-offer", "ISC dhclient on a network whose DHCP server never answers",
            "network-dhcp",
            "a virtio NIC on a tap device in a private network namespace with no DHCP "
            "server; Debian's dhclient -v -1 eth0 with 'timeout 10;' in dhclient.conf, then "
            "the metadata fetch",
            "dhclient -v -1 eth0", DHCLIENT, "isolated", files=DHCLIENT_10S,
            outcome="failure", categories=["network.dhcp.no-lease"],
            optional=["network.metadata-unreachable"],
            evidence={"network.dhcp.no-lease": ["No DHCPOFFERS received."]}, half="study"),
    BlindScenario(
        name="dhcpcd-no-offer-ipv4ll",
        title="dhcpcd with no DHCP answer falls back to IPv4LL; the metadata fetch hangs",
        family="network-dhcp",
        injected="a virtio NIC on a tap device in a private network namespace with no DHCP "
                 "server; Debian's dhcpcd -4 -1 -t 10 -B eth0 (IPv4LL left on, as the package "
                 "ships it), then the metadata fetch; stopped 12 s into the fetch",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcpcd /run/dhcpcd\n/usr/sbin/dhcpcd -4 -1 -t 10 -B eth0\n"
            + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        **DHCPCD,
        network="isolated",
        stop=[StopRule(r"Connecting to 169\.254\.169\.254", settle=12.0)],
        timeout=55,
        outcome="stall",
        categories=["network.dhcp.no-lease"],
        optional=["boot.stall", "network.metadata-unreachable"],
        evidence={"network.dhcp.no-lease": ["eth0: soliciting a DHCP lease",
                                            "eth0: using IPv4LL address 169.254."]},
        notes="No lease: dhcpcd gives the NIC a link-local address instead, which puts "
              "169.254.169.254 on-link, so the metadata fetch waits for an answer that "
              "never comes rather than failing.",
    ),
    _client("dhclient-user-net-up", "ISC dhclient gets a lease on QEMU user networking "
            "(control case)", "healthy",
            "nothing (control case): Debian's dhclient -v -1 eth0 on QEMU's user-mode "
            "network (an ordinary /24 lease with a gateway), then a login prompt",
            "dhclient -v -1 eth0", DHCLIENT, "user",
            after=f"echo {READY}; {GETTY}\n" + IDLE,
            outcome="success", categories=["boot.success"],
            evidence={"boot.success": ["bound to 10.0.2.15", "debian login:"]}, half="study"),
]

NETWORK: list[BlindScenario] = [
    BlindScenario(
        name="dhclient-gce-lease-routes-applied",
        title="ISC dhclient on a GCE-like /32 lease with option 121, Debian's hooks in place",
        family="network-dhcp",
        injected="nothing (control case): Debian's isc-dhcp-client (dhclient -v, its "
                 "dhclient-script and the rfc3442-classless-routes exit hook) on dnsmasq "
                 "handing out a /32 lease with router 10.128.0.1 and option 121",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcp /run\ndhclient -v -1 eth0\n" + FETCH_THEN_READY,
            modules=NET_MODULES, files=BASE_FILES),
        host_programs=DEBIAN_SH,
        package_files={"isc-dhcp-client": [
            *DHCLIENT_FILES, "/etc/dhcp/dhclient-exit-hooks.d/rfc3442-classless-routes"]},
        network="gce",
        stop=NET_STOP,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["bound to 10.128.0.2"]},
    ),
    BlindScenario(
        name="dhclient-gce-lease-rfc3442-hook-missing",
        title="ISC dhclient on a GCE-like /32 lease, the classless-routes hook left out",
        family="network-dhcp",
        injected="Debian's dhclient and dhclient-script without the "
                 "rfc3442-classless-routes exit hook (a trimmed image): the script leaves "
                 "the routes to the hook when option 121 is present, so no route is "
                 "installed; then the metadata fetch",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcp /run\ndhclient -v -1 eth0\n" + FETCH_THEN_READY,
            modules=NET_MODULES, files=BASE_FILES),
        host_programs=DEBIAN_SH,
        package_files={"isc-dhcp-client": DHCLIENT_FILES},
        network="gce",
        stop=NET_STOP,
        outcome="failure",
        categories=["network.dhcp.option121-missing", "network.metadata-unreachable"],
        evidence={"network.dhcp.option121-missing": ["DHCPACK of 10.128.0.2 from 10.128.0.1"],
                  "network.metadata-unreachable": ["wget: can't connect to remote host"]},
        notes="The lease is fine; the classless static routes it carries are never applied, "
              "so nothing routes to the metadata server.",
    ),
    BlindScenario(
        name="dhcpcd-gce-lease",
        title="dhcpcd on a GCE-like /32 lease with option 121",
        family="network-dhcp",
        injected="nothing (control case): Debian's dhcpcd-base 9.4 (dhcpcd -4 -1 -B with the "
                 "package's dhcpcd.conf, which asks for classless_static_routes) on dnsmasq "
                 "handing out a /32 lease with router 10.128.0.1 and option 121",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcpcd /run/dhcpcd\n/usr/sbin/dhcpcd -4 -1 -B eth0\n" + FETCH_THEN_READY,
            modules=NET_MODULES, files=BASE_FILES),
        package_files={"dhcpcd-base": ["/usr/sbin/dhcpcd", "/etc/dhcpcd.conf",
                                       "/usr/lib/dhcpcd"]},
        network="gce",
        stop=NET_STOP,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["leased 10.128.0.2"]},
    ),
    _networkd("networkd-gce-lease", "", outcome="success", categories=["boot.success"],
              evidence={"boot.success": ["DHCPv4 address 10.128.0.2/32"]},
              what="nothing (control case): "),
    _networkd("networkd-gce-lease-routes-off", "\n[DHCPv4]\nUseRoutes=no\n",
              outcome="success", categories=["boot.success"],
              evidence={"boot.success": ["DHCPv4 address 10.128.0.2/32"]},
              what="[DHCPv4] UseRoutes=no in the .network file (the classless static routes "
                   "are not used): ",
              notes="Although the option 121 routes are not used, networkd installs the "
                    "lease's gateway itself and the metadata fetch succeeds: a /32 lease "
                    "without the classless routes applied that is nevertheless healthy."),
] + ROUND3_NETWORK


# -- round 4: leases without a router or without option 121, busybox's own udhcpc script ----

#: busybox's own udhcpc example script, as Debian's busybox-static ships it
SIMPLE_SCRIPT = "/usr/share/doc/busybox-static/examples/udhcp/simple.script"
UDHCPC_SIMPLE = {"package_files": {"busybox-static": [SIMPLE_SCRIPT]}}
UDHCPC = f"udhcpc -i eth0 -n -q -t 3 -T 2 -s {SIMPLE_SCRIPT}"

ROUND4_NETWORK: list[BlindScenario] = [
    _client("udhcpc-lease-no-router", "busybox udhcpc (its example script) on a /32 lease with "
            "no router and no option 121", "network-dhcp",
            "dnsmasq hands out a /32 lease with neither a router (option 3 suppressed) nor "
            "option 121; busybox udhcpc runs busybox's own example script simple.script "
            "(Debian's busybox-static), then the metadata fetch",
            UDHCPC, UDHCPC_SIMPLE, "gce-no-router",
            outcome="failure", categories=["network.metadata-unreachable"],
            evidence={"network.metadata-unreachable": ["wget: can't connect to remote host"]},
            notes="The lease works but routes nothing beyond the machine itself."),
    _client("udhcpc-simple-script-gce-lease", "busybox udhcpc (its example script) on a "
            "GCE-like /32 lease with option 121", "network-dhcp",
            "nothing (control case): busybox udhcpc with busybox's own example script "
            "simple.script, which ignores option 121 but adds a host route to the router "
            "for a /32 lease, on dnsmasq handing out a /32 lease with router 10.128.0.1 "
            "and option 121; then the metadata fetch",
            UDHCPC, UDHCPC_SIMPLE, "gce",
            outcome="success", categories=["boot.success"],
            evidence={"boot.success": ["Adding router 10.128.0.1", "debian login:"]},
            half="study"),
    _client("dhclient-lease-no-router", "ISC dhclient on a /32 lease with no router and no "
            "option 121", "network-dhcp",
            "dnsmasq hands out a /32 lease with neither a router nor option 121; Debian's "
            "dhclient -v -1 eth0 with its dhclient-script, then the metadata fetch",
            "dhclient -v -1 eth0", DHCLIENT, "gce-no-router",
            outcome="failure", categories=["network.metadata-unreachable"],
            evidence={"network.metadata-unreachable": ["wget: can't connect to remote host"]}),
    _client("dhcpcd-gce-lease-nooption-121", "dhcpcd told to drop option 121 on a GCE-like "
            "/32 lease", "network-dhcp",
            "Debian's dhcpcd -4 -1 -B --nooption classless_static_routes eth0 (option 121 "
            "removed from the lease before it is used) on dnsmasq handing out a /32 lease "
            "with router 10.128.0.1 and option 121; then the metadata fetch",
            "/usr/sbin/dhcpcd -4 -1 -B --nooption classless_static_routes eth0",
            DHCPCD, "gce",
            outcome="success", categories=["boot.success"],
            evidence={"boot.success": ["leased 10.128.0.2", "debian login:"]},
            notes="Without the classless routes dhcpcd sees that the router is off-link, adds "
                  "a host route to it and the default route via it: the fetch succeeds.",
            half="study"),
    _client("dhclient-gce-lease-without-121", "ISC dhclient on a /32 lease with an off-link "
            "router and no option 121", "network-dhcp",
            "dnsmasq hands out a /32 lease with router 10.128.0.1 but without option 121; "
            "Debian's dhclient -v -1 eth0 with its dhclient-script, then the metadata fetch",
            "dhclient -v -1 eth0", DHCLIENT, "gce-no-121",
            outcome="success", categories=["boot.success"],
            evidence={"boot.success": ["bound to 10.128.0.2", "debian login:"]}),
]

UDHCPC_PING = BlindScenario(
    name="udhcpc-ping-then-poweroff",
    title="A lease on a GCE-like network, a ping to the gateway and the metadata fetch, "
          "then power off (control case)",
    family="healthy",
    injected="nothing (control case): busybox udhcpc with a script that applies option 121 "
             "on dnsmasq's /32 lease, busybox ping -c 2 to the gateway, wget of the "
             "metadata server, then busybox 'poweroff -f'",
    append="console=ttyS0",
    initramfs=InitramfsSpec(
        "udhcpc -i eth0 -n -q -t 3 -T 2 -s /etc/udhcpc.script\nping -c 2 10.128.0.1\n"
        "wget -O /tmp/hostname http://169.254.169.254/computeMetadata/v1/instance/hostname"
        "\npoweroff -f\n" + IDLE, modules=NET_MODULES,
        files={**BASE_FILES, "/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
    network="gce",
    ends=("exited",),
    timeout=50,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": ["2 packets transmitted, 2 packets received, 0% packet loss",
                               "reboot: Power down"]},
    half="study",
)
