"""What the simulated Nova knows about a server, and the JSON documents it answers with.

A `SimServer` is one server: what `GET /servers/{id}` shows (at the requested microversion, with
the admin-only `OS-EXT-SRV-ATTR:*` fields only for an admin), its console log and its remote
console. The console log follows what Nova does with a libvirt guest's log (checked against
nova/api/openstack/compute/console_output.py and the libvirt driver):

* the driver returns the last `max_console_bytes` (libvirt: MAX_CONSOLE_BYTES = 100 KiB) of the
  guest's serial log, cut anywhere, even mid-line;
* the compute manager keeps the last `length` lines (`log.split("\\n")[-length:]`; 0 gives
  nothing) and decodes the bytes as ASCII with replacement (older releases encoded to ASCII with
  `?`; either way a byte above 0x7f does not survive);
* the API removes the characters `[\\x00-\\x08\\x0b-\\x1f]` -- ESC and CR included, so colour
  sequences reach the client as `[1;32m` without their ESC (as in
  samples/openstack-ttylinux-no-lease-metadata-unreachable) -- and returns `{"output": text}`.

Unverified: Xen (XenAPI) and other drivers' window sizes; the sim plays the libvirt behaviour.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from consolewatch.sim.player import ConsolePlayer

__all__ = ["SimServer", "SimUser", "MAX_CONSOLE_BYTES", "nova_console_text", "compute_version",
           "identity_version", "token_document"]

MAX_CONSOLE_BYTES = 100 * 1024
_NOVA_STRIP = re.compile(r"[\x00-\x08\x0b-\x1f]")
_VM_STATE = {"ACTIVE": ("active", 1), "BUILD": ("building", 0), "ERROR": ("error", 0), "SHUTOFF": ("stopped", 4),
             "REBOOT": ("active", 1), "DELETED": ("deleted", 0), "PAUSED": ("paused", 3)}
_STAMP = "2026-01-05T10:00:00Z"


def nova_console_text(printed: bytes, length: int | None, max_bytes: int = MAX_CONSOLE_BYTES) -> str:
    """The `output` Nova returns for a guest that printed `printed` (see the module docstring)."""
    raw = printed[-max_bytes:] if max_bytes > 0 else b""
    if length is not None and length != -1:
        raw = b"\n".join(raw.split(b"\n")[-length:]) if length > 0 else b""
    return _NOVA_STRIP.sub("", raw.decode("ascii", "replace"))


@dataclass
class SimUser:
    name: str = "demo"
    password: str = "sim-password-0f9e"
    project: str = "demo"
    project_id: str = "3f1c2b7a9d8e4c6b8a7f6e5d4c3b2a19"
    domain: str = "Default"
    admin: bool = False


@dataclass(eq=False)
class SimServer:
    """One simulated Nova server."""

    name: str = "vm1"
    player: ConsolePlayer | None = None
    id: str = ""
    """A UUID; derived from the name when not given (stable across runs)."""
    status: str = "ACTIVE"
    flavor_name: str = "m1.small"
    flavor: dict[str, Any] = field(default_factory=lambda: {"vcpus": 1, "ram": 2048, "disk": 20, "ephemeral": 0,
                                                            "swap": 0, "extra_specs": {}})
    image_id: str = "6a1d9c3e-2f7b-4f0e-9d1c-0b3e9f1d2c4a"
    """"" for a server booted from a volume (Nova shows `"image": ""`)."""
    addresses: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"private": [
        {"version": 4, "addr": "10.0.0.12", "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:4c:2d:01"}]})
    config_drive: str = ""
    """"True" when the server has a config drive, "" when not (what Nova shows)."""
    fault: dict[str, Any] | None = None
    """{"code", "message", "details", "created"} shown when the status is ERROR."""
    hypervisor_type: str = "QEMU"
    """What /os-hypervisors says for the server's host: "QEMU" (KVM), "xen", ..."""
    hypervisor_hostname: str = "compute-1.example.org"
    root_device_name: str = "/dev/vda"
    availability_zone: str = "nova"
    disk_config: str = "MANUAL"
    max_console_bytes: int = MAX_CONSOLE_BYTES
    console_url: str | None = None
    """The noVNC page URL the remote-consoles API hands out; None: no VNC console on this cloud."""
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"consolewatch-sim/{self.name}"))

    def console(self, length: int | None) -> str:
        printed = self.player.printed() if self.player is not None else b""
        return nova_console_text(printed, length, self.max_console_bytes)

    def document(self, base: str, microversion: tuple[int, int], *, admin: bool, project: str) -> dict[str, Any]:
        """The `server` object of GET /servers/{id} as Nova renders it at `microversion`."""
        link = f"{base}/servers/{self.id}"
        vm_state, power = _VM_STATE.get(self.status, ("active", 1))
        flavor: dict[str, Any]
        if microversion >= (2, 47):
            flavor = {"original_name": self.flavor_name, **self.flavor}
        else:
            flavor = {"id": self.flavor_name, "links": [{"rel": "bookmark", "href": f"{base}/flavors/{self.flavor_name}"}]}
        doc: dict[str, Any] = {
            "id": self.id, "name": self.name, "status": self.status, "tenant_id": project,
            "user_id": "9b6c5d4e3f2a41b0a1c2d3e4f5a6b7c8", "created": _STAMP, "updated": _STAMP,
            "hostId": "4c1d2e3f" * 7, "progress": 0, "accessIPv4": "", "accessIPv6": "",
            "addresses": self.addresses, "flavor": flavor, "key_name": "deploy", "metadata": self.metadata,
            "image": {"id": self.image_id, "links": [{"rel": "bookmark", "href": f"{base}/images/{self.image_id}"}]}
            if self.image_id else "",
            "config_drive": self.config_drive, "links": [{"rel": "self", "href": link}],
            "OS-DCF:diskConfig": self.disk_config, "OS-EXT-AZ:availability_zone": self.availability_zone,
            "OS-EXT-STS:vm_state": vm_state, "OS-EXT-STS:power_state": power, "OS-EXT-STS:task_state": None,
            "OS-SRV-USG:launched_at": "2026-01-05T10:00:05.000000", "OS-SRV-USG:terminated_at": None,
            "os-extended-volumes:volumes_attached": [], "security_groups": [{"name": "default"}],
        }
        if self.status in ("ERROR", "DELETED") and self.fault:
            fault = dict(self.fault)
            if not admin:
                fault.pop("details", None)  # Nova shows a fault's details to admins only (unless code != 500)
            doc["fault"] = fault
        if admin:
            doc.update({"OS-EXT-SRV-ATTR:host": self.hypervisor_hostname.split(".")[0],
                        "OS-EXT-SRV-ATTR:hypervisor_hostname": self.hypervisor_hostname,
                        "OS-EXT-SRV-ATTR:instance_name": "instance-0000002a"})
            if microversion >= (2, 3):
                doc["OS-EXT-SRV-ATTR:root_device_name"] = self.root_device_name
        return doc

    def hypervisor(self) -> dict[str, Any]:
        """The os-hypervisors/detail entry of this server's host (admin only)."""
        return {"id": "1f4e8c2a-0000-4000-8000-00000000000a", "hypervisor_hostname": self.hypervisor_hostname,
                "hypervisor_type": self.hypervisor_type, "hypervisor_version": 8002000, "state": "up",
                "status": "enabled", "host_ip": "192.168.0.10"}


def compute_version(compute_url: str, max_microversion: str) -> dict[str, Any]:
    """Nova's version document (`GET /v2.1`): what microversion negotiation reads."""
    return {"id": "v2.1", "status": "CURRENT", "version": max_microversion, "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": compute_url + "/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


def identity_version(auth_url: str) -> dict[str, Any]:
    return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": auth_url + "/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}


def token_document(user: SimUser, base: str, compute_url: str, region: str) -> dict[str, Any]:
    """The body of a Keystone v3 token issue: user, project, roles and the service catalog."""
    def endpoint(url: str, iface: str = "public") -> dict[str, Any]:
        return {"id": secrets.token_hex(8), "interface": iface, "region": region, "region_id": region, "url": url}

    now = time.time()
    roles = [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}] + (
        [{"id": "r0", "name": "admin"}] if user.admin else [])
    return {"token": {
        "methods": ["password"], "issued_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now)),
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now + 3600)),
        "user": {"id": "u-" + user.name, "name": user.name, "domain": {"id": "default", "name": user.domain},
                 "password_expires_at": None},
        "project": {"id": user.project_id, "name": user.project, "domain": {"id": "default", "name": user.domain}},
        "roles": roles, "is_domain": False, "audit_ids": [secrets.token_urlsafe(16)],
        "catalog": [
            {"type": "identity", "name": "keystone", "id": "c-identity",
             "endpoints": [endpoint(f"{base}/identity"), endpoint(f"{base}/identity", "internal")]},
            {"type": "compute", "name": "nova", "id": "c-compute",
             "endpoints": [endpoint(compute_url), endpoint(compute_url, "internal")]},
        ]}}
