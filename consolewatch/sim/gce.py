"""A simulated Compute Engine API on loopback, speaking the REST JSON the real client sends.

`start_gce_sim()` serves, on 127.0.0.1 (an ephemeral port), the URLs google-cloud-compute's
REST transport uses (api-brief.md section 2)::

    GET  /compute/v1/projects/{p}/zones/{z}/instances/{i}                 instances.get
    GET  /compute/v1/projects/{p}/zones/{z}/instances/{i}/serialPort      ?port=1..4&start=N
    GET  /compute/v1/projects/{p}/zones/{z}/instances/{i}/screenshot
    GET  /compute/v1/projects/{p}/regions/{r}/subnetworks/{s}              subnetworks.get (nic0's)
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

Faults are injected per method ("get", "serialPort", "screenshot", "subnetwork", or "*") with
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
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from consolewatch.sim.gce_model import SimInstance
from consolewatch.sim.httpserve import HttpSim, reset_connection

__all__ = ["GceSim", "SimInstance", "start_gce_sim", "sample_log", "RING_SIZE"]

RING_SIZE = 1 << 20
_PATH = re.compile(
    r"^/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<i>[^/]+)(?:/(?P<m>[A-Za-z]+))?$")
_SUBNET = re.compile(r"^/compute/v1/projects/(?P<p>[^/]+)/regions/(?P<r>[^/]+)/subnetworks/(?P<s>[^/]+)$")
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


class GceSim(HttpSim):
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
        self.url = self._serve(host, 0, _handler(self), "gce-sim")

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

        def _serve(self, verb: str) -> None:
            url = urlsplit(self.path)
            m = _PATH.match(url.path)
            method = (m.group("m") or "get") if m else "unknown"
            if m is None and (m := _SUBNET.match(url.path)):
                method = "subnetwork"
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
                reset_connection(self)
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
            if method == "subnetwork":
                return self._subnetwork(m)
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

        def _subnetwork(self, m: Any) -> int:
            key = m.group("p", "r", "s")
            found = next((i for i in sim.instances.values() if (i.project, i.region, i.subnetwork) == key), None)
            if found is None:
                self._json(404, error_body(404, f"The resource 'projects/{m.group('p')}/regions/{m.group('r')}/"
                                                f"subnetworks/{m.group('s')}' was not found"))
                return 404
            self._json(200, found.subnetwork_resource())
            return 200

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
