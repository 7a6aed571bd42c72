"""Blind QEMU scenarios of the fourth round (blind_scenarios.py has the model and the first
rounds): panics and resets that loop (hung_task_panic, softdog, an NMI with
unknown_nmi_panic, panic=-1 reboot=triple, OVMF coming back after a reboot, a monitor reset
that a second boot recovers from), firmware with nothing to boot (every SeaBIOS device,
iPXE with its link down, no DHCP answer or no TFTP file), root devices the kernel cannot use
(UUID= with no initramfs, a PARTUUID that is not there, rootfstype=, virtio-scsi without its
driver, an XFS root without its module, a root that arrives late, a read-only root), DHCP
leases with no router or no option 121 (ROUND4_NETWORK, in blind_network.py) and healthy runs
(a ping after the lease, a UEFI boot from an NVMe root). Annotated from the fault injected,
as the rest of the blind set."""

from __future__ import annotations

from blind_boot_faults import OVMF
from blind_model import LOGIN, READY_THEN_GETTY, VIRTIO_DISK, Action, BlindScenario, panic_stop
from blind_network import ROUND4_NETWORK, UDHCPC_PING
from guestkit.disk import FS_UUID
from guestkit.initramfs import PRELUDE, InitramfsSpec
from guestkit.runner import StopRule
from scenarios import IDLE, DiskSpec

#: /sbin/init of a root disk that boots to a login prompt (the root is mounted rw)
ROOT_LOGIN_INIT = PRELUDE.replace(
    "for m in $(cat /etc/modules.order); do insmod /lib/modules/$m.ko; done\n", "") \
    + READY_THEN_GETTY + IDLE
ROOT_PANIC_EVIDENCE = "Kernel panic - not syncing: VFS: Unable to mount root fs"

LOOPS: list[BlindScenario] = [
    BlindScenario(
        name="hung-task-panic-reboot-loop",
        title="hung_task_panic=1 panic=2: a writer blocked on a frozen disk panics and reboots, again",
        family="loops-resets",
        injected="hung_task_panic=1 panic=2 on the command line; init sets "
                 "hung_task_timeout_secs=3, mounts an ext4 data disk (virtio, vda) on /data, "
                 "freezes it with fsfreeze and starts a writer on it, which blocks; stopped "
                 "after the second 'Rebooting in 2 seconds'",
        append="console=ttyS0 hung_task_panic=1 panic=2",
        initramfs=InitramfsSpec(
            "echo 3 > /proc/sys/kernel/hung_task_timeout_secs\n"
            "mkdir -p /data && mount -t ext4 /dev/vda /data\nfsfreeze --freeze /data\n"
            "touch /data/app/heartbeat &\n" + IDLE, modules=VIRTIO_DISK),
        data="ext4-data",
        stop=[StopRule(r"Rebooting in 2 seconds", count=2, settle=0.5)],
        timeout=58,
        excerpt=17,
        outcome="failure",
        categories=["boot.loop", "kernel.oops", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 2 seconds.."],
                  "kernel.oops": ["blocked for more than 3 seconds"],
                  "kernel.panic": ["Kernel panic - not syncing: hung_task: blocked tasks"]},
        excerpt_evidence={"kernel.panic": ["Kernel panic - not syncing: hung_task: blocked tasks"]},
        notes="A hung task is annotated kernel.oops (the convention of samples/blind/); the "
              "panic it causes reboots the machine into the same hang.",
    ),
    BlindScenario(
        name="softdog-reset-loop",
        title="The software watchdog (softdog) nobody feeds restarts the machine after every boot",
        family="loops-resets",
        injected="generic Debian kernel; init loads softdog and starts busybox 'watchdog -T 3 "
                 "-t 60 /dev/watchdog' (armed for 3 s, fed every 60 s), then offers a login: "
                 "softdog restarts the machine a few seconds later, every boot; stopped at the "
                 "third 'Booting from ROM...'",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec("watchdog -T 3 -t 60 /dev/watchdog\n" + READY_THEN_GETTY + IDLE,
                                modules=["softdog"]),
        stop=[StopRule(r"Booting from ROM", count=3, settle=1.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop"],
        evidence={"boot.loop": ["softdog: Initiating system reboot", "Booting from ROM..."]},
        half="study",
    ),
    BlindScenario(
        name="nmi-panic-reboot-loop",
        title="unknown_nmi_panic with panic=3: each diagnostic NMI panics and reboots the machine",
        family="loops-resets",
        injected="unknown_nmi_panic panic=3 on the command line; once each boot's login prompt "
                 "is up, QMP inject-nmi (what a cloud's send-diagnostic-interrupt delivers, "
                 "sent again by a health checker); stopped at the third 'Booting from ROM...'",
        append="console=tty0 console=ttyS0 unknown_nmi_panic panic=3",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        actions=[Action(r"login: ", qmp="inject-nmi", delay=1.0),
                 Action(r"(?s)login: .*login: ", qmp="inject-nmi", delay=1.0)],
        stop=[StopRule(r"Booting from ROM", count=3, settle=0.5)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop", "kernel.panic"],
        evidence={"boot.loop": ["Booting from ROM..."],
                  "kernel.panic": ["Uhhuh. NMI received for unknown reason",
                                   "Kernel panic - not syncing: NMI: Not continuing"]},
    ),
    BlindScenario(
        name="monitor-reset-then-login",
        title="A warm reset from the monitor while the kernel starts; the second boot reaches login",
        family="loops-resets",
        injected="QMP system_reset (a hypervisor-side reset, no kexec) as soon as the kernel "
                 "has unpacked its initramfs ('Freeing initrd memory'); the machine boots again "
                 "from the firmware and this time reaches its login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        actions=[Action(r"Freeing initrd memory", qmp="system_reset")],
        stop=LOGIN,
        timeout=50,
        outcome="success",
        categories=["boot.success"],
        optional=["boot.loop"],
        evidence={"boot.success": ["debian login:"]},
        notes="One reset, then a healthy boot: the reset is history, the verdict is the "
              "second boot's.",
        half="study",
    ),
    BlindScenario(
        name="ovmf-reboot-loop",
        title="Under UEFI firmware (OVMF), an init that reboots the machine every time it starts",
        family="loops-resets",
        injected="Debian's OVMF as the firmware (-bios OVMF.fd) loading the kernel and "
                 "initramfs given with -kernel/-initrd; init runs busybox 'reboot -f' right "
                 "away; stopped after the second 'reboot: Restarting system'",
        append="console=ttyS0",
        initramfs=InitramfsSpec("reboot -f\n" + IDLE),
        qemu_args=["-bios", OVMF],
        stop=[StopRule(r"reboot: Restarting system", count=2, settle=1.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop"],
        evidence={"boot.loop": ["reboot: Restarting system"]},
    ),
    BlindScenario(
        name="root-panic-reboot-triple",
        title="panic=-1 reboot=triple: a root-device panic restarts at once, again and again",
        family="loops-resets",
        injected="an NVMe disk (nvme0n1p1 a good ext4 root) with root=/dev/sda1 (the name on a "
                 "SCSI machine); panic=-1 (restart at once, no countdown) and reboot=triple "
                 "(restart by a triple fault); no initramfs; stopped at the third "
                 "'Booting from ROM...'",
        append="console=ttyS0 root=/dev/sda1 panic=-1 reboot=triple",
        root_disk=DiskSpec("nvme"),
        stop=[StopRule(r"Booting from ROM", count=3, settle=1.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop", "disk.root-not-found", "kernel.panic"],
        evidence={"boot.loop": ["Booting from ROM..."],
                  "disk.root-not-found": ['VFS: Cannot open root device "sda1"'],
                  "kernel.panic": [ROOT_PANIC_EVIDENCE]},
        half="study",
    ),
    BlindScenario(
        name="softdog-panic-reboot-loop",
        title="softdog with soft_panic=1 and panic=3: the unfed watchdog panics, the panic reboots",
        family="loops-resets",
        injected="generic Debian kernel; init loads softdog with soft_panic=1 (insmod) and "
                 "starts busybox 'watchdog -T 3 -t 60 /dev/watchdog', then offers a login; "
                 "panic=3 on the command line; stopped after the second 'Rebooting in 3 seconds'",
        kernel="generic",
        append="console=ttyS0 panic=3",
        initramfs=InitramfsSpec("insmod /lib/extra/softdog.ko soft_panic=1\n"
                                "watchdog -T 3 -t 60 /dev/watchdog\n" + READY_THEN_GETTY + IDLE,
                                modules=["watchdog"]),
        loose_modules=["softdog"],
        stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)],
        timeout=58,
        excerpt=40,
        outcome="failure",
        categories=["boot.loop", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 3 seconds.."],
                  "kernel.panic": ["Kernel panic - not syncing: Software Watchdog Timer expired"]},
        excerpt_evidence={
            "kernel.panic": ["Kernel panic - not syncing: Software Watchdog Timer expired"]},
    ),
]

FIRMWARE: list[BlindScenario] = [
    BlindScenario(
        name="seabios-nothing-bootable-anywhere",
        title="SeaBIOS tries a floppy, a disk and a CD: none has a boot record",
        family="bootloader-firmware",
        injected="no -kernel and no NIC; a 1.44 MB floppy of zeros, a virtio disk whose MBR "
                 "has a partition table but no boot signature (bytes 510-511 zeroed), and an "
                 "IDE CD-ROM of zeros (no El Torito record)",
        append="",
        no_kernel=True,
        data="floppy-blank",
        data_interface="floppy",
        extra_disks=[("mbr-no-signature", "virtio"), ("blank", "cdrom")],
        stop=[StopRule(r"No bootable device", settle=2.0)],
        timeout=50,
        screen=True,
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Boot failed: not a bootable disk",
                                            "No bootable device."]},
        screen_evidence={"boot.bootloader-error": ["No bootable device."]},
        half="study",
    ),
    BlindScenario(
        name="ipxe-tftp-file-not-found",
        title="iPXE gets a lease naming a boot file the TFTP server does not have",
        family="bootloader-firmware",
        injected="no -kernel and no disk; a virtio NIC with QEMU's iPXE option ROM on QEMU "
                 "user networking whose DHCP names the boot file pxelinux.0 and whose TFTP "
                 "root (/srv/tftp) does not hold it",
        append="",
        no_kernel=True,
        qemu_args=["-netdev", "user,id=n0,tftp=/srv/tftp,bootfile=pxelinux.0",
                   "-device", "virtio-net-pci,netdev=n0"],
        stop=[StopRule(r"No bootable device", settle=2.0)],
        timeout=55,
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": [
            "tftp://10.0.2.2/pxelinux.0... No such file or directory", "No bootable device."]},
    ),
    BlindScenario(
        name="ipxe-link-down",
        title="iPXE waits for a network link that never comes up",
        family="bootloader-firmware",
        injected="no -kernel and no disk; an e1000 NIC with QEMU's iPXE option ROM on QEMU "
                 "user networking; the link is set down from the monitor (set_link n0 off) "
                 "as soon as the ROM announces itself, before it boots",
        append="",
        no_kernel=True,
        qemu_args=["-netdev", "user,id=n0", "-device", "e1000,netdev=n0"],
        actions=[Action(r"iPXE", hmp="set_link n0 off")],
        stop=[StopRule(r"No bootable device", settle=2.0)],
        timeout=58,
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Waiting for link-up on net0", "No bootable device."]},
        half="study",
    ),
    BlindScenario(
        name="ipxe-dhcp-timeout",
        title="iPXE on a network with no DHCP server: no configuration, nothing to boot",
        family="bootloader-firmware",
        injected="no -kernel and no disk; a virtio NIC with QEMU's iPXE option ROM on a tap "
                 "device in a private network namespace with no DHCP server",
        append="",
        no_kernel=True,
        network="isolated",
        nic_rom=True,
        stop=[StopRule(r"No bootable device", settle=2.0)],
        timeout=58,
        screen=True,
        screen_evidence={"boot.bootloader-error": ["No bootable device."]},
        outcome="failure",
        categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["No configuration methods",
                                            "No more network devices", "No bootable device."]},
    ),
]

ROOT: list[BlindScenario] = [
    BlindScenario(
        name="root-uuid-without-initramfs",
        title="root=UUID= with no initramfs: the kernel alone cannot resolve a file-system UUID",
        family="root-device",
        injected="an NVMe disk whose partition holds an ext4 root with UUID " + FS_UUID
                 + "; the command line says root=UUID=" + FS_UUID + " (right UUID) but no "
                 "initramfs is given, and the kernel resolves only PARTUUID=, not UUID=",
        append="console=ttyS0 console=tty0 root=UUID=" + FS_UUID,
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        excerpt=10,
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        evidence={"disk.root-not-found": [f'VFS: Cannot open root device "UUID={FS_UUID}"'],
                  "kernel.panic": [ROOT_PANIC_EVIDENCE]},
        excerpt_evidence={"disk.root-not-found": ["VFS: Unable to mount root fs"],
                          "kernel.panic": ["end Kernel panic - not syncing: VFS: Unable"]},
        half="study",
    ),
    BlindScenario(
        name="root-partuuid-missing-rootdelay",
        title="root=PARTUUID= of a partition that is not there, after rootdelay=3",
        family="root-device",
        injected="an NVMe disk with one partition (disk signature c0501e01, so PARTUUID "
                 "c0501e01-01) holding a good ext4 root; the command line says "
                 "root=PARTUUID=0badc0de-01 rootdelay=3 (the image was re-partitioned); "
                 "no initramfs",
        append="console=ttyS0 console=tty0 root=PARTUUID=0badc0de-01 rootdelay=3",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        screen=True,
        screen_evidence={"disk.root-not-found": ["VFS: Unable to mount root fs"],
                         "kernel.panic": [ROOT_PANIC_EVIDENCE]},
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        evidence={"disk.root-not-found": ['VFS: Cannot open root device "PARTUUID=0badc0de-01"'],
                  "kernel.panic": [ROOT_PANIC_EVIDENCE]},
    ),
    BlindScenario(
        name="rootfstype-wrong",
        title="rootfstype=ext2 for an ext4 root: the kernel refuses to mount it",
        family="root-device",
        injected="a good ext4 root on NVMe (root=/dev/nvme0n1p1) with rootfstype=ext2 on the "
                 "command line (ext2 is served by the ext4 driver, which will not mount an "
                 "ext4 with extents as ext2); no initramfs",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p1 rootfstype=ext2",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        outcome="failure",
        categories=["disk.root-not-found", "kernel.panic"],
        optional=["disk.fs-error"],
        evidence={"disk.root-not-found": ["No filesystem could mount root, tried:"],
                  "kernel.panic": [ROOT_PANIC_EVIDENCE]},
        notes="The file system is sound; the type named for it is wrong, so the root cannot "
              "be mounted (a file-system error reading is optional).",
        half="study",
    ),
    BlindScenario(
        name="root-sda-virtio-scsi-no-driver",
        title="root=/dev/sda1 on a virtio-scsi disk (as GCE attaches it), no virtio_scsi driver",
        family="root-device",
        injected="a virtio-scsi controller with one disk (sda1 holds a good ext4 root), "
                 "root=/dev/sda1; no initramfs, and the cloud kernel has virtio_scsi and sd_mod "
                 "only as modules",
        append="console=ttyS0 root=/dev/sda1",
        root_disk=DiskSpec("scsi"),
        stop=panic_stop(),
        outcome="failure",
        categories=["disk.driver-missing", "disk.root-not-found", "kernel.panic"],
        evidence={"disk.driver-missing": ['VFS: Cannot open root device "sda1"'],
                  "disk.root-not-found": ['VFS: Cannot open root device "sda1"'],
                  "kernel.panic": [ROOT_PANIC_EVIDENCE]},
        excerpt=18,
        excerpt_evidence={"disk.driver-missing": ['VFS: Cannot open root device "sda1"'],
                          "disk.root-not-found": ['VFS: Cannot open root device "sda1"'],
                          "kernel.panic": ["end Kernel panic - not syncing: VFS: Unable"]},
        notes="The list of available partitions is empty: no disk is visible, the SCSI "
              "driver is the cause.",
    ),
    BlindScenario(
        name="rootwait-disk-arrives-late",
        title="rootwait with a root disk hot-plugged 5 s later: the boot goes on to login",
        family="root-device",
        injected="root=/dev/nvme0n1p1 rootwait rw; the NVMe disk (a good ext4 root whose "
                 "/sbin/init offers a login) is attached by the monitor (device_add nvme) 5 s "
                 "after the kernel starts waiting for it; no initramfs",
        append="console=ttyS0 root=/dev/nvme0n1p1 rootwait rw",
        root_disk=DiskSpec("nvme", init=ROOT_LOGIN_INIT),
        root_hotplug=True,
        actions=[Action(r"Waiting for root device",
                        hmp="device_add nvme,drive=late,serial=late0", delay=5.0)],
        stop=LOGIN,
        timeout=55,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
        notes="The wait ends when the disk appears: nothing failed.",
        half="study",
    ),
    BlindScenario(
        name="root-readonly-init-needs-rw",
        title="The root is mounted read-only (no rw on the command line); init needs to write",
        family="root-device",
        injected="a good ext4 root on NVMe, root=/dev/nvme0n1p1 without rw (so the kernel "
                 "mounts it read-only); its /sbin/init creates /var/lib/app with busybox "
                 "mkdir and exits when that fails",
        append="console=ttyS0 root=/dev/nvme0n1p1",
        root_disk=DiskSpec("nvme", init="#!/bin/busybox sh\nexport PATH=/bin\n"
                           "/bin/busybox mount -t proc proc /proc\n"
                           "/bin/busybox mkdir -p /var/lib/app || exit 1\n"
                           "echo consolewatch-guest: ready\n" + IDLE),
        stop=panic_stop(),
        outcome="failure",
        categories=["disk.fs-error", "kernel.panic"],
        evidence={"disk.fs-error": ["Mounted root (ext4 filesystem) readonly",
                                    "Read-only file system"],
                  "kernel.panic": ["Kernel panic - not syncing: Attempted to kill init!"]},
        notes="A read-only root where the system needs a writable one is annotated "
              "disk.fs-error (the category of file-system problems).",
    ),
    BlindScenario(
        name="root-xfs-driver-is-a-module",
        title="An XFS root on a kernel with XFS only as a module, and no initramfs to load it",
        family="root-device",
        injected="an NVMe disk holding an XFS file system on the whole disk, root=/dev/nvme0n1; "
                 "no initramfs, and the cloud kernel has xfs only as a module (ext4 is built in)",
        append="console=ttyS0 root=/dev/nvme0n1",
        data="xfs",
        data_interface="nvme",
        stop=panic_stop(),
        outcome="failure",
        categories=["disk.driver-missing", "disk.root-not-found", "kernel.panic"],
        evidence={"disk.driver-missing": ["No filesystem could mount root, tried:"],
                  "disk.root-not-found": ["No filesystem could mount root, tried:"],
                  "kernel.panic": [ROOT_PANIC_EVIDENCE]},
        notes="The disk is found and listed; the file system's driver is the missing one "
              "(a module that only an initramfs could load).",
        half="study",
    ),
]

HEALTHY: list[BlindScenario] = [
    UDHCPC_PING,
    BlindScenario(
        name="uefi-nvme-root-login",
        title="A UEFI boot (OVMF) with an NVMe root disk, to a login prompt (control case)",
        family="healthy",
        injected="nothing (control case): Debian's OVMF as the firmware loading the kernel "
                 "given with -kernel; root=/dev/nvme0n1p1 rw on an NVMe disk whose /sbin/init "
                 "offers a login; no initramfs",
        append="console=ttyS0 root=/dev/nvme0n1p1 rw",
        root_disk=DiskSpec("nvme", init=ROOT_LOGIN_INIT),
        qemu_args=["-bios", OVMF],
        stop=LOGIN,
        timeout=58,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["debian login:"]},
    ),
]

ROUND4: list[BlindScenario] = LOOPS + FIRMWARE + ROOT + ROUND4_NETWORK + HEALTHY
