"""A private network namespace with a tap device, and dnsmasq serving GCE-like DHCP in it.

Everything lives inside a namespace this module creates (`ip netns add cw-<pid>-<n>`), so
no traffic leaves it; on exit (normal, exception, interpreter exit) the processes started in
it are killed by pid and the namespace is deleted. Needs root and iproute2; dnsmasq for DHCP.

GCE hands out a /32 lease whose gateway lies outside it, plus DHCP option 121 (classless
static routes) with a host route to the gateway and the default route via it:
`GCE_LEASE` reproduces that with dnsmasq.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .runner import _pdeathsig

_counter = itertools.count()
_live: set[NetNS] = set()
_lock = threading.Lock()


def _cleanup_all() -> None:
    with _lock:
        spaces = list(_live)
    for ns in spaces:
        ns.close()


atexit.register(_cleanup_all)


class NetNSError(RuntimeError):
    pass


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise NetNSError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def list_namespaces() -> list[str]:
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def cleanup_stale(prefix: str = "cw") -> list[str]:
    """Delete namespaces this module made in processes that no longer run (a SIGKILLed
    test run leaves them behind). Returns the names deleted."""
    removed = []
    for name in list_namespaces():
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit():
            if not _pid_alive(int(parts[1])):
                for pid in _ip("netns", "pids", name, check=False).stdout.split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                if _ip("netns", "del", name, check=False).returncode == 0:
                    removed.append(name)
                for leftover in Path(tempfile.gettempdir()).glob(f"{name}-*"):
                    shutil.rmtree(leftover, ignore_errors=True)
    return removed


def netns_available() -> bool:
    return shutil.which("ip") is not None and os.geteuid() == 0


@dataclass(frozen=True)
class GceLease:
    """Addresses of the GCE-like network (GCE's default VPC uses 10.128.0.0/20)."""

    client: str = "10.128.0.2"
    gateway: str = "10.128.0.1"
    host_cidr: str = "10.128.0.1/20"   # the namespace side of the tap (dnsmasq needs a subnet)
    metadata: str = "169.254.169.254"
    mtu: int = 1460
    lease_time: str = "1h"


GCE_LEASE = GceLease()


class NetNS:
    def __init__(self, prefix: str = "cw") -> None:
        self.name = f"{prefix}-{os.getpid()}-{next(_counter)}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self._procs: list[subprocess.Popen] = []
        self._open = False

    # lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> NetNS:
        cleanup_stale(self.name.split("-")[0])
        _ip("netns", "add", self.name)
        self._open = True
        with _lock:
            _live.add(self)
        _ip("-n", self.name, "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for proc in reversed(self._procs):
            _kill(proc)
        self._procs.clear()
        if self._open:
            # Anything else still running inside (by pid: only processes in our namespace).
            out = _ip("netns", "pids", self.name, check=False).stdout.split()
            for pid in out:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            for _ in range(50):
                if _ip("netns", "del", self.name, check=False).returncode == 0:
                    break
                time.sleep(0.1)
            self._open = False
        with _lock:
            _live.discard(self)
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def exists(self) -> bool:
        return self.name in list_namespaces()

    # configuration ------------------------------------------------------------------------
    def ip(self, *args: str) -> str:
        return _ip("-n", self.name, *args).stdout

    def add_tap(self, ifname: str = "tap0", cidr: str | None = None) -> str:
        self.ip("tuntap", "add", "dev", ifname, "mode", "tap")
        if cidr:
            self.ip("addr", "add", cidr, "dev", ifname)
        self.ip("link", "set", ifname, "up")
        return ifname

    def add_address(self, cidr: str, dev: str = "lo") -> None:
        self.ip("addr", "add", cidr, "dev", dev)

    def spawn(self, argv: list[str], log_name: str) -> subprocess.Popen:
        """Start argv inside the namespace (own process group, dies with us)."""
        with open(self.workdir / log_name, "wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.name, *argv], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_pdeathsig, close_fds=True,
            )
        self._procs.append(proc)
        return proc

    def log(self, log_name: str) -> str:
        try:
            return (self.workdir / log_name).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def dnsmasq(self, ifname: str, lease: GceLease = GCE_LEASE,
                classless_routes: bool = True, router: bool = True,
                extra: tuple[str, ...] = ()) -> subprocess.Popen:
        """dnsmasq serving one GCE-like /32 lease on ifname (DNS disabled); `router=False`
        sends no router option at all (dnsmasq's default is its own address); `extra` are
        further dnsmasq options (a MAC filter, --dhcp-authoritative)."""
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not Path(exe).exists():
            raise NetNSError("dnsmasq not found (Debian package dnsmasq)")
        argv = [
            exe, "--keep-in-foreground", "--log-facility=-", "--log-dhcp",
            "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--port=0",
            f"--interface={ifname}", "--bind-interfaces",
            f"--pid-file={self.workdir / 'dnsmasq.pid'}",
            f"--dhcp-leasefile={self.workdir / 'dnsmasq.leases'}",
            f"--dhcp-range={lease.client},{lease.client},{lease.lease_time}",
            "--dhcp-option=option:netmask,255.255.255.255",
            f"--dhcp-option=option:router,{lease.gateway}" if router else "--dhcp-option=option:router",
            f"--dhcp-option=option:dns-server,{lease.metadata}",
            f"--dhcp-option=option:mtu,{lease.mtu}",
        ]
        if classless_routes:
            argv.append(
                "--dhcp-option-force=option:classless-static-route,"
                f"{lease.gateway}/32,0.0.0.0,0.0.0.0/0,{lease.gateway}"
            )
        argv += extra
        proc = self.spawn(argv, "dnsmasq.log")
        _wait_for(lambda: "started" in self.log("dnsmasq.log") or proc.poll() is not None, 5)
        if proc.poll() is not None:
            raise NetNSError(f"dnsmasq exited: {self.log('dnsmasq.log')}")
        return proc

    def metadata_server(self, address: str, files: dict[str, str]) -> subprocess.Popen:
        """A plain HTTP server on address:80 (inside the namespace) serving `files`."""
        root = self.workdir / "metadata"
        for rel, text in files.items():
            p = root / rel.lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        root.mkdir(exist_ok=True)
        proc = self.spawn([sys.executable, "-m", "http.server", "--bind", address,
                           "--directory", str(root), "80"], "metadata.log")

        def listening() -> bool:
            out = subprocess.run(["ip", "netns", "exec", self.name, "ss", "-ltnH"],
                                 capture_output=True, text=True).stdout
            return f"{address}:80" in out or proc.poll() is not None

        if shutil.which("ss"):
            _wait_for(listening, 5)
        else:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise NetNSError(f"metadata server exited: {self.log('metadata.log')}")
        return proc

    def silent_server(self, address: str, port: int = 80) -> subprocess.Popen:
        """A TCP server on address:port (inside the namespace) that accepts connections and
        never sends a byte: a metadata service that hangs."""
        code = ("import socket, time\n"
                "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(({address!r}, {port})); s.listen(64); held = []\n"
                "while True: held.append(s.accept())\n")
        proc = self.spawn([sys.executable, "-c", code], "silent.log")
        time.sleep(0.5)
        if proc.poll() is not None:
            raise NetNSError(f"silent server exited: {self.log('silent.log')}")
        return proc

    def faulty_http_server(self, address: str, mode: str, port: int = 80) -> subprocess.Popen:
        """An HTTP server on address:port (inside the namespace) answering every GET the way
        a broken metadata service does (FAULTY_HTTP_MODES)."""
        if mode not in FAULTY_HTTP_MODES:
            raise ValueError(f"unknown http fault {mode!r}")
        proc = self.spawn([sys.executable, "-c", _FAULTY_HTTP, address, str(port), mode],
                          f"http-{mode}.log")
        time.sleep(0.5)
        if proc.poll() is not None:
            raise NetNSError(f"http server exited: {self.log(f'http-{mode}.log')}")
        return proc


#: what each faulty metadata service does with a GET (for meta.yaml)
FAULTY_HTTP_MODES = {
    "error": "answers every request 500 Internal Server Error",
    "forbidden": "answers 403 Forbidden unless the request carries 'Metadata-Flavor: Google' "
                 "(as GCE's metadata server does), else 200 with the value",
    "garbage": "answers 200 with an HTML page (a proxy's sign-in page) instead of the JSON",
    "slow": "answers 200, but only 30 s after the request",
}
_FAULTY_HTTP = """\
import http.server, sys, time
address, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if mode == "error":
            return self.send_error(500)
        if mode == "forbidden" and self.headers.get("Metadata-Flavor") != "Google":
            return self.send_error(403)
        if mode == "slow":
            time.sleep(30)
        body = (b"<html><head><title>Sign in</title></head><body>Network login required"
                b"</body></html>\\n" if mode == "garbage" else b"consolewatch-guest\\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if mode == "garbage" else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer((address, port), H).serve_forever()
"""


def _wait_for(cond, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    else:
        proc.wait()
