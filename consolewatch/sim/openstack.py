"""A simulated Keystone + Nova on loopback, speaking the REST JSON openstacksdk sends.

    sim = start_openstack_sim()                                # 127.0.0.1, a free port
    srv = sim.add_server(SimServer("web-1", player=ConsolePlayer(sample_log("...")))
    os.environ.update(sim.env())                               # OS_AUTH_URL=..., OS_USERNAME=..., ...
    ...                                                        # openstack.connect() / consolewatch tail openstack:web-1
    sim.close()

One HTTP server plays both services (keystoneauth follows the service catalog, so any URLs do):

    GET  /identity, /identity/v3                   version discovery (Keystone v3)
    POST /identity/v3/auth/tokens                   password auth, project scope: 201, the token in
                                                    `X-Subject-Token`, the catalog in the body
    GET  /compute/, /compute/v2.1                   version discovery (`version`, `min_version`)
    GET  /compute/v2.1/servers/{id}                 server show
    GET  /compute/v2.1/servers/detail?name=REGEX    list (Nova's `name` filter is a regex)
    POST /compute/v2.1/servers/{id}/action          {"os-getConsoleOutput": {"length": N}},
                                                    {"os-getVNCConsole": {"type": "novnc"}} (< 2.6)
    POST /compute/v2.1/servers/{id}/remote-consoles {"remote_console": {"protocol": "vnc", "type": "novnc"}}
                                                    (microversion 2.6 or later)
    GET  /compute/v2.1/os-hypervisors/detail        admin only (403 by policy otherwise)

Microversions: `OpenStack-API-Version: compute X.Y` or `X-OpenStack-Nova-API-Version: X.Y`
("latest" is the maximum), echoed in both response headers; none means 2.1; above the maximum
is 406. Every Nova request needs a token Keystone issued (`X-Auth-Token`), else 401. Errors use
each service's JSON: Keystone `{"error": {"code", "title", "message"}}`, Nova
`{"itemNotFound": {"code": 404, "message": ...}}` and friends. Users are not admin unless
`admin=True`: then servers show `OS-EXT-SRV-ATTR:*` and the hypervisor list answers.

Faults, queued per method ("token", "show", "list", "console", "remote", "hypervisors", "*")
with `inject(method, *faults)`, one per request: an HTTP status, "reset" (connection closed
with RST), "invalid-json", ("json", obj) (a 200 whose body is `obj`), ("raw", status, bytes),
("delay", seconds). `calls` counts requests per method; `log` records (method, length, status).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from consolewatch.sim.httpserve import HttpSim, reset_connection
from consolewatch.sim.openstack_model import (
    SimServer,
    SimUser,
    compute_version,
    identity_version,
    token_document,
)

__all__ = ["OpenStackSim", "SimServer", "SimUser", "start_openstack_sim", "novnc_page_url"]

MAX_BODY = 1 << 20
_NOVA_ERRORS = {400: "badRequest", 403: "forbidden", 404: "itemNotFound", 406: "notAcceptable", 409: "conflict",
                413: "overLimit", 429: "overLimit", 500: "computeFault", 501: "notImplemented",
                503: "serviceUnavailable"}
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
           503: "Service Unavailable"}
_VERSION = re.compile(r"^(\d+)\.(\d+)$")


def novnc_page_url(ws_url: str) -> str:
    """The noVNC page URL Nova hands out (`vnc_lite.html?path=%3Ftoken%3D...`) for a websocket
    console at `ws_url` ("ws://HOST:PORT/?token=T")."""
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    path = (parts.path.lstrip("/") + ("?" + parts.query if parts.query else ""))
    return f"{scheme}://{parts.netloc}/vnc_lite.html?path={quote(path, safe='')}"


class OpenStackSim(HttpSim):
    """The control handle: users, servers, faults, counters, shutdown. Use `start_openstack_sim`."""

    def __init__(self, *, max_microversion: str = "2.96", region: str = "RegionOne", host: str = "127.0.0.1",
                 user: SimUser | None = None) -> None:
        self.max_microversion = max_microversion
        self.region = region
        self.user = user or SimUser()
        self.servers: dict[str, SimServer] = {}
        self.tokens: dict[str, SimUser] = {}
        self.calls: Counter[str] = Counter()
        self.log: deque[tuple[str, Any, int]] = deque(maxlen=10_000)
        self._faults: dict[str, deque[Any]] = {}
        self._lock = threading.Lock()
        self.url = self._serve(host, 0, _handler(self), "openstack-sim")
        self.auth_url = f"{self.url}/identity/v3"
        self.compute_url = f"{self.url}/compute/v2.1"

    def add_server(self, server: SimServer) -> SimServer:
        self.servers[server.id] = server
        return server

    def server(self, name: str) -> SimServer:
        return next(s for s in self.servers.values() if s.name == name)

    def inject(self, method: str, *faults: Any) -> None:
        with self._lock:
            self._faults.setdefault(method, deque()).extend(faults)

    def revoke_tokens(self) -> None:
        """Every issued token stops working (expiry): clients must authenticate again."""
        with self._lock:
            self.tokens.clear()

    def _next_fault(self, method: str) -> Any:
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None

    def env(self, **extra: str) -> dict[str, str]:
        """`OS_*` variables for openstacksdk (and consolewatch) to use this simulator."""
        u = self.user
        env = {"OS_AUTH_URL": self.auth_url, "OS_USERNAME": u.name, "OS_PASSWORD": u.password,
               "OS_PROJECT_NAME": u.project, "OS_USER_DOMAIN_NAME": u.domain, "OS_PROJECT_DOMAIN_NAME": u.domain,
               "OS_REGION_NAME": self.region, "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public"}
        env.update(extra)
        return env

    def clouds_yaml(self, name: str = "sim") -> str:
        """A clouds.yaml holding this simulator as cloud `name`."""
        u = self.user
        return json.dumps({"clouds": {name: {
            "auth": {"auth_url": self.auth_url, "username": u.name, "password": u.password,
                     "project_name": u.project, "user_domain_name": u.domain, "project_domain_name": u.domain},
            "region_name": self.region, "identity_api_version": 3, "interface": "public"}}}, indent=2)

    def microversion(self) -> tuple[int, int]:
        m = _VERSION.match(self.max_microversion)
        assert m is not None
        return int(m[1]), int(m[2])


def start_openstack_sim(*servers: SimServer, **kw: Any) -> OpenStackSim:
    """Start the simulated Keystone + Nova on 127.0.0.1 (port 0) with these servers."""
    sim = OpenStackSim(**kw)
    for s in servers:
        sim.add_server(s)
    return sim


def _password_user(sim: OpenStackSim, body: Any) -> SimUser | None:
    try:
        ident = body["auth"]["identity"]
        pw = ident["password"]["user"]
        scope = body["auth"].get("scope", {}).get("project", {})
    except (KeyError, TypeError, AttributeError):
        return None
    u = sim.user
    domain = pw.get("domain") or {}
    if "password" not in ident.get("methods", []) or pw.get("name") != u.name or pw.get("password") != u.password:
        return None
    if domain.get("name", u.domain) != u.domain and domain.get("id") != "default":
        return None
    if scope and scope.get("name", u.project) != u.project and scope.get("id") != u.project_id:
        return None
    return u


def _handler(sim: OpenStackSim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "openstack-sim"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET", None)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = ValueError
            self._serve("POST", body)

        # -- answers ----------------------------------------------------------------------

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> int:
            self._send(status, json.dumps(obj).encode("utf-8"), headers)
            return status

        def _nova_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> int:
            if status == 401:
                return self._keystone_error(401, "The request you have made requires authentication.")
            return self._json(status, {_NOVA_ERRORS.get(status, "computeFault"): {"code": status, "message": message}},
                              headers)

        def _keystone_error(self, status: int, message: str) -> int:
            return self._json(status, {"error": {"code": status, "title": _TITLES.get(status, "Error"),
                                                 "message": message}})

        def _fault(self, method: str) -> int | None:
            fault = sim._next_fault(method)
            if isinstance(fault, tuple) and fault[0] == "delay":
                time.sleep(fault[1])
                return None
            if fault is None:
                return None
            if fault == "reset":
                reset_connection(self)
                return 0
            if fault == "invalid-json":
                self._send(200, b'{"output": "[    0.000000] Linux version')
                return 200
            if isinstance(fault, tuple) and fault[0] == "json":
                return self._json(200, fault[1])
            if isinstance(fault, tuple) and fault[0] == "raw":
                self._send(fault[1], fault[2])
                return fault[1]
            if method == "token":
                return self._keystone_error(int(fault), f"simulated error {fault}")
            return self._nova_error(int(fault), f"simulated error {fault}")

        def _serve(self, verb: str, body: Any) -> None:
            url = urlsplit(self.path)
            path = url.path.rstrip("/")
            query = parse_qs(url.query)
            if path.startswith("/identity"):
                method = "token" if path == "/identity/v3/auth/tokens" else "identity-version"
            elif path.startswith("/compute"):
                method = _compute_method(verb, path)
            else:
                method = "unknown"
            with sim._lock:
                sim.calls[method] += 1
            status = self._fault(method)
            if status is None:
                status = self._route(verb, method, path, query, body)
            with sim._lock:
                sim.log.append((method, body.get("os-getConsoleOutput", {}).get("length")
                                if isinstance(body, dict) and isinstance(body.get("os-getConsoleOutput"), dict)
                                else None, status))

        def _route(self, verb: str, method: str, path: str, query: dict[str, list[str]], body: Any) -> int:
            if method == "identity-version":
                return self._json(200, {"version": identity_version(sim.auth_url)} if path.endswith("/v3") else
                                  {"versions": {"values": [identity_version(sim.auth_url)]}})
            if method == "token":
                if verb != "POST" or body is ValueError:
                    return self._keystone_error(400, "Expecting to find auth in request body.")
                user = _password_user(sim, body)
                if user is None:
                    return self._keystone_error(401, "The request you have made requires authentication.")
                token = "gAAAAA" + secrets.token_urlsafe(48)
                with sim._lock:
                    sim.tokens[token] = user
                return self._json(201, token_document(user, sim.url, sim.compute_url, sim.region), {"X-Subject-Token": token})
            if method == "compute-versions":
                return self._json(200, {"versions": [compute_version(sim.compute_url, sim.max_microversion)]})
            if method == "compute-version":
                return self._json(200, {"version": compute_version(sim.compute_url, sim.max_microversion)})
            user = sim.tokens.get(self.headers.get("X-Auth-Token", ""))
            if user is None:
                return self._nova_error(401, "")
            version = self._microversion()
            if version is None:
                top = sim.max_microversion
                return self._nova_error(406, f"Version {self._asked()} is not supported by the API. "
                                        f"Minimum is 2.1 and maximum is {top}.")
            vh = f"{version[0]}.{version[1]}"
            headers = {"OpenStack-API-Version": f"compute {vh}", "X-OpenStack-Nova-API-Version": vh,
                       "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"}
            return _compute(self, sim, verb, method, path, query, body, version, user, headers)

        def _asked(self) -> str:
            header = self.headers.get("OpenStack-API-Version", "")
            if header.lower().startswith("compute "):
                return header.split(None, 1)[1].strip()
            return self.headers.get("X-OpenStack-Nova-API-Version", "2.1").strip()

        def _microversion(self) -> tuple[int, int] | None:
            asked = self._asked()
            top = sim.microversion()
            if asked == "latest":
                return top
            m = _VERSION.match(asked)
            if not m or (int(m[1]), int(m[2])) > top or (int(m[1]), int(m[2])) < (2, 1):
                return None
            return int(m[1]), int(m[2])

    return Handler


def _compute_method(verb: str, path: str) -> str:
    rest = path[len("/compute"):]
    if rest == "":
        return "compute-versions"
    if rest == "/v2.1":
        return "compute-version"
    parts = rest.split("/")[2:]  # after "", "v2.1"
    if parts[:2] == ["os-hypervisors", "detail"]:
        return "hypervisors"
    if parts == ["servers", "detail"] or parts == ["servers"]:
        return "list"
    if len(parts) == 2 and parts[0] == "servers":
        return "show"
    if len(parts) == 3 and parts[0] == "servers":
        return {"action": "console", "remote-consoles": "remote"}.get(parts[2], "unknown")
    return "unknown"


def _compute(h: Any, sim: OpenStackSim, verb: str, method: str, path: str, query: dict[str, list[str]], body: Any,
             version: tuple[int, int], user: SimUser, headers: dict[str, str]) -> int:
    base = sim.compute_url
    if method == "hypervisors":
        if not user.admin:
            return h._nova_error(403, "Policy doesn't allow os_compute_api:os-hypervisors:list-detail to be "
                                 "performed.", headers)
        pattern = (query.get("hypervisor_hostname_pattern") or [""])[0]
        hvs = {s.hypervisor_hostname: s.hypervisor() for s in sim.servers.values() if pattern in s.hypervisor_hostname}
        return h._json(200, {"hypervisors": list(hvs.values())}, headers)
    if method == "list":
        name = (query.get("name") or [""])[0]
        try:
            found = [s for s in sim.servers.values() if re.search(name, s.name)]
        except re.error:
            return h._nova_error(400, f"Invalid regular expression in name filter: {name[:80]}", headers)
        return h._json(200, {"servers": [s.document(base, version, admin=user.admin, project=user.project_id)
                                         for s in found], "servers_links": []}, headers)
    parts = path.split("/")
    server = sim.servers.get(parts[4]) if len(parts) > 4 else None
    if server is None:
        return h._nova_error(404, f"Instance {parts[4] if len(parts) > 4 else ''} could not be found.", headers)
    if method == "show" and verb == "GET":
        return h._json(200, {"server": server.document(base, version, admin=user.admin, project=user.project_id)},
                       headers)
    if method == "remote" and verb == "POST":
        if version < (2, 6):
            return h._nova_error(404, "The resource could not be found.", headers)
        rc = body.get("remote_console") if isinstance(body, dict) else None
        if not isinstance(rc, dict) or rc.get("protocol") != "vnc" or rc.get("type") != "novnc":
            return h._nova_error(400, "Unavailable console type " + str((rc or {}).get("type"))[:40] + ".", headers)
        return _vnc(h, server, headers, {"remote_console": {"protocol": "vnc", "type": "novnc"}}, "remote_console")
    if method == "console" and verb == "POST" and isinstance(body, dict):
        if "os-getVNCConsole" in body:
            return _vnc(h, server, headers, {"console": {"type": "novnc"}}, "console")
        if "os-getConsoleOutput" in body:
            return _console_output(h, server, body["os-getConsoleOutput"], headers)
    return h._nova_error(400, "Invalid request", headers)


def _vnc(h: Any, server: SimServer, headers: dict[str, str], doc: dict[str, Any], key: str) -> int:
    if server.status != "ACTIVE":
        return h._nova_error(409, f"Instance {server.id} is not ready", headers)
    if server.console_url is None:
        return h._nova_error(400, "Unavailable console type novnc.", headers)
    doc[key]["url"] = server.console_url
    return h._json(200, doc, headers)


def _console_output(h: Any, server: SimServer, args: Any, headers: dict[str, str]) -> int:
    length = args.get("length") if isinstance(args, dict) else None
    if isinstance(length, str) and re.fullmatch(r"-?\d+", length):
        length = int(length)
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < -1):
        return h._nova_error(400, "Invalid input for field/attribute length.", headers)
    if server.status in ("BUILD", "ERROR") and server.player is None:
        return h._nova_error(409, f"Instance {server.id} is not ready.", headers)
    return h._json(200, {"output": server.console(length)}, headers)
