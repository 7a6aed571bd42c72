#!/usr/bin/env python3
"""Capture real consoles of initramfs hand-overs that a kernel reports in two ways.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/poweroff.py does.

- qemu-initramfs-trailing-junk-boots: the bootloader's initrd is a good gzip'd cpio followed by
  bytes that are no archive (what Ubuntu 20.04's lz4 initrds and padded or signed initrds look
  like to the kernel): init/initramfs.c unpacks the first archive, stops at the junk and prints
  "Initramfs unpacking failed: invalid magic at start of compressed archive", but /init was
  already unpacked and runs. The message is no failure when the boot goes on.
- qemu-initramfs-exec-init-missing: /init (busybox ash) mounts a tmpfs as the new root and
  execs /newroot/sbin/init, which does not exist: ash prints "/init: exec: line N:
  /newroot/sbin/init: not found", PID 1 exits with 127 and the kernel panics ("Attempted to kill
  init! exitcode=0x00007f00"). The missing init is the cause, the panic its symptom.

    python tests/qemu/extra/initramfs_init.py [NAME...] [--show]
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
from poweroff import run_until_power_off  # noqa: E402
from scenarios import PANIC_EVIDENCE, READY, Scenario, _panic_stop  # noqa: E402

JUNK = b"this is not a cpio archive\n" * 64

TRAILING_JUNK = Scenario(
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

EXEC_MISSING = Scenario(
    name="qemu-initramfs-exec-init-missing",
    title="The initramfs /init cannot exec the real init; PID 1 exits and the kernel panics",
    injected="/init mounts an empty tmpfs on /newroot and runs `exec /newroot/sbin/init`, "
             "which does not exist",
    append="console=ttyS0",
    initramfs=InitramfsSpec("mkdir -p /newroot && mount -t tmpfs tmpfs /newroot\n"
                            "exec /newroot/sbin/init\n"),
    stop=_panic_stop(),
    timeout=45,
    outcome="failure",
    categories=["init.not-found", "kernel.panic"],
    evidence={"init.not-found": [r"exec: line \d+: /newroot/sbin/init: not found"],
              "kernel.panic": [PANIC_EVIDENCE + r"Attempted to kill init"]},
    notes="The initramfs's own script cannot start the real init (busybox ash: exec ... not "
          "found); PID 1 exits with 127 and the kernel panics: the missing init is the cause, "
          "the panic its symptom.",
)


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--")]
    checked = capture.check
    for sc in (TRAILING_JUNK, EXEC_MISSING):
        if names and sc.name not in names:
            continue
        # QEMU exiting at power-off is the first case's normal end, not a capture problem
        capture.check = (lambda cap: None) if sc is TRAILING_JUNK else checked
        cap = run_until_power_off(sc) if sc is TRAILING_JUNK else boot.run(sc)
        if "--show" in argv:
            print("\n".join(cap.lines))
            continue
        capture.write_extra_sample(cap, "produced by tests/qemu/extra/initramfs_init.py: a real Debian "
                                        "kernel booted under QEMU with the guest kit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
