#!/usr/bin/env python3
"""Capture recipes for kernel-health and file-system messages: real Debian kernel lines for rule samples.

Each recipe boots the Debian cloud kernel under QEMU (guestkit) with a busybox /init, provokes
one condition from outside (QMP: an NMI) or from inside (mounting a disk image that
e2fsprogs made larger than its disk), and prints the sanitised serial lines.
Rule samples quote these lines with `source: qemu boot: <recipe> (tests/qemu/kernel_faults.py)`.

    python tests/qemu/kernel_faults.py --list
    python tests/qemu/kernel_faults.py RECIPE [--out FILE]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guestkit import fetch, initramfs
from guestkit.boot import sanitize_lines, write_lines
from guestkit.runner import Drive, MachineSpec, Qemu, StopRule

READY = "consolewatch-guest: ready"
DISK_MODULES = ["virtio_blk", "virtio_pci"]  # ext4 is built into the Debian cloud kernel


@dataclass
class Recipe:
    name: str
    how: str
    init: str
    append: str = "console=ttyS0"
    modules: list[str] = field(default_factory=list)
    disks: list[Callable[[Path], Path]] = field(default_factory=list)
    actions: list[tuple[float, str]] = field(default_factory=list)
    """(seconds after the ready marker, "nmi" or an HMP command)."""
    stop: str = r"consolewatch-guest: done"
    stop_count: int = 1
    kernel: bool = True
    """False: no -kernel, SeaBIOS boots the first disk."""
    timeout: float = 50.0
    flavour: str = "cloud"
    """Debian kernel flavour: "generic" where the cloud kernel lacks the subsystem (MCE)."""
    qemu_log: str = ""
    """QEMU -d items (e.g. "int,cpu_reset"): QEMU runs with -no-reboot and its log is printed after the console."""
    ovmf: bool = False
    """UEFI: q35 with Debian's OVMF (OVMF_CODE_4M.fd, a copy of OVMF_VARS_4M.fd) instead of SeaBIOS."""
    qemu_args: list[str] = field(default_factory=list)
    """More QEMU arguments (e.g. "-boot reboot-timeout=1000": SeaBIOS retries when nothing boots)."""
    initrd: bool = True
    """False: no initramfs, the kernel mounts root= itself (its own root device messages)."""


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def ext4_image(size_mb: int, truncate_mb: int | None = None) -> Callable[[Path], Path]:
    def make(work: Path) -> Path:
        img = work / f"ext4-{size_mb}.img"
        _run(["truncate", "-s", f"{size_mb}M", str(img)])
        _run(["mkfs.ext4", "-q", "-F", str(img)])
        if truncate_mb is not None:
            _run(["truncate", "-s", f"{truncate_mb}M", str(img)])
        return img
    return make


def blank_disk(size_mb: int) -> Callable[[Path], Path]:
    def make(work: Path) -> Path:
        img = work / f"blank-{size_mb}.img"
        _run(["truncate", "-s", f"{size_mb}M", str(img)])
        return img
    return make


def xfs_image(name: str, size_mb: int, uuid: str) -> Callable[[Path], Path]:
    """An XFS file system with a fixed UUID (two of them: a cloned volume next to its source)."""
    def make(work: Path) -> Path:
        img = work / f"{name}.img"
        _run(["truncate", "-s", f"{size_mb}M", str(img)])
        _run(["mkfs.xfs", "-q", "-f", "-m", f"uuid={uuid}", str(img)])
        return img
    return make


def triple_fault_mbr(work: Path) -> Path:
    """A disk whose boot sector loads an empty IDT and raises int3: the CPU triple-faults and
    QEMU resets the machine, as a kernel that dies before printing does."""
    img = work / "mbr.img"
    code = bytes([0xFA, 0x0F, 0x01, 0x1E, 0x0A, 0x7C, 0xCC, 0xEB, 0xFE, 0x90]) + bytes(6)  # cli; lidt [0x7c0a]; int3
    sector = code + bytes(510 - len(code)) + b"\x55\xaa"
    img.write_bytes(sector + bytes(1 << 20))
    return img


def print_then_fault_mbr(work: Path) -> Path:
    """A disk whose boot sector prints four lines (BIOS teletype, which SeaBIOS mirrors to the
    serial port) and then triple-faults as triple_fault_mbr's does: an OS that starts, says
    something, and dies before it has an interrupt table (OSv's early faults look so)."""
    msg = b"mbr: started\r\nmbr: a20 on\r\nmbr: memory 640k\r\nmbr: loading idt\r\n\x00"
    head = bytes([0x31, 0xC0, 0x8E, 0xD8])                                    # xor ax,ax; mov ds,ax
    body = bytes([0xAC, 0x08, 0xC0, 0x74, 0x06, 0xB4, 0x0E, 0xCD, 0x10, 0xEB, 0xF5])  # lodsb; or; jz; int 10h; jmp
    tail_at = len(head) + 3 + len(body)
    idt_at = tail_at + 9
    msg_at = idt_at + 6
    code = (head + bytes([0xBE]) + (0x7C00 + msg_at).to_bytes(2, "little") + body
            + bytes([0xFA, 0x0F, 0x01, 0x1E]) + (0x7C00 + idt_at).to_bytes(2, "little")  # cli; lidt [idt]
            + bytes([0xCC, 0xEB, 0xFE]) + bytes(6) + msg)                            # int3; jmp $; idt; msg
    img = work / "mbr.img"
    img.write_bytes(code + bytes(510 - len(code)) + b"\x55\xaa" + bytes(1 << 20))
    return img


WAIT = f"echo {READY}; sleep 8; echo consolewatch-guest: done; sleep 30"
OVMF_CODE, OVMF_VARS = "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"  # Debian ovmf
FIRST_BOOT = ('if [ "$(dd if=/dev/vda bs=9 count=1 2>/dev/null)" = firstboot ]; then hostname debian; '
              'exec getty 115200 ttyS0; fi; echo consolewatch-guest: first boot setup done, restarting; '
              'printf firstboot | dd of=/dev/vda conv=notrunc 2>/dev/null; sync; reboot -f')
XFS_MODULES = [*DISK_MODULES, "xfs"]
CLONE_UUID = "5d1c0e7a-3b2f-4c6d-9e8a-1f2b3c4d5e6f"

RECIPES = {r.name: r for r in [
    Recipe("nmi-unknown", "QMP inject-nmi after the ready marker, unknown_nmi_panic unset",
           init=WAIT, actions=[(2.0, "nmi")]),
    Recipe("reset-after-handoff", "a boot sector that triple-faults right after SeaBIOS hands over: QEMU resets, "
           "SeaBIOS starts again", init="", kernel=False, disks=[triple_fault_mbr], stop=r"SeaBIOS [(]version",
           stop_count=3, timeout=30),
    Recipe("mce-uncorrected", "QEMU monitor injects an uncorrected machine check with processor context "
           "corrupt (status VAL|UC|EN|PCC) after the ready marker: the kernel panics",
           init=WAIT, actions=[(2.0, "mce 0 1 0xb200000000000000 0x5 0x1234000 0x86")], flavour="generic",
           stop=r"end Kernel panic|consolewatch-guest: done"),
    Recipe("ext4-size-mismatch", "mount an ext4 file system made on 64 MiB and truncated to 32 MiB",
           init=f"mkdir /mnt; mount -t ext4 /dev/vda /mnt; {WAIT}", modules=DISK_MODULES,
           disks=[ext4_image(64, 32)]),
    # busybox mount passes MS_SILENT unless -o loud; util-linux mount (systemd machines) does not.
    Recipe("mount-blank-as-ext4", "mount a disk of zeros (never formatted) as ext4 on /srv",
           init=f"mkdir /srv; mount -t ext4 -o loud /dev/vda /srv; {WAIT}", modules=DISK_MODULES,
           disks=[blank_disk(24)]),
    Recipe("mount-blank-as-xfs", "mount a disk of zeros (never formatted) as XFS on /srv",
           init=f"mkdir /srv; mount -t xfs -o loud /dev/vda /srv; {WAIT}", modules=XFS_MODULES,
           disks=[blank_disk(320)]),
    Recipe("mount-xfs-without-module", "mount an XFS disk with the xfs module not loaded (not in the initramfs)",
           init=f"mkdir /srv; mount -t xfs /dev/vda /srv; {WAIT}", modules=DISK_MODULES,
           disks=[xfs_image("plain", 300, CLONE_UUID)]),
    Recipe("xfs-clone-mounted-twice", "two XFS disks with one UUID (a volume and its clone), both mounted",
           init=f"mkdir /srv /srv2; mount -t xfs /dev/vda /srv; mount -t xfs /dev/vdb /srv2; {WAIT}",
           modules=XFS_MODULES, disks=[xfs_image("orig", 300, CLONE_UUID), xfs_image("clone", 300, CLONE_UUID)]),
    Recipe("restart-every-boot", "an init that finishes an update and restarts the machine on every boot "
           "(busybox reboot -f): QEMU resets, the kernel boots again", init="echo consolewatch-guest: update "
           "applied, restarting; sleep 1; reboot -f", stop=r"reboot: Restarting system", stop_count=3, timeout=60),
    Recipe("reset-during-boot", "the QEMU monitor resets the machine (system_reset) while init runs, as a "
           "triple fault, a hypervisor watchdog or a cloud reset does: no restart line, the firmware starts again",
           init=WAIT, actions=[(1.0, "system_reset")], stop=READY, stop_count=2, timeout=60),
    Recipe("reset-after-output", "a boot sector that prints four lines after SeaBIOS hands over and then "
           "triple-faults: QEMU resets, SeaBIOS starts again, over and over", init="", kernel=False,
           disks=[print_then_fault_mbr], stop=r"SeaBIOS [(]version", stop_count=4, timeout=30),
    Recipe("triple-fault-qemu-log", "the boot sector of reset-after-handoff with QEMU's own log (-d int,cpu_reset, "
           "-no-reboot): the exceptions that end in \"Triple fault\", where QEMU would reset the machine",
           init="", kernel=False, disks=[triple_fault_mbr], qemu_log="int,cpu_reset",
           stop=r"SeaBIOS [(]version", stop_count=2, timeout=20),  # QEMU exits at the fault (-no-reboot)
    Recipe("ovmf-reset-during-boot", "as reset-during-boot on a UEFI machine (OVMF): the firmware prints no "
           "banner on the serial port, only its boot manager's lines (BdsDxe) again after the kernel",
           init=WAIT, actions=[(1.0, "system_reset")], stop=READY, stop_count=2, timeout=60, ovmf=True),
    Recipe("root-uuid-no-initramfs", "no initramfs, root=UUID=... rootwait: the kernel cannot resolve UUID= itself "
           "(only an initramfs can), disables rootwait and panics", init="",
           append="console=ttyS0 root=UUID=0f3e8a5c-1b2d-4e6f-8a9b-0c1d2e3f4a5b rootwait panic=-1", initrd=False,
           disks=[ext4_image(16)], stop=r"end Kernel panic", timeout=40),
    Recipe("ovmf-panic-reboot-loop", "UEFI (OVMF), panic=1 and an /init that exits: the kernel panics "
           "(Attempted to kill init), reboots after a second, and the firmware boots it into the same panic",
           init="exit 1", append="console=ttyS0 panic=1", stop=r"Rebooting in 1 seconds", stop_count=3,
           timeout=60, ovmf=True),
    Recipe("seabios-no-bootable-retry", "no disk and no kernel, SeaBIOS told to retry (-boot reboot-timeout=1000, "
           "as libvirt's rebootTimeout): it finds nothing to boot, waits a second, reboots and tries again",
           init="", kernel=False, qemu_args=["-boot", "reboot-timeout=1000"], stop=r"SeaBIOS [(]version",
           stop_count=3, timeout=40),
    Recipe("ovmf-no-disk-shell", "UEFI (OVMF) with no disk and no kernel: the boot manager finds no boot option "
           "and starts the UEFI shell, which waits at its prompt", init="", kernel=False, ovmf=True,
           stop=r"Shell> ", timeout=60),
    Recipe("softdog-reboot-loop", "an init that starts the software watchdog (softdog) with a 3 s timeout and then "
           "stops feeding it (busybox watchdog pinging every 60 s): the watchdog restarts the machine, which boots "
           "into the same init", init="watchdog -T 3 -t 60 /dev/watchdog; echo consolewatch-guest: watchdog armed; "
           "sleep 60", modules=["softdog"],
           stop=r"Initiating system reboot", stop_count=3, timeout=60),
    Recipe("sysrq-reset-every-boot", "an init that resets the machine at once through the magic SysRq key (echo b "
           "> /proc/sysrq-trigger, the kernel's emergency restart: no shutdown, no \"Restarting system\")",
           init="echo consolewatch-guest: resetting; echo b > /proc/sysrq-trigger; sleep 30",
           stop=r"Resetting", stop_count=2, timeout=60),
    Recipe("first-boot-reboot-then-ready", "a first boot that finishes its setup and restarts once (busybox reboot, "
           "leaving a marker on its disk), then a second boot that reaches a login prompt: one intended reboot",
           init=FIRST_BOOT, modules=DISK_MODULES, disks=[blank_disk(8)], stop=r"login: ", timeout=60),
    Recipe("init-execs-missing-service", "an /init that hands over to an application the image does not hold "
           "(exec of a missing path): the shell exits 127 and the kernel panics (exitcode=0x00007f00)",
           init="echo consolewatch-guest: starting the service; exec /opt/svc/bin/svcd --foreground",
           stop=r"end Kernel panic", timeout=40),
    Recipe("init-execs-non-executable", "an /init that hands over to a program without its execute bit: the "
           "shell exits 126 and the kernel panics (exitcode=0x00007e00)",
           init="mkdir -p /opt/svc; printf '#!/bin/sh\\necho svc\\n' > /opt/svc/start; chmod 644 /opt/svc/start; "
                "exec /opt/svc/start",
           stop=r"end Kernel panic", timeout=40),
    Recipe("ready-then-supervisor-reboot", "each boot offers a login, then a supervisor whose service exits "
           "restarts the machine (busybox reboot -f) a few seconds later: the same boot again and again",
           init="echo consolewatch-guest: ready; dmesg -n 4; hostname cw-node; getty -L 115200 ttyS0 vt100 & "
                "sleep 4; echo 'svc-supervisor: service exited (status 1), restarting the machine'; reboot -f",
           stop=r"reboot: Restarting system", stop_count=3, timeout=60),
]}


def capture(recipe: Recipe) -> list[str]:
    kernel = fetch.kernel(recipe.flavour)
    bb = fetch.busybox()
    work = Path(tempfile.mkdtemp(prefix=f"cw-kf-{recipe.name}-"))
    try:
        initrd: Path | None = None
        if recipe.initrd:
            initrd = work / "initrd.img"
            initrd.write_bytes(initramfs.build(initramfs.InitramfsSpec(recipe.init, modules=recipe.modules), bb, kernel))
        bus = "virtio" if recipe.kernel else "ide"
        drives = [Drive(make(work), bus, f"cw{i}") for i, make in enumerate(recipe.disks)]
        spec = (MachineSpec(kernel=kernel.vmlinuz, initrd=initrd, append=recipe.append, drives=drives)
                if recipe.kernel else MachineSpec(kernel=None, drives=drives))
        if recipe.ovmf:
            shutil.copy(OVMF_VARS, work / "vars.fd")
            spec.bios_serial = False
            spec.extra_args = ["-machine", "q35", "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                               "-drive", f"if=pflash,format=raw,unit=1,file={work / 'vars.fd'}"]
        spec.extra_args = [*spec.extra_args, *recipe.qemu_args]
        if recipe.qemu_log:
            spec.extra_args = [*spec.extra_args, "-no-reboot", "-d", recipe.qemu_log, "-D", str(work / "qemu.log")]
        (work / "qemu").mkdir()
        with Qemu(spec, workdir=work / "qemu") as vm:
            if recipe.actions:
                threading.Thread(target=_act, args=(vm, recipe), daemon=True).start()
            result = vm.wait(recipe.timeout, stop=[StopRule(recipe.stop, count=recipe.stop_count, settle=2.0)])
        lines = sanitize_lines(result.serial)
        if recipe.qemu_log:
            lines += ["--- QEMU log (-d " + recipe.qemu_log + ") ---", *(work / "qemu.log").read_text().splitlines()]
        return lines
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _act(vm: Qemu, recipe: Recipe) -> None:
    deadline = time.monotonic() + recipe.timeout
    while READY.encode() not in vm.serial() and time.monotonic() < deadline:
        time.sleep(0.2)
    start = time.monotonic()
    for at, command in recipe.actions:
        time.sleep(max(0.0, start + at - time.monotonic()))
        try:
            if command == "nmi":
                vm.qmp().execute("inject-nmi")
            else:
                vm._hmp(command)
        except Exception as e:  # the guest may be gone already
            print(f"action {command!r} failed: {e}", file=sys.stderr)


def main(recipes: dict[str, Recipe] | None = None, doc: str | None = None) -> None:
    """The command line; another recipe script passes its own recipes and docstring."""
    recipes = RECIPES if recipes is None else recipes
    ap = argparse.ArgumentParser(description=doc or __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recipe", nargs="?")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.list or not args.recipe:
        for r in recipes.values():
            print(f"{r.name:26} {r.how}")
        return
    write_lines(capture(recipes[args.recipe]), args.out)


if __name__ == "__main__":
    main()
