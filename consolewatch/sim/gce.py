"""A simulated Compute Engine API on loopback, speaking the REST JSON the real client sends.

`start_gce_sim()` serves, on 127.0.0.1 (an ephemeral port), the URLs google-cloud-compute's
REST transport uses (api-brief.md section 2)::

    GET  /compute/v1/projects/{p}/zones/{z}/instances/{i}                 instances.get
    GET  /compute/v1/projects/{p}/zones/{z}/instances/{i}/serialPort      ?port=1..4&start=N
    GET  /compute/v1/projects/{p}/zones/{z}/instances/{i}/screenshot
    POST /compute/v1/projects/{p}/zones/{z}/instances/{i}/stop  and  /start

Each serial port is a `ConsolePlayer` (port 1 plays a real boot log) seen through a ring of
`ring_size` bytes (1 MB, as on GCE), with the documented `getSerialPortOutput` semantics:

* `start` omitted or 0 is the first byte; a `start` older than the oldest byte still kept is
  moved up to it and the moved value returned (the client sees `start > requested`: bytes lost);
  a negative `start` means "the most recent |start| bytes", bounded by the ring;
  `next` is the position after the last byte returned, to pass as the next `start`.
* Offsets count **bytes** of the serial stream, as the real API documents. `contents` is a JSON
  string, so the sim only ever hands out whole UTF-8 characters: the ring's oldest byte is
  moved forward past continuation bytes (they count as lost), and a character the player has
  only half printed is held back (`next` stops before it). For valid UTF-8 output,
  `len(contents.encode()) == next - start` exactly. Bytes that are not UTF-8 become U+FFFD
  (three bytes once re-encoded), so clients must take positions from `start`/`next`, never
  from the length of `contents` -- the real API makes no promise either way.
* A requested `start` past the end is answered with `start = next = end` and no contents (a
  client resuming an old cursor after a stop/start sees the position go backwards). The real
  API's answer to that case is unverified.

A stop keeps serving the serial port for `stopping_seconds` (status STOPPING), then the
instance is TERMINATED and serial reads fail with 400 `resourceNotReady`; a start wipes the
rings (the players restart from their first byte) and sets a new `lastStartTimestamp`.

Faults are injected per method ("get", "serialPort", "screenshot", or "*") with
`GceSim.inject(method, *faults)`; each request consumes the next fault queued for its method.
A fault is an HTTP status (answered in Google's JSON error format), "reset" (the TCP connection
is closed with RST, no response), "invalid-json", ("json", obj) -- a 200 whose body is
`obj` -- ("raw", status, body_bytes), or ("delay", seconds). `GceSim.calls` counts requests
per method and `GceSim.log` records them (method, port, start, status).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from consolewatch.sim.player import ConsolePlayer

__all__ = ["GceSim", "SimInstance", "start_gce_sim", "sample_log", "RING_SIZE"]

RING_SIZE = 1 << 20
API = "https://www.googleapis.com/compute/v1"
_PATH = re.compile(
    r"^/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<i>[^/]+)(?:/(?P<m>[A-Za-z]+))?$")
_CSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]")
_REASONS = {400: "badRequest", 401: "required", 403: "forbidden", 404: "notFound", 409: "conflict",
            429: "rateLimitExceeded", 500: "backendError", 502: "badGateway", 503: "backendError"}
_MESSAGES = {429: "Rate Limit Exceeded", 500: "Internal error. Please try again or contact Google Support.",
             502: "Bad Gateway", 503: "The service is currently unavailable."}


def sample_log(*names: str) -> bytes:
    """Bytes of real boot logs from the repository's samples/ (e.g. "qemu/healthy"), joined."""
    root = Path(__file__).resolve().parents[2] / "samples"
    out = b""
    for name in names:
        folder = root / name
        files = sorted(p for p in folder.iterdir() if p.suffix in (".log", ".txt")) if folder.is_dir() else []
        if not files:
            raise FileNotFoundError(f"no console log in {folder}")
        out += b"".join(p.read_bytes() for p in files)
    return out


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
                **kw: Any) -> SimInstance:
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

    def resource(self) -> dict[str, Any]:
        zone = f"{API}/projects/{self.project}/zones/{self.zone}"
        nic: dict[str, Any] = {"kind": "compute#networkInterface", "name": "nic0", "networkIP": self.network_ip,
                               "network": f"{API}/projects/{self.project}/global/networks/default",
                               "stackType": "IPV4_ONLY"}
        if self.nic_type:
            nic["nicType"] = self.nic_type
        stamp = datetime.fromtimestamp(1_790_000_000 + 60 * self.starts, UTC)
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


class GceSim:
    """The control handle: instances, fault injection, request counters, clean shutdown."""

    def __init__(self, instances: list[SimInstance], *, ring_size: int = RING_SIZE,
                 host: str = "127.0.0.1") -> None:
        self.instances: dict[tuple[str, str, str], SimInstance] = {}
        self.ring_size = ring_size
        self.calls: Counter[str] = Counter()
        self.log: deque[tuple[str, int | None, int | None, int]] = deque(maxlen=10_000)
        self._faults: dict[str, deque[Any]] = {}
        self._lock = threading.Lock()
        self._screens: dict[tuple[int, int], str] = {}
        for inst in instances:
            self.add(inst)
        self._server = _Server((host, 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="gce-sim",
                                        daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}"

    def add(self, inst: SimInstance) -> SimInstance:
        self.instances[(inst.project, inst.zone, inst.name)] = inst
        return inst

    def instance(self, name: str = "vm1") -> SimInstance:
        return next(i for i in self.instances.values() if i.name == name)

    def inject(self, method: str, *faults: Any) -> None:
        """Queue faults for the next requests of `method` ("get", "serialPort", "screenshot", "*")."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend(faults)

    def pending_faults(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._faults.values())

    def _next_fault(self, method: str) -> Any:
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    def screenshot_png(self, inst: SimInstance) -> str:
        from consolewatch.sim.screen import render_screen

        key = (id(inst), len(inst.players[1].printed()) if 1 in inst.players else 0)
        if key not in self._screens:
            png = render_screen(inst.screen_text())
            self._screens = {key: base64.b64encode(png).decode("ascii")}
        return self._screens[key]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> GceSim:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a reset the sim injected) is not worth a traceback."""


def start_gce_sim(*instances: SimInstance, ring_size: int = RING_SIZE) -> tuple[str, GceSim]:
    """Start the simulated API on 127.0.0.1 (port 0); returns (base URL, control handle)."""
    sim = GceSim(list(instances), ring_size=ring_size)
    return sim.url, sim


def error_body(code: int, message: str, reason: str | None = None) -> dict[str, Any]:
    """An error in Google's JSON format, as the real API sends it."""
    reason = reason or _REASONS.get(code, "error")
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": "global", "reason": reason}]}}


def _handler(sim: GceSim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "gce-sim"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms ACK wait

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self._serve("POST")

        def _send(self, status: int, body: bytes, ctype: str = "application/json; charset=UTF-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, json.dumps(obj).encode("utf-8"))

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _serve(self, verb: str) -> None:
            url = urlsplit(self.path)
            m = _PATH.match(url.path)
            method = (m.group("m") or "get") if m else "unknown"
            query = parse_qs(url.query)
            try:
                port = int(query.get("port", ["1"])[0])
                start = int(query["start"][0]) if "start" in query else None
            except ValueError:
                port, start = -1, None
            with sim._lock:
                sim.calls[method] += 1
            status = self._answer(verb, m, method, port, start)
            with sim._lock:
                sim.log.append((method, port if method == "serialPort" else None, start, status))

        def _answer(self, verb: str, m: Any, method: str, port: int, start: int | None) -> int:
            fault = sim._next_fault(method)
            if isinstance(fault, tuple) and fault[0] == "delay":
                time.sleep(fault[1])
                fault = None
            if fault == "reset":
                self._reset()
                return 0
            if fault == "invalid-json":
                self._send(200, b'{"kind": "compute#serialPortOutput", "contents": "abc", "start": ')
                return 200
            if isinstance(fault, int):
                self._json(fault, error_body(fault, _MESSAGES.get(fault, f"simulated error {fault}")))
                return fault
            if isinstance(fault, tuple) and fault[0] == "json":
                self._json(200, fault[1])
                return 200
            if isinstance(fault, tuple) and fault[0] == "raw":
                self._send(fault[1], fault[2])
                return fault[1]
            if m is None:
                self._json(404, error_body(404, f"The requested URL {self.path[:200]} was not found."))
                return 404
            inst = sim.instances.get((m.group("p"), m.group("z"), m.group("i")))
            res = f"projects/{m.group('p')}/zones/{m.group('z')}/instances/{m.group('i')}"
            if inst is None:
                self._json(404, error_body(404, f"The resource '{res}' was not found"))
                return 404
            if inst.denied:
                perm = {"get": "get", "serialPort": "getSerialPortOutput"}.get(method, method)
                self._json(403, error_body(403, f"Required 'compute.instances.{perm}' permission for '{res}'"))
                return 403
            return self._method(verb, method, inst, port, start, res)

        def _method(self, verb: str, method: str, inst: SimInstance, port: int, start: int | None,
                    res: str) -> int:
            if verb == "POST" and method in ("stop", "start"):
                inst.stop() if method == "stop" else inst.start()
                self._json(200, {"kind": "compute#operation", "name": f"operation-{method}", "status": "DONE",
                                 "operationType": method, "targetLink": inst.self_link, "progress": 100})
                return 200
            if verb != "GET" or method not in ("get", "serialPort", "screenshot"):
                self._json(400, error_body(400, f"Invalid request: {verb} {method}"))
                return 400
            if method == "get":
                self._json(200, inst.resource())
                return 200
            if inst.current_status() not in ("RUNNING", "STOPPING"):
                self._json(400, error_body(400, f"The resource '{res}' is not ready", "resourceNotReady"))
                return 400
            if method == "screenshot":
                if not inst.display_device:
                    self._json(400, error_body(400, "Display device needs to be enabled for the instance"))
                    return 400
                self._json(200, {"kind": "compute#screenshot", "contents": sim.screenshot_png(inst)})
                return 200
            if not 1 <= port <= 4:
                self._json(400, error_body(400, "Invalid value for field 'port': Must be between 1 and 4",
                                           "invalid"))
                return 400
            self._json(200, inst.serial(port, start, sim.ring_size))
            return 200

    return Handler
