"""Run one blind-set scenario (tests/qemu/blind_scenarios.py): like guestkit.boot, plus what
those faults need — data disks from guestkit.datadisk, host programs in the initramfs, no
-kernel at all (the BIOS boots a disk), and monitor commands sent to the running machine when
its console reaches a line (an NMI, a machine check)."""

from __future__ import annotations

import dataclasses
import gzip
import io
import re
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from consolewatch.cpio import NewcWriter, pad4

from . import datadisk, fetch, hostfiles, initramfs
from . import disk as diskmod
from .boot import Capture, _rootfs_files, gce_network, isolated_network
from .modules import ModuleTree, read_ko
from .netns import NetNS
from .runner import QMP, Drive, MachineSpec, Qemu


class _Actions(threading.Thread):
    """Sends each action's monitor command once the serial log matches its pattern."""

    def __init__(self, vm: Qemu, qmp_path: Path, actions) -> None:
        super().__init__(daemon=True)
        self.vm, self.qmp_path, self.actions = vm, qmp_path, list(actions)
        self.done: list[dict] = []
        self._halt = threading.Event()

    def run(self) -> None:
        qmp = None
        try:
            for action in self.actions:
                rx = re.compile(action.after.encode())
                while not rx.search(self.vm.serial()):
                    if self._halt.wait(0.1) or not self.vm.running:
                        return
                if self._halt.wait(action.delay):
                    return
                qmp = qmp or QMP(str(self.qmp_path))
                if action.qmp:
                    reply = qmp.execute(action.qmp)
                else:
                    reply = qmp.execute("human-monitor-command", **{"command-line": action.hmp})
                self.done.append({"after": action.after, "delay_s": action.delay,
                                  "command": action.qmp or f"hmp: {action.hmp}",
                                  "reply": str(reply).strip()})
        finally:
            if qmp is not None:
                qmp.close()

    def finish(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def padding_archive(size_mb: int, name: str = "padding.bin") -> bytes:
    """A gzip'd newc archive holding one top-level file of `size_mb` MB of zeros: tiny
    compressed, large unpacked (the kernel unpacks concatenated archives in order)."""
    if not size_mb:
        return b""
    size = size_mb << 20
    fields = (1, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0)
    header = b"070701" + "".join(f"{v:08X}" for v in fields).encode() + name.encode() + b"\0"
    header += b"\0" * pad4(len(header))
    trailer = NewcWriter().to_bytes()   # an empty archive is just the trailer entry
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(header)
        chunk = bytes(1 << 20)
        for _ in range(size_mb):
            gz.write(chunk)
        gz.write(trailer)
    return out.getvalue()


def _initrd(sc, work: Path, kernel: fetch.Kernel, bb: fetch.Busybox) -> Path | None:
    if sc.initramfs is None:
        return None
    spec = sc.initramfs
    extra: dict = {}
    for program, guest_path in sc.host_programs.items():
        extra.update(hostfiles.program_files(Path(program), guest_path))
    for package, paths in sc.package_files.items():
        tree, _version = fetch.package(package)
        for path in paths:
            extra.update(hostfiles.tree_files(tree, path))
    if sc.loose_modules:
        tree = ModuleTree(kernel.modules_dir)
        for name in sc.loose_modules:
            extra[f"/lib/extra/{name}.ko"] = (read_ko(tree.path(name)), 0o644)
    for path in sc.initrd_drop:
        if extra.pop(path, None) is None:
            raise ValueError(f"initrd_drop: {path} is not in the image")
    if extra:
        spec = dataclasses.replace(spec, files={**extra, **spec.files},
                                   sh_link="/bin/sh" not in extra)
    image = initramfs.build(spec, bb, kernel)
    if sc.initrd_overwrite:
        image = b"\x5a" * sc.initrd_overwrite + image[sc.initrd_overwrite:]
    path = work / "initrd.img"
    path.write_bytes(padding_archive(sc.initrd_padding_mb) + image)
    return path


def _drives(sc, work: Path, bb: fetch.Busybox) -> tuple[list[Drive], dict, list[str]]:
    drives: list[Drive] = []
    info: dict = {}
    late: list[str] = []
    if sc.root_disk is not None:
        image = work / "root.img"
        files = {p: f for p, f in _rootfs_files(bb, sc.root_disk.init).items()
                 if p not in sc.root_links}
        info["root"] = diskmod.make_root_disk(image, files, symlinks=sc.root_links or None,
                                              size_mb=sc.root_disk.size_mb)
        if sc.root_links:
            info["root"]["symlinks"] = dict(sc.root_links)
        info["root"]["interface"] = sc.root_disk.interface
        if sc.root_hotplug:
            late = ["-drive", f"file={image},if=none,id=late,format=raw"]
            info["root"]["attached"] = "later, by the monitor command device_add (hot-plug)"
        else:
            drives.append(Drive(image, sc.root_disk.interface))
    if sc.data == "xfs-pair":
        first, second = work / "data0.img", work / "data1.img"
        info["data"] = datadisk.xfs_pair(first, second)
        drives += [Drive(first, "virtio", "cwd0"), Drive(second, "virtio", "cwd1")]
    elif sc.data is not None:
        image = work / "data0.img"
        info["data"] = datadisk.BUILDERS[sc.data](image)
        if sc.data_blkdebug:   # QEMU's blkdebug driver between the disk and its image
            rules = work / "blkdebug.cfg"
            rules.write_text(sc.data_blkdebug)
            info["data"]["blkdebug"] = sc.data_blkdebug
            image = Path(f"blkdebug:{rules}:{image}")
        drives.append(Drive(image, sc.data_interface, "cwd0", sc.data_options))
    if info.get("data") is not None:
        info["data"]["interface"] = sc.data_interface
    for n, (builder, interface) in enumerate(sc.extra_disks, start=1):
        image = work / f"extra{n}.img"
        info.setdefault("more", []).append({**datadisk.BUILDERS[builder](image),
                                            "interface": interface})
        drives.append(Drive(image, interface, f"cwx{n}"))
    return drives, info, late


def work_files(sc, work: Path) -> list[str]:
    """Write the scenario's work_files under `work`; its qemu_args with $WORK resolved."""
    for rel, content in sc.work_files.items():
        if callable(content):   # made at boot time (a kernel from the cache)
            content = content()
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)
    return [a.replace("$WORK", str(work)) for a in sc.qemu_args]


def run(sc, accel: str | None = None) -> Capture:
    """Boot blind scenario `sc` once; every resource is released before this returns."""
    work = Path(tempfile.mkdtemp(prefix=f"cw-blind-{sc.name}-"))
    try:
        return _run(sc, work, accel)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(sc, work: Path, accel: str | None) -> Capture:
    kernel = fetch.kernel(sc.kernel)
    bb = fetch.busybox()
    initrd = _initrd(sc, work, kernel, bb)
    drives, disk_info, late = _drives(sc, work, bb)
    spec = MachineSpec(kernel=None if sc.no_kernel else kernel.vmlinuz, initrd=initrd,
                       append=sc.append, memory_mb=sc.memory_mb, drives=drives,
                       nic_rom=sc.nic_rom, extra_args=[*late, *work_files(sc, work)])
    placeholders = {str(fetch.cache_dir()): "$CACHE", str(work): "$WORK"}
    network_info = None
    with ExitStack() as stack:
        if sc.network in ("gce", "gce-no-router", "gce-no-121"):
            ns = stack.enter_context(NetNS())
            placeholders[ns.name] = "$NETNS"
            network_info = gce_network(ns, router=sc.network != "gce-no-router",
                                       classless_routes=sc.network == "gce",
                                       dnsmasq_args=tuple(sc.dnsmasq_args),
                                       metadata=sc.metadata)
            spec.nic, spec.netns = "tap", ns.name
        elif sc.network == "isolated":
            ns = stack.enter_context(NetNS())
            placeholders[ns.name] = "$NETNS"
            network_info = isolated_network(ns)
            spec.nic, spec.netns = "tap", ns.name
        elif sc.network == "user":
            spec.nic = "user"
            network_info = {"kind": "qemu user-mode networking (slirp), its built-in DHCP"}
        if sc.nic_rom and network_info is not None:
            network_info["nic_option_rom"] = "QEMU's default for the NIC model (iPXE)"
        qdir = work / "qemu"
        qdir.mkdir()
        actions_qmp = qdir / "actions-qmp.sock"
        if sc.actions:
            spec.extra_args += ["-qmp", f"unix:{actions_qmp},server=on,wait=off"]
        vm = stack.enter_context(Qemu(spec, accel=accel, workdir=qdir))
        actor = _Actions(vm, actions_qmp, sc.actions) if sc.actions else None
        if actor is not None:
            time.sleep(0.2)
            actor.start()
        try:
            if sc.screen:
                result = vm.wait(sc.timeout, stop=sc.stop, frame_interval=1.0,
                                 min_time=4.0, screen_text=True)
            else:
                result = vm.wait(sc.timeout, stop=sc.stop)
        finally:
            if actor is not None:
                actor.finish()
    cap = Capture(sc, result, kernel, bb, disk_info or None, network_info, work, placeholders)
    cap.actions = actor.done if actor is not None else []
    return cap
