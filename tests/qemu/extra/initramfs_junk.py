#!/usr/bin/env python3
"""Capture a real console of a kernel that reports "Initramfs unpacking failed" and boots on.

Not part of the test run: writes samples/<name>/ the way tests/qemu/capture.py writes
samples/qemu/. The bootloader's initrd is a good gzip'd cpio followed by bytes that are no
archive (what Ubuntu 20.04's lz4 initrds and some distributions' padded or signed initrds
look like to the kernel): init/initramfs.c unpacks the first archive, then stops at the junk
and prints "Initramfs unpacking failed: invalid magic at start of compressed archive", but
/init was already unpacked and runs. The message is no failure when the boot goes on.

    python tests/qemu/extra/initramfs_junk.py [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import READY, Scenario  # noqa: E402

JUNK = b"this is not a cpio archive\n" * 64

SCENARIO = Scenario(
    name="qemu-initramfs-trailing-junk-boots",
    title="Initramfs unpacking failed on bytes after the archive, and the boot goes on",
    injected="no fault that stops the boot: 1728 bytes that are no archive appended after the "
             "gzip'd cpio of the initrd; /init (already unpacked) prints the ready marker and runs "
             "poweroff -f",
    append="console=ttyS0",
    initramfs=InitramfsSpec(f"echo {READY}\npoweroff -f\n", appended=(JUNK,)),
    stop=[StopRule(r"reboot: Power down", settle=0.5)],
    timeout=50,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": [r"reboot: Power down"]},
    notes="The kernel complains about the bytes after the first archive, but /init is already "
          "in rootfs and runs: the boot is healthy, the message only a warning.",
)


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # QEMU exiting at power-off is this case's normal end
    for _ in range(3):
        cap = boot.run(SCENARIO)
        if any("reboot: Power down" in line for line in cap.lines):
            break
    else:
        raise SystemExit("the power-off line never reached the serial log")
    if "--show" in argv:
        print("\n".join(cap.lines))
        return 0
    capture.write_extra_sample(cap, "produced by tests/qemu/extra/initramfs_junk.py: a real Debian "
                                    "kernel booted under QEMU with the guest kit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
