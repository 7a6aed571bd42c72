"""Run one scenario (see tests/qemu/scenarios.py) end to end: build its initramfs and disk,
set up its network, boot it under QEMU with a hard timeout, and return what it printed."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import disk as diskmod
from . import fetch, initramfs
from .netns import FAULTY_HTTP_MODES, GCE_LEASE, NetNS
from .runner import BootResult, Drive, MachineSpec, Qemu

CORRUPTIONS: dict[str, Callable[[Path], dict]] = {
    "root-dir-block": lambda fs: diskmod.corrupt_directory(fs, "/"),
    "sbin-dir-block": lambda fs: diskmod.corrupt_directory(fs, "/sbin"),
    "init-inode": lambda fs: diskmod.corrupt_inode(fs, "/sbin/init"),
}

_ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_]|c)")


def sanitize_lines(serial: bytes) -> list[str]:
    """Serial bytes as lines, the way a reader sees them: escape sequences and carriage
    returns removed, undecodable bytes replaced."""
    text = _ANSI.sub(b"", serial).replace(b"\r", b"")
    return [line.decode("utf-8", "replace") for line in text.split(b"\n")]


def write_lines(lines: Iterable[str], out: str | None = None) -> None:
    """A capture's lines, one a line, to the file `out` (a recipe script's `--out FILE`) or, with
    none, to stdout."""
    text = "\n".join(lines) + "\n"
    if out:
        Path(out).write_text(text)
    else:
        sys.stdout.write(text)


def find_line(lines: list[str], pattern: str, last: bool = True) -> str | None:
    """The last (or first) line that `pattern` matches: the last one belongs to the verdict
    boot when a capture holds several boots."""
    rx = re.compile(pattern)
    for line in (reversed(lines) if last else lines):
        if rx.search(line):
            return line
    return None


def join_screen_rows(rows: list[str], cols: int = 80) -> list[str]:
    """Logical lines of a text screen: a row filled to the last column continues on the
    next row (the console wraps long lines)."""
    out: list[str] = []
    carry = ""
    for row in rows:
        carry += row
        if len(row) >= cols:
            continue
        out.append(carry)
        carry = ""
    if carry:
        out.append(carry)
    return out


@dataclass
class Capture:
    scenario: Any
    result: BootResult
    kernel: fetch.Kernel
    busybox: fetch.Busybox | None
    disk_info: dict | None
    network_info: dict | None
    workdir: Path
    placeholders: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return sanitize_lines(self.result.serial)

    @property
    def screen_rows(self) -> list[str] | None:
        frames = self.result.frames
        return frames[-1].text if frames else None

    def argv_for_meta(self) -> list[str]:
        """The QEMU command line with machine-specific paths replaced by placeholders."""
        out = []
        for arg in self.result.argv:
            for path, name in self.placeholders.items():
                arg = arg.replace(path, name)
            out.append(arg)
        return out

    def count_boots(self) -> int:
        return len(re.findall(rb"Linux version \d", self.result.serial))


def _rootfs_files(bb: fetch.Busybox, init: str) -> dict[str, tuple[bytes | str, int]]:
    return {
        "/bin/busybox": (bb.path.read_bytes(), 0o755),
        "/sbin/init": (init, 0o755),
        "/etc/hostname": ("consolewatch-guest\n", 0o644),
        "/proc/.keep": ("", 0o644),
        "/sys/.keep": ("", 0o644),
        "/dev/.keep": ("", 0o644),
        "/tmp/.keep": ("", 0o644),
    }


def gce_network(ns: NetNS, router: bool = True, classless_routes: bool = True,
                dnsmasq_args: tuple[str, ...] = (), metadata: str = "up") -> dict:
    """GCE-like networking in `ns` on tap0: dnsmasq handing out a /32 lease with a router and
    option 121 (either can be left out; `dnsmasq_args` adds options) and an HTTP server on
    the metadata address (`metadata="down"`: nothing listens there; `"hang"`: a server that
    accepts connections and never answers; a FAULTY_HTTP_MODES key: a server answering
    wrongly). Returns what was set up (for meta.yaml)."""
    lease = GCE_LEASE
    ns.add_tap("tap0", lease.host_cidr)
    ns.add_address(f"{lease.metadata}/32", "lo")
    ns.dnsmasq("tap0", lease, classless_routes=classless_routes, router=router,
               extra=tuple(dnsmasq_args))
    if metadata == "up":
        ns.metadata_server(lease.metadata, {
            "computeMetadata/v1/instance/hostname": "consolewatch-guest\n"})
    elif metadata == "hang":
        ns.silent_server(lease.metadata)
    elif metadata in FAULTY_HTTP_MODES:
        ns.faulty_http_server(lease.metadata, metadata)
    elif metadata != "down":
        raise ValueError(f"unknown metadata mode {metadata!r}")
    return {
        "kind": "tap device in a private network namespace, dnsmasq as a "
                "GCE-like DHCP server, an HTTP server on the metadata address",
        "lease": {"address": lease.client, "netmask": "255.255.255.255",
                  "router": lease.gateway if router else None, "dns": lease.metadata,
                  "mtu": lease.mtu,
                  "option121": [f"{lease.gateway}/32 via 0.0.0.0",
                                f"0.0.0.0/0 via {lease.gateway}"] if classless_routes else None},
        "namespace_side": lease.host_cidr,
        **({"dnsmasq_options": list(dnsmasq_args)} if dnsmasq_args else {}),
        **({"metadata_server": {"down": "none (nothing listens on the metadata address)",
                                "hang": "accepts TCP connections on port 80, never answers",
                                **FAULTY_HTTP_MODES}[metadata]} if metadata != "up" else {}),
    }


def isolated_network(ns: NetNS) -> dict:
    """A tap device in `ns` with nothing behind it (no DHCP server). Returns it for meta.yaml."""
    ns.add_tap("tap0")
    return {"kind": "tap device in a private network namespace, no DHCP server"}


def run(scenario, workdir: Path | None = None, accel: str | None = None, observe=None) -> Capture:
    """Boot `scenario` once. Every resource (QEMU, namespace, dnsmasq, temp files when no
    workdir is given) is released before this returns or raises.

    `observe(vm, observer_qmp, scenario)`, if given, is called once QEMU runs and returns an object whose
    `finish()` is called when the boot has been stopped (before QEMU goes): a live consumer of
    the console (`consolewatch tail qemu:...`). `observer_qmp` is a QMP socket of its own."""
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix=f"cw-{scenario.name}-")) if own else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _run(scenario, work, accel, observe)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def _run(sc, work: Path, accel: str | None, observe=None) -> Capture:
    kernel = fetch.kernel(sc.kernel)
    bb = None
    needs_busybox = (sc.initramfs is not None and sc.initramfs.busybox) or sc.disk is not None
    if needs_busybox:
        bb = fetch.busybox()
    initrd = None
    if sc.initramfs is not None:
        initrd = work / "initrd.img"
        initrd.write_bytes(initramfs.build(sc.initramfs, bb, kernel))
    drives: list[Drive] = []
    disk_info = None
    if sc.disk is not None:
        image = work / "disk.img"
        corrupt = CORRUPTIONS[sc.disk.corrupt] if sc.disk.corrupt else None
        disk_info = diskmod.make_root_disk(
            image, _rootfs_files(bb, sc.disk.init), size_mb=sc.disk.size_mb,
            partitioned=sc.disk.partitioned, corrupt=corrupt)
        disk_info["interface"] = sc.disk.interface
        drives.append(Drive(image, sc.disk.interface))

    spec = MachineSpec(kernel=kernel.vmlinuz, initrd=initrd, append=sc.append,
                       memory_mb=sc.memory_mb, drives=drives)
    network_info: dict | None = None
    placeholders = {str(fetch.cache_dir()): "$CACHE", str(work): "$WORK"}
    with ExitStack() as stack:
        if sc.network == "user":
            spec.nic = "user"
            network_info = {"kind": "qemu user-mode networking (slirp), its built-in DHCP"}
        elif sc.network in ("isolated", "gce"):
            ns = stack.enter_context(NetNS())
            placeholders[ns.name] = "$NETNS"
            if sc.network == "isolated":
                network_info = isolated_network(ns)
            else:
                network_info = gce_network(ns)
            spec.nic = "tap"
            spec.netns = ns.name
        elif sc.network != "none":
            raise ValueError(f"unknown network {sc.network!r}")
        qdir = work / "qemu"
        qdir.mkdir(exist_ok=True)
        observer_qmp = qdir / "observer-qmp.sock"
        if observe is not None:
            spec.extra_args += ["-qmp", f"unix:{observer_qmp},server=on,wait=off"]
        vm = stack.enter_context(Qemu(spec, accel=accel, workdir=qdir))
        watcher = observe(vm, observer_qmp, sc) if observe is not None else None
        try:
            if sc.screen:
                result = vm.wait(sc.timeout, stop=sc.stop, frame_interval=1.0,
                                 screen_stable=sc.screen_stable, min_time=4.0, screen_text=True,
                                 screen_stop=sc.screen_stop)
            else:
                result = vm.wait(sc.timeout, stop=sc.stop)
        finally:
            if watcher is not None:
                watcher.finish()
    capture = Capture(sc, result, kernel, bb, disk_info, network_info, work, placeholders)
    capture.live = watcher
    return capture
