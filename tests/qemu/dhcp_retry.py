"""Real boots for DHCP supersession (parsers/README.md, `superseded_by`): busybox udhcpc
retrying until its lease comes (the NIC's link down at first, raised by the QEMU monitor once
the first attempt gave up), and a machine with two NICs, one of them on no network, whose
second NIC gets no lease after the first got one (both reach their login prompt); a DHCP
failure that is not the verdict (no lease, then init fails for another reason) and one that is
(no lease, so init exits: netjudge); a machine whose NIC driver is missing that comes up
to its login prompt unreachable (unknown: netjudge.up_unmet).

    python tests/qemu/dhcp_retry.py            # boot them all, (re)write samples/qemu-dhcp-*/ and qemu-nic-*
    python tests/qemu/dhcp_retry.py --show NAME

These are not blind scenarios (blind_scenarios.py): the rules were written from them.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from blind_model import Action, BlindScenario  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import GETTY, IDLE, READY, UDHCPC_APPLIES_121  # noqa: E402

UDHCPC = "udhcpc -n -q -t 2 -T 1 -s /etc/udhcpc.script"
STOP = [StopRule(r"login: ", settle=1.0)]
SCRIPT = {"/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}

SCENARIOS = [
    BlindScenario(
        name="dhcp-retry-then-lease",
        title="busybox udhcpc gives up twice while the NIC's link is down, then gets its lease",
        family="network-dhcp",
        injected="QEMU user networking, the NIC's link set down by the monitor (set_link n0 off) as "
                 "the kernel starts and up again once udhcpc said 'no lease, failing' twice; the "
                 "initramfs runs udhcpc -n until it gets a lease, then a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            f"until {UDHCPC} -i eth0; do sleep 1; done\necho {READY}; {GETTY}\n" + IDLE,
            modules=["virtio_net", "virtio_pci"], files=SCRIPT),
        network="user",
        actions=[Action(after=r"Linux version", hmp="set_link n0 off"),
                 Action(after=r"(?s)no lease, failing.*no lease, failing", hmp="set_link n0 on")],
        stop=STOP, timeout=50, outcome="success", categories=["boot.success"],
        evidence={"boot.success": ["debian login: "]}, half="none"),
    BlindScenario(
        name="dhcp-second-nic-no-lease",
        title="two NICs: the first gets its lease, the second (on no network) gets none",
        family="network-dhcp",
        injected="QEMU user networking on the first virtio NIC and a second virtio NIC with no "
                 "network behind it (no -netdev peer); the initramfs runs udhcpc -n on eth0, then "
                 "on eth1, then a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            f"{UDHCPC} -i eth0\n{UDHCPC} -i eth1\necho {READY}; {GETTY}\n" + IDLE,
            modules=["virtio_net", "virtio_pci"], files=SCRIPT),
        network="user",
        qemu_args=["-device", "virtio-net-pci,romfile=,mac=52:54:00:12:34:57"],
        stop=STOP, timeout=50, outcome="success",
        categories=["boot.success", "network.dhcp.no-lease"],
        evidence={"boot.success": ["debian login: "], "network.dhcp.no-lease": ["udhcpc: no lease, failing"]},
        notes="eth1 really got no lease, and is reported, as a warning: eth0 got its address "
              "before it and the boot reached its login prompt, so the machine is up and "
              "reachable; the failure did not decide the outcome.",
        half="none"),
    BlindScenario(
        name="dhcp-no-lease-then-init-missing",
        title="busybox udhcpc gets no lease, then /init execs a program the image lacks",
        family="network-dhcp",
        injected="the NIC is a tap device in a private network namespace with no DHCP server; the "
                 "initramfs runs udhcpc -n once, then execs /sbin/app, which the image lacks: init "
                 "exits and the kernel panics",
        append="console=ttyS0",
        initramfs=InitramfsSpec(f"{UDHCPC} -i eth0\nexec /sbin/app\n",
                                modules=["virtio_net", "virtio_pci"], files=SCRIPT),
        network="isolated",
        stop=[StopRule(r"---\[ end Kernel panic", settle=0.5)], timeout=50, outcome="failure",
        categories=["init.not-found", "kernel.panic", "network.dhcp.no-lease"],
        evidence={"init.not-found": ["/init: exec: line 9: /sbin/app: not found"],
                  "network.dhcp.no-lease": ["udhcpc: no lease, failing"]},
        notes="The DHCP failure is real and reported, as a warning: the boot went on past it and died "
              "of something else (init exited), which is the verdict.",
        half="none"),
    BlindScenario(
        name="dhcp-no-lease-init-exits",
        title="busybox udhcpc gets no lease and /init exits for want of it: the kernel panics",
        family="network-dhcp",
        injected="the NIC is a tap device in a private network namespace with no DHCP server; the "
                 "initramfs runs `udhcpc -n ... || exit 1`: init exits and the kernel panics",
        append="console=ttyS0",
        initramfs=InitramfsSpec(f"{UDHCPC} -i eth0 || exit 1\n" + IDLE,
                                modules=["virtio_net", "virtio_pci"], files=SCRIPT),
        network="isolated",
        stop=[StopRule(r"---\[ end Kernel panic", settle=0.5)], timeout=50, outcome="failure",
        categories=["kernel.panic", "network.dhcp.no-lease"],
        evidence={"network.dhcp.no-lease": ["udhcpc: no lease, failing"]},
        notes="The panic (init exited) is the DHCP failure's consequence: the failure stays an error, "
              "the cause, next to the panic.",
        half="none"),
    BlindScenario(
        name="nic-driver-missing-then-login",
        title="the NIC's driver is not in the initramfs: busybox modprobe cannot find it, the "
              "machine comes up to its login prompt with no network",
        family="network-dhcp",
        injected="QEMU user networking on a virtio NIC; the initramfs carries no kernel modules and "
                 "an empty modules.dep (as an initramfs built without the NIC's driver): /init runs "
                 "`modprobe virtio_net`, which fails, then a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            'mkdir -p /lib/modules/$(uname -r); : > /lib/modules/$(uname -r)/modules.dep\n'
            f"modprobe virtio_net\necho {READY}; {GETTY}\n" + IDLE),
        network="user",
        stop=STOP, timeout=50, outcome="unknown", categories=["network.no-device"],
        evidence={"network.no-device": ["modprobe: module virtio_net not found in modules.dep"]},
        notes="The machine reached its login prompt but has no network interface: up, not reachable. "
              "Neither a failure (the boot went on) nor a success (nothing can reach it).",
        half="none"),
]
BY_NAME = {sc.name: sc for sc in SCENARIOS}


def write_case(cap, folder: Path) -> None:
    """samples/qemu-NAME/: the serial log as QEMU wrote it, meta.yaml and expected.yaml."""
    from capture import _dump, qemu_version
    from capture_blind import SERIAL_CAPTURE, base_meta, check, expected

    check(cap)  # ended by its stop rule, the monitor commands sent, the evidence on the console
    sc = cap.scenario
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "serial.log").write_bytes(cap.result.serial)
    meta = base_meta(cap, f"qemu-{sc.name}", ["serial.log"], SERIAL_CAPTURE, sc.family, qemu_version())
    for key in ("thread", "family"):  # not a blind case
        meta.pop(key)
    meta["source"] = meta["source"].replace("capture_blind.py", "dhcp_retry.py")
    _dump(folder / "meta.yaml", meta)
    _dump(folder / "expected.yaml", expected(sc.outcome, sc.categories, sc.optional, sc.evidence,
                                             "Annotated from the boot (see meta.yaml injected)."))


def main(argv: list[str]) -> int:
    from guestkit import blindboot

    names = [a for a in argv if not a.startswith("-")] or list(BY_NAME)
    for name in names:
        cap = blindboot.run(BY_NAME[name])
        if "--show" in argv:
            sys.stdout.write("\n".join(cap.lines) + "\n")
            continue
        write_case(cap, HERE.parent.parent / "samples" / f"qemu-{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
