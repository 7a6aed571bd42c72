#!/usr/bin/env python3
"""Capture recipe: the disk driver is in the initramfs but cannot load.

The initramfs carries virtio_blk and virtio_pci from another flavour of the same Debian kernel
release (linux-image-6.1.0-57-amd64's modules for the -cloud-amd64 kernel that boots): the
kernel refuses each module for its version magic, busybox insmod reports the refusal, no
virtio disk appears, and the /init's root mount fails. As an initramfs built for another
kernel (a kernel updated without its initramfs, a module tree copied from elsewhere) does.
Rule samples quote these lines with `source: qemu boot: <recipe> (tests/qemu/driver_faults.py)`.

    python tests/qemu/driver_faults.py [--out FILE]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guestkit import fetch, initramfs
from guestkit.boot import sanitize_lines, write_lines
from guestkit.runner import Drive, MachineSpec, Qemu, StopRule
from kernel_faults import DISK_MODULES, ext4_image

INIT = ("mount -t ext4 /dev/vda /mnt || echo 'consolewatch-guest: cannot mount /dev/vda'; "
        "ls /sys/block; exec switch_root /mnt /sbin/init")


def capture() -> list[str]:
    booted = fetch.kernel("cloud")
    other = fetch.kernel("generic")
    work = Path(tempfile.mkdtemp(prefix="cw-driver-"))
    try:
        initrd = work / "initrd.img"
        initrd.write_bytes(initramfs.build(initramfs.InitramfsSpec(INIT, modules=DISK_MODULES), fetch.busybox(), other))
        spec = MachineSpec(kernel=booted.vmlinuz, initrd=initrd, append="console=ttyS0",
                           drives=[Drive(ext4_image(16)(work), "virtio", "cw0")])
        (work / "qemu").mkdir()
        with Qemu(spec, workdir=work / "qemu") as vm:
            result = vm.wait(50, stop=[StopRule(r"end Kernel panic", settle=2.0)])
        return sanitize_lines(result.serial)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    write_lines(capture(), ap.parse_args().out)


if __name__ == "__main__":
    main()
