"""Blind QEMU scenarios of round 19: mostly loops and resets of kinds no earlier round records
(a root-device panic loop on the generic kernel, a "No working init found" panic loop, busybox
init's orderly reboot on every boot, the ib700 watchdog resetting a hung initramfs, boot
sectors that re-bootstrap through int 19h or reset through the keyboard controller, a loop
that ends in a good third boot, one orderly reboot followed by a good boot, a kexec into a
kernel without its initrd, an early oops under mem=6M and panic=3) and a few other
faults nobody injected (an initramfs compressed in a format the kernel does not take, a
console= naming a device the machine lacks, an fstab fsck of a never-formatted data disk, a
64-bit kernel on a CPU without long mode, the program run as PID 1 exhausting memory, a
healthy kexec fast reboot). Annotated from the fault injected, as the rest of
the blind set (samples/blind/README.md).

Halves: alternating over ROUND19 in order, starting with study."""

from __future__ import annotations

import gzip
import subprocess
import tempfile
from pathlib import Path

from blind_model import LOGIN, READY_THEN_GETTY, VIRTIO_DISK, BlindScenario
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import IDLE, DiskSpec

KILL_INIT = "Kernel panic - not syncing: Attempted to kill init! exitcode="
VFS_PANIC = "Kernel panic - not syncing: VFS: Unable to mount root fs"
#: a boot sector's code (at 0x7c00) on an otherwise empty 16 MB disk SeaBIOS boots from
BOOT_DISK = ["-drive", "file=$WORK/boot.img,format=raw,if=virtio"]


def _boot_sector(code: bytes) -> bytes:
    return code + bytes(510 - len(code)) + b"\x55\xaa" + bytes(16 << 20)


def _recompressed_initrd(*tool: str) -> bytes:
    """The kit's usual busybox image (login on ttyS0), its cpio compressed by `tool`."""
    from guestkit import fetch, initramfs
    spec = InitramfsSpec(READY_THEN_GETTY + IDLE)
    cpio = gzip.decompress(initramfs.build(spec, fetch.busybox(), fetch.kernel("cloud")))
    return subprocess.run(list(tool), input=cpio, capture_output=True, check=True).stdout


def _lz4_frame_initrd() -> bytes:
    """lz4's default frame format (the kernel reads only lz4's legacy format: `lz4 -l`)."""
    return _recompressed_initrd("lz4", "-9", "-c")


def _xz_crc64_initrd() -> bytes:
    """xz's default integrity check, CRC64 (the kernel's decoder wants --check=crc32)."""
    return _recompressed_initrd("xz", "-c")


def _kernel_disk(with_initrd: bool = False) -> bytes:
    """A 32 MB ext4 disk holding the cloud kernel's image as /vmlinuz (a /boot volume) and,
    `with_initrd`, the kit's usual busybox image (a login on ttyS0) as /initrd.img."""
    from guestkit import datadisk, fetch, initramfs
    kernel = fetch.kernel("cloud")
    files: dict[str, tuple[bytes | str, int]] = {"/vmlinuz": (kernel.vmlinuz.read_bytes(), 0o644)}
    if with_initrd:
        files["/initrd.img"] = (initramfs.build(InitramfsSpec(READY_THEN_GETTY + IDLE),
                                                fetch.busybox(), kernel), 0o644)
    with tempfile.TemporaryDirectory(prefix="cw-r19-") as tmp:
        image = Path(tmp) / "boot.img"
        datadisk._ext4_with_files(image, 32, files)
        return image.read_bytes()


#: the first boot writes a mark on its blank data disk and restarts; later boots go on
ONCE_RC = ("#!/bin/sh\nhostname debian\n"
           'if [ "$(dd if=/dev/vda bs=9 count=1 2>/dev/null)" != firstboot ]; then\n'
           "  printf firstboot | dd of=/dev/vda conv=notrunc 2>/dev/null\n  sync\n  kill -TERM 1\n"
           "  sleep 30\nfi\n")
#: boots 1 and 2 count themselves on the data disk and fail (init exits); boot 3 goes on
THIRD_TIME = ("n=$(dd if=/dev/vda bs=1 count=1 2>/dev/null)\n"
              "case \"$n\" in\n"
              "  2) ;;\n"
              "  1) printf 2 | dd of=/dev/vda conv=notrunc 2>/dev/null; sync; exit 1;;\n"
              "  *) printf 1 | dd of=/dev/vda conv=notrunc 2>/dev/null; sync; exit 1;;\n"
              "esac\n")

LOOPS: list[BlindScenario] = [
    BlindScenario(
        name="root-label-generic-kernel-panic-loop",
        title="The generic kernel without its initramfs: root=LABEL= cannot be found; panic=5 "
              "reboots, again",
        family="loops-resets",
        injected="Debian's generic kernel (-kernel) with no initramfs (the initrd line was "
                 "dropped from the boot entry) and a virtio root disk; the command line says "
                 "root=LABEL=cloudimg-rootfs panic=5: the kernel alone can neither resolve a "
                 "LABEL= nor see the disk (virtio_blk is a module); stopped after the second "
                 "'Rebooting in 5 seconds'",
        kernel="generic",
        append="console=ttyS0 root=LABEL=cloudimg-rootfs panic=5",
        root_disk=DiskSpec("virtio"),
        stop=[StopRule(r"Rebooting in 5 seconds", count=2, settle=0.5)], timeout=60,
        outcome="failure", categories=["boot.loop", "disk.root-not-found", "kernel.panic"],
        optional=["disk.driver-missing"],
        evidence={"boot.loop": ["Rebooting in 5 seconds.."],
                  "disk.root-not-found": ["No filesystem could mount root, tried:"],
                  "kernel.panic": [VFS_PANIC]},
        notes="Each boot panics for want of its root device and panic=5 restarts it into the "
              "same panic. The missing initramfs is also what would load the disk's driver "
              "(optional)."),
    BlindScenario(
        name="no-working-init-panic-loop",
        title="The root mounts but holds no init at all; panic=4 reboots into the same panic",
        family="loops-resets",
        injected="a good ext4 root on NVMe (root=/dev/nvme0n1p1), where /sbin/init points at "
                 "a removed /lib/systemd/systemd and /bin/sh at a removed /bin/dash (both "
                 "packages purged); no init=, no initramfs; panic=4; stopped after the second "
                 "'Rebooting in 4 seconds'",
        append="console=ttyS0 root=/dev/nvme0n1p1 panic=4",
        root_disk=DiskSpec("nvme"),
        root_links={"/sbin/init": "/lib/systemd/systemd", "/bin/sh": "/bin/dash"},
        stop=[StopRule(r"Rebooting in 4 seconds", count=2, settle=0.5)], timeout=60,
        excerpt=30,
        excerpt_evidence={"init.not-found": ["No working init found"],
                          "kernel.panic": ["Kernel panic - not syncing: No working init found"]},
        outcome="failure", categories=["boot.loop", "init.not-found", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 4 seconds.."],
                  "init.not-found": ["No working init found"],
                  "kernel.panic": ["Kernel panic - not syncing: No working init found"]}),
    BlindScenario(
        name="busybox-init-orderly-reboot-loop",
        title="busybox init runs a start-up entry that asks for a reboot, on every boot",
        family="loops-resets",
        injected="the initramfs execs busybox init; its inittab's sysinit entries set the "
                 "host name and send init SIGTERM (busybox init's orderly reboot request, what "
                 "'reboot' without -f asks of it; an updater that always believes it has "
                 "something to apply); stopped after "
                 "the third 'Requesting system reboot'",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "exec /bin/init\n",
            files={"/etc/inittab": ("::sysinit:/bin/hostname debian\n::sysinit:/bin/kill -TERM 1\n"
                                    "::askfirst:-/bin/sh\n::ctrlaltdel:/bin/reboot\n", 0o644)}),
        stop=[StopRule(r"Requesting system reboot", count=3, settle=1.0)], timeout=60,
        outcome="failure", categories=["boot.loop"],
        evidence={"boot.loop": ["Requesting system reboot", "reboot: Restarting system"]}),
    BlindScenario(
        name="ib700-watchdog-resets-hung-initramfs",
        title="An initramfs waits for a disk that never comes, with the ib700 watchdog armed: "
              "reset, again",
        family="loops-resets",
        injected="generic Debian kernel; QEMU's emulated iBASE IB700 watchdog (-device ib700, "
                 "expiry resets the machine); init loads ib700wdt and arms it with busybox "
                 "'watchdog -T 6 -t 600' (fed every 600 s), then waits in silence for a root "
                 "disk (/dev/vdb) the machine does not have; the watchdog resets it; stopped "
                 "at the third 'Booting from ROM...'",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "watchdog -T 6 -t 600 /dev/watchdog\n"
            "while [ ! -b /dev/vdb ]; do sleep 1; done\n" + READY_THEN_GETTY + IDLE,
            modules=["ib700wdt"]),
        qemu_args=["-device", "ib700", "-action", "watchdog=reset"],
        stop=[StopRule(r"Booting from ROM", count=3, settle=1.0)], timeout=60,
        outcome="failure", categories=["boot.loop"], optional=["boot.stall"],
        evidence={"boot.loop": ["Booting from ROM..."]},
        notes="The initramfs hangs without a word; the watchdog restarts the machine every "
              "few seconds, so the firmware banner returns with no kernel line before it."),
    BlindScenario(
        name="bootsector-int19-rebootstrap-loop",
        title="The disk's boot code calls the BIOS bootstrap again (int 19h): the same disk, "
              "over and over",
        family="loops-resets",
        injected="no -kernel; one virtio disk whose MBR code does nothing but int 19h (the "
                 "BIOS bootstrap loader: a chain loader whose next stage is missing hands back "
                 "to the BIOS); SeaBIOS loads the same boot sector again each time; stopped "
                 "after the fifth 'Booting from Hard Disk...'",
        append="", no_kernel=True,
        work_files={"boot.img": _boot_sector(bytes([0xCD, 0x19, 0xEB, 0xFE]))},
        qemu_args=BOOT_DISK,
        stop=[StopRule(r"Booting from Hard Disk", count=5, settle=0.5)], timeout=30,
        outcome="failure", categories=["boot.loop"],
        evidence={"boot.loop": ["Booting from Hard Disk..."]}),
    BlindScenario(
        name="bootsector-keyboard-controller-reset-loop",
        title="The disk's boot code pulses the keyboard controller's reset line: SeaBIOS starts "
              "over and over",
        family="loops-resets",
        injected="no -kernel; one virtio disk whose MBR code writes 0xFE to port 0x64 (the "
                 "8042 keyboard controller's CPU reset, how old loaders reboot on an error); "
                 "QEMU resets the machine and SeaBIOS boots the disk again; stopped after the "
                 "third SeaBIOS banner",
        append="", no_kernel=True,
        work_files={"boot.img": _boot_sector(bytes([0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE]))},
        qemu_args=BOOT_DISK,
        stop=[StopRule(r"SeaBIOS \(version", count=3, settle=0.5)], timeout=30,
        outcome="failure", categories=["boot.loop"],
        evidence={"boot.loop": ["SeaBIOS (version", "Booting from Hard Disk.."]}),
    BlindScenario(
        name="init-fails-twice-third-boot-login",
        title="init fails on the first two boots (panic=2 restarts them); the third reaches login",
        family="loops-resets",
        injected="a blank virtio data disk on which init counts its boots; on the first two it "
                 "exits with status 1 (a service whose dependency is not up yet), so the kernel "
                 "panics and panic=2 restarts the machine; on the third it goes on to a login "
                 "prompt",
        append="console=ttyS0 panic=2",
        initramfs=InitramfsSpec(THIRD_TIME + READY_THEN_GETTY + IDLE, modules=VIRTIO_DISK),
        data="blank", stop=LOGIN, timeout=60,
        outcome="success", categories=["boot.success"],
        optional=["boot.loop", "kernel.panic"],
        evidence={"boot.success": ["debian login:"],
                  "boot.loop": ["Rebooting in 2 seconds.."],
                  "kernel.panic": [KILL_INIT]},
        notes="Two failed boots, then a good one: the last boot is healthy (the loop and the "
              "panics of the earlier boots are optional, as a repaired-then-rebooted boot "
              "is annotated)."),
    BlindScenario(
        name="busybox-init-reboot-once-then-ready",
        title="busybox init's first-boot entry reboots once in order; the second boot is ready",
        family="loops-resets",
        injected="the initramfs execs busybox init; its sysinit script marks a blank virtio "
                 "data disk and sends init SIGTERM (busybox init's orderly reboot request) on "
                 "the first boot only; the second boot asks for Enter on the console",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "exec /bin/init\n", modules=VIRTIO_DISK,
            files={"/etc/inittab": ("::sysinit:/etc/rc.first\n::askfirst:-/bin/sh\n"
                                    "::ctrlaltdel:/bin/reboot\n", 0o644),
                   "/etc/rc.first": (ONCE_RC, 0o755)}),
        data="blank",
        stop=[StopRule(r"Please press Enter to activate this console", settle=2.0)],
        timeout=60,
        outcome="success", categories=["boot.success"], optional=["boot.loop"],
        evidence={"boot.success": ["Please press Enter to activate this console."],
                  "boot.loop": ["Requesting system reboot"]},
        notes="One requested reboot and a good second boot: a healthy near-miss."),
]

LOOPS.append(BlindScenario(
    name="kexec-without-initrd-panic-loop",
    title="A kexec fast reboot into a kernel loaded without its initrd: the new kernel panics, "
          "panic=3 restarts through the firmware, and the old kernel kexecs again",
    family="loops-resets",
    injected="the first kernel's init mounts a /boot volume (virtio, ext4) and runs Debian's "
             "kexec-tools 'kexec -l /boot/vmlinuz --append=\"console=ttyS0 root=/dev/vda1 "
             "panic=3\"' with no --initrd (a fast-reboot hook that lost its initrd line), then "
             "'kexec -e'; the kexec'd kernel has no virtio_blk (a module) and no initramfs, so "
             "it cannot open root=/dev/vda1 and panics; panic=3 reboots through SeaBIOS into "
             "the first kernel, which kexecs again; stopped after the second 'Rebooting in 3 "
             "seconds'",
    append="console=ttyS0",
    initramfs=InitramfsSpec(
        "mkdir -p /boot && mount -t ext4 -o ro /dev/vda /boot\n"
        "kexec -l /boot/vmlinuz --append=\"console=ttyS0 root=/dev/vda1 panic=3\"\n"
        "kexec -e\n" + READY_THEN_GETTY + IDLE, modules=VIRTIO_DISK),
    package_files={"kexec-tools": ["/sbin/kexec"]},
    work_files={"boot.img": _kernel_disk}, qemu_args=BOOT_DISK, memory_mb=384,
    stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)], timeout=60,
    outcome="failure", categories=["boot.loop", "disk.root-not-found", "kernel.panic"],
    optional=["disk.driver-missing"],
    evidence={"boot.loop": ["kexec_core: Starting new kernel", "Rebooting in 3 seconds.."],
              "disk.root-not-found": ['Cannot open root device "vda1"'],
              "kernel.panic": [VFS_PANIC]},
    notes="Each round: SeaBIOS, the first kernel, kexec into the second kernel (no firmware "
          "in between), its root-device panic, a reboot. The missing initrd is also what "
          "would load the disk's driver (optional)."))

OTHERS: list[BlindScenario] = [
    BlindScenario(
        name="initramfs-lz4-frame-format",
        title="The initramfs is compressed with lz4's frame format; the kernel takes only the "
              "legacy format",
        family="kernel-health",
        injected="the kit's usual busybox initramfs (a login on ttyS0), its cpio compressed "
                 "with 'lz4 -9' (the tool's default frame format; initramfs builders must "
                 "pass -l for the legacy format the kernel reads), given as -initrd; no root=",
        append="console=ttyS0",
        work_files={"initrd.lz4": _lz4_frame_initrd},
        qemu_args=["-initrd", "$WORK/initrd.lz4"],
        stop=[StopRule(r"---\[ end Kernel panic", settle=1.0)] + LOGIN,
        outcome="failure", categories=["init.not-found", "kernel.panic"],
        optional=["disk.root-not-found"],
        evidence={"init.not-found": ["Initramfs unpacking failed"],
                  "kernel.panic": [VFS_PANIC]},
        notes="The image is not unpacked, so /init never appears and the kernel falls back "
              "to a root device it was never given (an initramfs that cannot be unpacked is "
              "init.not-found, the root failure optional, as the README says)."),
    BlindScenario(
        name="initramfs-xz-crc64-check",
        title="The initramfs is compressed with xz's default CRC64 check; the kernel's decoder "
              "takes CRC32 only",
        family="kernel-health",
        injected="the kit's usual busybox initramfs (a login on ttyS0), its cpio compressed "
                 "with plain 'xz' (integrity check CRC64, the tool's default; the kernel's XZ "
                 "decoder needs --check=crc32), given as -initrd; no root=",
        append="console=ttyS0",
        work_files={"initrd.xz": _xz_crc64_initrd},
        qemu_args=["-initrd", "$WORK/initrd.xz"],
        stop=[StopRule(r"---\[ end Kernel panic", settle=1.0)] + LOGIN,
        outcome="failure", categories=["init.not-found", "kernel.panic"],
        optional=["disk.root-not-found"],
        evidence={"init.not-found": ["Initramfs unpacking failed"],
                  "kernel.panic": [VFS_PANIC]},
        notes="As initramfs-lz4-frame-format: no /init, then the VFS panic for want of a "
              "root device (optional)."),
    BlindScenario(
        name="bootsector-int18-hands-back",
        title="The disk's boot code gives up through int 18h: SeaBIOS has nothing else to boot",
        family="bootloader-firmware",
        injected="no -kernel; one virtio disk whose MBR code does nothing but int 18h (what a "
                 "master boot record does when it finds no active partition: hand back to the "
                 "BIOS); SeaBIOS moves on to the next boot device and finds none",
        append="", no_kernel=True,
        work_files={"boot.img": _boot_sector(bytes([0xCD, 0x18, 0xEB, 0xFE]))},
        qemu_args=BOOT_DISK,
        stop=[StopRule(r"No bootable device", settle=2.0)], timeout=30,
        outcome="failure", categories=["boot.bootloader-error"],
        evidence={"boot.bootloader-error": ["Booting from Hard Disk...", "No bootable device."]}),
    BlindScenario(
        name="console-hvc0-on-kvm-getty-only",
        title="console=hvc0 (a Xen image on KVM): the kernel and init say nothing on the "
              "serial port; only getty's prompt appears",
        family="healthy",
        injected="the command line names console=hvc0 only (carried over from a Xen guest; "
                 "this machine has no hvc device), so the kernel has no console on ttyS0 and "
                 "init's /dev/console goes nowhere; init runs getty on ttyS0 as usual",
        append="console=hvc0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        stop=LOGIN, timeout=40,
        outcome="success", categories=["boot.success"], optional=["console.silent"],
        evidence={"boot.success": ["debian login:"]},
        notes="No kernel line reaches the serial port, but the machine boots and offers its "
              "login there: a healthy boot with a misdirected console."),
    BlindScenario(
        name="fstab-fsck-unformatted-data-disk",
        title="fsck -A from fstab checks a data disk that was never formatted; the boot goes on "
              "without it",
        family="filesystems",
        injected="a blank 16 MB virtio data disk (attached, never formatted) listed in "
                 "/etc/fstab as ext4 on /data with pass 2; init runs Debian's fsck (util-linux) "
                 "'fsck -A -p' (with Debian's e2fsck as /sbin/fsck.ext4), then busybox 'mount "
                 "-a', then offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\nfsck -A -p\nmount -a\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK,
            files={"/etc/fstab": ("/dev/vda /data ext4 defaults 0 2\n", 0o644)}),
        host_programs={"/usr/sbin/fsck": "/sbin/fsck", "/usr/sbin/e2fsck": "/sbin/fsck.ext4"},
        data="blank", stop=LOGIN, timeout=50,
        outcome="success", categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["Bad magic number in super-block",
                                    "mount: mounting /dev/vda on /data failed"]},
        notes="The boot reaches its login prompt without /data."),
    BlindScenario(
        name="init-itself-exhausts-memory",
        title="The program run as PID 1 exhausts memory: the OOM killer may not kill init, the "
              "kernel panics",
        family="kernel-health",
        injected="the initramfs's init execs busybox awk with a program that doubles a string "
                 "for ever (an application run directly as PID 1 with a runaway cache); 256 MB "
                 "of RAM, no swap; the OOM killer never kills init",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "exec awk 'BEGIN { s = \"cache\"; while (1) s = s s }'\n"),
        stop=[StopRule(r"---\[ end Kernel panic", settle=1.0)] + LOGIN, timeout=40,
        outcome="failure", categories=["kernel.oom", "kernel.panic"],
        evidence={"kernel.oom": ["invoked oom-killer", "Out of memory and no killable processes"],
                  "kernel.panic": ["Kernel panic - not syncing: System is deadlocked on memory"]}),
    BlindScenario(
        name="kernel-needs-x86-64-cpu",
        title="A 64-bit kernel on a virtual CPU without long mode: the boot code refuses to go on",
        family="kernel-health",
        injected="Debian's cloud kernel (x86-64) booted with -cpu qemu32 (a 32-bit CPU model, "
                 "as a machine template for an old 32-bit image sets it); the kernel's "
                 "real-mode setup code checks the CPU and halts",
        append="console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        qemu_args=["-cpu", "qemu32"],
        stop=[StopRule(r"Unable to boot", settle=3.0)], timeout=30,
        outcome="failure", categories=["kernel.panic"],
        evidence={"kernel.panic": ["This kernel requires an x86-64 CPU",
                                   "Unable to boot - please use a kernel appropriate for "
                                   "your CPU."]},
        notes="Annotated as samples/qemu-kernel-image-corrupt annotates the kernel's boot code "
              "halting before the kernel proper runs (kernel.panic)."),
]

# recorded after the first sixteen (appended, so the halves of those stay as they were)
LATER: list[BlindScenario] = [
    BlindScenario(
        name="mem-limit-early-oops-panic-loop",
        title="mem=6M leaves the kernel too little memory: an oops in early boot, the idle "
              "task dies, panic=3 reboots, again",
        family="loops-resets",
        injected="a 256 MB machine whose command line carries mem=6M (a typo for mem=6G in a "
                 "template) and panic=3: the kernel's early allocations fail, it oopses "
                 "before init and panics (the idle task is killed); panic=3 reboots into the "
                 "same fault; stopped after the second 'Rebooting in 3 seconds'",
        append="console=ttyS0 mem=6M panic=3",
        initramfs=InitramfsSpec(READY_THEN_GETTY + IDLE),
        stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)], timeout=40,
        outcome="failure", categories=["boot.loop", "kernel.oops", "kernel.panic"],
        optional=["kernel.oom"],
        evidence={"boot.loop": ["Rebooting in 3 seconds.."],
                  "kernel.oops": ["BUG: kernel NULL pointer dereference", "Oops: 0000 [#1]"],
                  "kernel.panic": ["Kernel panic - not syncing: Attempted to kill the idle task!"],
                  "kernel.oom": ["swapper: page allocation failure"]},
        notes="The memory shortage shows as failed allocations, not as the OOM killer "
              "(optional); the oops and its panic repeat on every boot."),
    BlindScenario(
        name="kexec-fast-reboot-then-login",
        title="A kexec fast reboot into a kernel with its initrd: two kernels, no firmware in "
              "between, then a login (control case)",
        family="healthy",
        injected="nothing (control case for kexec-without-initrd-panic-loop): the first "
                 "kernel's init mounts a /boot volume (virtio, ext4) and runs Debian's "
                 "kexec-tools 'kexec -l /boot/vmlinuz --initrd=/boot/initrd.img "
                 "--append=console=ttyS0', then 'kexec -e'; the second kernel's initramfs "
                 "offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /boot && mount -t ext4 -o ro /dev/vda /boot\n"
            "kexec -l /boot/vmlinuz --initrd=/boot/initrd.img --append=console=ttyS0\n"
            "kexec -e\n" + IDLE, modules=VIRTIO_DISK),
        package_files={"kexec-tools": ["/sbin/kexec"]},
        work_files={"boot.img": lambda: _kernel_disk(with_initrd=True)}, qemu_args=BOOT_DISK,
        memory_mb=384, stop=LOGIN, timeout=60,
        outcome="success", categories=["boot.success"],
        evidence={"boot.success": ["kexec_core: Starting new kernel", "debian login:"]},
        notes="A deliberate kexec: the second kernel's boot follows the first with no "
              "firmware banner, and it reaches its login prompt."),
]

ROUND19: list[BlindScenario] = LOOPS + OTHERS + LATER

for _n, _sc in enumerate(ROUND19):
    _sc.half = ("study", "holdout")[_n % 2]
