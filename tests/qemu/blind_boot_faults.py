"""Blind QEMU scenarios of the third round (blind_scenarios.py has the model and the first
rounds): reset and reboot loops, firmware and boot loaders (SeaBIOS, iPXE, OVMF), root
devices named for another hypervisor, init missing from the root disk, initrd and memory
cgroup faults, an ext4 error with errors=panic, and healthy runs of kinds not yet there.
Annotated from the fault injected, as the rest of the blind set."""

from __future__ import annotations

from blind_model import LOGIN, READY_THEN_GETTY, VIRTIO_DISK, BlindScenario, panic_stop
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import IDLE, DiskSpec

OVMF = "/usr/share/ovmf/OVMF.fd"
#: an i6300ESB watchdog whose expiry resets the machine (QEMU's default action, made explicit)
WATCHDOG = ["-device", "i6300esb", "-action", "watchdog=reset"]

LOOPS: list[BlindScenario] = [
    BlindScenario(
        name="panic-loop-init-exits",
        title="init exits with an error, the kernel panics and panic=2 reboots into the same boot",
        family="loops-resets",
        injected="the initramfs's /init exits with status 1 right after loading its modules "
                 "(a first-boot script that fails); panic=2 on the command line, so each "
                 "'Attempted to kill init!' panic reboots the machine; stopped after the "
                 "third panic",
        append="console=ttyS0 panic=2",
        initramfs=InitramfsSpec("exit 1\n"),
        stop=[StopRule(r"Rebooting in 2 seconds", count=3, settle=0.5)],
        timeout=55,
        outcome="failure",
        categories=["boot.loop", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 2 seconds.."],
                  "kernel.panic": ["Kernel panic - not syncing: Attempted to kill init! "
                                   "exitcode=0x00000100"]},
        half="study",
    ),
    BlindScenario(
        name="watchdog-reset-loop",
        title="A hardware watchdog nobody feeds resets the machine after every boot",
        family="loops-resets",
        injected="generic Debian kernel; an i6300ESB watchdog (-device i6300esb, expiry "
                 "resets the machine); init loads i6300esb and starts busybox 'watchdog -T 3 "
                 "-t 60 /dev/watchdog' (armed for 3 s, fed every 60 s), then offers a "
                 "login: the watchdog resets the machine a few seconds later, every boot; "
                 "stopped at the third 'Booting from ROM...'",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec("watchdog -T 3 -t 60 /dev/watchdog\n" + READY_THEN_GETTY + IDLE,
                                modules=["i6300esb"]),
        qemu_args=WATCHDOG,
        stop=[StopRule(r"Booting from ROM", count=3, settle=1.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop"],
        evidence={"boot.loop": ["Booting from ROM..."]},
        notes="Each boot reaches its login prompt, then the firmware banner returns with no "
              "kernel line in between: a reset from outside the kernel (the watchdog).",
    ),
    BlindScenario(
        name="sysrq-reset-loop",
        title="init resets the machine with sysrq b on every boot",
        family="loops-resets",
        injected="the initramfs's init writes 'b' to /proc/sysrq-trigger (an immediate "
                 "reset, no sync, as a hung-machine handler does); QEMU resets and boots it "
                 "again; stopped after the third 'sysrq: Resetting'",
        append="console=ttyS0",
        initramfs=InitramfsSpec("echo b > /proc/sysrq-trigger\n" + IDLE),
        stop=[StopRule(r"sysrq: Resetting", count=3, settle=0.5)],
        timeout=50,
        outcome="failure",
        categories=["boot.loop"],
        evidence={"boot.loop": ["sysrq: Resetting"]},
        half="study",
    ),
    BlindScenario(
        name="bootsector-triple-fault-loop",
        title="A boot sector that triple-faults: SeaBIOS starts over and over",
        family="loops-resets",
        injected="no -kernel; the only disk (virtio) has an MBR whose boot code loads an "
                 "empty interrupt table and traps, so the CPU triple-faults and QEMU resets "
                 "the machine; stopped after the fourth 'Booting from Hard Disk...'",
        append="",
        no_kernel=True,
        data="boot-triple-fault",
        stop=[StopRule(r"Booting from Hard Disk", count=4, settle=0.5)],
        outcome="failure",
        categories=["boot.loop"],
        optional=["boot.bootloader-error"],
        evidence={"boot.loop": ["Booting from Hard Disk.."]},
        notes="The firmware banner returns right after each hand-off to the boot sector.",
    ),
    BlindScenario(
        name="oom-panic-reboot-loop",
        title="panic_on_oom with panic=1: memory exhaustion at boot reboots the machine, again",
        family="loops-resets",
        injected="128 MB of RAM; init sets vm.panic_on_oom=1 and runs busybox awk doubling a "
                 "string until memory runs out; panic=1 reboots on the panic; stopped after "
                 "the second reboot",
        append="console=ttyS0 panic=1",
        memory_mb=128,
        initramfs=InitramfsSpec("echo 1 > /proc/sys/vm/panic_on_oom\n"
                                "awk 'BEGIN { s = \"consolewatch\"; while (1) s = s s }'\n" + IDLE),
        stop=[StopRule(r"Rebooting in 1 seconds", count=2, settle=0.5)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop", "kernel.oom", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 1 seconds.."],
                  "kernel.oom": ["invoked oom-killer"],
                  "kernel.panic": ["Kernel panic - not syncing: Out of memory: system-wide "
                                   "panic_on_oom is enabled"]},
    ),
]

FIRMWARE: list[BlindScenario] = [
    BlindScenario(
        name="ipxe-lease-no-boot-file",
        title="iPXE gets a DHCP lease with no boot file, then SeaBIOS has nothing to boot",
        family="bootloader-firmware",
        injected="no -kernel and no disk; a virtio NIC with QEMU's iPXE option ROM "
                 "(Debian's ipxe-qemu) on QEMU user networking, whose DHCP server "
                 "offers no boot file name",
        append="",
        no_kernel=True,
        network="user",
        nic_rom=True,
        stop=[StopRule(r"No bootable device", settle=2.0)],
        timeout=55,
        screen=True,
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["No more network devices", "No bootable device."]},
        screen_evidence={"boot.bootloader-error": ["No bootable device."]},
        half="study",
    ),
    BlindScenario(
        name="ovmf-no-bootable-device",
        title="UEFI firmware (OVMF) with a blank disk: nothing to boot, the UEFI shell",
        family="bootloader-firmware",
        injected="no -kernel; Debian's OVMF as the firmware (-bios OVMF.fd), one virtio "
                 "disk of zeros (no partition table, no EFI system partition), no NIC",
        append="",
        no_kernel=True,
        data="blank",
        qemu_args=["-bios", OVMF],
        stop=[StopRule(r"Shell> ", settle=1.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ['BdsDxe: failed to load Boot0001 "UEFI Misc Device"',
                                            "UEFI Interactive Shell"]},
        notes="OVMF finds nothing to boot on the disk and falls through to the next boot "
              "option, its built-in UEFI shell, where it waits: no operating system.",
    ),
    BlindScenario(
        name="cdrom-not-bootable",
        title="The only drive is a CD with no boot record: SeaBIOS gives up",
        family="bootloader-firmware",
        injected="no -kernel; one IDE CD-ROM holding 16 MB of zeros (no El Torito boot "
                 "record), no disk, no NIC",
        append="",
        no_kernel=True,
        data="blank",
        data_interface="cdrom",
        stop=[StopRule(r"No bootable device", settle=2.0)],
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Could not read from CDROM", "No bootable device."]},
        half="study",
    ),
    BlindScenario(
        name="bootsector-hangs",
        title="The boot sector halts silently: 'Booting from Hard Disk...' and nothing after",
        family="bootloader-firmware",
        injected="no -kernel; the only disk (virtio) has an MBR whose boot code disables "
                 "interrupts and halts (a boot loader that hangs before printing); stopped "
                 "15 s after SeaBIOS handed over",
        append="",
        no_kernel=True,
        data="boot-hang",
        stop=[StopRule(r"Booting from Hard Disk", settle=15.0)],
        screen=True,
        outcome="stall",
        categories=["boot.stall"],
        optional=["boot.bootloader-error", "console.silent"],
        evidence={"boot.stall": ["Booting from Hard Disk.."]},
        screen_evidence={"boot.stall": ["Booting from Hard Disk..."]},
        notes="Nothing is printed after the hand-off to the boot sector, and nothing stops "
              "the machine: it waits forever.",
    ),
]

ROOT: list[BlindScenario] = [
    BlindScenario(
        name="root-vda-on-nvme",
        title="root=/dev/vda1 (a KVM/virtio image) booted on an NVMe-only machine",
        family="root-device",
        injected="an NVMe disk (nvme0n1p1 holds a good ext4 root); the kernel command line "
                 "still says root=/dev/vda1 (the name on the virtio machine the image was "
                 "made on); no initramfs",
        append="console=ttyS0 console=tty0 root=/dev/vda1",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        evidence={"disk.root-not-found": ['VFS: Cannot open root device "vda1"'],
                  "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        screen_evidence={
            "disk.root-not-found": ["VFS: Unable to mount root fs"],
            "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        notes="The cloud kernel has NVMe built in: the disk is found and listed, the name "
              "is wrong (root=/dev/nvme0n1p1, or better UUID=).",
    ),
    BlindScenario(
        name="root-nvme-on-virtio-no-driver",
        title="root=/dev/nvme0n1p1 on a virtio disk, and no virtio_blk driver to see it",
        family="root-device",
        injected="a virtio disk (vda1 holds a good ext4 root); root=/dev/nvme0n1p1 (the name "
                 "on an NVMe cloud machine); no initramfs, and the cloud kernel has "
                 "virtio_blk only as a module",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p1",
        root_disk=DiskSpec("virtio"),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["disk.driver-missing", "disk.root-not-found", "kernel.panic"],
        evidence={"disk.driver-missing": ['VFS: Cannot open root device "nvme0n1p1"'],
                  "disk.root-not-found": ['VFS: Cannot open root device "nvme0n1p1"'],
                  "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        screen_evidence={
            "disk.root-not-found": ["VFS: Unable to mount root fs"],
            "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        notes="The list of available partitions is empty: no disk is visible at all (no "
              "virtio_blk), so the name is not the only fault; the driver is the cause.",
        half="study",
    ),
    BlindScenario(
        name="init-dangling-symlink-shell",
        title="/sbin/init points at a removed systemd: the kernel falls back to /bin/sh",
        family="root-device",
        injected="a good ext4 root on NVMe (root=/dev/nvme0n1p1), where /sbin/init is a "
                 "symlink to /lib/systemd/systemd, which is not there (the package was "
                 "removed), and /bin/sh is busybox; no init=, no initramfs",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p1",
        root_disk=DiskSpec("nvme"),
        root_links={"/sbin/init": "/lib/systemd/systemd", "/bin/sh": "busybox"},
        stop=[StopRule(r"Run /bin/sh as init process", settle=4.0)],
        screen=True,
        outcome="failure",
        categories=["init.not-found"],
        evidence={"init.not-found": ["Run /sbin/init as init process",
                                     "Run /bin/sh as init process"]},
        screen_evidence={"init.not-found": ["Run /bin/sh as init process"]},
        notes="No init starts: the kernel tries /sbin/init, /etc/init and /bin/init in turn "
              "and ends up running a bare shell as process 1; nothing of the system starts.",
    ),
]

KERNEL_FS: list[BlindScenario] = [
    BlindScenario(
        name="initrd-head-overwritten",
        title="The initrd's first 4 KB are garbage: unpacking fails, no init, panic",
        family="kernel-health",
        injected="the gzip'd initramfs with its first 4096 bytes overwritten with 0x5a (a "
                 "corrupted initrd file); no root=",
        append="console=ttyS0 console=tty0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        initrd_overwrite=4096,
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        optional=["disk.root-not-found"],
        evidence={"init.not-found": ["Initramfs unpacking failed: invalid magic at start of "
                                     "compressed archive"],
                  "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        screen_evidence={"kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        notes="Annotated as samples/blind/ annotates an initramfs that cannot be unpacked: "
              "init.not-found, the root-device failure that follows optional.",
        half="study",
    ),
    BlindScenario(
        name="memcg-oom-then-login",
        title="A job in a 16 MB memory cgroup is OOM-killed; the boot goes on to a login prompt",
        family="kernel-health",
        injected="init mounts cgroup2, makes a cgroup with memory.max=16M and runs busybox awk "
                 "doubling a string in it; the memory cgroup's OOM killer kills awk and init "
                 "goes on to a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup\n"
            "echo +memory > /sys/fs/cgroup/cgroup.subtree_control\n"
            "mkdir /sys/fs/cgroup/job && echo 16M > /sys/fs/cgroup/job/memory.max\n"
            "sh -c 'echo $$ > /sys/fs/cgroup/job/cgroup.procs; "
            "exec awk \"BEGIN { s = \\\"consolewatch\\\"; while (1) s = s s }\"'\n"
            + READY_THEN_GETTY + IDLE),
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "kernel.oom"],
        evidence={"kernel.oom": ["Memory cgroup out of memory: Killed process"]},
        notes="The OOM kill is confined to the job's cgroup; the machine reaches its login "
              "prompt. The job failed, the boot did not.",
    ),
    BlindScenario(
        name="ext4-data-errors-panic",
        title="A data disk mounted errors=panic hits a corrupt inode: the kernel panics",
        family="filesystems",
        injected="a 32 MB ext4 data disk (virtio, vda) with one inode (/app/config) "
                 "overwritten; init mounts it with -o errors=panic and reads /app/config",
        append="console=ttyS0 console=tty0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\nmount -t ext4 -o loud,errors=panic /dev/vda /data\n"
            "cat /data/app/config\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-needs-fsck",
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["disk.fs-error", "kernel.panic"],
        evidence={"disk.fs-error": ["EXT4-fs error (device vda)"],
                  "kernel.panic": ["panic forced after error"]},
        screen_evidence={"kernel.panic": ["end Kernel panic - not syncing: EXT4-fs (device vda)"]},
    ),
]

HEALTHY: list[BlindScenario] = [
    BlindScenario(
        name="watchdog-fed-login",
        title="A hardware watchdog fed by its daemon: the machine stays up (control case)",
        family="healthy",
        injected="nothing (control case for watchdog-reset-loop): the same i6300ESB watchdog "
                 "armed for 10 s, busybox watchdog feeding it every 2 s; stopped 15 s after "
                 "the login prompt",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec("watchdog -T 10 -t 2 /dev/watchdog\n" + READY_THEN_GETTY + IDLE,
                                modules=["i6300esb"]),
        qemu_args=WATCHDOG,
        stop=[StopRule(r"login: ", settle=15.0)],
        timeout=58,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
        half="study",
    ),
    BlindScenario(
        name="ovmf-uefi-login",
        title="A UEFI boot (OVMF) of the kernel to a login prompt (control case)",
        family="healthy",
        injected="nothing (control case): Debian's OVMF as the firmware (-bios OVMF.fd) "
                 "loading the kernel and initramfs given with -kernel/-initrd",
        append="console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        qemu_args=["-bios", OVMF],
        stop=LOGIN,
        timeout=58,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
    ),
]

ROUND3: list[BlindScenario] = LOOPS + FIRMWARE + ROOT + KERNEL_FS + HEALTHY
