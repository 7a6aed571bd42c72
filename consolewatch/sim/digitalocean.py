"""A simulated DigitalOcean API v2 on loopback: `GET /v2/droplets/{id}` as the real API answers it.

    sim = start_do_sim()                                 # 127.0.0.1, a free port
    sim.add_droplet(123, name="unikernel-test")          # networks as the OpenAPI examples give them
    os.environ.update(sim.env())                         # CONSOLEWATCH_DO_API=..., DIGITALOCEAN_ACCESS_TOKEN=...
    sim.close()

The droplet object follows `specification/resources/droplets/models/droplet.yml` of
github.com/digitalocean/openapi (networks.v4[]: ip_address, netmask as a dotted quad, gateway,
type; a private network's gateway is null; networks.v6[]: netmask as a prefix length, public
only), wrapped as `{"droplet": {...}}`. Requests without `Authorization: Bearer <token>` get 401
`{"id": "Unauthorized", "message": "Unable to authenticate you"}` (the body DigitalOcean sends),
unknown droplets 404 `{"id": "not_found", ...}`. Every answer carries the `ratelimit-*` headers.
Faults, queued with `inject(*faults)` and consumed one per request: an HTTP status (429 comes
with `ratelimit-remaining: 0` and a `ratelimit-reset` one second ahead), "reset" (the connection
is closed without an answer), "invalid-json".
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from consolewatch.sim.httpserve import HttpSim, reset_connection

__all__ = ["DoSim", "start_do_sim", "droplet_resource"]

TOKEN = "dop_v1_simulated0000000000000000000000000000000000000000000000000000"
_PATH = re.compile(r"^/v2/droplets/(\d+)$")


def droplet_resource(ident: int, *, name: str = "example.com", status: str = "active", region: str = "nyc3",
                     size: str = "s-1vcpu-1gb", image: str = "custom-unikernel",
                     public_v4: tuple[str, str, str] = ("104.236.32.182", "255.255.192.0", "104.236.0.1"),
                     private_v4: tuple[str, str] | None = ("10.128.192.124", "255.255.0.0"),
                     public_v6: tuple[str, int, str] | None = ("2604:a880:0:1010::18a:a001", 64,
                                                               "2604:a880:0:1010::1")) -> dict[str, Any]:
    """A droplet as GET /v2/droplets/{id} describes it (addresses from the OpenAPI examples)."""
    v4: list[dict[str, str | None]] = [{"ip_address": public_v4[0], "netmask": public_v4[1], "gateway": public_v4[2], "type": "public"}]
    if private_v4:
        v4.append({"ip_address": private_v4[0], "netmask": private_v4[1], "gateway": None, "type": "private"})
    v6 = [{"ip_address": public_v6[0], "netmask": public_v6[1], "gateway": public_v6[2], "type": "public"}] \
        if public_v6 else []
    return {
        "id": ident, "name": name, "memory": 1024, "vcpus": 1, "disk": 25, "locked": False, "status": status,
        "kernel": None, "created_at": "2026-11-20T10:15:00Z", "features": ["private_networking", "ipv6"],
        "backup_ids": [], "next_backup_window": None, "snapshot_ids": [],
        "image": {"id": 7555620, "name": image, "distribution": "Unknown", "slug": None, "public": False,
                  "regions": [region], "created_at": "2026-11-19T08:00:00Z", "min_disk_size": 1, "type": "custom",
                  "size_gigabytes": 0.12, "description": "", "tags": [], "status": "available",
                  "error_message": ""},
        "volume_ids": [],
        "size": {"slug": size, "memory": 1024, "vcpus": 1, "disk": 25, "transfer": 1.0, "price_monthly": 6.0,
                 "price_hourly": 0.00893, "regions": [region], "available": True, "description": "Basic"},
        "size_slug": size,
        "networks": {"v4": v4, "v6": v6},
        "region": {"name": "New York 3", "slug": region, "features": ["private_networking", "backups", "ipv6"],
                   "available": True, "sizes": [size]},
        "tags": [], "vpc_uuid": "760e09ef-dc84-11e8-981e-3cfdfeaae000",
    }


class DoSim(HttpSim):
    def __init__(self, *, token: str = TOKEN, host: str = "127.0.0.1") -> None:
        self.token = token
        self.droplets: dict[int, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.headers_seen: deque[dict[str, str]] = deque(maxlen=100)
        self._faults: deque[Any] = deque()
        self._lock = threading.Lock()
        self.url = self._serve(host, 0, _handler(self), "do-sim")

    def add_droplet(self, ident: int, **kw: Any) -> dict[str, Any]:
        self.droplets[ident] = droplet_resource(ident, **kw)
        return self.droplets[ident]

    def inject(self, *faults: Any) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> Any:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def env(self, **extra: str) -> dict[str, str]:
        return {"CONSOLEWATCH_DO_API": self.url, "DIGITALOCEAN_ACCESS_TOKEN": self.token, **extra}


def start_do_sim(**kw: Any) -> DoSim:
    return DoSim(**kw)


def _handler(sim: DoSim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "do-sim"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            remaining = "0" if status == 429 else "4999"
            for k, v in {"ratelimit-limit": "5000", "ratelimit-remaining": remaining,
                         "ratelimit-reset": str(int(time.time()) + 1), **(extra or {})}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with sim._lock:
                sim.calls[self.path.split("?")[0]] += 1
                sim.headers_seen.append(dict(self.headers))
            fault = sim._next_fault()
            if fault == "reset":
                reset_connection(self)
                return
            if fault == "invalid-json":
                body = b'{"droplet": {"id": 1, "networks": '
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if isinstance(fault, tuple) and fault[0] == "raw":  # ("raw", status, body): any answer at all
                self.send_response(fault[1])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(fault[2])))
                self.end_headers()
                self.wfile.write(fault[2])
                return
            if isinstance(fault, int):
                self._json(fault, {"id": "too_many_requests" if fault == 429 else "server_error",
                                   "message": "API Rate limit exceeded." if fault == 429 else "Server Error"})
                return
            if self.headers.get("Authorization") != f"Bearer {sim.token}":
                self._json(401, {"id": "Unauthorized", "message": "Unable to authenticate you"})
                return
            m = _PATH.match(self.path.split("?")[0])
            droplet = sim.droplets.get(int(m.group(1))) if m else None
            if droplet is None:
                self._json(404, {"id": "not_found", "message": "The resource you were accessing could not be found."})
                return
            self._json(200, {"droplet": droplet})

    return Handler
