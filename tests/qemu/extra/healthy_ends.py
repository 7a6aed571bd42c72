#!/usr/bin/env python3
"""Capture real consoles of healthy boots that end on a line other than the usual login prompt.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/poweroff.py does.

- qemu-busybox-init-askfirst: /init execs busybox init, whose inittab runs a shell on the
  console with `askfirst`: busybox prints "Please press Enter to activate this console." and
  waits (embedded images, Buildroot and Yocto's busybox init without a getty).
- qemu-busybox-getty-no-hostname: busybox init runs busybox getty on ttyS0 and nobody set a
  host name, so the prompt reads "(none) login: " (the kernel's default node name).
- qemu-systemd-batch-poweroff: systemd 252 as PID 1 runs a one-shot unit of the multi-user
  target with SuccessAction=poweroff (a batch VM): its work done, systemd reaches the power-off
  target and the kernel powers the machine off.

    python tests/qemu/extra/healthy_ends.py [NAME...] [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import capture  # noqa: E402
from guestkit import boot, hostfiles  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import Scenario  # noqa: E402
from systemd_pid1 import EXEC_SYSTEMD, TMPFS_RUN, systemd_files, systemd_version  # noqa: E402

BUSYBOX_INIT = "exec /bin/busybox init\n"

ASKFIRST = Scenario(
    name="qemu-busybox-init-askfirst",
    title="busybox init asks for Enter on the console (a healthy embedded image)",
    injected="no fault: /init execs busybox init; /etc/inittab runs /bin/sh on ttyS0 with askfirst",
    append="console=ttyS0",
    stop=[StopRule(r"Please press Enter to activate this console", settle=1.0)],
    timeout=40,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": [r"Please press Enter to activate this console\."]},
    notes="busybox init started its console shell and waits for the user to press Enter: the "
          "system is up, as a login prompt shows it on other images.",
)

GETTY = Scenario(
    name="qemu-busybox-getty-no-hostname",
    title="busybox getty on ttyS0 of a machine with no host name set",
    injected="no fault: /init execs busybox init; /etc/inittab runs busybox getty on ttyS0; no "
             "host name is set, so the kernel's node name is (none)",
    append="console=ttyS0",
    stop=[StopRule(r"login: ", settle=1.0)],
    timeout=40,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": [r"^\(none\) login: "]},
    notes="busybox getty prints /etc/issue and the prompt with the node name, which the kernel "
          "calls (none) until something sets it.",
)

BATCH = Scenario(
    name="qemu-systemd-batch-poweroff",
    title="systemd runs a batch unit and powers the machine off when it succeeds",
    injected="no fault: /init mounts /run as a tmpfs and execs systemd 252; work.service "
             "(Type=oneshot, SuccessAction=poweroff) is wanted by the default target",
    append="console=ttyS0",
    stop=[StopRule(r"reboot: Power down", settle=0.5)],
    timeout=55,
    memory_mb=512,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": [r"reboot: Power down"]},
    notes="A batch VM's whole life under systemd: the work unit finishes (before the default "
          "target is reached) and its SuccessAction powers the machine off: systemd reaches its "
          "power-off target, systemd-shutdown detaches everything and the kernel powers off.",
)

INITTAB = {
    ASKFIRST.name: "::sysinit:/bin/busybox mount -t tmpfs tmpfs /tmp\nttyS0::askfirst:-/bin/sh\n",
    GETTY.name: "::sysinit:/bin/busybox mount -t tmpfs tmpfs /tmp\n"
                "ttyS0::respawn:/bin/getty -L 115200 ttyS0 vt100\n",
}

WORK_UNIT = ("[Unit]\nDescription=Batch work\nSuccessAction=poweroff\n\n"
             "[Service]\nType=oneshot\nExecStart=/bin/busybox true\n")


def batch_files() -> dict[str, tuple[bytes | str, int]]:
    out = systemd_files()
    out.update(hostfiles.program_files(Path("/lib/systemd/systemd-shutdown")))
    out["/etc/systemd/system/work.service"] = (WORK_UNIT, 0o644)
    out["/etc/systemd/system/default.target.d/work.conf"] = ("[Unit]\nWants=work.service\n", 0o644)
    return out


def spec(sc: Scenario) -> InitramfsSpec:
    if sc is BATCH:
        return InitramfsSpec(TMPFS_RUN + "\n" + EXEC_SYSTEMD, files=batch_files())
    return InitramfsSpec(BUSYBOX_INIT, files={"/etc/inittab": (INITTAB[sc.name], 0o644)})


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # busybox and systemd, not the kit's /init, print these consoles
    names = [a for a in argv if not a.startswith("--")]
    for sc in (ASKFIRST, GETTY, BATCH):
        if names and sc.name not in names:
            continue
        sc.initramfs = spec(sc)
        cap = boot.run(sc)
        if cap.result.reason not in ("stop-rule", "exited") and "--show" not in argv:
            raise SystemExit(f"{sc.name}: boot ended by {cap.result.reason}")
        if "--show" in argv:
            print("\n".join(cap.lines))
            continue
        meta = {"systemd": {"package": "systemd", "version": systemd_version()}} if sc is BATCH else {}
        capture.write_extra_sample(
            cap, "produced by tests/qemu/extra/healthy_ends.py: a real Debian kernel booted under QEMU "
                 "with the guest kit (busybox-static's init and getty, or Debian 12's systemd 252)", **meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
