"""Blind QEMU scenarios of the sixth round (blind_scenarios.py has the model and the first
rounds): healthy runs of kinds not recorded yet (a quiet boot, an initramfs that switches to
its root disk, an emulated e1000 NIC, two CPUs), init that cannot start (/init not
executable, a CRLF interpreter line, /init missing a shared library), data disks the kernel
refuses (a bad superblock checksum, an unknown feature bit, a Btrfs superblock that fails its
checksum, a disk that returns read errors), a hung task on a throttled disk, panic loops
whose panic is not a root-device one (an RCU stall under panic_on_rcu_stall, PID 1
segfaulting), DHCP (udhcpc without its default script, dhcpcd on a lease with no router, a
NIC model the cloud kernel has no driver for), provisioning agents (the metadata server down,
hanging, or without the user-data; a NoCloud seed without meta-data) and firmware (OVMF's PXE
with no DHCP server, a boot disk SeaBIOS cannot read); MORE adds init= naming a directory,
networkd on a lease with no router, an ext4 errors=panic reboot loop, the metadata server
asked for by name with no resolver, a floppy SeaBIOS cannot read and a balloon inflated into
an OOM. Annotated from the fault injected, as the rest of the blind set. Halves alternate
over ROUND6 in order, starting with holdout."""

from __future__ import annotations

import dataclasses

from blind_boot_faults import OVMF
from blind_model import LOGIN, READY_THEN_GETTY, VIRTIO_DISK, Action, BlindScenario, panic_stop
from blind_network import (
    BASE_FILES,
    DHCPCD,
    FETCH_THEN_READY,
    METADATA_URL,
    NET_MODULES,
    NET_STOP,
    UDHCPC,
    UDHCPC_SIMPLE,
    _networkd,
)
from blind_round4 import ROOT_LOGIN_INIT
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import GETTY, IDLE, READY, UDHCPC_APPLIES_121, DiskSpec

KILL_INIT = "Kernel panic - not syncing: Attempted to kill init! exitcode="
#: a login on the VGA console too (tty1), for the screen cases
VGA_GETTY = "getty 38400 tty1 &\n"
#: every read of the disk fails with EIO (QEMU's blkdebug driver; raw images signal read_aio)
READ_ERRORS = '[inject-error]\nevent = "read_aio"\nerrno = "5"\nonce = "off"\n'
UDHCPC_121 = {**BASE_FILES, "/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}
UDHCPC_121_RUN = "udhcpc -i eth0 -n -q -t 3 -T 2 -s /etc/udhcpc.script\n"
USER_DATA_URL = "http://169.254.169.254/computeMetadata/v1/instance/attributes/user-data"

HEALTHY: list[BlindScenario] = [
    BlindScenario(
        name="quiet-boot-login",
        title="A boot with 'quiet' on the command line: a few lines, then the login prompt",
        family="healthy",
        injected="nothing (control case): 'quiet' on the command line (console log level 4, "
                 "as distribution images ship), console=tty0 console=ttyS0; init offers a "
                 "login on the serial port and on the screen (tty1)",
        append="console=tty0 console=ttyS0 quiet",
        initramfs=InitramfsSpec(VGA_GETTY + READY_THEN_GETTY + IDLE),
        stop=LOGIN,
        screen=True,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
        screen_evidence={"boot.success": ["debian login:"]},
    ),
    BlindScenario(
        name="switch-root-to-disk-login",
        title="The initramfs mounts the root disk and switches to it; the disk's init offers "
              "a login",
        family="healthy",
        injected="nothing (control case): the initramfs mounts the NVMe root (nvme0n1p1, "
                 "ext4) read-write on /newroot and runs busybox switch_root to its /sbin/init, "
                 "which offers a login (the classic two-stage boot); no root= on the command "
                 "line",
        append="console=ttyS0",
        initramfs=InitramfsSpec("mkdir -p /newroot\nmount -t ext4 /dev/nvme0n1p1 /newroot\n"
                                "exec switch_root /newroot /sbin/init\n"),
        root_disk=DiskSpec("nvme", init=ROOT_LOGIN_INIT),
        stop=LOGIN,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
    ),
    BlindScenario(
        name="e1000-nic-lease-login",
        title="An emulated Intel e1000 NIC (generic kernel's e1000 driver) gets a lease",
        family="healthy",
        injected="nothing (control case): generic Debian kernel; an e1000 NIC on QEMU user "
                 "networking; init loads e1000 and runs busybox udhcpc with busybox's example "
                 "script, then offers a login",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "ip link set eth0 up; sleep 3\nmkdir -p /run\n" + UDHCPC
            + f" && echo {READY}; {GETTY}\n" + IDLE,
            modules=["e1000"], files=BASE_FILES),
        **UDHCPC_SIMPLE,
        qemu_args=["-netdev", "user,id=n0", "-device", "e1000,netdev=n0,romfile="],
        stop=LOGIN,
        timeout=55,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["e1000: eth0 NIC Link is Up", "debian login:"]},
    ),
    BlindScenario(
        name="two-cpus-login",
        title="A machine with two vCPUs brings up both and reaches its login prompt",
        family="healthy",
        injected="nothing (control case): -smp 2 (two vCPUs under TCG); the usual initramfs "
                 "offering a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        qemu_args=["-smp", "2"],
        stop=LOGIN,
        timeout=55,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["smp: Brought up 1 node, 2 CPUs", "debian login:"]},
    ),
]

INIT: list[BlindScenario] = [
    BlindScenario(
        name="init-mode-not-executable",
        title="/init lost its execute bit and there is no /bin/sh: no working init, panic",
        family="root-device",
        injected="the initramfs's /init script has mode 0644 (built without the execute bit); "
                 "busybox is at /bin/busybox but there is no /bin/sh link, so none of the "
                 "kernel's fallbacks (/sbin/init, /etc/init, /bin/init, /bin/sh) exists",
        append="console=tty0 console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE, init_mode=0o644, sh_link=False),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["Failed to execute /init (error -13)"],
                  "kernel.panic": ["Kernel panic - not syncing: No working init found."]},
        screen_evidence={"init.not-found": ["Run /bin/sh as init process",
                                            "No working init found."],
                         "kernel.panic": ["Kernel panic - not syncing: No working init found."]},
    ),
    BlindScenario(
        name="init-crlf-interpreter-line",
        title="/init was saved with Windows line endings: its interpreter line names 'sh\\r'",
        family="root-device",
        injected="the initramfs's /init script has CRLF line endings (edited on Windows): the "
                 "kernel runs '/bin/busybox' with the argument 'sh\\r', busybox has no applet "
                 "of that name and exits 127",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "#!/bin/busybox sh\r\n/bin/busybox --install -s /bin\r\n"
            f"echo {READY}\r\n" + GETTY + "\r\n" + IDLE.replace("\n", "\r\n"), raw_init=True),
        stop=panic_stop(),
        excerpt=12,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["applet not found"],
                  "kernel.panic": [KILL_INIT + "0x00007f00"]},
        excerpt_evidence={"kernel.panic": [KILL_INIT + "0x00007f00"]},
        notes="The init program cannot run as written (init.not-found, the convention of "
              "round 5 for an init script that cannot run); its exit makes the kernel panic.",
    ),
    BlindScenario(
        name="init-missing-shared-library",
        title="/init is a dynamically linked program whose C library is not in the image",
        family="root-device",
        injected="the initramfs's /init is Debian's dash (dynamically linked) with its loader "
                 "(/lib64/ld-linux-x86-64.so.2) but without libc.so.6 (a trimmed image); the "
                 "loader reports the missing library and exits 127",
        append="console=ttyS0",
        initramfs=InitramfsSpec(""),
        host_programs={"/usr/bin/dash": "/init"},
        initrd_drop=["/lib/x86_64-linux-gnu/libc.so.6"],
        stop=panic_stop(),
        excerpt=45,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["error while loading shared libraries: libc.so.6"],
                  "kernel.panic": [KILL_INIT + "0x00007f00"]},
        excerpt_evidence={"init.not-found": ["error while loading shared libraries: libc.so.6"],
                          "kernel.panic": [KILL_INIT + "0x00007f00"]},
    ),
]


def _data_mount(name: str, title: str, what: str, data: str, mount: str, evidence: list[str],
                modules=VIRTIO_DISK, goes_on: bool = True, **extra) -> BlindScenario:
    """A data disk the kernel refuses to mount. `goes_on`: init carries on to a login
    without it (a failed data mount beside a healthy boot), else it stops there."""
    body = (f"mkdir -p /data\n{mount}\n" + READY_THEN_GETTY + IDLE if goes_on else
            f"mkdir -p /data\nif {mount}; then {READY_THEN_GETTY}fi\n" + IDLE)
    return BlindScenario(
        name=name, title=title, family="filesystems",
        injected=what + ("; init mounts it on /data, then offers a login" if goes_on else
                         "; init mounts it on /data and goes no further when that fails"),
        append="console=ttyS0",
        initramfs=InitramfsSpec(body, modules=modules),
        data=data,
        stop=LOGIN if goes_on else [StopRule(r"mount: mounting /dev/vda on /data failed",
                                             settle=3.0)],
        outcome="success" if goes_on else "failure",
        categories=["boot.success", "disk.fs-error"] if goes_on else ["disk.fs-error"],
        evidence={"disk.fs-error": evidence,
                  **({"boot.success": ["debian login:"]} if goes_on else {})},
        **extra)


FILESYSTEMS: list[BlindScenario] = [
    _data_mount("ext4-data-superblock-checksum",
                "The data disk's ext4 superblock fails its checksum; the boot goes on without it",
                "a 32 MB ext4 data disk (virtio, vda; metadata_csum, mke2fs's default) whose "
                "primary superblock checksum is inverted", "ext4-bad-checksum",
                "mount -t ext4 -o loud /dev/vda /data",
                ["invalid superblock checksum", "mount: mounting /dev/vda on /data failed"]),
    _data_mount("ext4-data-unknown-feature",
                "The data disk's ext4 carries a feature this kernel does not know: no mount",
                "a 32 MB ext4 data disk (virtio, vda) whose superblock has an incompatible-"
                "feature bit Linux 6.1 does not define (as a newer mke2fs would set)",
                "ext4-unknown-feature", "mount -t ext4 -o loud /dev/vda /data",
                ["unsupported optional features", "mount: mounting /dev/vda on /data failed"],
                goes_on=False,
                notes="The boot waits there: its data disk was the point of the machine."),
    _data_mount("btrfs-data-superblock-checksum",
                "The data disk's Btrfs superblock fails its checksum; the boot goes on without it",
                "a 160 MB single-device Btrfs data disk (virtio, vda) whose primary superblock "
                "had one byte of its label changed after mkfs", "btrfs-bad-checksum",
                "mount -t btrfs /dev/vda /data",
                ["superblock checksum mismatch", "open_ctree failed"],
                modules=[*VIRTIO_DISK, "btrfs"]),
    _data_mount("data-disk-read-errors",
                "Every read of the data disk fails (I/O errors): no file system, boot goes on",
                "a healthy 32 MB ext4 data disk (virtio, vda) behind QEMU's blkdebug driver "
                "injecting EIO on every read (a failing volume)", "ext4-data",
                "mount -t ext4 -o loud /dev/vda /data",
                ["I/O error, dev vda", "Buffer I/O error on dev vda"],
                data_blkdebug=READ_ERRORS,
                notes="A data disk that cannot be read is annotated disk.fs-error (its file "
                      "system is lost to the machine) beside the login it still reaches."),
]

KERNEL: list[BlindScenario] = [
    BlindScenario(
        name="hung-task-throttled-disk",
        title="A writer waits on a disk throttled to 64 KB/s: hung-task reports after the login",
        family="kernel-health",
        injected="a healthy ext4 data disk (virtio, vda) throttled by QEMU to 64 KB/s "
                 "(throttling.bps-total=65536, a volume out of burst credits); "
                 "hung_task_timeout_secs=3; dd writes 8 MB to it with conv=fsync in the "
                 "background while init goes on to a login prompt (console log level left at "
                 "7, dmesg -n 7); stopped 3 s after the first hung-task report",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "echo 3 > /proc/sys/kernel/hung_task_timeout_secs\n"
            "mkdir -p /data && mount -t ext4 /dev/vda /data\n"
            "dd if=/dev/zero of=/data/blob bs=1M count=8 conv=fsync &\nsleep 1\necho " + READY
            + "; " + GETTY.replace("dmesg -n 4", "dmesg -n 7") + "\n" + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-data",
        data_options="throttling.bps-total=65536",
        stop=[StopRule(r"blocked for more than", settle=3.0)],
        timeout=55,
        outcome="success",
        categories=["boot.success", "kernel.oops"],
        evidence={"kernel.oops": ["blocked for more than 3 seconds"],
                  "boot.success": ["debian login:"]},
        notes="The machine is up (login prompt); the hung-task reports are warnings (the "
              "convention of samples/blind/: kernel.oops next to boot.success).",
    ),
]

LOOPS: list[BlindScenario] = [
    BlindScenario(
        name="rcu-stall-panic-reboot-loop",
        title="An RCU stall under kernel.panic_on_rcu_stall panics; panic=2 reboots, again",
        family="loops-resets",
        injected="rcupdate.rcu_cpu_stall_timeout=5 panic=2 on the command line; init sets "
                 "kernel.panic_on_rcu_stall=1, disables RT throttling and starts a SCHED_FIFO "
                 "99 busy loop with this machine's chrt on the only CPU: the RCU stall panics "
                 "the kernel, which reboots into the same boot; stopped 1 s after the "
                 "second boot's 'Linux version' line",
        append="console=ttyS0 panic=2 rcupdate.rcu_cpu_stall_timeout=5",
        initramfs=InitramfsSpec(
            "echo 1 > /proc/sys/kernel/panic_on_rcu_stall\n"
            "echo -1 > /proc/sys/kernel/sched_rt_runtime_us\n"
            "/usr/bin/chrt -f 99 sh -c 'while :; do :; done' &\nsleep 1\n"
            + READY_THEN_GETTY + IDLE),
        host_programs={"/usr/bin/chrt": "/usr/bin/chrt"},
        stop=[StopRule(r"Linux version \d", count=2, settle=1.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop", "kernel.oops", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 2 seconds.."],
                  "kernel.oops": ["rcu: INFO: rcu_preempt detected stalls"],
                  "kernel.panic": ["Kernel panic - not syncing: RCU Stall"]},
    ),
    BlindScenario(
        name="init-segfault-panic-loop",
        title="The program run as PID 1 segfaults; the kernel panics and panic=3 reboots, again",
        family="loops-resets",
        injected="init execs busybox 'wget -T 5' of an address no route leads to (no NIC): "
                 "busybox 1.35's wget crashes with SIGSEGV when its connection fails under "
                 "-T, and PID 1 dying of a signal panics the kernel; panic=3 reboots into the "
                 "same boot; stopped after the second 'Rebooting in 3 seconds'",
        append="console=ttyS0 panic=3",
        initramfs=InitramfsSpec("exec wget -T 5 -O /tmp/app.tar http://10.0.2.2/app.tar\n"),
        stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 3 seconds.."],
                  "kernel.panic": [KILL_INIT + "0x0000000b"]},
    ),
]

NETWORK: list[BlindScenario] = [
    BlindScenario(
        name="udhcpc-default-script-missing",
        title="udhcpc without its default script never brings eth0 up: it retries for ever",
        family="network-dhcp",
        injected="busybox udhcpc run without -s on the GCE-like network, and its default "
                 "script /usr/share/udhcpc/default.script is not in the image (the package "
                 "that ships it was left out): the script that brings the interface up and "
                 "applies a lease never runs; stopped after 10 'reopening socket' lines",
        append="console=ttyS0",
        initramfs=InitramfsSpec("mkdir -p /run\nudhcpc -i eth0 -n -q -t 3 -T 2\n"
                                + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        network="gce",
        stop=[StopRule(r"reopening socket", count=10, settle=1.0)],
        timeout=50,
        outcome="stall",
        categories=["network.dhcp.no-lease"],
        optional=["boot.stall"],
        evidence={"network.dhcp.no-lease": ["udhcpc: sendto: Network is down",
                                            "udhcpc: read error: Network is down, reopening "
                                            "socket"]},
        notes="eth0 stays down, so udhcpc cannot even send its request and loops on the "
              "read error; no lease, and nothing ends the loop.",
    ),
    BlindScenario(
        name="dhcpcd-lease-no-router",
        title="dhcpcd on a /32 lease with neither a router nor option 121",
        family="network-dhcp",
        injected="dnsmasq hands out a /32 lease with neither a router (option 3 empty) nor "
                 "option 121; Debian's dhcpcd -4 -1 -B eth0, then the metadata fetch",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcpcd /run/dhcpcd\n/usr/sbin/dhcpcd -4 -1 -B eth0\n"
            + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        **DHCPCD,
        network="gce-no-router",
        stop=NET_STOP,
        timeout=50,
        outcome="failure",
        categories=["network.metadata-unreachable"],
        evidence={"network.metadata-unreachable": ["wget: can't connect to remote host"]},
        notes="The lease works but routes nothing beyond the machine itself.",
    ),
    BlindScenario(
        name="nic-e1000e-cloud-kernel-no-driver",
        title="An emulated e1000e NIC on the cloud kernel, which has no driver for it",
        family="network-dhcp",
        injected="the Debian cloud kernel (no e1000/e1000e drivers: CONFIG_E1000E is not set) "
                 "on a machine whose only NIC is an emulated Intel e1000e on QEMU user "
                 "networking (an image moved from virtio to an emulated NIC); busybox udhcpc "
                 "with busybox's example script, then the metadata fetch",
        append="console=ttyS0",
        initramfs=InitramfsSpec("mkdir -p /run\n" + UDHCPC + "\n" + FETCH_THEN_READY,
                                modules=NET_MODULES, files=BASE_FILES),
        **UDHCPC_SIMPLE,
        qemu_args=["-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,romfile="],
        stop=NET_STOP,
        timeout=50,
        outcome="failure",
        categories=["network.no-device"],
        optional=["network.metadata-unreachable"],
        evidence={"network.no-device": ["SIOCGIFINDEX: No such device"]},
    ),
]


def _agent(name: str, title: str, what: str, agent: str, **kw) -> BlindScenario:
    """A provisioning agent in the initramfs after a working lease on the GCE-like network
    (udhcpc with a script that applies option 121)."""
    return BlindScenario(
        name=name, title=title, family="provisioning", injected=what, append="console=ttyS0",
        initramfs=InitramfsSpec("mkdir -p /run\n" + UDHCPC_121_RUN + agent,
                                modules=NET_MODULES, files=UDHCPC_121),
        network="gce", timeout=55, **kw)


PROVISIONING: list[BlindScenario] = [
    _agent("metadata-down-agent-retries",
           "The metadata server is down: the provisioning agent retries for ever",
           "a working GCE-like lease (udhcpc applying option 121), but nothing listens on "
           "169.254.169.254:80; the agent (a shell loop around busybox wget) retries every "
           "2 s and never gives up; stopped after the fourth refusal",
           f"until wget -O /tmp/hostname {METADATA_URL}; do sleep 2; done\n" + READY_THEN_GETTY
           + IDLE,
           metadata="down",
           stop=[StopRule(r"can't connect to remote host", count=4, settle=1.0)],
           outcome="stall",
           categories=["cloudinit.error", "network.metadata-unreachable"],
           optional=["boot.stall"],
           evidence={"network.metadata-unreachable": ["wget: can't connect to remote host "
                                                      "(169.254.169.254): Connection refused"],
                     "cloudinit.error": ["wget: can't connect to remote host"]},
           excerpt=8,
           excerpt_evidence={"network.metadata-unreachable": [
               "wget: can't connect to remote host (169.254.169.254): Connection refused"]},
           notes="Provisioning that waits for ever on its metadata is cloudinit.error with "
                 "boot.stall optional (the convention for agents other than cloud-init)."),
    _agent("metadata-hangs-agent-waits",
           "The metadata server accepts the connection and never answers: the agent waits",
           "a working GCE-like lease (udhcpc applying option 121); 169.254.169.254:80 accepts "
           "TCP connections and never sends a byte; the agent's busybox wget (no timeout) "
           "waits; stopped 15 s after it connected",
           f"wget -O /tmp/hostname {METADATA_URL} && echo {READY} && {GETTY}\n" + IDLE,
           metadata="hang",
           stop=[StopRule(r"Connecting to 169\.254\.169\.254", settle=15.0)],
           outcome="stall",
           categories=["network.metadata-unreachable"],
           optional=["boot.stall", "cloudinit.error"],
           evidence={"network.metadata-unreachable": [
               "Connecting to 169.254.169.254 (169.254.169.254:80)"]},
           notes="Nothing fails: the fetch never ends. The last line is the connection to the "
                 "metadata server."),
    _agent("userdata-missing-404",
           "The provisioning agent's user-data is not on the metadata server: 404, no login",
           "a working GCE-like lease (udhcpc applying option 121); the metadata server "
           "serves the instance's hostname but no attributes/user-data (the instance was "
           "created without it); the agent fetches the user-data with busybox wget and "
           "stops when that fails",
           f"if wget -O /run/user-data {USER_DATA_URL}; then echo {READY}; {GETTY} fi\n" + IDLE,
           stop=NET_STOP,
           outcome="failure",
           categories=["cloudinit.error"],
           evidence={"cloudinit.error": ["wget: server returned error: HTTP/1.0 404"]}),
    BlindScenario(
        name="nocloud-seed-no-metadata",
        title="A NoCloud seed disk without meta-data: the provisioning agent stops",
        family="provisioning",
        injected="a seed disk (virtio, vda: ext4 labelled cidata) holding user-data but no "
                 "meta-data; the agent mounts it read-only and copies both files with "
                 "busybox cp, and stops when that fails",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /seed /run/cloud\nmount -t ext4 -o ro /dev/vda /seed\n"
            f"if cp /seed/meta-data /seed/user-data /run/cloud/; then {READY_THEN_GETTY}fi\n"
            + IDLE, modules=VIRTIO_DISK),
        data="nocloud-seed-no-metadata",
        stop=[StopRule(r"cp: can't stat", settle=3.0)],
        outcome="failure",
        categories=["cloudinit.error"],
        evidence={"cloudinit.error": ["cp: can't stat '/seed/meta-data'"]},
    ),
]

FIRMWARE: list[BlindScenario] = [
    BlindScenario(
        name="ovmf-pxe-no-dhcp-server",
        title="UEFI network boot (OVMF, PXE over IPv4) on a network with no DHCP server",
        family="bootloader-firmware",
        injected="no -kernel and no disk; Debian's OVMF as the firmware with a virtio NIC and "
                 "QEMU's EFI option ROM for it, on a tap device in a private network "
                 "namespace with no DHCP server; stopped 2 s after OVMF, having failed the "
                 "first boot option (the ROM's iPXE), starts its own PXE over IPv4 (which "
                 "finds no DHCP server either; its timeout outlasts the 60 s limit here)",
        append="",
        no_kernel=True,
        network="isolated",
        nic_rom=True,
        qemu_args=["-bios", OVMF],
        stop=[StopRule(r"Start PXE over IPv4", settle=2.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["No configuration methods succeeded",
                                            "BdsDxe: failed to load Boot0001"]},
    ),
    BlindScenario(
        name="seabios-boot-disk-unreadable",
        title="SeaBIOS cannot read the boot disk's first sector: nothing to boot",
        family="bootloader-firmware",
        injected="no -kernel and no NIC; the only disk (virtio) has a boot sector, but QEMU's "
                 "blkdebug driver fails every read of it with EIO (a failing volume)",
        append="",
        no_kernel=True,
        data="boot-hang",
        data_blkdebug=READ_ERRORS,
        stop=[StopRule(r"No bootable device", settle=2.0)],
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Boot failed: could not read the boot disk",
                                            "No bootable device."]},
    ),
]

#: recorded after the first batch, so they come last (the halves of the first stay put)
MORE: list[BlindScenario] = [
    BlindScenario(
        name="init-param-directory",
        title="init= names a directory on the root file system: the kernel cannot run it",
        family="root-device",
        injected="a good ext4 root on NVMe (root=/dev/nvme0n1p1) and init=/etc (a directory: "
                 "a boot entry whose init= lost its file name); no initramfs",
        append="console=tty0 console=ttyS0 root=/dev/nvme0n1p1 init=/etc",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["Requested init /etc failed (error -13)"],
                  "kernel.panic": ["Kernel panic - not syncing: Requested init /etc failed"]},
        screen_evidence={"init.not-found": ["Requested init /etc failed (error -13)"],
                         "kernel.panic": ["Kernel panic - not syncing: Requested init /etc"]},
    ),
    dataclasses.replace(
        _networkd("networkd-lease-no-router", "", what="",
                  outcome="success", categories=["boot.success"],
                  evidence={"boot.success": ["DHCPv4 address 10.128.0.2/32", "debian login:"]},
                  notes="Although the lease carries no router, the metadata fetch succeeds "
                        "(found at the first boot, not planned): networkd presumably installs "
                        "a route to the lease's DNS server, 169.254.169.254 on this network "
                        "(RoutesToDNS=, on by default), which the host side answers on-link. "
                        "A healthy boot on a lease that looks broken."),
        network="gce-no-router",
        title="systemd-networkd on a /32 lease with neither a router nor option 121 still "
              "reaches the metadata server",
        injected="dnsmasq hands out a /32 lease with neither a router (option 3 empty) nor "
                 "option 121; this machine's systemd-networkd 252 (Debian 12) run from the "
                 "initramfs with a .network file DHCP=ipv4, logging to the console (/sys "
                 "remounted read-only: no udev), then the metadata fetch"),
    BlindScenario(
        name="ext4-errors-panic-reboot-loop",
        title="A data disk mounted errors=panic hits a corrupt inode every boot; panic=2 "
              "reboots, again",
        family="loops-resets",
        injected="a 32 MB ext4 data disk (virtio, vda) with one inode (/app/config) "
                 "overwritten; init mounts it with -o errors=panic and reads /app/config, and "
                 "panic=2 on the command line reboots into the same boot; stopped after the "
                 "second 'Rebooting in 2 seconds'",
        append="console=ttyS0 panic=2",
        initramfs=InitramfsSpec(
            "mkdir -p /data\nmount -t ext4 -o loud,errors=panic /dev/vda /data\n"
            "cat /data/app/config\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-needs-fsck",
        stop=[StopRule(r"Rebooting in 2 seconds", count=2, settle=0.5)],
        timeout=58,
        excerpt=50,
        outcome="failure",
        categories=["boot.loop", "disk.fs-error", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 2 seconds.."],
                  "disk.fs-error": ["EXT4-fs error (device vda)"],
                  "kernel.panic": ["panic forced after error"]},
        excerpt_evidence={"disk.fs-error": ["EXT4-fs error (device vda)"],
                          "kernel.panic": ["panic forced after error"]},
        notes="The excerpt (the second boot's end) shows one panic and its reboot, and the "
              "file system's note of an error from the previous mount; the loop itself is "
              "optional there.",
    ),
    _agent("metadata-by-name-no-resolver",
           "The agent asks for metadata.google.internal and the image has no resolver "
           "configuration",
           "a working GCE-like lease (udhcpc with a script that applies option 121 but, like "
           "many minimal scripts, writes no /etc/resolv.conf); the agent fetches the hostname "
           "from the metadata server by its name, metadata.google.internal, with busybox "
           "wget and stops when that fails",
           "if wget -O /tmp/hostname http://metadata.google.internal/computeMetadata/v1/"
           f"instance/hostname; then echo {READY}; {GETTY} fi\n" + IDLE,
           stop=NET_STOP,
           outcome="failure",
           categories=["network.metadata-unreachable"],
           optional=["cloudinit.error"],
           evidence={"network.metadata-unreachable": [
               "wget: bad address 'metadata.google.internal'"]},
           notes="The metadata server is up and routed; only its name cannot be resolved."),
    BlindScenario(
        name="seabios-floppy-unreadable",
        title="SeaBIOS cannot read the only drive, a floppy: nothing to boot",
        family="bootloader-firmware",
        injected="no -kernel, no disk and no NIC; a 1.44 MB floppy of zeros behind QEMU's "
                 "blkdebug driver failing every read with EIO (a bad medium)",
        append="",
        no_kernel=True,
        data="floppy-blank",
        data_interface="floppy",
        data_blkdebug=READ_ERRORS,
        stop=[StopRule(r"No bootable device", settle=2.0)],
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Boot failed: could not read the boot disk",
                                            "No bootable device."]},
    ),
    BlindScenario(
        name="balloon-inflate-oom-after-login",
        title="The host inflates the memory balloon after the login prompt: the guest runs "
              "out of memory and the OOM killer fires",
        family="kernel-health",
        injected="a virtio balloon device (virtio_balloon loaded); init starts a job that "
                 "builds a 4 MB string with busybox awk every second, then offers a login "
                 "(console log level 7); 1 s after the prompt the QEMU monitor sets the "
                 "balloon to 40 MB of the machine's 256 MB (a host reclaiming memory); "
                 "stopped 3 s after the OOM kill",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "(while :; do awk 'BEGIN { s = \"x\"; for (i = 0; i < 22; i++) s = s s }'; "
            "sleep 1; done) &\n"
            f"echo {READY}; " + GETTY.replace("dmesg -n 4", "dmesg -n 7") + "\n" + IDLE,
            modules=["virtio_balloon", "virtio_pci"]),
        qemu_args=["-device", "virtio-balloon-pci,id=balloon0"],
        actions=[Action(r"login: ", hmp="balloon 40", delay=1.0)],
        stop=[StopRule(r"Out of memory: Killed process", settle=3.0)],
        timeout=50,
        outcome="success",
        categories=["boot.success", "kernel.oom"],
        evidence={"kernel.oom": ["invoked oom-killer", "Out of memory: Killed process"],
                  "boot.success": ["debian login:"]},
        notes="The machine had reached its login prompt; the OOM kill comes after it, caused "
              "from outside (the balloon), and the machine stays up.",
    ),
]

ROUND6: list[BlindScenario] = (HEALTHY + INIT + FILESYSTEMS + KERNEL + LOOPS + NETWORK
                               + PROVISIONING + FIRMWARE + MORE)

# per family in the order above, alternating with the toggle carried across families
# (MORE continues the toggle)
for _n, _sc in enumerate(ROUND6):
    _sc.half = ("holdout", "study")[_n % 2]
