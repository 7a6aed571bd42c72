"""The simulated Compute Engine API's model: one instance (power, serial ports, resources).

Split from consolewatch.sim.gce (the HTTP server): `SimInstance` holds what instances.get and
getSerialPortOutput answer, and the subnetwork its nic0 is attached to (subnetworks.get:
`ipCidrRange` and `gatewayAddress`, GCE's default VPC in us-central1 unless told otherwise).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from consolewatch.sim.player import ConsolePlayer

API = "https://www.googleapis.com/compute/v1"
_CSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]")


def _utf8_start(buf: bytes, pos: int, end: int) -> int:
    """Move `pos` forward past UTF-8 continuation bytes (at most 3): a character boundary."""
    for _ in range(3):
        if pos < end and 0x80 <= buf[pos] < 0xC0:
            pos += 1
    return pos


def _utf8_end(buf: bytes) -> int:
    """Length of `buf` without a trailing, incomplete UTF-8 sequence."""
    n = len(buf)
    for back in range(1, min(4, n) + 1):
        b = buf[n - back]
        if b < 0x80:
            return n
        if b >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return n if back >= need else n - back
    return n


@dataclass(eq=False)
class SimInstance:
    """One simulated VM: its API description, its serial ports and its power state."""

    name: str = "vm1"
    project: str = "proj"
    zone: str = "us-central1-a"
    players: dict[int, ConsolePlayer] = field(default_factory=dict)
    """Serial port number (1..4) -> what it prints; ports without a player stay empty."""
    machine_type: str = "e2-medium"
    nic_type: str | None = "GVNIC"
    disk_interface: str = "SCSI"
    guest_os_features: tuple[str, ...] = ("VIRTIO_SCSI_MULTIQUEUE", "GVNIC", "UEFI_COMPATIBLE")
    metadata: dict[str, str] = field(default_factory=lambda: {"serial-port-enable": "true"})
    display_device: bool = True
    network_ip: str = "10.128.0.2"
    subnetwork: str = "default"
    subnet_cidr: str = "10.128.0.0/20"
    """The subnetwork's ipCidrRange (GCE's default VPC in us-central1)."""
    gateway: str = "10.128.0.1"
    """The subnetwork's gatewayAddress: its first address, as GCE assigns it."""
    stopping_seconds: float = 0.0
    id: int = 4815162342
    denied: bool = False
    """Answer every request for this instance with 403 (a caller without permission)."""
    clock: Callable[[], float] = time.monotonic
    status: str = "RUNNING"
    starts: int = 1
    _stop_at: float | None = None

    @classmethod
    def playing(cls, log: bytes, *, rate: float = 20_000.0, clock: Callable[[], float] = time.monotonic,
                **kw: Any) -> "SimInstance":
        """An instance whose port 1 plays `log` at `rate` bytes per second."""
        return cls(players={1: ConsolePlayer(log, bytes_per_second=rate, clock=clock)}, clock=clock, **kw)

    # -- power -----------------------------------------------------------------------------

    def current_status(self) -> str:
        if self.status == "STOPPING" and self._stop_at is not None and self.clock() >= self._stop_at:
            self.status = "TERMINATED"
        return self.status

    def stop(self) -> None:
        if self.current_status() in ("RUNNING", "STAGING", "PROVISIONING"):
            self.status = "STOPPING"
            self._stop_at = self.clock() + self.stopping_seconds
            self.current_status()

    def start(self, log: bytes | None = None) -> None:
        """Boot again: the rings are wiped and every player starts from its first byte."""
        if self.current_status() == "RUNNING":
            return
        for port, player in self.players.items():
            player.restart(log if port == 1 else None)
        self.starts += 1
        self.status = "RUNNING"
        self._stop_at = None

    # -- serial ports ------------------------------------------------------------------------

    def serial(self, port: int, start: int | None, ring: int) -> dict[str, Any]:
        """The SerialPortOutput resource for a read at `start` (see the module docstring)."""
        player = self.players.get(port)
        buf = player.printed() if player is not None else b""
        end = _utf8_end(buf)
        oldest = _utf8_start(buf, max(0, end - ring), end)
        s = start or 0
        if s < 0:
            s = max(oldest, end + s)
        s = min(max(s, oldest), end)
        s = _utf8_start(buf, s, end)
        text = buf[s:end].decode("utf-8", "replace")
        link = f"{self.self_link}/serialPort?port={port}"
        return {"kind": "compute#serialPortOutput", "contents": text, "start": str(s), "next": str(end),
                "selfLink": link}

    def screen_text(self, port: int = 1) -> list[str]:
        """The last lines of port 1 as a VGA text console shows them (escape sequences applied)."""
        player = self.players.get(port)
        tail = player.printed()[-16384:] if player is not None else b""
        return _CSI.sub(b"", tail).decode("utf-8", "replace").splitlines()[-25:]

    # -- the API resource -------------------------------------------------------------------

    @property
    def self_link(self) -> str:
        return f"{API}/projects/{self.project}/zones/{self.zone}/instances/{self.name}"

    @property
    def region(self) -> str:
        return self.zone.rsplit("-", 1)[0]

    @property
    def subnetwork_link(self) -> str:
        return f"{API}/projects/{self.project}/regions/{self.region}/subnetworks/{self.subnetwork}"

    def subnetwork_resource(self) -> dict[str, Any]:
        """subnetworks.get of nic0's subnetwork."""
        return {"kind": "compute#subnetwork", "id": "6193883591829711936", "name": self.subnetwork,
                "network": f"{API}/projects/{self.project}/global/networks/default",
                "ipCidrRange": self.subnet_cidr, "gatewayAddress": self.gateway,
                "region": f"{API}/projects/{self.project}/regions/{self.region}", "selfLink": self.subnetwork_link,
                "privateIpGoogleAccess": False, "stackType": "IPV4_ONLY", "purpose": "PRIVATE"}

    def resource(self) -> dict[str, Any]:
        zone = f"{API}/projects/{self.project}/zones/{self.zone}"
        nic: dict[str, Any] = {"kind": "compute#networkInterface", "name": "nic0", "networkIP": self.network_ip,
                               "network": f"{API}/projects/{self.project}/global/networks/default",
                               "subnetwork": self.subnetwork_link, "stackType": "IPV4_ONLY"}
        if self.nic_type:
            nic["nicType"] = self.nic_type
        stamp = datetime.fromtimestamp(1_790_000_000 + 60 * self.starts, timezone.utc)
        return {
            "kind": "compute#instance", "id": str(self.id), "name": self.name, "status": self.current_status(),
            "zone": zone, "machineType": f"{zone}/machineTypes/{self.machine_type}",
            "cpuPlatform": "Intel Broadwell", "selfLink": self.self_link,
            "lastStartTimestamp": stamp.isoformat(timespec="milliseconds"),
            "networkInterfaces": [nic],
            "disks": [{"kind": "compute#attachedDisk", "type": "PERSISTENT", "mode": "READ_WRITE",
                       "boot": True, "autoDelete": True, "index": 0, "deviceName": "persistent-disk-0",
                       "interface": self.disk_interface, "diskSizeGb": "10",
                       "source": f"{zone}/disks/{self.name}",
                       "guestOsFeatures": [{"type": t} for t in self.guest_os_features]}],
            "metadata": {"kind": "compute#metadata", "fingerprint": "c2ltdWxhdGVk",
                         "items": [{"key": k, "value": v} for k, v in self.metadata.items()]},
            "displayDevice": {"enableDisplay": self.display_device},
        }
