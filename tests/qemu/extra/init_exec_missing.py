#!/usr/bin/env python3
"""Capture a real console of an initramfs whose /init cannot exec the real init.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/poweroff.py does.
The initramfs's /init (busybox ash) mounts a tmpfs as the new root and ends with
`exec switch_root`-style hand-over to /newroot/sbin/init, which does not exist: ash prints
"/init: exec: line N: /newroot/sbin/init: not found", PID 1 exits with status 127 and the kernel
panics ("Attempted to kill init! exitcode=0x00007f00"). The cause is the missing init, the
panic its symptom.

    python tests/qemu/extra/init_exec_missing.py [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from scenarios import PANIC_EVIDENCE, Scenario, _panic_stop  # noqa: E402

SCENARIO = Scenario(
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
    cap = boot.run(SCENARIO)
    if "--show" in argv:
        print("\n".join(cap.lines))
        return 0
    capture.write_extra_sample(cap, "produced by tests/qemu/extra/init_exec_missing.py: a real Debian "
                                    "kernel booted under QEMU with the guest kit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
