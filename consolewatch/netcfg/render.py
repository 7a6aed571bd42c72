"""A `NetConfig` as the files and arguments guests read: pure functions, text out.

* `interfaces(cfg)`: Debian ifupdown's `/etc/network/interfaces` (busybox `ifup` reads it too).
  Static families get `address`/`netmask`/`gateway`; routes the guest must install itself (GCE's
  option 121 routes, a gateway outside the subnet) become `up ip route replace ...` lines, in
  order, so a DHCP client that ignores option 121 still ends up with them.
* `netplan(cfg)`: netplan YAML (version 2), routes with `scope: link` for on-link ones.
* `cmdline(cfg)`: the kernel's `ip=` argument (Documentation/admin-guide/nfs/nfsroot.rst:
  `ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>`) for the first
  interface's IPv4, with notes on what it cannot say. The kernel reads it only when built with
  CONFIG_IP_PNP; initramfs-tools (klibc ipconfig) and dracut read it in userspace.
* `document(cfg)`: the `consolewatch.netcfg/1` JSON document.

Every value written comes from `ipaddress` objects or validated names (addressing.py): API
text never reaches these outputs, so nothing can add a line or a YAML key.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import yaml

from consolewatch.netcfg.addressing import Addressing, Interface, NetConfig, Route

SCHEMA = "consolewatch.netcfg/1"
CLOUD_NAMES = {"do": "DigitalOcean", "gce": "GCE", "aws": "AWS", "openstack": "OpenStack"}


def routes(a: Addressing) -> tuple[Route, ...]:
    """The routes to install after the address: the plan's own, else the host route to a
    gateway outside the subnet and the default route via it."""
    if a.routes or a.gateway is None or a.gateway_on_link or a.interface is None:
        return a.routes
    host = ipaddress.ip_network(f"{a.gateway}/{a.gateway.max_prefixlen}")
    default = ipaddress.ip_network("0.0.0.0/0" if a.gateway.version == 4 else "::/0")
    return (Route(host), Route(default, a.gateway))


def _lease(cloud: str, iface: Interface) -> list[str]:
    """What the cloud's DHCP server will hand out, as comment lines."""
    a = iface.ipv4
    if iface.method != "dhcp" or a is None or a.address is None:
        return []
    said = f"{a.address}/{a.prefix}" if a.prefix is not None else str(a.address)
    text = f"# {CLOUD_NAMES.get(cloud, cloud)}'s DHCP server leases {iface.name} {said}"
    if a.gateway is not None:
        text += f", router {a.gateway}"
    out = [text]
    if a.routes:
        out.append("# and classless static routes (option 121): " + "; ".join(
            f"{r.destination} via {r.via or '0.0.0.0 (on-link)'}" for r in a.routes))
    return out


def interfaces(cfg: NetConfig) -> str:
    out: list[str] = []
    for iface in cfg.interfaces:
        out += _lease(cfg.cloud, iface)
        out.append(f"auto {iface.name}")
        for family, a in (("inet", iface.ipv4), ("inet6", iface.ipv6)):
            if a is None or (family == "inet6" and iface.method == "dhcp"):
                continue
            if iface.method == "dhcp":
                out.append(f"iface {iface.name} inet dhcp")
            else:
                mask = a.interface.netmask if family == "inet" else a.prefix
                out += [f"iface {iface.name} {family} static", f"    address {a.address}", f"    netmask {mask}"]
                if a.gateway_on_link and not a.routes:
                    out.append(f"    gateway {a.gateway}")
            ip = "ip -6" if family == "inet6" else "ip"
            out += [f"    up {ip} route replace {_ip_route(r)} dev {iface.name}" for r in routes(a)]
    return "\n".join(out)


def _ip_route(r: Route) -> str:
    dest = "default" if r.destination.prefixlen == 0 else str(r.destination)
    return f"{dest} via {r.via}" if r.via is not None else dest


def netplan(cfg: NetConfig) -> str:
    ethernets: dict[str, Any] = {}
    for iface in cfg.interfaces:
        entry: dict[str, Any] = {}
        families = [a for a in (iface.ipv4, iface.ipv6) if a is not None]
        if iface.method == "dhcp":
            entry["dhcp4"] = True
        else:
            entry["addresses"] = [str(a.interface) for a in families]
        found = []
        for a in families:
            if iface.method == "static" and a.gateway_on_link and not a.routes:
                found.append({"to": "default", "via": str(a.gateway)})
            for r in routes(a):
                dest = "default" if r.destination.prefixlen == 0 else str(r.destination)
                found.append({"to": dest, "via": str(r.via)} if r.via is not None else {"to": dest, "scope": "link"})
        if found:
            entry["routes"] = found
        ethernets[iface.name] = entry
    doc = {"network": {"version": 2, "ethernets": ethernets}}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).rstrip("\n")


def cmdline(cfg: NetConfig) -> tuple[str, list[str]]:
    """The `ip=` argument, and notes on what it leaves out."""
    notes: list[str] = []
    iface = cfg.interfaces[0]
    a = iface.ipv4 or Addressing()
    host = cfg.hostname or ""
    if len(cfg.interfaces) > 1 or iface.ipv6 is not None:
        notes.append(f"ip= configures one interface's IPv4: only {iface.name}'s is given")
    if iface.method == "dhcp":
        arg = f"ip=::::{host}:{iface.name}:dhcp"
        if routes(a):
            notes.append("the kernel's DHCP client applies no classless static routes (option 121) and refuses a "
                         "gateway outside the leased subnet (\"IP-Config: Gateway not on directly connected "
                         "network\"): install the routes from userspace (--format interfaces)")
        return arg, notes
    gateway = a.gateway if a.gateway_on_link and not a.routes else None
    if a.gateway is not None and gateway is None:
        notes.append(f"the gateway {a.gateway} lies outside {a.interface.network}: the kernel's ip= refuses it "
                     "(\"IP-Config: Gateway not on directly connected network\"), so it is left out; install "
                     "the routes from userspace (--format interfaces)")
    return f"ip={a.address}::{gateway or ''}:{a.interface.netmask}:{host}:{iface.name}:off", notes


def _family(a: Addressing | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "address": str(a.address) if a.address is not None else None,
        "prefix": a.prefix,
        "netmask": str(a.interface.netmask) if a.interface is not None else None,
        "gateway": str(a.gateway) if a.gateway is not None else None,
        "routes": [{"to": str(r.destination), "via": str(r.via) if r.via is not None else None} for r in routes(a)],
    }


def document(cfg: NetConfig, target: str) -> dict[str, Any]:
    arg, arg_notes = cmdline(cfg)
    return {
        "schema": SCHEMA, "target": target, "cloud": cfg.cloud, "hypervisor": cfg.hypervisor,
        "hostname": cfg.hostname, "root_device": cfg.root_device,
        "interfaces": [{"name": i.name, "method": i.method, "ipv4": _family(i.ipv4), "ipv6": _family(i.ipv6)}
                       for i in cfg.interfaces],
        "interfaces_file": interfaces(cfg) + "\n", "netplan": netplan(cfg) + "\n", "cmdline": arg,
        "notes": [*cfg.notes, *arg_notes],
    }
