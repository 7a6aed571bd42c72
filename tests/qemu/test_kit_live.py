"""The kit against the real Debian packages: kernel and busybox fetched into the cache,
module dependencies read from .modinfo, an initramfs the kernel boots."""

from __future__ import annotations

import os
import stat

from guestkit import fetch, initramfs
from guestkit.cpio import read_newc
from guestkit.modules import ModuleTree, modinfo
from guestkit.runner import MachineSpec, Qemu, StopRule


def test_cache_is_outside_the_repo_and_overridable(tmp_path, monkeypatch):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert not str(fetch.cache_dir()).startswith(repo + os.sep)
    monkeypatch.setenv("CONSOLEWATCH_QEMU_CACHE", str(tmp_path / "c"))
    assert fetch.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_fetched_kernel_is_a_debian_cloud_kernel(guest_kit):
    kernel, bb = guest_kit
    assert kernel.vmlinuz.is_file() and kernel.modules_dir.is_dir()
    assert kernel.release.endswith("-cloud-amd64")
    # The facts the scenarios rely on.
    assert kernel.config("BLK_DEV_NVME") == "y"
    assert kernel.config("VIRTIO_BLK") == "m"
    assert kernel.config("EXT4_FS") == "y"
    assert kernel.config("VIRTIO_NET") == "m"
    assert bb.path.is_file() and os.access(bb.path, os.X_OK)


def test_module_dependencies_come_from_modinfo(guest_kit):
    kernel, _ = guest_kit
    tree = ModuleTree(kernel.modules_dir)
    info = modinfo(tree.path("virtio_net"))
    assert info["name"] == ["virtio_net"]
    order = tree.load_order(["virtio_net", "virtio_pci"])
    assert {"virtio", "virtio_ring", "failover", "net_failover"} <= set(order)
    assert_dependencies_first(tree, order, ["virtio_net", "virtio_pci"])


def dependencies(tree: ModuleTree, name: str) -> list[str]:
    """What modinfo says `name` needs loaded first."""
    return [d.replace("-", "_") for d in modinfo(tree.path(name)).get("depends", [""])[0].split(",") if d]


def assert_dependencies_first(tree: ModuleTree, order: list[str], wanted: list[str]) -> None:
    """Every wanted module and everything it needs (by modinfo, transitively) is present once,
    each after its own dependencies. Which of two independent modules comes first is the
    kernel package's business: Debian 12's point releases list them differently."""
    assert len(order) == len(set(order)), order
    needed, todo = set(), list(wanted)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += dependencies(tree, name)
    assert set(order) == needed, (order, needed)
    for name in order:
        for dep in dependencies(tree, name):
            assert order.index(dep) < order.index(name), f"{dep} must load before {name}: {order}"


def test_initramfs_contents(guest_kit):
    kernel, bb = guest_kit
    spec = initramfs.InitramfsSpec("echo x\n", modules=["virtio_blk"],
                                   files={"/etc/x": ("y", 0o600)})
    entries = {e.name: e for e in read_newc(initramfs.build(spec, bb, kernel))}
    assert entries["init"].data.decode() == initramfs.init_text(spec)
    assert stat.S_IMODE(entries["init"].mode) == 0o755
    assert entries["dev/console"].kind == "chardev"
    assert entries["bin/busybox"].data == bb.path.read_bytes()
    order = entries["etc/modules.order"].data.decode().split()
    assert_dependencies_first(ModuleTree(kernel.modules_dir), order, ["virtio_blk"])
    assert {"virtio", "virtio_ring", "virtio_blk"} <= set(order) and order[-1] == "virtio_blk"
    assert all(f"lib/modules/{name}.ko" in entries for name in order)
    assert entries["etc/x"].data == b"y"


def test_kernel_boots_the_initramfs(guest_kit, tmp_path):
    """The kernel unpacks our cpio, runs /init, insmods a module, and init's output and the
    module's own kernel line reach the serial port."""
    kernel, bb = guest_kit
    spec = initramfs.InitramfsSpec("echo kit-initramfs-ok\n" + "while :; do sleep 9; done\n",
                                   modules=["virtio_blk"])
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(initramfs.build(spec, bb, kernel))
    with Qemu(MachineSpec(kernel=kernel.vmlinuz, initrd=initrd, append="console=ttyS0")) as vm:
        res = vm.wait(timeout=60, stop=[StopRule("kit-initramfs-ok", settle=0.2)])
    assert res.reason == "stop-rule", res.serial[-2000:]
    assert b"Run /init as init process" in res.serial
    assert b"Linux version " + kernel.release.encode() in res.serial
