"""Boot scenarios as data: which kernel, what the guest runs, which fault is injected, when
to stop, and what consolewatch must conclude from the real console output.

Expected evidence is given as regexes over the sanitised serial lines (escape sequences and
carriage returns removed): kernel timestamps and pids change from boot to boot, so
`capture.py` resolves each regex to the exact line of the capture it writes, and the live
tests resolve them against the boot they just ran.

Lines that a guest *script* prints (rather than the kernel or a busybox applet): exactly
one, the ready marker READY; capture.py lists it under `markers` in meta.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule

READY = "consolewatch-guest: ready"
READY_MARKER = {
    "text": READY,
    "printed_by": "the guest's own init script, once the scenario's setup succeeded",
}

METADATA_URL = "http://169.254.169.254/computeMetadata/v1/instance/hostname"

#: After the ready marker a booted guest offers a login, as a real machine does: busybox getty
#: prints a real "debian login: " prompt on the serial console (consolewatch's ready line).
#: Like a distribution's sysctl default (kernel.printk = 4), informational kernel messages stop
#: reaching the console first: newer kernels print "IPv6: ADDRCONF(NETDEV_CHANGE)" after the
#: lease, which would otherwise land on the prompt's row.
GETTY = "dmesg -n 4; hostname debian; getty -L 115200 ttyS0 vt100 &"
LOGIN_PROMPT = r"^debian login: ?$"

# -- guest programs ------------------------------------------------------------------------

#: udhcpc event script of a client that configures the lease and the router (option 3) but
#: never looks at $staticroutes (option 121): what old or minimal images do.
UDHCPC_IGNORES_121 = """\
#!/bin/sh
# udhcpc event script: address + default gateway; ignores $staticroutes (option 121)
case "$1" in
deconfig) ifconfig $interface 0.0.0.0 up ;;
bound|renew)
  ifconfig $interface $ip netmask $subnet
  for r in $router; do route add default gw $r dev $interface; done
  ;;
esac
"""

#: udhcpc event script that applies option 121 as RFC 3442 says (routes in order, router
#: option ignored when classless routes are present), else falls back to the router.
UDHCPC_APPLIES_121 = """\
#!/bin/sh
# udhcpc event script: address, then option 121 routes in order (RFC 3442), else router
case "$1" in
deconfig) ifconfig $interface 0.0.0.0 up ;;
bound|renew)
  ifconfig $interface $ip netmask $subnet
  if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then ip route add $1 dev $interface
      else ip route add $1 via $2 dev $interface; fi
      shift 2
    done
  else
    for r in $router; do route add default gw $r dev $interface; done
  fi
  ;;
esac
"""

IDLE = "while :; do sleep 3600; done\n"


def _dhcp_init(udhcpc_args: str, after_lease: str) -> str:
    return (
        f"if udhcpc -i eth0 -n -q -t 3 -T 2 {udhcpc_args}-s /etc/udhcpc.script; then\n"
        f"  {after_lease}\n"
        "fi\n" + IDLE
    )


NET_MODULES = ["virtio_net", "virtio_pci"]

#: /sbin/init of the ext4 root filesystem on the scenario disks.
ROOTFS_INIT = """\
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo consolewatch-guest: ready
while :; do sleep 3600; done
"""


@dataclass
class DiskSpec:
    interface: str                 # nvme | virtio
    partitioned: bool = True
    size_mb: int = 16
    corrupt: str | None = None     # None or a key of guestkit.boot.CORRUPTIONS
    init: str = ROOTFS_INIT        # /sbin/init of the root filesystem


@dataclass
class Scenario:
    name: str
    title: str
    injected: str                  # the fault, in words (meta.yaml)
    append: str                    # kernel command line
    kernel: str = "cloud"          # cloud | generic
    initramfs: InitramfsSpec | None = None
    disk: DiskSpec | None = None
    network: str = "none"          # none | user | isolated | gce
    memory_mb: int = 256
    stop: list[StopRule] = field(default_factory=list)
    timeout: float = 45.0
    screen: bool = False           # capture VGA frames (screen.png)
    screen_stop: StopRule | None = None  # stop rule over the text in video memory
    screen_stable: float | None = None   # or stop once the screen is unchanged this long
    # what consolewatch must conclude (samples/README.md format)
    outcome: str = "failure"
    categories: list[str] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)  # category -> regexes
    boots: int | None = None
    models_cloud: str | None = None  # the cloud situation it reproduces (meta.yaml)
    remediation_mentions: list[str] = field(default_factory=list)
    screen_categories: list[str] = field(default_factory=list)
    screen_evidence: str | None = None  # regex over the joined screen text
    serial_only: dict | None = None
    notes: str = ""


def _panic_stop(count: int = 1, settle: float = 0.5) -> list[StopRule]:
    return [StopRule(r"---\[ end Kernel panic", count=count, settle=settle)]


PANIC_EVIDENCE = r"(?<!end )Kernel panic - not syncing: "

SCENARIOS: list[Scenario] = [
    Scenario(
        name="healthy",
        title="Healthy boot: DHCP lease from QEMU user networking, then the ready marker",
        injected="nothing (control case)",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            _dhcp_init("", f"echo {READY}; {GETTY}"), modules=NET_MODULES,
            files={"/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
        network="user",
        stop=[StopRule(r"login: ", settle=0.5)],
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": [LOGIN_PROMPT]},
        notes="udhcpc gets 10.0.2.15 from QEMU's user-mode (slirp) DHCP server, then the "
              "init script prints the ready marker and starts busybox getty, whose login prompt "
              "is the ready line consolewatch sees.",
    ),
    Scenario(
        name="wrong-root-nvme",
        title="root=/dev/xvda1 on an NVMe-only VM (the Xen -> Nitro rename)",
        injected="kernel command line root=/dev/xvda1 while the only disk is NVMe "
                 "(nvme0n1, partition nvme0n1p1 holds a good ext4 root); no initramfs",
        append="console=ttyS0 root=/dev/xvda1",
        disk=DiskSpec("nvme"),
        stop=_panic_stop(),
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        evidence={
            "disk.root-not-found": [r'VFS: Cannot open root device "xvda1"'],
            "kernel.panic": [PANIC_EVIDENCE + r"VFS: Unable to mount root fs"],
        },
        remediation_mentions=["nvme0n1"],
        models_cloud="aws",
        notes="Debian's cloud kernel has NVMe built in, so the disk is found and the panic "
              "lists it under 'available partitions' (nvme0n1, nvme0n1p1): the name is "
              "wrong, not the driver. The fix is root=/dev/nvme0n1p1 (better: root=UUID= "
              "or LABEL=). Booted under plain QEMU: cloud is the case it models (AWS Nitro).",
    ),
    Scenario(
        name="wrong-root-virtio",
        title="root=/dev/xvda1 on a virtio disk (the disk is vda), generic kernel + initramfs",
        injected="kernel command line root=/dev/xvda1 while the disk is virtio (vda, vda1 "
                 "holds a good ext4 root); the initramfs loads virtio_blk and ext4, waits "
                 "3 s for the root device, then mounts it with busybox mount",
        kernel="generic",
        append="console=ttyS0 root=/dev/xvda1",
        initramfs=InitramfsSpec(
            """\
root=$(sed -n 's/.*root=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
i=0
while [ ! -b "$root" ] && [ $i -lt 3 ]; do sleep 1; i=$((i+1)); done
mkdir -p /newroot
mount -t ext4 -o ro "$root" /newroot && exec switch_root /newroot /sbin/init
""",
            modules=["virtio_blk", "virtio_pci", "ext4", "crc32c_generic"]),
        disk=DiskSpec("virtio"),
        stop=_panic_stop(),
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        evidence={
            "disk.root-not-found": [r"/dev/xvda1: Can't open blockdev",
                                    r"^mount: mounting /dev/xvda1 on /newroot failed: "],
            "kernel.panic": [PANIC_EVIDENCE + r"Attempted to kill init!"],
        },
        remediation_mentions=["vda"],
        models_cloud="do",
        notes="Neither Debian kernel has virtio_blk built in, so a KVM 'wrong name' case "
              "with a virtio disk needs an initramfs: the kernel's virtio_blk line names "
              "the disk [vda] and busybox mount fails on /dev/xvda1; the init script then "
              "ends and the kernel panics. The fix is root=/dev/vda1 (as on DigitalOcean).",
    ),
    Scenario(
        name="driver-missing",
        title="Disk driver built as a module, no initramfs: the root disk never appears",
        injected="virtio disk, root=/dev/vda1 (the right name), no initramfs; the cloud "
                 "kernel has virtio_blk only as a module",
        append="console=ttyS0 root=/dev/vda1",
        disk=DiskSpec("virtio"),
        stop=_panic_stop(),
        outcome="failure",
        categories=["disk.driver-missing", "disk.root-not-found", "kernel.panic"],
        evidence={
            "disk.driver-missing": [r'VFS: Cannot open root device "vda1"'],
            "disk.root-not-found": [r'VFS: Cannot open root device "vda1"'],
            "kernel.panic": [PANIC_EVIDENCE + r"VFS: Unable to mount root fs"],
        },
        notes="The 'available partitions' list after 'Please append a correct \"root=\" boot "
              "option' is empty: no block device exists at all, so the driver is missing "
              "(CONFIG_VIRTIO_BLK=m with no initramfs), not just the name wrong. The root device "
              "not found is reported too, after its cause (the missing driver).",
    ),
    Scenario(
        name="no-network-device",
        title="No network device: the VM has no NIC",
        injected="no NIC attached (-nic none); the initramfs loads virtio_net and runs udhcpc",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            _dhcp_init("", f"echo {READY}; {GETTY}"), modules=NET_MODULES,
            files={"/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
        network="none",
        stop=[StopRule(r"udhcpc: SIOCGIFINDEX", settle=1.0)],
        outcome="failure",
        categories=["network.no-device"],
        evidence={"network.no-device": [r"^udhcpc: SIOCGIFINDEX: No such device$"]},
    ),
    Scenario(
        name="dhcp-no-lease",
        title="A NIC on a network with no DHCP server",
        injected="the NIC is a tap device in a private network namespace with no DHCP "
                 "server; udhcpc -n -t 3 -T 2",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            _dhcp_init("", f"echo {READY}; {GETTY}"), modules=NET_MODULES,
            files={"/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
        network="isolated",
        stop=[StopRule(r"udhcpc: no lease", settle=1.0)],
        outcome="failure",
        categories=["network.dhcp.no-lease"],
        evidence={"network.dhcp.no-lease": [r"^udhcpc: no lease, failing$"]},
    ),
    Scenario(
        name="gce-option121-ignored",
        title="GCE-like DHCP (/32 lease, off-link gateway, option 121); client ignores 121",
        injected="dnsmasq in a network namespace leases 10.128.0.2 with netmask "
                 "255.255.255.255, router 10.128.0.1 and option 121 (10.128.0.1/32 via "
                 "0.0.0.0, 0.0.0.0/0 via 10.128.0.1), as GCE does; the guest's udhcpc "
                 "script ignores $staticroutes and adds the default route directly",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            _dhcp_init("", f"wget -O /tmp/hostname {METADATA_URL} && echo {READY}"),
            modules=NET_MODULES,
            files={"/etc/udhcpc.script": (UDHCPC_IGNORES_121, 0o755)}),
        network="gce",
        stop=[StopRule(r"wget: ", settle=1.0), StopRule(READY, settle=0.5)],
        outcome="failure",
        categories=["network.dhcp.option121-missing", "network.metadata-unreachable"],
        evidence={
            "network.dhcp.option121-missing": [r"^route: SIOCADDRT: Network is unreachable$"],
            "network.metadata-unreachable": [
                r"^wget: can't connect to remote host \(169\.254\.169\.254\): "
                r"Network is unreachable$"],
        },
        models_cloud="gce",
        notes="The lease line shows a /32 address; the default route via 10.128.0.1 fails "
              "because the gateway is off-link without option 121's host route, so the "
              "metadata server (served on 169.254.169.254 inside the namespace) is "
              "unreachable.",
    ),
    Scenario(
        name="gce-option121-applied",
        title="GCE-like DHCP with a client that applies option 121: boots",
        injected="the same GCE-like DHCP server; the guest's udhcpc requests option 121 "
                 "(-O staticroutes) and installs its routes in order",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            _dhcp_init("-O staticroutes ",
                       f"wget -O /tmp/hostname {METADATA_URL} && echo {READY} && {GETTY}"),
            modules=NET_MODULES,
            files={"/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
        network="gce",
        stop=[StopRule(r"login: ", settle=0.5), StopRule(r"wget: ", settle=1.0)],
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": [LOGIN_PROMPT]},
        models_cloud="gce",
        notes="The metadata fetch succeeds (busybox wget's own lines), then the ready "
              "marker. The same /32 lease as gce-option121-ignored.",
    ),
    Scenario(
        name="console-silent",
        title="Kernel without console=ttyS0: serial silent after the BIOS, the screen has it",
        injected="kernel command line console=tty0 (no console=ttyS0) and root=/dev/xvda1 on "
                 "an NVMe-only VM; the serial port gets only SeaBIOS's output",
        append="console=tty0 root=/dev/xvda1",
        disk=DiskSpec("nvme"),
        screen=True,
        screen_stop=StopRule(r"---\[ end Kernel panic", settle=1.0),
        timeout=40,
        outcome="failure",
        categories=["console.silent", "disk.root-not-found", "kernel.panic"],
        evidence={"console.silent": [r"^Probing EDD \(edd=off to disable\)\.\.\. o"]},
        screen_categories=["disk.root-not-found", "kernel.panic"],
        screen_evidence=PANIC_EVIDENCE + r"VFS: Unable to mount root fs on unknown-block\(0,0\)",
        serial_only={"outcome": "stall", "categories": ["console.silent"]},
        models_cloud="gce",
        notes="analyze is given serial.log and screen.png as one machine's capture: the "
              "serial port alone only shows that the console is silent after the BIOS "
              "(serial_only), the screen (OCR) shows the real failure. screen_text in "
              "meta.yaml is the VGA text buffer read from guest memory at the same moment "
              "as the screendump (ground truth for OCR).",
    ),
    Scenario(
        name="no-init",
        title="No working init: /init cannot be executed",
        injected="the initramfs has /init (a script whose interpreter /bin/sh does not "
                 "exist: busybox left out) and nothing else",
        append="console=ttyS0",
        initramfs=InitramfsSpec("#!/bin/sh\nexec /bin/sh\n", busybox=False, raw_init=True),
        stop=_panic_stop(),
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={
            "init.not-found": [r"Failed to execute /init \(error -2\)",
                               PANIC_EVIDENCE + r"No working init found"],
            "kernel.panic": [PANIC_EVIDENCE + r"No working init found"],
        },
    ),
    Scenario(
        name="sysrq-crash",
        title="Kernel crash triggered with sysrq c",
        injected="init runs echo c > /proc/sysrq-trigger",
        append="console=ttyS0",
        initramfs=InitramfsSpec("echo c > /proc/sysrq-trigger\n" + IDLE),
        stop=_panic_stop(),
        outcome="failure",
        categories=["kernel.panic"],
        evidence={"kernel.panic": [PANIC_EVIDENCE + r"sysrq triggered crash"]},
        notes="On 6.1 sysrq c calls panic() directly: a call trace but no 'Oops:' line.",
    ),
    Scenario(
        name="oom",
        title="Memory exhaustion: the OOM killer kills the process that ate the memory",
        injected="with 256 MB of RAM, init runs busybox awk doubling a string in a loop "
                 "until the kernel's OOM killer kills it",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "awk 'BEGIN { s = \"consolewatch\"; while (1) s = s s }'\n" + IDLE),
        stop=[StopRule(r"Out of memory: Killed process", settle=2.0)],
        outcome="failure",
        categories=["kernel.oom"],
        evidence={"kernel.oom": [r"Out of memory: Killed process \d+ \(awk\)",
                                 r"invoked oom-killer: "]},
    ),
    Scenario(
        name="boot-loop",
        title="panic=1 with a failing boot: the VM reboots into the same panic",
        injected="panic=1 on the command line plus the driver-missing fault (virtio disk, "
                 "root=/dev/vda1, no initramfs); QEMU reboots on each panic; stopped after "
                 "the third",
        append="console=ttyS0 root=/dev/vda1 panic=1",
        disk=DiskSpec("virtio"),
        stop=[StopRule(r"Rebooting in 1 seconds", count=3, settle=0.3)],
        timeout=60,
        outcome="failure",
        categories=["boot.loop", "disk.driver-missing", "disk.root-not-found", "kernel.panic"],
        evidence={
            "boot.loop": [r'VFS: Cannot open root device "vda1"'],  # each boot's cause, quoted by the loop
            "disk.driver-missing": [r'VFS: Cannot open root device "vda1"'],
            "disk.root-not-found": [r'VFS: Cannot open root device "vda1"'],
            "kernel.panic": [PANIC_EVIDENCE + r"VFS: Unable to mount root fs"],
        },
        boots=3,
    ),
    Scenario(
        name="fs-error",
        title="Corrupted ext4 root filesystem",
        injected="NVMe disk, root=/dev/nvme0n1p1 (the right name); the first data block of "
                 "the root directory of the ext4 filesystem is overwritten with a fixed "
                 "byte pattern",
        append="console=ttyS0 root=/dev/nvme0n1p1",
        disk=DiskSpec("nvme", corrupt="root-dir-block"),
        stop=_panic_stop(),
        outcome="failure",
        categories=["disk.fs-error", "init.not-found", "kernel.panic"],
        evidence={
            "disk.fs-error": [r"EXT4-fs error \(device nvme0n1p1\): "],
            "init.not-found": [PANIC_EVIDENCE + r"No working init found"],
            "kernel.panic": [PANIC_EVIDENCE + r"No working init found"],
        },
        notes="The root filesystem mounts, then every lookup in / fails its directory-block "
              "checksum (EXT4-fs error ... checksumming directory block 0), so each init "
              "candidate 'exists but couldn't execute' (error -74, EBADMSG) and the kernel "
              "panics with 'No working init found'. The root cause is disk.fs-error; "
              "init.not-found and kernel.panic are what it leads to. Fix: fsck the volume "
              "from another machine (e2fsck -fy), or restore it from a snapshot.",
    ),
]

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}
