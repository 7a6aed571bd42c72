#!/usr/bin/env python3
"""Capture real screens of Debian's initramfs-tools giving up and dropping to its shell.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/poweroff.py does.
The initrd carries Debian 12's own initramfs-tools scripts (initramfs-tools-core
0.142+deb12u3: /init, scripts/functions, scripts/local, scripts/nfs, conf/initramfs.conf) and klibc's
run-init (klibc-utils 2.0.12-1) and the host's util-linux blkid with its libraries, from the .deb files in the apt cache or any given directory
of extracted packages, next to the kit's busybox. A two-line wrapper installs busybox's
applets (what initramfs-tools' busybox hook does) and execs the real /init; an init-top script
loads the kit's modules with insmod (prints nothing). The kernel writes to the serial port and
the VGA screen (console=ttyS0 console=tty0: /dev/console is tty0), so the scripts' messages,
BusyBox's banner and the "(initramfs)" prompt are on the screen only.

- qemu-itools-no-root-device: root=/dev/vdz, a disk that is not there: after ~30 s "Gave up
  waiting for root file system device", "ALERT!  /dev/vdz does not exist.  Dropping to a shell!".
- qemu-itools-root-mount-failed: root=/dev/vda1 rootfstype=xfs on an ext4 partition: "Failed to
  mount /dev/vda1 as root file system."
- qemu-itools-no-init: root=/dev/vda1 is an ext4 data volume (no /sbin/init, no fallback):
  "Target filesystem doesn't have requested /sbin/init.", "No init found. Try passing init= bootarg."
- qemu-itools-selftest-then-root-wait: the generic kernel, whose test_bpf module (loaded by an
  init-top script) prints "Summary: 60 PASSED, 0 FAILED", then root=/dev/vdz; the serial console
  is /dev/console, so "Begin: Waiting for root file system ..." is on the serial log, captured
  15 s into the wait: an early ready line followed by a stall.

Two more drop to a shell the way a hand-written busybox /init does (`... || exec sh`): the
kit's own /init, no initramfs-tools:

- qemu-init-fallback-shell-mount-failed: mount of /dev/vda1 fails (no disk attached), then
  `exec sh`: busybox's mount error, its shell banner, "sh: can't access tty; job control
  turned off" and the "/ #" prompt.
- qemu-init-fallback-shell-switch-root-usage: switch_root run without exec (not PID 1) prints
  its usage and fails, then `exec sh`.
- qemu-init-fallback-shell-command-not-found: /init runs /sbin/lvm, which the initramfs lacks
  (ash: "/init: line N: /sbin/lvm: not found"), then `exec sh`.

And one where systemd gives up: qemu-systemd-emergency-root-locked: Debian 12's systemd 252 as
PID 1 (tests/qemu/extra/systemd_pid1.py's files), local-fs.target requiring a mount of
/dev/vdz (no such disk, its job timeout 3 s): "Dependency failed for Local File Systems", the
emergency target, and sulogin (util-linux, this machine's) with root locked: "Cannot open access
to console, the root account is locked."

    python tests/qemu/extra/initramfs_tools_shell.py [NAME...] [--show] [--debs DIR]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot  # noqa: E402
from guestkit.hostfiles import program_files  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import DiskSpec, Scenario  # noqa: E402
from systemd_pid1 import EXEC_SYSTEMD, TMPFS_RUN, systemd_files  # noqa: E402

PACKAGES = ("initramfs-tools-core_0.142+deb12u3_all", "klibc-utils_2.0.12-1_amd64", "libklibc_2.0.12-1_amd64")
WRAPPER = "#!/bin/busybox sh\n/bin/busybox --install -s /bin\nexec /init.initramfs-tools\n"
LOAD_MODULES = "#!/bin/sh\nfor m in $(cat /etc/modules.order); do insmod /lib/modules/$m.ko; done\n"
SHELL_PROMPT = StopRule(r"\(initramfs\)", settle=1.0)  # over the VGA text
FALLBACK_PROMPT = StopRule(r"job control turned off", settle=1.0)


def itools_files(root: Path) -> dict[str, tuple[bytes | str, int]]:
    share = root / "usr/share/initramfs-tools"
    files: dict[str, tuple[bytes | str, int]] = {
        "/init.initramfs-tools": (share.joinpath("init").read_bytes(), 0o755),
        "/scripts/functions": (share.joinpath("scripts/functions").read_bytes(), 0o644),
        "/scripts/local": (share.joinpath("scripts/local").read_bytes(), 0o644),
        "/scripts/nfs": (share.joinpath("scripts/nfs").read_bytes(), 0o644),
        "/conf/initramfs.conf": (root.joinpath("etc/initramfs-tools/initramfs.conf").read_bytes(), 0o644),
        "/conf/arch.conf": ("DPKG_ARCH=amd64\n", 0o644),
        "/scripts/init-top/cw-modules": (LOAD_MODULES, 0o755),
        "/scripts/init-top/ORDER": ("/scripts/init-top/cw-modules \"$@\"\n", 0o644),
        "/bin/run-init": (root.joinpath("usr/lib/klibc/bin/run-init").read_bytes(), 0o755),
    }
    files.update(program_files(Path("/sbin/blkid")))  # util-linux's, as the initramfs-tools hook copies it
    for lib in root.joinpath("lib").glob("klibc-*.so"):
        files[f"/lib/{lib.name}"] = (lib.read_bytes(), 0o755)
    return files


def extract(debs: Path, out: Path) -> Path:
    for p in PACKAGES:
        subprocess.run(["dpkg-deb", "-x", str(debs / f"{p}.deb"), str(out)], check=True)
    return out


def scenarios(files: dict[str, tuple[bytes | str, int]]) -> list[Scenario]:
    spec = dict(initramfs=InitramfsSpec(WRAPPER, raw_init=True, files=files,
                                        modules=["virtio_blk", "virtio_pci"]),
                screen=True, screen_stop=SHELL_PROMPT, timeout=58, outcome="failure")
    fallback = dict(append="console=ttyS0 console=tty0", screen=True, screen_stop=FALLBACK_PROMPT, timeout=45,
                    outcome="failure")
    note = ("Real initramfs-tools scripts under a Debian 12 cloud kernel; the shell waits for "
            "input on the screen: the boot stopped in the initramfs.")
    return [
        Scenario(name="qemu-itools-no-root-device",
                 title="initramfs-tools gives up waiting for the root device and drops to its shell",
                 injected="root=/dev/vdz: no such disk (one virtio disk, vda, is attached)",
                 append="console=ttyS0 console=tty0 root=/dev/vdz", disk=DiskSpec("virtio"),
                 categories=["disk.root-not-found", "init.emergency-mode"], notes=note, **spec),
        Scenario(name="qemu-itools-root-mount-failed",
                 title="initramfs-tools cannot mount the root file system and drops to its shell",
                 injected="root=/dev/vda1 rootfstype=xfs: the partition holds ext4",
                 append="console=ttyS0 console=tty0 root=/dev/vda1 rootfstype=xfs",
                 disk=DiskSpec("virtio"),
                 categories=["disk.driver-missing", "disk.fs-error", "init.emergency-mode"],
                 notes="rootfstype=xfs: this kernel has no xfs driver loaded, so busybox mount says "
                       "'No such device' (a failed mount, the file system's driver missing). " + note, **spec),
        Scenario(name="qemu-itools-no-init",
                 title="initramfs-tools mounts the root but finds no init, and drops to its shell",
                 injected="root=/dev/vda1: an ext4 data volume (the kit's root files without "
                          "/sbin/init), so no init and none of the fallbacks is there",
                 append="console=ttyS0 console=tty0 root=/dev/vda1",
                 disk=DiskSpec("virtio"),
                 categories=["init.not-found", "init.emergency-mode"], notes=note, **spec),
        Scenario(name="qemu-init-fallback-shell-mount-failed",
                 title="A busybox /init cannot mount the root and falls back to a shell",
                 injected="/init runs `mount -t ext4 /dev/vda1 /newroot || exec sh`; no disk is attached",
                 initramfs=InitramfsSpec("mkdir -p /newroot\nmount -t ext4 /dev/vda1 /newroot || exec sh\n"
                                         "exec switch_root /newroot /sbin/init\n", modules=["virtio_blk", "virtio_pci"]),
                 **fallback,
                 categories=["disk.root-not-found", "init.emergency-mode"],
                 notes="The kit's busybox /init; the shell it falls back to waits for input."),
        Scenario(name="qemu-init-fallback-shell-switch-root-usage",
                 title="A busybox /init's switch_root fails (not PID 1) and it falls back to a shell",
                 injected="/init runs `switch_root /newroot /sbin/init || exec sh` without exec: "
                          "switch_root refuses (PID must be 1) and prints its usage",
                 initramfs=InitramfsSpec("mkdir -p /newroot\nswitch_root /newroot /sbin/init || exec sh\n"),
                 **fallback,
                 categories=["init.emergency-mode"],
                 notes="The kit's busybox /init; the hand-over fails and the shell it falls back to "
                       "waits for input."),
        Scenario(name="qemu-init-fallback-shell-command-not-found",
                 title="A busybox /init cannot run a tool it needs and falls back to a shell",
                 injected="/init runs `/sbin/lvm vgchange -ay || exec sh`; the initramfs has no lvm",
                 initramfs=InitramfsSpec("/sbin/lvm vgchange -ay || exec sh\n"),
                 **fallback,
                 categories=["init.emergency-mode"],
                 notes="The kit's busybox /init; its shell reports the missing command, then the "
                       "shell it falls back to waits for input."),
        Scenario(name="qemu-systemd-emergency-root-locked",
                 title="systemd cannot mount a required file system, enters emergency mode, root is locked",
                 injected="local-fs.target requires data.mount (What=/dev/vdz, no such disk; the device "
                          "job times out after 3 s); /etc/shadow locks root",
                 append="console=ttyS0 console=tty0", memory_mb=512,
                 initramfs=InitramfsSpec(TMPFS_RUN + "\n" + EXEC_SYSTEMD, files=emergency_files()),
                 screen=True, screen_stop=StopRule(r"root account is locked", settle=2.0), timeout=58,
                 outcome="failure", categories=["init.emergency-mode", "init.unit-failed"],
                 notes="systemd 252 as PID 1; the emergency shell cannot be entered (root locked): "
                       "the machine waits on the console."),
    ]


def selftest_then_root_wait(files: dict[str, tuple[bytes | str, int]]) -> Scenario:
    """A kernel self-test passes (its summary is a ready line), then the initramfs waits for a
    root device that never comes: the early summary must not end the wait as a success."""
    from poweroff import TEST_BPF, test_bpf_ko

    files = {**files, "/lib/test_bpf.ko": (test_bpf_ko(), 0o644),
             "/scripts/init-top/cw-selftest": ("#!/bin/sh\n" + TEST_BPF, 0o755),
             "/scripts/init-top/ORDER": ("/scripts/init-top/cw-modules \"$@\"\n"
                                         "/scripts/init-top/cw-selftest \"$@\"\n", 0o644)}
    return Scenario(
        name="qemu-itools-selftest-then-root-wait",
        title="The kernel's BPF self-test passes in the initramfs, then it waits for a root device that never comes",
        injected="the generic kernel; an init-top script loads test_bpf.ko (test_range=0,59: 0 FAILED); "
                 "root=/dev/vdz: no such disk (one virtio disk, vda, is attached); captured until 15 s "
                 "after 'Waiting for root file system' (initramfs-tools gives up after 30 s)",
        append="console=tty0 console=ttyS0 root=/dev/vdz", kernel="generic",
        disk=DiskSpec("virtio"),
        initramfs=InitramfsSpec(WRAPPER, raw_init=True, files=files, modules=["virtio_blk", "virtio_pci"]),
        stop=[StopRule(r"Waiting for root file system", settle=15.0)], timeout=58,
        outcome="stall", categories=["disk.root-not-found"],
        evidence={"disk.root-not-found": [r"Begin: Waiting for root file system"]},
        notes="Real initramfs-tools scripts under the generic Debian 12 kernel (serial console last, so "
              "the scripts write to ttyS0). A self-test's summary early in the boot is not the machine "
              "up: the capture ends while the initramfs is still waiting for root=/dev/vdz, a stall.")


def emergency_files() -> dict[str, tuple[bytes | str, int]]:
    files = systemd_files()
    for prog in ("/lib/systemd/systemd-sulogin-shell", "/sbin/sulogin", "/bin/systemctl"):
        files.update(program_files(Path(prog)))
    files["/etc/passwd"] = ("root:x:0:0:root:/root:/bin/sh\n", 0o644)
    files["/etc/group"] = ("root:x:0:\n", 0o644)
    files["/etc/shadow"] = ("root:*:19000:0:99999:7:::\n", 0o600)
    files["/etc/systemd/system/data.mount"] = ("[Unit]\nDescription=/data\n\n[Mount]\nWhat=/dev/vdz\n"
                                               "Where=/data\nType=ext4\n", 0o644)
    files["/etc/systemd/system/dev-vdz.device.d/timeout.conf"] = ("[Unit]\nJobRunningTimeoutSec=3\n", 0o644)
    files["/etc/systemd/system/local-fs.target.d/data.conf"] = ("[Unit]\nRequires=data.mount\nAfter=data.mount\n",
                                                                0o644)
    files["/data/.keep"] = ("", 0o644)
    return files


ROOTFS_FILES = boot._rootfs_files


def _without_init(bb, init: str) -> dict[str, tuple[bytes | str, int]]:
    return {k: v for k, v in ROOTFS_FILES(bb, init).items() if k != "/sbin/init"}


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--") and not Path(a).is_dir()]
    debs = Path(argv[argv.index("--debs") + 1]) if "--debs" in argv else Path("/var/cache/apt/archives")
    capture.check = lambda cap: None  # the stop is on the screen's prompt, not a serial line
    with tempfile.TemporaryDirectory(prefix="cw-itools-") as tmp:
        files = itools_files(extract(debs, Path(tmp)))
        for sc in [*scenarios(files), selftest_then_root_wait(files)]:
            if names and sc.name not in names:
                continue
            if sc.name == "qemu-itools-no-init":  # a data volume: the kit's root files but no init
                boot._rootfs_files = _without_init
            try:
                cap = boot.run(sc)
            finally:
                boot._rootfs_files = ROOTFS_FILES
            if "--show" in argv:
                print("\n".join(cap.screen_rows or cap.lines))
                continue
            capture.write_extra_sample(cap, "produced by tests/qemu/extra/initramfs_tools_shell.py: a real "
                                            "Debian kernel and Debian 12's initramfs-tools scripts booted "
                                            "under QEMU with the guest kit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
