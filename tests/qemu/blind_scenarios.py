"""The QEMU half of the blind set (samples/blind/qemu/): real Debian kernels booted with
faults the suite's own scenarios (scenarios.py) and samples/qemu-* do not inject.

Each scenario is annotated from the fault it injects, never from consolewatch's output:
`outcome`, `categories` (what a person debugging the boot would name), `optional`
(categories a careful reader could also name), and `evidence`: substrings of console lines
that prove each category (no timestamps or pids, so a re-recording keeps them). The recipe
(capture_blind.py) refuses to write a case whose evidence is not on its console.

Lines a guest *script* prints: only the kit's ready marker (scenarios.READY); every other
line comes from the kernel, SeaBIOS, busybox applets or the Debian programs named.
"""

from __future__ import annotations

from blind_boot_faults import ROUND3
from blind_model import LOGIN, READY_THEN_GETTY, THREAD, VIRTIO_DISK, Action, BlindScenario, panic_stop
from blind_network import NETWORK
from blind_round4 import ROUND4
from blind_round5 import ROUND5
from blind_round6 import ROUND6
from blind_round7 import ROUND7
from blind_round19 import ROUND19
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import IDLE, DiskSpec

__all__ = ["BY_NAME", "SCENARIOS", "THREAD", "Action", "BlindScenario"]

SCENARIOS: list[BlindScenario] = [
    BlindScenario(
        name="ext4-data-bad-superblock",
        title="The data disk's ext4 superblock has lost its magic; init cannot mount it",
        family="filesystems",
        injected="a 32 MB ext4 data disk (virtio, vda) whose primary superblock magic is "
                 "zeroed; the initramfs mounts it on /data and stops when that fails",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\n"
            f"if mount -t ext4 -o loud /dev/vda /data; then {READY_THEN_GETTY}fi\n" + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-bad-magic",
        stop=[StopRule(r"mount: mounting /dev/vda on /data failed", settle=3.0)],
        notes="busybox mount is run with -o loud (it passes MS_SILENT otherwise; util-linux "
              "mount does not), so the kernel's own ext4 message is printed as on a "
              "systemd machine. The boot stops there: nothing else is printed.",
        outcome="failure",
        categories=["disk.fs-error"],
        evidence={"disk.fs-error": ["VFS: Can't find ext4 filesystem",
                                    "mount: mounting /dev/vda on /data failed"]},
    ),
    BlindScenario(
        name="ext4-data-fsck-failed",
        title="fsck of the data disk finds an inconsistency it will not fix alone: maintenance shell",
        family="filesystems",
        injected="a 32 MB ext4 data disk (virtio, vda) with one inode (/app/config) overwritten; "
                 "the initramfs runs Debian's e2fsck -p on it before mounting, and on a "
                 "failure starts busybox sulogin, as init scripts do",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "/usr/sbin/e2fsck -p /dev/vda || exec sulogin -t 600 /dev/console\n"
            f"mkdir -p /data && mount -t ext4 -o loud /dev/vda /data && {READY_THEN_GETTY}"
            + IDLE,
            modules=VIRTIO_DISK,
            files={"/etc/passwd": ("root:x:0:0:root:/root:/bin/sh\n", 0o644),
                   "/etc/shadow": ("root:$1$cw$cXhC3hVP/VnxUN4y6jb6B.:19000:0:99999:7:::\n",
                                   0o600)}),
        host_programs={"/usr/sbin/e2fsck": "/usr/sbin/e2fsck"},
        data="ext4-needs-fsck",
        stop=[StopRule(r"Control-D", settle=2.0)],
        outcome="failure",
        categories=["disk.fs-error", "init.emergency-mode"],
        evidence={"disk.fs-error": ["UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY."],
                  "init.emergency-mode": ["Give root password for system maintenance"]},
    ),
    BlindScenario(
        name="ext4-data-larger-than-device",
        title="The data disk's ext4 is larger than its block device; the boot goes on without it",
        family="filesystems",
        injected="an ext4 file system made for 64 MB on a data disk (virtio, vda) of 32 MB; "
                 "the initramfs tries to mount it on /data, then carries on to a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\nmount -t ext4 -o loud /dev/vda /data\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-larger-than-device",
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["bad geometry: block count", "exceeds size of device"]},
        notes="The boot reaches its login prompt: the failed data mount is a problem that did "
              "not stop it.",
    ),
    BlindScenario(
        name="xfs-duplicate-uuid",
        title="A cloned XFS volume attached next to its source: the second mount is refused",
        family="filesystems",
        injected="two virtio data disks (vda, vdb) holding the same XFS file system (one a "
                 "block copy of the other, same UUID); the initramfs mounts vda on /data, "
                 "then vdb on /backup, then carries on to a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data /backup\nmount -t xfs -o loud /dev/vda /data\n"
            "mount -t xfs -o loud /dev/vdb /backup\n" + READY_THEN_GETTY + IDLE,
            modules=[*VIRTIO_DISK, "xfs"]),
        data="xfs-pair",
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["Filesystem has duplicate UUID",
                                    "mount: mounting /dev/vdb on /backup failed"]},
        notes="The boot reaches its login prompt without /backup.",
    ),
    BlindScenario(
        name="btrfs-raid1-device-missing",
        title="Btrfs RAID1 with one of its two devices absent: mount fails, init ends, panic",
        family="filesystems",
        injected="the first device of a two-device Btrfs RAID1 attached alone (virtio, vda); "
                 "the initramfs mounts it on /data (no 'degraded' option) and exits when "
                 "that fails, so the kernel panics (init exited)",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\nmount -t btrfs -o loud /dev/vda /data || exit 1\n"
            + READY_THEN_GETTY + IDLE,
            modules=[*VIRTIO_DISK, "btrfs"]),
        data="btrfs-raid1-half",
        stop=panic_stop(),
        outcome="failure",
        categories=["disk.fs-error", "kernel.panic"],
        evidence={"disk.fs-error": ["is missing", "open_ctree failed"],
                  "kernel.panic": ["Kernel panic - not syncing: Attempted to kill init!"]},
        excerpt=16,
        excerpt_evidence={"kernel.panic": ["end Kernel panic - not syncing: Attempted to kill init!"]},
    ),
    BlindScenario(
        name="root-partition-number-missing",
        title="root= names a partition number the disk does not have",
        family="root-device",
        injected="an NVMe disk with one partition (nvme0n1p1, a good ext4 root); the kernel "
                 "command line says root=/dev/nvme0n1p3; no initramfs",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p3",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        evidence={"disk.root-not-found": ['VFS: Cannot open root device "nvme0n1p3"'],
                  "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        screen_evidence={
            "disk.root-not-found": ["VFS: Unable to mount root fs"],
            "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        excerpt=12,
        excerpt_evidence={"disk.root-not-found": ["VFS: Unable to mount root fs"],
                          "kernel.panic": ["end Kernel panic - not syncing: VFS: Unable"]},
    ),
    BlindScenario(
        name="init-not-executable",
        title="init= names a file that is not a program",
        family="root-device",
        injected="a good ext4 root on NVMe (root=/dev/nvme0n1p1) and init=/etc/hostname (a "
                 "text file, mode 0644); no initramfs",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p1 init=/etc/hostname",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["Requested init /etc/hostname failed"],
                  "kernel.panic": ["Kernel panic - not syncing: Requested init /etc/hostname"]},
        screen_evidence={
            "init.not-found": ["Requested init /etc/hostname failed"],
            "kernel.panic": ["Kernel panic - not syncing: Requested init /etc/hostname"]},
    ),
    BlindScenario(
        name="rootwait-no-disk",
        title="root=/dev/nvme0n1p1 rootwait on a machine with no disk at all: waits forever",
        family="root-device",
        injected="no disk attached; root=/dev/nvme0n1p1 rootwait; no initramfs; stopped 20 s "
                 "after the kernel started waiting",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p1 rootwait",
        stop=[StopRule(r"Waiting for root device", settle=20.0)],
        screen=True,
        outcome="stall",
        categories=["disk.root-not-found"],
        optional=["boot.stall"],
        evidence={"disk.root-not-found": ["Waiting for root device /dev/nvme0n1p1..."]},
        screen_evidence={"disk.root-not-found": ["Waiting for root device /dev/nvme0n1p1..."]},
    ),
    BlindScenario(
        name="initramfs-larger-than-memory",
        title="An initramfs that unpacks to more than the machine's memory",
        family="kernel-health",
        injected="128 MB of RAM; the initrd starts with a gzip'd archive holding 192 MB of "
                 "zeros (a few hundred KB compressed), followed by the usual busybox image "
                 "with /init (the kernel unpacks concatenated archives in order); no root=",
        append="console=ttyS0",
        memory_mb=128,
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        initrd_padding_mb=192,
        stop=panic_stop() + LOGIN,
        ends=("stop-rule", "timeout"),
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        optional=["disk.root-not-found"],
        evidence={"init.not-found": ["Initramfs unpacking failed: write error"],
                  "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        notes="Unpacking stops at the first archive (tmpfs full), so /init never appears and "
              "the kernel falls back to mounting a root device it was never given: the VFS "
              "panic is a consequence of the unpacking failure. Annotated as the rest of "
              "samples/blind/ annotates an initramfs that cannot be unpacked (init.not-found, "
              "the root-device failure optional).",
    ),
    BlindScenario(
        name="mce-fatal",
        title="An uncorrected machine check after the boot completed: the kernel panics",
        family="kernel-health",
        injected="generic Debian kernel (CONFIG_X86_MCE=y); once the login prompt is up, the "
                 "QEMU monitor injects an uncorrected, processor-context-corrupt machine check "
                 "in bank 1 (hmp: mce 0 1 0xbe00000000800400 0 0x1234000 0x86)",
        kernel="generic",
        append="console=ttyS0 console=tty0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        actions=[Action(r"login: ", hmp="mce 0 1 0xbe00000000800400 0 0x1234000 0x86",
                        delay=1.0)],
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["kernel.panic"],
        evidence={"kernel.panic": ["mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 1:",
                                   "Kernel panic - not syncing: Fatal local machine check"]},
        screen_evidence={"kernel.panic": ["Kernel panic - not syncing: Fatal local machine check"]},
        excerpt=7,
        excerpt_evidence={"kernel.panic": ["Kernel panic - not syncing: Fatal local machine check"]},
    ),
    BlindScenario(
        name="mce-corrected",
        title="A corrected machine check logged on a running machine: a warning, not a failure",
        family="kernel-health",
        injected="generic Debian kernel; once the login prompt is up, the QEMU monitor injects "
                 "a corrected memory error in bank 1 (hmp: mce 0 1 0x9c00000000010090 0 "
                 "0x1234000 0x86); the machine keeps running. init sets the machine-check "
                 "poll interval to 1 s (sysfs check_interval; default 5 min), as TCG has no CMCI",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "echo 1 > /sys/devices/system/machinecheck/machinecheck0/check_interval\n"
            + READY_THEN_GETTY + IDLE),
        actions=[Action(r"login: ", hmp="mce 0 1 0x9c00000000010090 0 0x1234000 0x86",
                        delay=1.0)],
        stop=[StopRule(r"Machine check events logged", settle=3.0)],
        outcome="success",
        categories=["boot.success", "kernel.oops"],
        evidence={"kernel.oops": ["Machine check events logged"]},
        notes="The error is corrected: the kernel logs it and carries on (the login prompt "
              "came first and stays usable). A warning at most.",
    ),
    BlindScenario(
        name="nmi-unknown-dazed",
        title="An unknown NMI on a running machine: 'Dazed and confused, but trying to continue'",
        family="kernel-health",
        injected="once the login prompt is up, QMP inject-nmi (what a cloud's "
                 "send-diagnostic-interrupt delivers) with unknown_nmi_panic left at 0",
        append="console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        actions=[Action(r"login: ", qmp="inject-nmi", delay=1.0)],
        stop=[StopRule(r"Dazed and confused", settle=3.0)],
        outcome="success",
        categories=["boot.success", "kernel.oops"],
        evidence={"kernel.oops": ["NMI received for unknown reason",
                                  "Dazed and confused, but trying to continue"]},
        notes="The kernel reports the NMI and continues: a warning, the boot is fine.",
    ),
    BlindScenario(
        name="hung-task-recovers",
        title="A task blocked on a frozen file system is reported hung, then recovers",
        family="kernel-health",
        injected="an ext4 data disk (virtio, vda) mounted on /data and frozen with fsfreeze; "
                 "hung_task_timeout_secs=3; a writer blocks on it for about 15 s, then the "
                 "file system is thawed and the boot goes on to a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "echo 3 > /proc/sys/kernel/hung_task_timeout_secs\n"
            "mkdir -p /data && mount -t ext4 /dev/vda /data\n"
            "fsfreeze --freeze /data\n"
            "touch /data/app/heartbeat &\n"
            "sleep 15\nfsfreeze --unfreeze /data\nwait\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-data",
        stop=LOGIN,
        timeout=50,
        outcome="success",
        categories=["boot.success", "kernel.oops"],
        evidence={"kernel.oops": ["blocked for more than 3 seconds"]},
        notes="khungtaskd reports the blocked writer (with its stack); once the file system "
              "is thawed the writer finishes and the boot reaches its login prompt: a "
              "lockup that recovers is a warning.",
    ),
    BlindScenario(
        name="oom-at-boot-small-memory",
        title="Too little memory for the kernel and its initramfs: out of memory during boot",
        family="kernel-health",
        injected="-m 68 (68 MB of RAM) for the Debian cloud kernel with the usual busybox "
                 "initramfs: the kernel's own start-up (crypto self-tests) runs out of memory",
        append="console=ttyS0 console=tty0",
        memory_mb=68,
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        stop=panic_stop() + LOGIN,
        ends=("stop-rule", "timeout"),
        screen=True,
        outcome="failure",
        categories=["kernel.oom", "kernel.panic"],
        evidence={"kernel.oom": ["invoked oom-killer", "Out of memory and no killable processes"],
                  "kernel.panic": ["Kernel panic - not syncing: System is deadlocked on memory"]},
        screen_evidence={
            "kernel.oom": ["System is deadlocked on memory"],
            "kernel.panic": ["Kernel panic - not syncing: System is deadlocked on memory"]},
    ),
    BlindScenario(
        name="reset-loop-tiny-memory",
        title="48 MB for a kernel that needs more: the machine resets straight after the hand-off",
        family="loops-resets",
        injected="-m 48 (48 MB of RAM) for the Debian cloud kernel: the machine resets before "
                 "the kernel prints anything and SeaBIOS starts again, over and over; stopped "
                 "after the fifth 'Booting from ROM...'",
        append="console=ttyS0",
        memory_mb=48,
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        stop=[StopRule(r"Booting from ROM", count=5, settle=0.5)],
        outcome="failure",
        categories=["boot.loop"],
        optional=["console.silent"],
        evidence={"boot.loop": ["Booting from ROM..."]},
        notes="The firmware banner returns right after each hand-off to the kernel: a reset "
              "loop with no kernel line at all.",
    ),
    BlindScenario(
        name="reboot-loop-init",
        title="An init that reboots the machine every time it starts",
        family="loops-resets",
        injected="the initramfs's init runs busybox 'reboot -f' right away (an updater that "
                 "always asks for a restart); QEMU resets and boots it again; stopped after "
                 "the third 'reboot: Restarting system'",
        append="console=ttyS0",
        initramfs=InitramfsSpec("reboot -f\n" + IDLE),
        stop=[StopRule(r"reboot: Restarting system", count=3, settle=0.5)],
        timeout=50,
        outcome="failure",
        categories=["boot.loop"],
        evidence={"boot.loop": ["reboot: Restarting system"]},
    ),
    BlindScenario(
        name="blank-disk-not-bootable",
        title="The only disk is blank: SeaBIOS finds nothing to boot",
        family="bootloader-firmware",
        injected="no -kernel; one virtio disk of zeros (no MBR, no boot signature) and no NIC",
        append="",
        no_kernel=True,
        data="blank",
        stop=[StopRule(r"No bootable device", settle=2.0)],
        screen=True,
        screen_evidence={"boot.bootloader-error": ["No bootable device."]},
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Boot failed: not a bootable disk",
                                            "No bootable device."]},
    ),
    BlindScenario(
        name="init-work-then-poweroff",
        title="A one-shot init that does its work and powers the machine off cleanly",
        family="healthy",
        injected="nothing (control case): the initramfs's init checksums its programs with "
                 "busybox sha256sum, syncs and runs busybox 'poweroff -f'; QEMU exits",
        append="console=ttyS0",
        initramfs=InitramfsSpec("sha256sum /bin/busybox /init\nsync\npoweroff -f\n" + IDLE),
        ends=("exited",),
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["reboot: Power down"]},
        notes="A batch job's machine: it never offers a login, it ends by powering off.",
    ),
    BlindScenario(
        name="selftest-zero-failures-poweroff",
        title="A test run reporting zero failures, then power off",
        family="healthy",
        injected="nothing (control case): generic Debian kernel; the initramfs loads the "
                 "kernel's test_bpf module for its first 701 BPF interpreter/JIT tests (the rest "
                 "take minutes under TCG), which print a summary, then runs busybox "
                 "'poweroff -f'",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "insmod /lib/extra/test_bpf.ko test_suite=test_bpf test_range=0,700\n"
            "poweroff -f\n" + IDLE),
        loose_modules=["test_bpf"],
        ends=("exited",),
        timeout=58,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["0 FAILED", "reboot: Power down"]},
    ),
] + NETWORK + ROUND3 + ROUND4 + ROUND5 + ROUND6 + ROUND7 + ROUND19

BY_NAME: dict[str, BlindScenario] = {s.name: s for s in SCENARIOS}
