#!/usr/bin/env python3
"""Capture a real console of systemd's network wait failing at boot (systemd 252 as PID 1).

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/systemd_pid1.py does,
with the same initramfs (Debian 12's systemd, its libraries and unit files; busybox's /init
prepares /run and execs systemd). The NIC sits on a tap with no DHCP server; systemd-networkd
asks for a lease (DHCP=ipv4) and gets none, so systemd-networkd-wait-online (pulled in by network-online.target, its
timeout shortened to 8 s by a drop-in) gives up: systemd 252 prints "Timeout occurred while
waiting for network connectivity." and "[FAILED] Failed to start
systemd-networkd-wait-online.service - Wait for Network to be Configured.", in the unit-name
form systemd uses since 249. The boot goes on to the multi-user target: the machine has no
network, which a login prompt does not undo.

    python tests/qemu/extra/wait_online.py [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot, hostfiles  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import NET_MODULES, Scenario  # noqa: E402
from systemd_pid1 import EXEC_SYSTEMD, systemd_files, systemd_version  # noqa: E402

WAIT_ONLINE = "/lib/systemd/systemd-networkd-wait-online"
NETWORKD = "/lib/systemd/systemd-networkd"

SCENARIO = Scenario(
    name="qemu-systemd-wait-online-timeout",
    title="systemd-networkd-wait-online times out: no interface gets configured",
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


def files() -> dict[str, tuple[bytes | str, int]]:
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


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # systemd, not the kit's /init, prints this console
    SCENARIO.initramfs = InitramfsSpec("mkdir -p /run && mount -t tmpfs -o mode=755 tmpfs /run\n"
                                       + EXEC_SYSTEMD, modules=NET_MODULES, files=files())
    cap = boot.run(SCENARIO)
    if "--show" in argv:
        print("\n".join(cap.lines))
        return 0
    if cap.result.reason != "stop-rule":
        raise SystemExit(f"{SCENARIO.name}: boot ended by {cap.result.reason}")
    capture.write_extra_sample(
        cap, "produced by tests/qemu/extra/wait_online.py: a real Debian kernel booted under QEMU "
             "with the guest kit, Debian 12's systemd 252 as PID 1",
        systemd={"package": "systemd", "version": systemd_version()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
