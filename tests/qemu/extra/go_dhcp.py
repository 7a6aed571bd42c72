#!/usr/bin/env python3
"""Capture real consoles of a Go DHCP client on the guest kit's GCE-like network.

Not part of the test run (it needs Go): it writes static cases under samples/ the way
tests/qemu/capture.py writes samples/qemu/. The client (godhcp/main.go) is built with
Debian's golang-go and golang-github-insomniacslk-dhcp-dev (CGO_ENABLED=0, GOPATH mode),
put into the initramfs next to busybox, asks the kit's dnsmasq for a lease (a /32 address,
router 10.128.0.1 and option 121, as GCE) and logs the ACK as the library summarises it.
The /init script then applies the lease the way a client that ignores option 121 does, or
the way RFC 3442 says.

    python tests/qemu/extra/go_dhcp.py            # writes samples/qemu-gce-go-dhcp-*/
    python tests/qemu/extra/go_dhcp.py --show     # boots and prints, writes nothing
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import GETTY, LOGIN_PROMPT, METADATA_URL, NET_MODULES, READY, Scenario  # noqa: E402

GET_LEASE = "ip link set eth0 up\n/bin/godhcp eth0 && . /tmp/lease.env\n"
WGET = f"wget -O /tmp/hostname {METADATA_URL} && echo {READY}"


def build_client(out: Path) -> bytes:
    env = {**os.environ, "CGO_ENABLED": "0", "GO111MODULE": "off", "GOPATH": "/usr/share/gocode",
           "GOCACHE": str(out / "gocache")}
    subprocess.run(["go", "build", "-trimpath", "-o", str(out / "godhcp"), str(HERE / "godhcp" / "main.go")],
                   check=True, env=env)
    return (out / "godhcp").read_bytes()


def scenarios(client: bytes) -> list[Scenario]:
    files = {"/bin/godhcp": (client, 0o755)}
    common = dict(append="console=ttyS0", network="gce", models_cloud="gce", timeout=50)
    return [
        Scenario(
            name="qemu-gce-go-dhcp-route-unreachable",
            title="Go DHCP client on a GCE-like network; the lease is applied without option 121",
            injected="a Go DHCP client (insomniacslk/dhcp nclient4) logs the ACK (Subnet Mask "
                     "ffffffff, Router, Classless Static Route); /init adds the /32 address and "
                     "the default route via the router with busybox ip, ignoring option 121",
            initramfs=InitramfsSpec(
                GET_LEASE + "ip addr add $IP/32 dev eth0\nip route add default via $ROUTER dev eth0\n"
                + WGET + "\nwhile :; do sleep 3600; done\n",
                modules=NET_MODULES, files=files),
            stop=[StopRule(r"wget: ", settle=1.0), StopRule(READY, settle=0.5)],
            outcome="failure",
            categories=["network.dhcp.option121-missing", "network.metadata-unreachable"],
            evidence={"network.dhcp.option121-missing": [r"RTNETLINK answers: Network is unreachable"]},
            notes="The lease dump shows the /32 mask (ffffffff) and the classless routes the "
                  "client received but never installed.", **common),
        Scenario(
            name="qemu-gce-go-dhcp-no-route-silent",
            title="Go DHCP client on a GCE-like network; route errors hidden, login prompt",
            injected="the same client and lease; /init adds the address and the default route "
                     "with errors discarded (2>/dev/null), then starts getty: nothing on the "
                     "console says the network is broken",
            initramfs=InitramfsSpec(
                GET_LEASE + "ip addr add $IP/32 dev eth0\nip route add default via $ROUTER dev eth0 "
                "2>/dev/null\n" + GETTY + "\nwhile :; do sleep 3600; done\n",
                modules=NET_MODULES, files=files),
            stop=[StopRule(r"login: ", settle=0.5)],
            outcome="failure",
            categories=["network.dhcp.option121-missing"],
            evidence={"network.dhcp.option121-missing": [r"Subnet Mask: ffffffff"]},
            notes="Only the lease dump tells: a /32 mask, and nothing after it shows a route "
                  "or the network working. The boot reaches a login prompt that nobody can "
                  "reach over the network.", **common),
        Scenario(
            name="qemu-gce-go-dhcp-routes-applied",
            title="Go DHCP client on a GCE-like network; option 121 routes applied: boots",
            injected="the same client and lease; /init installs the host route to the router, "
                     "then the default route via it (what option 121 says), prints the routes, "
                     "fetches from the metadata server and starts getty",
            initramfs=InitramfsSpec(
                GET_LEASE + "ip addr add $IP/32 dev eth0\nip route add $ROUTER dev eth0\n"
                "ip route add default via $ROUTER dev eth0\nip route\n" + WGET + " && " + GETTY
                + "\nwhile :; do sleep 3600; done\n",
                modules=NET_MODULES, files=files),
            stop=[StopRule(r"login: ", settle=0.5), StopRule(r"wget: ", settle=1.0)],
            outcome="success",
            categories=["boot.success"],
            evidence={"boot.success": [LOGIN_PROMPT]},
            notes="Negative case for the option 121 rules: the same /32 lease dump, then the "
                  "routes and a metadata fetch that works.", **common),
    ]


def fix_meta(path: Path, name: str) -> None:
    """capture.py names its cases qemu-<scenario> and itself as the source: say what ran."""
    import yaml

    meta = yaml.safe_load(path.read_text())
    meta["name"] = name
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    meta["source"] = ("produced by tests/qemu/extra/go_dhcp.py: a real Debian kernel booted under QEMU "
                      "(guest kit, GCE-like dnsmasq) running a Go DHCP client built from "
                      "tests/qemu/extra/godhcp/main.go with Debian's golang-github-insomniacslk-dhcp-dev "
                      f"({go})")
    capture._dump(path, meta)


def main(argv: list[str]) -> int:
    show = "--show" in argv
    qemu_ver = capture.qemu_version()
    with tempfile.TemporaryDirectory() as tmp:
        client = build_client(Path(tmp))
        for sc in scenarios(client):
            cap = boot.run(sc)
            if show:
                print("\n".join(cap.lines))
                continue
            where = capture.write_sample(cap, capture.REPO / "samples", qemu_ver)
            fix_meta(where / "meta.yaml", sc.name)
            print(f"ok {sc.name}: {where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
