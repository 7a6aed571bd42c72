"""The state behind the simulated EC2: instances, their consoles, and injected faults.

What the simulated GetConsoleOutput returns (a model of the documented behaviour, see
shared/research/api-brief.md section 1.1; AWS publishes no timings, so these are parameters):

- The console *buffer* is everything the instance printed since it was last started: a
  reboot keeps the buffer (the serial port is the same), a stop freezes it, a start after a
  stop clears it (a fresh host). Terminating freezes it; the output stays readable.
- `Latest=true` on a Nitro instance type: the last 64 KB of the buffer as it is now,
  `Timestamp` = now.
- Otherwise (every Xen type, and Nitro without `Latest`): a *posted snapshot*. A post happens
  `post_delay` seconds after each state change (launch, reboot, stop, start, terminate) and
  then every `post_interval` seconds while the state lasts (None: only after state changes).
  The call returns the last 64 KB of the buffer as it was at the latest post, `Timestamp` =
  the time of that post; before the first post, no output at all.
- `Latest=true` on a Xen type: ignored (`latest_on_xen="ignore"`, the default) or refused
  with `UnsupportedOperation` (`"error"`). Which one EC2 does is not documented; the fetcher
  copes with both.

Times come from the injected clock (seconds); `Timestamp`s are that clock mapped onto the
wall clock at the simulator's start. Only the bytes leave through the API: base64 on the wire.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from consolewatch.fetchers.ec2_api import hypervisor_for_type
from consolewatch.sim.player import ConsolePlayer

WINDOW = 64 * 1024

#: Injectable faults: kind -> (HTTP status, EC2 error code or None for a non-XML body).
FAULTS: dict[str, tuple[int, str | None]] = {
    "throttle": (503, "RequestLimitExceeded"),
    "throttling": (400, "Throttling"),
    "internal": (500, "InternalError"),
    "unavailable": (503, "Unavailable"),
    "auth": (401, "AuthFailure"),
    "expired": (400, "RequestExpired"),
    "expired-token": (400, "ExpiredToken"),
    "unauthorized": (403, "UnauthorizedOperation"),
    "malformed": (200, None),  # a 200 whose body is not XML
    "html500": (500, None),  # a proxy's HTML error page
}

_ESCAPES = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_]|[()][0-9A-Za-z]|c)")


@dataclass
class Fault:
    kind: str
    count: int = 1
    action: str | None = None
    """Only requests for this Action (None: any EC2 Query request)."""


@dataclass
class SimInstance:
    """One simulated instance. Create through `Ec2Sim.add_instance`."""

    instance_id: str
    player: ConsolePlayer
    instance_type: str = "m5.large"
    image_id: str = "ami-0123456789abcdef0"
    availability_zone: str = "us-east-1a"
    platform: str | None = None
    root_device_name: str = "/dev/xvda"
    private_ip: str | None = None
    """privateIpAddress in DescribeInstances; None leaves it out (the consoles the sim plays come
    from other networks: an address they do not lease would be a mismatch detectors name)."""
    subnet_id: str = "subnet-0a1b2c3d4e5f60718"
    subnet_cidr: str = "172.31.0.0/20"
    """DescribeSubnets' CidrBlock of `subnet_id` (a default VPC's subnet in the first zone)."""
    block_devices: tuple[str, ...] = ("/dev/xvda",)
    screenshots: bool = True
    post_delay: float = 0.0
    post_interval: float | None = 30.0
    latest_on_xen: str = "ignore"
    output_override: Callable[[bytes], bytes] | None = None
    """Hostile-server hook: the console window -> the bytes actually sent (before base64)."""
    raw_output: str | None = None
    """Hostile-server hook: the literal text of the <output> element (e.g. invalid base64)."""
    screenshot_override: str | None = None
    """Hostile-server hook: the literal text of <imageData>."""
    state: str = "running"
    launched_at: float = 0.0
    changed_at: float = 0.0
    _history: bytes = b""
    _frozen: bytes | None = None
    _last_post: tuple[float | None, bytes] = (None, b"")
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def hypervisor(self) -> str:
        return hypervisor_for_type(self.instance_type) or "nitro"

    @property
    def clock(self) -> Callable[[], float]:
        return self.player.clock

    # -- the console ---------------------------------------------------------------------

    def buffer(self, now: float | None = None) -> bytes:
        """Everything printed since the instance last started (frozen while not running)."""
        with self.lock:
            if self._frozen is not None:
                return self._frozen
            return self._history + self.player.printed(now)

    def posted(self, now: float) -> tuple[float | None, bytes]:
        """The latest posted snapshot: (post time or None, buffer at that time)."""
        with self.lock:
            first = self.changed_at + self.post_delay
            if now < first:
                return self._last_post
            k = math.floor((now - first) / self.post_interval) if self.post_interval else 0
            at = first + k * self.post_interval if self.post_interval else first
            return at, self.buffer(at)

    def console_output(self, now: float, latest: bool) -> tuple[float | None, bytes]:
        """(timestamp, window) as GetConsoleOutput sees it."""
        if latest and self.hypervisor == "nitro" and self.state == "running":
            data, at = self.buffer(now), now
        else:
            at, data = self.posted(now)
        window = data[-WINDOW:]
        if self.output_override is not None:
            window = self.output_override(window)
        return at, window

    def screen_lines(self, now: float, rows: int = 25) -> list[str]:
        """The text a VGA console shows now (the model: the kernel prints to both consoles)."""
        data = self.buffer(now)[-rows * 400:]
        text = _ESCAPES.sub(b"", data).decode("utf-8", "replace")
        return text.split("\n")[-(rows * 2):]

    # -- state changes --------------------------------------------------------------------

    def _change(self, state: str, now: float) -> None:
        self._last_post = self.posted(now)
        self.state = state
        self.changed_at = now

    def reboot(self, data: bytes | None = None) -> None:
        """Reboot: the buffer is kept and the (new) recording plays again after it."""
        with self.lock:
            now = self.clock()
            self._history += self.player.printed(now)
            self.player.restart(data, now)
            self._change("running", now)

    def stop(self) -> None:
        with self.lock:
            now = self.clock()
            self._frozen = self.buffer(now)
            self._change("stopped", now)

    def start(self, data: bytes | None = None, *, clear: bool = True) -> None:
        """Start after a stop: a cleared buffer (new host) unless `clear=False`."""
        with self.lock:
            now = self.clock()
            self._history = b"" if clear else (self._frozen or b"")
            self._frozen = None
            self.player.restart(data, now)
            self._change("running", now)

    def terminate(self) -> None:
        with self.lock:
            now = self.clock()
            if self._frozen is None:
                self._frozen = self.buffer(now)
            self._change("terminated", now)


class SimState:
    """Instances, the fault queue, serial-console keys and sessions, call statistics."""

    def __init__(self, *, region: str, clock: Callable[[], float], serial_access: bool = True) -> None:
        self.region = region
        self.clock = clock
        self.serial_access = serial_access
        self.valid_access_keys: set[str] | None = None
        """None: any credentials; else requests signed with another key get AuthFailure."""
        self.instances: dict[str, SimInstance] = {}
        self.faults: deque[Fault] = deque()
        self.calls: list[tuple[float, str, int]] = []
        """(time.monotonic(), action, HTTP status) of every request."""
        self.serial_keys: dict[str, list[tuple[str, float]]] = {}
        self.serial_sessions: set[str] = set()
        self.lock = threading.RLock()
        self._t0_clock = clock()
        self._t0_wall = time.time()

    def wall(self, t: float) -> float:
        return self._t0_wall + (t - self._t0_clock)

    def take_fault(self, action: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.action in (None, action):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def record(self, action: str, status: int) -> None:
        with self.lock:
            self.calls.append((time.monotonic(), action, status))

    def count(self, action: str | None = None) -> int:
        with self.lock:
            return sum(1 for _, a, _ in self.calls if action in (None, a))

    # -- the serial console ---------------------------------------------------------------

    def push_serial_key(self, instance_id: str, public_key: str) -> None:
        with self.lock:
            keys = [(k, exp) for k, exp in self.serial_keys.get(instance_id, []) if exp > time.monotonic()]
            keys.append((public_key.split()[1] if len(public_key.split()) > 1 else public_key, time.monotonic() + 60))
            self.serial_keys[instance_id] = keys

    def serial_key_ok(self, instance_id: str, key_b64: str) -> bool:
        with self.lock:
            return any(k == key_b64 and exp > time.monotonic() for k, exp in self.serial_keys.get(instance_id, []))
