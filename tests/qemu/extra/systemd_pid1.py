#!/usr/bin/env python3
"""Capture real consoles of systemd as PID 1 failing at its basics.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/poweroff.py does.
The initramfs carries this machine's systemd (Debian 12, systemd 252, the release of the guest
kernels) with its libraries and the unit files of /lib/systemd/system; busybox's /init prepares
/run and execs systemd, which then runs as PID 1:

- qemu-systemd-readonly-run-frozen: /run is a read-only tmpfs, so systemd cannot mount its API
  file systems (/run/lock); it prints "[!!!!!!] Failed to mount API filesystems." and freezes.
- qemu-systemd-journal-sockets-fail-ready: /run/systemd/journal is a file, so the journal's
  sockets cannot listen and the journal service fails as a dependency; the rest of the boot
  still reaches the multi-user target (a warning, not the verdict).

    python tests/qemu/extra/systemd_pid1.py [NAME...] [--show]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot, hostfiles  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import Scenario  # noqa: E402

UNITS = Path("/lib/systemd/system")
EXEC_SYSTEMD = "exec /lib/systemd/systemd\n"


def systemd_files() -> dict[str, tuple[bytes | str, int]]:
    """systemd and journald with their libraries, the unit files, and the wants a boot needs."""
    files: dict[str, tuple[bytes | str, int]] = {}
    for prog in ("/lib/systemd/systemd", "/lib/systemd/systemd-journald"):
        files.update(hostfiles.program_files(Path(prog)))
    for f in sorted(UNITS.iterdir()):
        if f.is_file() and not f.is_symlink() and f.suffix in (".target", ".slice", ".socket", ".service", ".mount"):
            files[str(f)] = (f.read_bytes(), 0o644)
    files[str(UNITS / "default.target")] = ((UNITS / "multi-user.target").read_bytes(), 0o644)
    # the cpio carries no symlinks: the .wants links the journal needs become drop-ins
    files["/etc/systemd/system/sockets.target.d/wants.conf"] = (
        "[Unit]\nWants=systemd-journald.socket systemd-journald-dev-log.socket\n", 0o644)
    files["/etc/systemd/system/sysinit.target.d/wants.conf"] = (
        "[Unit]\nWants=systemd-journald.service\n", 0o644)
    files["/etc/machine-id"] = ("0123456789abcdef0123456789abcdef\n", 0o444)
    files["/etc/os-release"] = ('NAME="Debian GNU/Linux"\nID=debian\n', 0o644)
    return files


FROZEN = Scenario(
    name="qemu-systemd-readonly-run-frozen",
    title="systemd as PID 1 cannot mount its API file systems and freezes",
    injected="/init mounts /run as a read-only tmpfs, then execs systemd 252 as PID 1",
    append="console=ttyS0",
    initramfs=None,
    stop=[StopRule(r"Freezing execution", settle=1.0)],
    timeout=50,
    memory_mb=512,
    outcome="failure",
    categories=["init.unit-failed"],
    evidence={"init.unit-failed": [r"\[!!!!!!\] Failed to mount API filesystems"]},
    notes="systemd (PID 1) fails to mount tmpfs at /run/lock, prints its red [!!!!!!] status "
          "and freezes: nothing after it starts.",
)

JOURNAL = Scenario(
    name="qemu-systemd-journal-sockets-fail-ready",
    title="The journal's sockets fail to listen, the boot still reaches multi-user",
    injected="/init mounts /run as a tmpfs with a file at /run/systemd/journal, then execs "
             "systemd 252 as PID 1",
    append="console=ttyS0",
    initramfs=None,
    stop=[StopRule(r"Startup finished in", settle=2.0)],
    timeout=50,
    memory_mb=512,
    outcome="success",
    categories=["boot.success", "init.unit-failed"],
    evidence={"init.unit-failed": [r"^\[FAILED\] Failed to listen on .* - Journal Socket\.$"],
              "boot.success": [r"Startup finished in"]},
    notes="systemd's journal sockets cannot bind under /run/systemd/journal and the journal "
          "service fails as a dependency, yet the boot reaches the multi-user target: a "
          "problem that did not stop the boot is a warning, and the verdict is success.",
)

INIT = {
    FROZEN.name: "mkdir -p /run && mount -t tmpfs -o ro,mode=755 tmpfs /run\n" + EXEC_SYSTEMD,
    JOURNAL.name: "mkdir -p /run && mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/systemd "
                  "&& echo not-a-directory > /run/systemd/journal\n" + EXEC_SYSTEMD,
}


def systemd_version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "systemd"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # systemd, not the kit's /init, prints these consoles
    names = [a for a in argv if not a.startswith("--")]
    files = systemd_files()
    for sc in (FROZEN, JOURNAL):
        if names and sc.name not in names:
            continue
        sc.initramfs = InitramfsSpec(INIT[sc.name], files=files)
        cap = boot.run(sc)
        if cap.result.reason != "stop-rule":
            raise SystemExit(f"{sc.name}: boot ended by {cap.result.reason}")
        if "--show" in argv:
            print("\n".join(cap.lines))
            continue
        capture.write_extra_sample(
            cap, "produced by tests/qemu/extra/systemd_pid1.py: a real Debian kernel booted under QEMU "
                 "with the guest kit, Debian 12's systemd 252 as PID 1",
            systemd={"package": "systemd", "version": systemd_version()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
