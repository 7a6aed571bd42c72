"""Blind QEMU scenarios of the seventh round, the machine's own side (blind_round7.py has the
network side and the split): firmware (UEFI Secure Boot refusing the loader, a loader that is
not an EFI program, iPXE running an HTML page as its boot file, a boot script with a typo and
one chaining to an unreachable HTTP server, SeaBIOS allowed only an empty CD drive), loops
(the ICH9 TCO watchdog resetting the machine, an LVM root that is not there under panic=3, an
fsck that repairs and reboots once, a root-device panic loop through OVMF), file systems (a
corrupt XFS root inode at mount and under xfs_repair -n, an ext4 that needs journal recovery
on a read-only disk) and root devices (an initramfs mounting root= by a UUID no disk has,
root=PARTLABEL= on a console=tty0-only machine, an md RAID root that is absent under
rootwait). Annotated from the fault injected, as the rest of the blind set."""

from __future__ import annotations

from pathlib import Path

from blind_model import LOGIN, READY_THEN_GETTY, VIRTIO_DISK, BlindScenario, panic_stop
from blind_round6 import KILL_INIT, _data_mount
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import IDLE, DiskSpec

OVMF_DIR = Path("/usr/share/OVMF")
#: Secure Boot on: SMM on a q35 machine, OVMF's code in flash, and a copy of Debian's variable
#: store with Microsoft's keys enrolled (OVMF_VARS_4M.ms.fd) as the machine's own
SECURE_BOOT = ["-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on",
               "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_DIR}/OVMF_CODE_4M.ms.fd",
               "-drive", "if=pflash,format=raw,unit=1,file=$WORK/OVMF_VARS.fd"]
#: the directory $WORK/esp as a FAT disk (QEMU's vvfat driver) on virtio
ESP_DISK = ["-drive", "file=fat:$WORK/esp,format=raw,if=none,id=esp,readonly=on",
            "-device", "virtio-blk-pci,drive=esp"]
NO_BOOT = [StopRule(r"No bootable device", settle=2.0)]
#: a root account with a password, so busybox sulogin asks for it (as round 1's fsck case)
ROOT_PASSWORD = {"/etc/passwd": ("root:x:0:0:root:/root:/bin/sh\n", 0o644),
                 "/etc/shadow": ("root:$1$cw$cXhC3hVP/VnxUN4y6jb6B.:19000:0:99999:7:::\n", 0o600)}
#: an HTML error page saved under the boot file's name (a web server's 404 mirrored to TFTP)
NOT_FOUND_PAGE = ("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                  "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
                  "</body>\r\n</html>\r\n")


def _kernel_image() -> Path:
    from guestkit import fetch
    return fetch.kernel("cloud").vmlinuz


def _ipxe(name: str, title: str, what: str, tftp: dict, evidence: list[str],
          **kw) -> BlindScenario:
    """iPXE (a virtio NIC's QEMU option ROM) on QEMU user networking whose DHCP names a boot
    file in a TFTP root made for the boot."""
    (bootfile, _), = [(k, v) for k, v in tftp.items()]
    return BlindScenario(
        name=name, title=title, family="bootloader-firmware",
        injected="no -kernel and no disk; a virtio NIC with QEMU's iPXE option ROM on QEMU "
                 f"user networking whose DHCP names the boot file {bootfile}; " + what,
        append="", no_kernel=True,
        work_files={f"tftp/{k}": v for k, v in tftp.items()},
        qemu_args=["-netdev", f"user,id=n0,tftp=$WORK/tftp,bootfile={bootfile}",
                   "-device", "virtio-net-pci,netdev=n0"],
        **{"stop": NO_BOOT, "timeout": 58, "outcome": "failure",
           "categories": ["boot.bootloader-error"],
           "evidence": {"boot.bootloader-error": evidence}, **kw})


FIRMWARE: list[BlindScenario] = [
    BlindScenario(
        name="ovmf-secure-boot-access-denied",
        title="UEFI Secure Boot (Microsoft keys) refuses the boot loader on the disk",
        family="bootloader-firmware",
        injected="a q35 machine with Debian's OVMF in Secure Boot mode (OVMF_CODE_4M.ms.fd, "
                 "the variable store with Microsoft's keys enrolled); the only disk is an EFI "
                 "system partition whose \\EFI\\BOOT\\BOOTX64.EFI is Debian's cloud kernel "
                 "(an EFI stub signed by Debian, not by Microsoft: no shim in front of it)",
        append="", no_kernel=True,
        work_files={"OVMF_VARS.fd": OVMF_DIR / "OVMF_VARS_4M.ms.fd",
                    "esp/EFI/BOOT/BOOTX64.EFI": _kernel_image},
        qemu_args=[*SECURE_BOOT, *ESP_DISK],
        stop=[StopRule(r"No bootable option or device was found", settle=2.0)],
        timeout=60,
        outcome="failure", categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Access Denied",
                                            "No bootable option or device was found"]},
        notes="The firmware refuses to start the loader (its signature is not in db) and has "
              "nothing else to boot; the UEFI shell is refused too (Security Violation)."),
    BlindScenario(
        name="ovmf-loader-not-efi-program",
        title="The EFI system partition's BOOTX64.EFI is not an EFI program: OVMF cannot load it",
        family="bootloader-firmware",
        injected="Debian's OVMF (-bios OVMF.fd, no Secure Boot); the only disk is an EFI "
                 "system partition whose \\EFI\\BOOT\\BOOTX64.EFI holds the first 64 KB of the "
                 "kernel image (a copy cut short when the partition filled up)",
        append="", no_kernel=True,
        work_files={"esp/EFI/BOOT/BOOTX64.EFI": lambda: _kernel_image().read_bytes()[:65536]},
        qemu_args=["-bios", "/usr/share/ovmf/OVMF.fd", *ESP_DISK],
        stop=[StopRule(r"Shell> ", settle=1.0), StopRule(r"No bootable option", settle=2.0)],
        timeout=60,
        outcome="failure", categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["failed to load Boot0001"]}),
    _ipxe("ipxe-boot-file-is-html-page",
          "iPXE downloads its boot file, an HTML error page, and runs it as a PXE program: "
          "nothing after",
          "the TFTP root holds undionly.kpxe, but it is a web server's 404 page that a mirror "
          "job saved under that name; iPXE takes any file it cannot place as a PXE NBP and "
          "jumps into it; stopped 15 s later",
          {"undionly.kpxe": NOT_FOUND_PAGE},
          ["undionly.kpxe : 146 bytes [PXE-NBP]"],
          stop=[StopRule(r"PXE-NBP", settle=15.0)], outcome="stall",
          optional=["boot.stall"],
          notes="The machine runs the bytes of the HTML page and stops responding: the boot "
                "file is the fault (boot.bootloader-error), the hang is optional."),
    _ipxe("ipxe-script-command-typo",
          "iPXE runs a boot script with a misspelt command: the script stops, nothing boots",
          "the TFTP root holds boot.ipxe, an iPXE script whose second command is misspelt "
          "('kernal' for 'kernel')",
          {"boot.ipxe": "#!ipxe\ndhcp\nkernal tftp://10.0.2.2/vmlinuz console=ttyS0\n"
                        "initrd tftp://10.0.2.2/initrd.img\nboot\n"},
          ["kernal", "No bootable device."]),
    _ipxe("ipxe-chain-http-unreachable",
          "iPXE's boot script chains to an HTTP server that cannot be reached",
          "the TFTP root holds boot.ipxe, an iPXE script that chains to "
          "http://192.0.2.10/boot/menu.ipxe (a provisioning server on a network this machine "
          "has no route to)",
          {"boot.ipxe": "#!ipxe\ndhcp\nchain http://192.0.2.10/boot/menu.ipxe\n"},
          ["http://192.0.2.10/boot/menu.ipxe", "No bootable device."]),
    _ipxe("ipxe-chain-https-unsupported",
          "iPXE's boot script chains to an https:// URL; this iPXE build has no TLS",
          "the TFTP root holds boot.ipxe, an iPXE script that chains to "
          "https://boot.example.com/menu.ipxe; QEMU's iPXE ROM is built without HTTPS",
          {"boot.ipxe": "#!ipxe\ndhcp\nchain https://boot.example.com/menu.ipxe\n"},
          ["Could not start download: Operation not supported", "No bootable device."]),
    BlindScenario(
        name="ovmf-secure-boot-nothing-to-boot",
        title="UEFI Secure Boot with no disk and no NIC: the shell is refused, nothing to boot",
        family="bootloader-firmware",
        injected="a q35 machine with Debian's OVMF in Secure Boot mode (Microsoft's keys "
                 "enrolled), no disk and no NIC (a volume that failed to attach)",
        append="", no_kernel=True,
        work_files={"OVMF_VARS.fd": OVMF_DIR / "OVMF_VARS_4M.ms.fd"},
        qemu_args=SECURE_BOOT,
        stop=[StopRule(r"No bootable option or device was found", settle=2.0)], timeout=60,
        outcome="failure", categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["No bootable option or device was found"]}),
    BlindScenario(
        name="seabios-strict-order-empty-cdrom",
        title="SeaBIOS told to boot only from the CD drive (strict order), which is empty",
        family="bootloader-firmware",
        injected="no -kernel; a bootable IDE disk (its boot sector halts) and an empty IDE CD "
                 "drive, the only device with a bootindex, and -boot strict=on (a boot order "
                 "left at 'CD only' after an install), so SeaBIOS may not fall back to the disk",
        append="", no_kernel=True,
        data="boot-hang", data_interface="ide",
        qemu_args=["-drive", "if=none,id=cd0,media=cdrom",
                   "-device", "ide-cd,drive=cd0,bus=ide.1,bootindex=1", "-boot", "strict=on"],
        stop=NO_BOOT,
        outcome="failure", categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Boot failed: Could not read from CDROM (code 0003)",
                                            "No bootable device."]}),
]

LOOPS: list[BlindScenario] = [
    BlindScenario(
        name="itco-watchdog-reset-loop",
        title="The chipset's TCO watchdog (ICH9, iTCO_wdt) is armed and never fed: reset, again",
        family="loops-resets",
        injected="a q35 machine (ICH9) with -global ICH9-LPC.noreboot=off (the TCO timer may "
                 "reset the machine); generic kernel; init loads lpc_ich and iTCO_wdt and arms "
                 "the watchdog with busybox 'watchdog -T 4 -t 600' (a 4 s timeout fed every "
                 "600 s: a daemon that hangs), then offers a login; stopped at the second "
                 "boot's login prompt",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec("watchdog -T 4 -t 600 /dev/watchdog\n" + READY_THEN_GETTY + IDLE,
                                modules=["lpc_ich", "iTCO_wdt"]),
        qemu_args=["-machine", "q35", "-global", "ICH9-LPC.noreboot=off"],
        stop=[StopRule(r"login: ", count=2, settle=1.0)],
        timeout=60,
        outcome="failure", categories=["boot.loop"], optional=["boot.success"],
        evidence={"boot.loop": ["iTCO_wdt"], "boot.success": ["debian login:"]},
        notes="Each boot reaches its login prompt and is reset by the watchdog a few seconds "
              "later (the prompt of each boot is optional, as in round 5)."),
    BlindScenario(
        name="root-lvm-absent-panic-loop",
        title="root= names an LVM volume that is not there (no initramfs); panic=3 reboots, "
              "again",
        family="loops-resets",
        injected="an NVMe disk with a plain ext4 partition (the image was converted from an "
                 "LVM layout); the command line still says root=/dev/mapper/vg0-root panic=3, "
                 "and there is no initramfs to activate any volume group; stopped after the "
                 "second 'Rebooting in 3 seconds'",
        append="console=tty0 console=ttyS0 root=/dev/mapper/vg0-root panic=3",
        root_disk=DiskSpec("nvme"),
        stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)],
        timeout=58, excerpt=25,
        outcome="failure", categories=["boot.loop", "disk.root-not-found", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 3 seconds.."],
                  "disk.root-not-found": ['Cannot open root device "mapper/vg0-root"'],
                  "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        excerpt_evidence={
            "disk.root-not-found": ['Cannot open root device "mapper/vg0-root"'],
            "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]},
        notes="The excerpt is the second boot's end: one panic and its reboot (the loop is "
              "optional there)."),
    BlindScenario(
        name="fsck-repairs-then-reboots-once",
        title="fsck repairs the data disk and the init reboots once; the second boot is clean",
        family="loops-resets",
        injected="a 32 MB ext4 data disk (virtio, vda) with one inode (/app/config) "
                 "overwritten and marked for checking; init runs Debian's e2fsck -p, and when "
                 "it refuses, e2fsck -y and then 'reboot -f' (as boot scripts do after "
                 "repairing); the second boot's e2fsck -p finds it clean and init goes on to "
                 "a login prompt",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "if ! /usr/sbin/e2fsck -p /dev/vda; then /usr/sbin/e2fsck -y /dev/vda; "
            "reboot -f; fi\nmkdir -p /data && mount -t ext4 /dev/vda /data\n"
            + READY_THEN_GETTY + IDLE, modules=VIRTIO_DISK),
        host_programs={"/usr/sbin/e2fsck": "/usr/sbin/e2fsck"},
        data="ext4-needs-fsck",
        stop=LOGIN, timeout=60,
        outcome="success", categories=["boot.success"],
        optional=["boot.loop", "disk.fs-error"],
        evidence={"boot.success": ["debian login:"],
                  "disk.fs-error": ["UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY."]},
        notes="A repaired file system and one deliberate reboot: the last boot is healthy."),
]

# recorded after the first batch (the split is by name, so the order does not matter)
LOOPS.append(BlindScenario(
    name="ovmf-root-panic-reboot-loop",
    title="Under UEFI firmware (OVMF), root= names a disk the machine lacks; panic=3 reboots "
          "through the firmware, again",
    family="loops-resets",
    injected="Debian's OVMF as the firmware (-bios OVMF.fd) booting the kernel (-kernel), no "
             "initramfs, an NVMe root disk; the command line says root=/dev/sda1 panic=3 (an "
             "entry written for a SCSI-disk machine); stopped after the second 'Rebooting in 3 "
             "seconds'",
    append="console=ttyS0 root=/dev/sda1 panic=3",
    root_disk=DiskSpec("nvme"),
    qemu_args=["-bios", "/usr/share/ovmf/OVMF.fd"],
    stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)], timeout=60,
    outcome="failure", categories=["boot.loop", "disk.root-not-found", "kernel.panic"],
    evidence={"boot.loop": ["Rebooting in 3 seconds.."],
              "disk.root-not-found": ['Cannot open root device "sda1"'],
              "kernel.panic": ["Kernel panic - not syncing: VFS: Unable to mount root fs"]}))

FILESYSTEMS: list[BlindScenario] = [
    _data_mount("xfs-data-root-inode-corrupt",
                "The data disk's XFS root directory inode is corrupt: mount refused, boot goes on",
                "a 320 MB XFS (v5) data disk (virtio, vda) whose root directory inode has its "
                "magic zeroed and a stale CRC (a torn write)", "xfs-root-inode-corrupt",
                "mount -t xfs /dev/vda /data",
                ["XFS (vda)", "mount: mounting /dev/vda on /data failed"],
                modules=[*VIRTIO_DISK, "xfs"]),
    BlindScenario(
        name="xfs-repair-finds-corruption",
        title="xfs_repair -n finds the data disk's XFS corrupt before mounting: maintenance shell",
        family="filesystems",
        injected="a 320 MB XFS (v5) data disk (virtio, vda) whose root directory inode has its "
                 "magic zeroed and a stale CRC; init runs this machine's xfs_repair -n (check "
                 "only) before mounting it and starts busybox sulogin when it reports damage",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "/usr/sbin/xfs_repair -n /dev/vda || exec sulogin -t 600 /dev/console\n"
            "mkdir -p /data && mount -t xfs /dev/vda /data && " + READY_THEN_GETTY + IDLE,
            modules=[*VIRTIO_DISK, "xfs"], files=ROOT_PASSWORD),
        host_programs={"/usr/sbin/xfs_repair": "/usr/sbin/xfs_repair"},
        data="xfs-root-inode-corrupt",
        stop=[StopRule(r"Control-D", settle=2.0)],
        timeout=60, excerpt=20,
        outcome="failure", categories=["disk.fs-error", "init.emergency-mode"],
        evidence={"disk.fs-error": ["bad magic number 0x0 on inode 128",
                                    "would clear root inode 128"],
                  "init.emergency-mode": ["Give root password for system maintenance"]},
        excerpt_evidence={"disk.fs-error": ["would clear root inode 128"],
                          "init.emergency-mode": ["Give root password for system maintenance"]}),
    _data_mount("ext4-recovery-on-readonly-disk",
                "The data disk's ext4 needs journal recovery, but the disk is read-only",
                "a 32 MB ext4 data disk (virtio, vda) flagged needs_recovery (a snapshot of a "
                "mounted volume) and attached read-only (-drive readonly=on)",
                "ext4-needs-recovery", "mount -t ext4 -o loud,ro /dev/vda /data",
                ["write access unavailable, cannot proceed",
                 "mount: mounting /dev/vda on /data failed"],
                data_options="readonly=on"),
]

ROOT: list[BlindScenario] = [
    BlindScenario(
        name="initramfs-root-uuid-not-found",
        title="The initramfs mounts root=UUID= from the command line, and no disk has it",
        family="root-device",
        injected="an NVMe disk whose partition holds an ext4 root (UUID unchanged from the "
                 "kit's image); the command line names root=UUID=3f6b1c52-8e0d-4b7a-9c21-"
                 "5d2e7a9f0b13 (the disk was rebuilt, the boot entry kept); the initramfs "
                 "reads root= from /proc/cmdline, mounts it with busybox mount and "
                 "switch_roots to it",
        append="console=tty0 console=ttyS0 root=UUID=3f6b1c52-8e0d-4b7a-9c21-5d2e7a9f0b13",
        initramfs=InitramfsSpec(
            "for x in $(cat /proc/cmdline); do case $x in root=*) ROOT=${x#root=};; esac; done\n"
            "mkdir -p /newroot\nmount -o ro \"$ROOT\" /newroot\n"
            "exec switch_root /newroot /sbin/init\n"),
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(), screen=True, excerpt=15,
        outcome="failure", categories=["disk.root-not-found", "kernel.panic"],
        evidence={"disk.root-not-found": ["mount: mounting UUID=3f6b1c52-8e0d-4b7a-9c21-"
                                          "5d2e7a9f0b13 on /newroot failed"],
                  "kernel.panic": [KILL_INIT]},
        screen_evidence={"kernel.panic": [KILL_INIT]},
        excerpt_evidence={"kernel.panic": [KILL_INIT]}),
    BlindScenario(
        name="root-partlabel-wrong-tty0-only",
        title="root=PARTLABEL= names a partition label the disk lacks; console=tty0 only",
        family="root-device",
        injected="an NVMe disk with an MBR partition table (no partition labels) holding the "
                 "ext4 root; the command line says root=PARTLABEL=cloudimg-rootfs and "
                 "console=tty0 only (no serial console), no initramfs; stopped after 40 s",
        append="console=tty0 root=PARTLABEL=cloudimg-rootfs",
        root_disk=DiskSpec("nvme"),
        stop=[], ends=("timeout",), timeout=40, screen=True,
        outcome="unknown", categories=["console.silent"],
        optional=["disk.root-not-found", "kernel.panic"],
        evidence={"console.silent": ["Booting from ROM..."]},
        screen_outcome="failure",
        screen_evidence={"disk.root-not-found": ["Unable to mount root fs"],
                         "kernel.panic": ["Kernel panic - not syncing"]},
        notes="The serial log holds only SeaBIOS's lines (console.silent, outcome unknown); "
              "the screen shows the root-device panic."),
    BlindScenario(
        name="root-mdraid-absent-rootwait",
        title="root= names an md RAID device that is never assembled; rootwait waits for ever",
        family="root-device",
        injected="an NVMe disk with a plain ext4 partition; the command line says "
                 "root=/dev/md127 rootwait (the image came from a RAID1 host) and there is no "
                 "initramfs to assemble any array; stopped 15 s into the wait",
        append="console=tty0 console=ttyS0 root=/dev/md127 rootwait",
        root_disk=DiskSpec("nvme"),
        stop=[StopRule(r"Waiting for root device", settle=15.0)], timeout=60, screen=True,
        outcome="stall", categories=["disk.root-not-found"], optional=["boot.stall"],
        evidence={"disk.root-not-found": ["Waiting for root device /dev/md127..."]},
        screen_evidence={"disk.root-not-found": ["Waiting for root device /dev/md127..."]}),
]

BOOT7: list[BlindScenario] = FIRMWARE + LOOPS + FILESYSTEMS + ROOT
