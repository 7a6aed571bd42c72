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
- qemu-systemd-wait-online-timeout: the NIC sits on a tap with no DHCP server; systemd-networkd
  asks for a lease and gets none, so systemd-networkd-wait-online (timeout shortened to 8 s)
  gives up and its unit fails, printed in systemd 252's status form with the unit name cut
  short ("Failed to start systemd-ne…Wait for Network to be Configured."); the boot reaches the
  multi-user target without network.

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
from scenarios import NET_MODULES, Scenario  # noqa: E402

UNITS = Path("/lib/systemd/system")
EXEC_SYSTEMD = "exec /lib/systemd/systemd\n"
WAIT_ONLINE = "/lib/systemd/systemd-networkd-wait-online"
NETWORKD = "/lib/systemd/systemd-networkd"


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

WAIT_ONLINE_TIMEOUT = Scenario(
    name="qemu-systemd-wait-online-timeout",
    title="systemd-networkd gets no DHCP lease and systemd-networkd-wait-online times out",
    injected="a virtio NIC on a tap with no DHCP server; systemd-networkd asks DHCP for it; /init "
             "mounts /run as a tmpfs and execs systemd 252 as PID 1, with "
             "network-online.target wanted by the default target and wait-online's timeout 8 s",
    append="console=ttyS0",
    initramfs=None,
    network="isolated",
    stop=[StopRule(r"- Multi-User System", settle=2.0)],
    timeout=55,
    memory_mb=512,
    outcome="failure",
    categories=["network.dhcp.no-lease", "init.unit-failed", "boot.stall"],
    evidence={"network.dhcp.no-lease": [r"Failed to start .*Wait for Network to be Configured"],
              "init.unit-failed": [r"Failed to start .*Wait for Network to be Configured"]},
    notes="systemd-networkd gets no DHCP lease, so systemd-networkd-wait-online gives up after its "
          "timeout and its unit fails; the boot reaches the multi-user target without network. "
          "The unit failure and the start job that waited are reported too, as warnings.",
)


def wait_online_files() -> dict[str, tuple[bytes | str, int]]:
    out = systemd_files()
    for prog in (WAIT_ONLINE, NETWORKD):
        out.update(hostfiles.program_files(Path(prog)))
    out["/etc/passwd"] = ("root:x:0:0:root:/root:/bin/sh\n"
                          "systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\n", 0o644)
    out["/etc/group"] = ("root:x:0:\nsystemd-network:x:998:\n", 0o644)
    out["/etc/systemd/network/10-dhcp.network"] = ("[Match]\nName=e*\n\n[Network]\nDHCP=ipv4\n", 0o644)
    out["/etc/systemd/system/default.target.d/online.conf"] = (
        "[Unit]\nWants=network-online.target\n", 0o644)
    out["/etc/systemd/system/network-online.target.d/wants.conf"] = (
        "[Unit]\nWants=systemd-networkd-wait-online.service\n", 0o644)
    out["/etc/systemd/system/systemd-networkd-wait-online.service.d/timeout.conf"] = (
        f"[Service]\nExecStart=\nExecStart={WAIT_ONLINE} --timeout=8\n", 0o644)
    return out


TMPFS_RUN = "mkdir -p /run && mount -t tmpfs -o mode=755 tmpfs /run"
INIT = {
    FROZEN.name: "mkdir -p /run && mount -t tmpfs -o ro,mode=755 tmpfs /run\n" + EXEC_SYSTEMD,
    JOURNAL.name: TMPFS_RUN + " && mkdir -p /run/systemd && echo not-a-directory > /run/systemd/journal\n"
                  + EXEC_SYSTEMD,
    WAIT_ONLINE_TIMEOUT.name: TMPFS_RUN + "\n" + EXEC_SYSTEMD,
}


def systemd_version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "systemd"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # systemd, not the kit's /init, prints these consoles
    names = [a for a in argv if not a.startswith("--")]
    for sc in (FROZEN, JOURNAL, WAIT_ONLINE_TIMEOUT):
        if names and sc.name not in names:
            continue
        if sc is WAIT_ONLINE_TIMEOUT:
            sc.initramfs = InitramfsSpec(INIT[sc.name], modules=NET_MODULES, files=wait_online_files())
        else:
            sc.initramfs = InitramfsSpec(INIT[sc.name], files=systemd_files())
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
