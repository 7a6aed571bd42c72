#!/usr/bin/env python3
"""Capture real consoles of guests that do their work and power the machine off.

Not part of the test run: writes samples/<name>/ the way tests/qemu/capture.py writes
samples/qemu/. qemu-init-work-poweroff: the initramfs /init (busybox) fetches from the kit's
metadata server on the GCE-like network, prints the kit's ready marker and runs `poweroff -f`.
qemu-kernel-test-pass-poweroff: a test VM; the generic Debian kernel loads its own test_bpf
module (the kernel prints the test summary), then /init powers off. The kernel prints its own
power-off lines.

    python tests/qemu/extra/poweroff.py [NAME...] [--show]
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


TEST_VM = Scenario(
    name="qemu-kernel-test-pass-poweroff",
    title="A test VM: the kernel's test_bpf module reports zero failures, then power-off",
    injected="no fault: /init loads the generic kernel's test_bpf.ko with test_range=0,59 (the "
             "first 60 of its tests, so that it ends in time under TCG); it prints a summary, then "
             "/init prints the ready marker and runs poweroff -f",
    append="console=ttyS0",
    kernel="generic",
    initramfs=None,  # set by _test_vm_initramfs() (needs the kernel's test_bpf.ko)
    stop=[StopRule(r"reboot: Power down", settle=0.5)],
    timeout=55,
    outcome="success",
    categories=["boot.success"],
    evidence={"boot.success": [r"reboot: Power down"]},
    notes="A test program (the kernel's BPF self-test) reports 0 FAILED and the VM powers off: "
          "a successful run, not unknown.",
)


#: Loads the first 60 of test_bpf's tests (enough to end in time under TCG); the kernel prints the summary.
TEST_BPF = "insmod /lib/test_bpf.ko test_range=0,59\n"


def test_bpf_ko() -> bytes:
    """The generic Debian kernel's own test_bpf module (for /lib/test_bpf.ko)."""
    from guestkit import fetch
    from guestkit.modules import ModuleTree, read_ko

    return read_ko(ModuleTree(fetch.kernel("generic").modules_dir).path("test_bpf"))


def _test_vm_initramfs() -> InitramfsSpec:
    return InitramfsSpec(f"{TEST_BPF}echo {READY}\npoweroff -f\n", files={"/lib/test_bpf.ko": (test_bpf_ko(), 0o644)})


def run_until_power_off(sc: Scenario) -> boot.Capture:
    """Boot until the kernel's power-off line is on the serial log (QEMU exits at power-off
    and now and then the stop rule does not see the last line first)."""
    for _ in range(3):
        cap = boot.run(sc)
        if any("reboot: Power down" in line for line in cap.lines):
            return cap
    raise SystemExit("the power-off line never reached the serial log")


def main(argv: list[str]) -> int:
    capture.check = lambda cap: None  # QEMU exiting at power-off is these cases' normal end
    names = [a for a in argv if not a.startswith("--")]
    for sc in (SCENARIO, TEST_VM):
        if names and sc.name not in names:
            continue
        if sc.initramfs is None:
            sc.initramfs = _test_vm_initramfs()
        cap = run_until_power_off(sc)
        if "--show" in argv:
            print("\n".join(cap.lines))
            continue
        capture.write_extra_sample(cap, "produced by tests/qemu/extra/poweroff.py: a real Debian kernel "
                                        "booted under QEMU with the guest kit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
