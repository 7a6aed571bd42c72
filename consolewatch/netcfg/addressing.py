"""The addressing a cloud gives an instance, from what its API said: a pure function.

`plan(ctx)` takes the `MachineContext` a fetcher built from the cloud's API and returns a
`NetConfig` (frozen): per interface the method (`static` or `dhcp`), the address with its
prefix, the gateway and the routes to install in order. Nothing here does I/O; every address
is parsed with `ipaddress` and anything that does not parse is left out with a note, so API
text never reaches a configuration file unchecked.

What each cloud assigns (and what the fetchers' contexts hold):

* DigitalOcean (`do`): static. The droplet's networks (API v2): public IPv4 with netmask and
  gateway and public IPv6 with prefix and gateway on eth0, the private IPv4 (no gateway) on
  eth1: the interface names DigitalOcean's own images use.
* GCE (`gce`): DHCP. The lease is the instance's internal IP (`network_ip`) as a /32, and
  DHCP option 121 carries the routes the guest must install in order: the gateway (the
  subnetwork's `gatewayAddress`) on-link, then the default route via it (RFC 3442; field
  notes: monogon#89's lease dump).
* AWS (`aws`): DHCP. The lease is the primary private IPv4 (`private_ipv4`) with the
  subnet's prefix (`subnet_cidr`, from DescribeSubnets); the gateway is the subnet's base
  address + 1, which AWS reserves for the VPC router.
* OpenStack (`openstack`): DHCP (Neutron). The lease is each network's fixed IPv4 address
  (`fixed_ipv4s`, from Nova's server `addresses`); the prefix and gateway are Neutron's subnet's,
  which are not asked.
* Anything else: DHCP, with nothing known about the lease.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass
from typing import Mapping, Union

from consolewatch.model import MachineContext

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


class NetcfgError(ValueError):
    """The addressing cannot be given as asked (one line for the user)."""


@dataclass(frozen=True, slots=True)
class Route:
    destination: IPNetwork
    via: IPAddress | None = None
    """None: on-link (the destination is reached on the interface itself, RFC 3442's 0.0.0.0)."""


@dataclass(frozen=True, slots=True)
class Addressing:
    """One address family of one interface."""

    address: IPAddress | None = None
    """For DHCP: the address the server will hand out, when the API says it."""
    prefix: int | None = None
    gateway: IPAddress | None = None
    routes: tuple[Route, ...] = ()
    """Installed in this order after the address (GCE: the gateway on-link, then the default)."""

    @property
    def interface(self) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
        if self.address is None or self.prefix is None:
            return None
        return ipaddress.ip_interface(f"{self.address}/{self.prefix}")

    @property
    def gateway_on_link(self) -> bool:
        """The gateway lies inside the address's own network (a plain `gateway` line works)."""
        iface = self.interface
        return self.gateway is not None and iface is not None and self.gateway in iface.network


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    method: str
    """"static" or "dhcp"."""
    ipv4: Addressing | None = None
    ipv6: Addressing | None = None


@dataclass(frozen=True, slots=True)
class NetConfig:
    cloud: str
    hypervisor: str
    hostname: str | None
    interfaces: tuple[Interface, ...]
    root_device: str
    """The boot disk's first partition as the guest's kernel names it (GRUB's root=)."""
    notes: tuple[str, ...] = ()
    """What is not known, or what a format cannot express."""


# -- reading the cloud's facts ----------------------------------------------------------------

def _ip(value: str | None, version: int | None = None) -> IPAddress | None:
    try:
        addr = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    return addr if version is None or addr.version == version else None


def _prefix(value: str | None, version: int) -> int | None:
    """A prefix length from "24", "/24" or a dotted netmask ("255.255.255.0")."""
    text = (value or "").strip().lstrip("/")
    try:
        net = ipaddress.ip_network(f"{'0.0.0.0' if version == 4 else '::'}/{text}")
    except ValueError:
        return None
    return net.prefixlen


def _static(f: Mapping[str, str], key: str, version: int, notes: list[str]) -> Addressing | None:
    """DigitalOcean's `public_ipv4` / `_prefix` / `_gateway` fields as one family."""
    if not f.get(key):
        return None
    addr, prefix = _ip(f.get(key), version), _prefix(f.get(f"{key}_prefix") or f.get(f"{key}_netmask"), version)
    if addr is None or prefix is None:
        notes.append(f"{key}: the API's address or netmask is not one; left out")
        return None
    return Addressing(addr, prefix, _ip(f.get(f"{key}_gateway"), version))


def _digitalocean(f: Mapping[str, str], notes: list[str]) -> list[Interface]:
    out = []
    eth0 = Interface("eth0", "static", _static(f, "public_ipv4", 4, notes), _static(f, "public_ipv6", 6, notes))
    eth1 = Interface("eth1", "static", _static(f, "private_ipv4", 4, notes))
    for iface in (eth0, eth1):
        if iface.ipv4 or iface.ipv6:
            out.append(iface)
    if not out:
        notes.append("the droplet's networks list no usable address: plain DHCP")
        return [Interface("eth0", "dhcp", Addressing())]
    return out


def _gce(f: Mapping[str, str], notes: list[str]) -> list[Interface]:
    addr = _ip(f.get("network_ip"), 4)
    gateway = _ip(f.get("gateway_ipv4"), 4)
    if addr is None:
        notes.append("instances.get gave no internal IP for nic0: plain DHCP")
        return [Interface("eth0", "dhcp", Addressing())]
    routes: tuple[Route, ...] = ()
    if gateway is not None:
        routes = (Route(ipaddress.ip_network(f"{gateway}/32")), Route(ipaddress.ip_network("0.0.0.0/0"), gateway))
    else:
        notes.append("the subnetwork's gateway is unknown (subnetworks.get failed or was refused): GCE's is "
                     "the subnet's first address; install it on-link, then the default route via it")
    out = [Interface("eth0", "dhcp", Addressing(addr, 32, gateway, routes))]
    for n, other in enumerate(f.get("network_ips", "").split(",")[1:], start=1):
        if (extra := _ip(other, 4)) is not None:
            out.append(Interface(f"eth{n}", "dhcp", Addressing(extra, 32)))
    if len(out) > 1:
        notes.append("only nic0's gateway is looked up: the other interfaces' routes come from their DHCP leases")
    return out


def _aws(f: Mapping[str, str], notes: list[str]) -> list[Interface]:
    addr = _ip(f.get("private_ipv4"), 4)
    try:
        subnet = ipaddress.ip_network(f.get("subnet_cidr", "").strip())
    except ValueError:
        subnet = None
    if addr is None:
        notes.append("DescribeInstances gave no private IPv4 address: plain DHCP")
        return [Interface("eth0", "dhcp", Addressing())]
    if subnet is None or subnet.version != 4 or addr not in subnet:
        notes.append("the subnet's CIDR block is unknown (DescribeSubnets failed or was refused): "
                     "the netmask and the gateway (the subnet's base address + 1) are not given")
        return [Interface("eth0", "dhcp", Addressing(addr))]
    return [Interface("eth0", "dhcp", Addressing(addr, subnet.prefixlen, subnet.network_address + 1))]


def _openstack(f: Mapping[str, str], notes: list[str]) -> list[Interface]:
    addrs = [a for a in (_ip(x, 4) for x in f.get("fixed_ipv4s", "").split(",")) if a is not None]
    if not addrs:
        notes.append("Nova lists no fixed IPv4 address for the server: plain DHCP")
        return [Interface("eth0", "dhcp", Addressing())]
    notes.append("the prefix and gateway of each network are Neutron's (not asked): they come with the "
                 "DHCP lease, or from the config drive's network_data.json")
    if len(addrs) > 1:
        notes.append("interfaces are named in the order Nova lists the server's networks, which need not be "
                     "the order of its NICs")
    return [Interface(f"eth{n}", "dhcp", Addressing(a)) for n, a in enumerate(addrs)]


_CLOUDS = {"do": _digitalocean, "gce": _gce, "aws": _aws, "openstack": _openstack}


def root_device(cloud: str, hypervisor: str, fields: Mapping[str, str]) -> str:
    """The first partition of the boot disk as the guest's kernel names it."""
    if cloud == "gce":
        disk = "nvme0n1" if fields.get("root_device", "").endswith("nvme0n1") else "sda"
    elif cloud == "aws":
        disk = "xvda" if hypervisor == "xen" else "nvme0n1"
    elif cloud == "openstack":
        disk = "xvda" if hypervisor == "xen" else "vda"
    else:
        disk = "vda"
    return f"/dev/{disk}{'p1' if disk[-1].isdigit() else '1'}"


def _hostname(cloud: str, f: Mapping[str, str], notes: list[str]) -> str | None:
    name = {"do": f.get("name"), "gce": f.get("instance"), "openstack": f.get("server_name")}.get(cloud)
    if not name:
        return None
    if not _HOSTNAME.match(name):
        notes.append("the machine's name is not a valid host name (RFC 1123); left out")
        return None
    return name


def plan(ctx: MachineContext, *, interface: str | None = None, static: bool = False) -> NetConfig:
    """The addressing `ctx`'s cloud assigned. `interface` renames the first interface;
    `static` writes a DHCP lease that is known in full as static configuration (for guests
    without a DHCP client)."""
    f = ctx.fields
    notes: list[str] = []
    build = _CLOUDS.get(ctx.cloud)
    if build is None:
        notes.append(f"consolewatch does not know what {ctx.cloud} assigns: plain DHCP")
        interfaces = [Interface("eth0", "dhcp", Addressing())]
    else:
        interfaces = build(f, notes)
    if interface is not None:
        if not _IFNAME.match(interface):
            raise NetcfgError(f"{interface!r} is not an interface name (1-15 letters, digits, _ . -)")
        interfaces[0] = dataclasses.replace(interfaces[0], name=interface)
    if static:
        interfaces = [_as_static(i) for i in interfaces]
    if ctx.cloud == "openstack" and ctx.hypervisor not in ("xen", "kvm"):
        notes.append("the hypervisor is not visible to this account (admin-only): the boot disk is taken to "
                     "be KVM's vda; a Xen cloud (Rackspace) names it xvda")
    return NetConfig(ctx.cloud, ctx.hypervisor, _hostname(ctx.cloud, f, notes), tuple(interfaces),
                     root_device(ctx.cloud, ctx.hypervisor, f), tuple(notes))


def _as_static(iface: Interface) -> Interface:
    if iface.method == "static":
        return iface
    v4 = iface.ipv4
    if v4 is None or v4.interface is None:
        raise NetcfgError(f"{iface.name}: the address and netmask this instance will be leased are not known, "
                          "so they cannot be written as static configuration: use DHCP")
    return dataclasses.replace(iface, method="static")


# -- as context fields, for detectors and remediation texts ------------------------------------

def assigned_fields(cfg: NetConfig) -> dict[str, str]:
    """The primary interface's addressing under names shared by every cloud (`ipv4_address`,
    `ipv4_prefix`, `ipv4_netmask`, `ipv4_gateway`, `ipv6_*`), and `ipv4_addresses`: every
    IPv4 address assigned to the machine (space-separated)."""
    out: dict[str, str] = {}
    for family in ("ipv4", "ipv6"):
        known = [(i, getattr(i, family)) for i in cfg.interfaces
                 if getattr(i, family) is not None and getattr(i, family).address is not None]
        if not known:
            continue
        iface, a = known[0]
        out[f"{family}_address"] = str(a.address)
        out[f"{family}_interface"] = iface.name
        out[f"{family}_method"] = iface.method
        if a.prefix is not None:
            out[f"{family}_prefix"] = str(a.prefix)
            if family == "ipv4":
                out["ipv4_netmask"] = str(a.interface.netmask)
        if a.gateway is not None:
            out[f"{family}_gateway"] = str(a.gateway)
        out[f"{family}_addresses"] = " ".join(str(x.address) for _, x in known)
    return out
