#!/usr/bin/env python3
"""Capture a real console of a Linux init that does its work and powers the machine off.

Not part of the test run: writes samples/qemu-init-work-poweroff/ the way
tests/qemu/capture.py writes samples/qemu/. The initramfs /init (busybox) fetches from the
kit's metadata server on the GCE-like network, prints the kit's ready marker, and runs
`poweroff -f`; the kernel then prints its own power-off lines.

    python tests/qemu/extra/poweroff.py [--show]
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
from scenarios import METADATA_URL, NET_MODULES, READY, UDHCPC_APPLIES_121, Scenario  # noqa: E402

SCENARIO = Scenario(
    name="qemu-init-work-poweroff",
    title="An init that does its work and powers off cleanly (batch VM)",
    injected="no fault: /init gets a lease on the GCE-like network (udhcpc applying option 121), "
             "fetches from the metadata server, prints the ready marker and runs poweroff -f",
    append="console=ttyS0",
    initramfs=InitramfsSpec(
        "udhcpc -i eth0 -n -q -t 3 -T 2 -O staticroutes -s /etc/udhcpc.script && "
        f"wget -O /tmp/hostname {METADATA_URL} && echo {READY}\npoweroff -f\n",
        modules=NET_MODULES, files={"/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
    network="gce",
    stop=[StopRule(r"reboot: Power down", settle=0.5)],
    timeout=50,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": [r"reboot: Power down"]},
    models_cloud="gce",
    notes="A batch VM's whole life: the work is done and the kernel powers the machine off. "
          "Nothing failed, so the verdict is success, not unknown.",
)


def _run() -> boot.Capture:
    """Boot until the kernel's power-off line is on the serial log (QEMU exits at power-off
    and now and then the stop rule does not see the last line first)."""
    for _ in range(3):
        cap = boot.run(SCENARIO)
        if any("reboot: Power down" in line for line in cap.lines):
            return cap
    raise SystemExit("the power-off line never reached the serial log")


def main(argv: list[str]) -> int:
    cap = _run()
    capture.check = lambda cap: None  # QEMU exiting at power-off is this case's normal end
    if "--show" in argv:
        print("\n".join(cap.lines))
        return 0
    where = capture.write_sample(cap, capture.REPO / "samples", capture.qemu_version())
    meta = where / "meta.yaml"
    import yaml

    data = yaml.safe_load(meta.read_text())
    data["name"] = SCENARIO.name
    data["source"] = ("produced by tests/qemu/extra/poweroff.py: a real Debian kernel booted under "
                      "QEMU with the guest kit (GCE-like dnsmasq and metadata server)")
    capture._dump(meta, data)
    print(f"ok {SCENARIO.name}: {where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
