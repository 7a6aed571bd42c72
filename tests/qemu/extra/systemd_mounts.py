#!/usr/bin/env python3
"""Capture real consoles of systemd failing to mount a data disk at /data.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/systemd_pid1.py does,
with the same initramfs (Debian 12's systemd 252 as PID 1 with its unit files) plus util-linux
mount and a blank virtio disk. /data.mount is what systemd-fstab-generator writes for an fstab
line (Before=local-fs.target), the disk named through a node outside /dev (/blk/vda) because no
udev runs here to announce device units:

- qemu-systemd-data-mount-required-emergency: local-fs.target requires the mount (an fstab line
  without nofail); the mount fails, Local File Systems fails and systemd isolates emergency.target.
- qemu-systemd-data-mount-nofail-ready: local-fs.target only wants it (nofail); the mount fails
  and the boot goes on to the multi-user target.
- qemu-systemd-data-mount-required-by-name: the first again with systemd.status_unit_format=name
  (systemd 243+): the status lines name units instead of describing them.

    python tests/qemu/extra/systemd_mounts.py [NAME...] [--show]
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import capture  # noqa: E402
import systemd_pid1  # noqa: E402
from guestkit import fetch, hostfiles, initramfs  # noqa: E402
from guestkit.boot import Capture  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import Drive, MachineSpec, Qemu, StopRule  # noqa: E402
from scenarios import Scenario  # noqa: E402

DATA_MOUNT = ("[Unit]\nDocumentation=man:fstab(5) man:systemd-fstab-generator(8)\nBefore=local-fs.target\n\n"
              "[Mount]\nWhat=/blk/vda\nWhere=/data\nType=ext4\nOptions=defaults\n")
INIT = ("mkdir -p /run && mount -t tmpfs -o mode=755 tmpfs /run\n"
        "mkdir -p /blk /data && mknod /blk/vda b $(tr ':' ' ' < /sys/block/vda/dev)\n"
        + systemd_pid1.EXEC_SYSTEMD)

REQUIRED = Scenario(
    name="qemu-systemd-data-mount-required-emergency",
    title="A data disk required by Local File Systems fails to mount: emergency mode",
    injected="a blank virtio disk mounted as ext4 at /data by a mount unit that local-fs.target "
             "requires (an fstab line without nofail); systemd 252 as PID 1",
    append="console=ttyS0",
    stop=[StopRule(r"Emergency Mode", settle=3.0)],
    timeout=55,
    memory_mb=512,
    outcome="failure",
    categories=["init.unit-failed", "disk.fs-error", "init.emergency-mode"],
    evidence={"init.unit-failed": [r"^\[FAILED\] Failed to mount data\.mount - /data\.$"],
              "disk.fs-error": [r"EXT4-fs \(vda\): VFS: Can't find ext4 filesystem"],
              "init.emergency-mode": [r"^\[  OK  \] Reached target emergency\.target - Emergency Mode\.$"]},
    notes="The kernel finds no ext4 on the blank disk, the mount unit fails, local-fs.target "
          "fails with it (its name cut short on the status line: \"loca…s.target\") and systemd "
          "starts the emergency shell.",
)

NOFAIL = Scenario(
    name="qemu-systemd-data-mount-nofail-ready",
    title="An optional (nofail) data disk fails to mount, the boot reaches multi-user",
    injected="a blank virtio disk mounted as ext4 at /data by a mount unit that local-fs.target "
             "only wants (an fstab line with nofail); systemd 252 as PID 1",
    append="console=ttyS0",
    stop=[StopRule(r"Multi-User System", settle=2.0)],
    timeout=55,
    memory_mb=512,
    outcome="success",
    categories=["boot.success", "init.unit-failed", "disk.fs-error"],
    evidence={"init.unit-failed": [r"^\[FAILED\] Failed to mount data\.mount - /data\.$"],
              "boot.success": [r"^\[  OK  \] Reached target default\.target - Multi-User System\.$"]},
    notes="The same failed mount, but nothing requires it: Local File Systems is reached and the "
          "boot reaches the multi-user target. The failure is a warning, the verdict success.",
)


BY_NAME = dataclasses.replace(
    REQUIRED,
    name="qemu-systemd-data-mount-required-by-name",
    title="A required data disk fails to mount, status lines by unit name: emergency mode",
    injected="as qemu-systemd-data-mount-required-emergency, with systemd.status_unit_format=name "
             "on the kernel command line",
    append="console=ttyS0 systemd.status_unit_format=name",
    stop=[StopRule(r"emergency\.target", settle=3.0)],
    evidence={"init.unit-failed": [r"^\[FAILED\] Failed to mount data\.mount\.$"],
              "disk.fs-error": [r"EXT4-fs \(vda\): VFS: Can't find ext4 filesystem"],
              "init.emergency-mode": [r"^\[  OK  \] Reached target emergency\.target\.$"]},
    notes="The same failure as qemu-systemd-data-mount-required-emergency; systemd names the units "
          "(\"Failed to mount data.mount.\", \"Dependency failed for local-fs.target.\", \"Reached "
          "target emergency.target.\") instead of describing them.",
)


def files(required: bool) -> dict[str, tuple[bytes | str, int]]:
    out = systemd_pid1.systemd_files()
    out.update(hostfiles.program_files(Path("/usr/bin/mount"), "/bin/mount"))  # systemd runs /bin/mount
    out["/etc/systemd/system/data.mount"] = (DATA_MOUNT, 0o644)
    dep = "Requires" if required else "Wants"
    out["/etc/systemd/system/local-fs.target.d/data.conf"] = (f"[Unit]\n{dep}=data.mount\n", 0o644)
    return out


def run(sc: Scenario) -> Capture:
    """Boot `sc` with a blank 16 MiB data disk; every resource is released before returning."""
    work = Path(tempfile.mkdtemp(prefix=f"cw-{sc.name}-"))
    try:
        kernel, bb = fetch.kernel(sc.kernel), fetch.busybox()
        initrd = work / "initrd.img"
        initrd.write_bytes(initramfs.build(sc.initramfs, bb, kernel))
        blank = work / "data.img"
        subprocess.run(["truncate", "-s", "16M", str(blank)], check=True)
        spec = MachineSpec(kernel=kernel.vmlinuz, initrd=initrd, append=sc.append, memory_mb=sc.memory_mb,
                           drives=[Drive(blank, "virtio", "cwd0")])
        qdir = work / "qemu"
        qdir.mkdir()
        with Qemu(spec, workdir=qdir) as vm:
            result = vm.wait(sc.timeout, stop=sc.stop)
        disk = {"data": {"size_mb": 16, "filesystem": None, "interface": "virtio",
                         "note": "blank: no file system at all"}}
        return Capture(sc, result, kernel, bb, disk, None, work,
                       {str(fetch.cache_dir()): "$CACHE", str(work): "$WORK"})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # systemd, not the kit's /init, prints these consoles
    names = [a for a in argv if not a.startswith("--")]
    for sc in (REQUIRED, NOFAIL, BY_NAME):
        if names and sc.name not in names:
            continue
        sc.initramfs = InitramfsSpec(INIT, modules=["virtio_blk", "virtio_pci"], files=files(sc is not NOFAIL))
        cap = run(sc)
        if cap.result.reason != "stop-rule":
            raise SystemExit(f"{sc.name}: boot ended by {cap.result.reason}")
        if "--show" in argv:
            print("\n".join(cap.lines))
            continue
        capture.write_extra_sample(
            cap, "produced by tests/qemu/extra/systemd_mounts.py: a real Debian kernel booted under QEMU "
                 "with the guest kit, Debian 12's systemd 252 as PID 1 and util-linux mount",
            systemd={"package": "systemd", "version": systemd_pid1.systemd_version()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
