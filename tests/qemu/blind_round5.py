"""Blind QEMU scenarios of the fifth round (blind_scenarios.py has the model and the first
rounds): healthy runs of kinds not recorded yet (a service's ready line, busybox init asking
for Enter, a halt, kernel self-tests that pass, a VGA-only console), init scripts that die
(a syntax error, an exec of a missing program, an application that exits 0 as PID 1), init=
naming a missing file, data disks that fail beside a healthy boot (errors=remount-ro, a label
that is not there, fsck of a file system larger than its disk, a full disk), the kernel's
health (a global OOM kill the boot survives, an RCU stall under a real-time spinner, a hung
task after the login prompt), reboot loops with a healthy-looking application, and DHCP
(a MAC the server ignores, a stale lease NAKed, two NICs where only the second is answered,
an IPv6-only network). Annotated from the fault injected, as the rest of the blind set."""

from __future__ import annotations

from blind_model import LOGIN, READY_THEN_GETTY, VIRTIO_DISK, BlindScenario, panic_stop
from blind_network import (
    BASE_FILES,
    DEBIAN_SH,
    DHCLIENT_FILES,
    FETCH_THEN_READY,
    NET_MODULES,
    NET_STOP,
    UDHCPC,
    UDHCPC_SIMPLE,
)
from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import GETTY, IDLE, READY, UDHCPC_APPLIES_121, DiskSpec

KILL_INIT = "Kernel panic - not syncing: Attempted to kill init! exitcode="

HEALTHY: list[BlindScenario] = [
    BlindScenario(
        name="service-ready-line",
        half="study",
        title="A long-running service (dnsmasq) prints its start-up lines and keeps running",
        family="healthy",
        injected="nothing (control case): init starts this machine's dnsmasq 2.90 in the "
                 "foreground (-k --log-facility=- -u root --port=0, DNS disabled, no DHCP) as "
                 "the machine's one service, which logs its start-up lines and runs; stopped "
                 "5 s later",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/run /var/lib/misc\n"
            "exec /usr/sbin/dnsmasq -k --log-facility=- -u root --port=0 --conf-file=/dev/null\n",
            files={"/etc/passwd": ("root:x:0:0:root:/root:/bin/sh\n", 0o644),
                   "/etc/group": ("root:x:0:\n", 0o644)}),
        host_programs={"/usr/sbin/dnsmasq": "/usr/sbin/dnsmasq"},
        stop=[StopRule(r"compile time options", settle=5.0)],
        timeout=45,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["started, version 2.90 DNS disabled"]},
        notes="An appliance that runs one daemon and offers no login: the daemon's start-up "
              "line is the boot's last word, and nothing failed.",
    ),
    BlindScenario(
        name="busybox-init-askfirst",
        half="holdout",
        title="busybox init runs its sysinit entries and asks for Enter to start a shell",
        family="healthy",
        injected="nothing (control case): the initramfs execs busybox init with an inittab "
                 "(sysinit: hostname, mount -a; askfirst: a shell on the console), as small "
                 "embedded and rescue images do",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "exec /bin/init\n",
            files={"/etc/inittab": ("::sysinit:/bin/hostname debian\n::sysinit:/bin/mount -a\n"
                                    "::askfirst:-/bin/sh\n::ctrlaltdel:/bin/reboot\n", 0o644),
                   "/etc/fstab": ("tmpfs /tmp tmpfs rw 0 0\n", 0o644)}),
        stop=[StopRule(r"Please press Enter to activate this console", settle=3.0)],
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["Please press Enter to activate this console."]},
    ),
    BlindScenario(
        name="batch-job-then-halt",
        half="study",
        title="A one-shot job that does its work and halts the machine (no power-off)",
        family="healthy",
        injected="nothing (control case): init checksums its programs with busybox "
                 "sha512sum, syncs and runs busybox 'halt -f' (the machine stops, QEMU keeps "
                 "running); stopped 3 s after the kernel's halt line",
        append="console=ttyS0",
        initramfs=InitramfsSpec("sha512sum /init\nsync\nhalt -f\n" + IDLE),
        stop=[StopRule(r"reboot: System halted", settle=3.0)],
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["reboot: System halted"]},
        notes="A batch machine that halts instead of powering off when its job is done.",
    ),
    BlindScenario(
        name="kernel-selftests-pass-poweroff",
        half="holdout",
        title="Kernel self-test modules (test_user_copy, test_static_keys) pass, then power off",
        family="healthy",
        injected="nothing (control case): generic Debian kernel; the initramfs loads the "
                 "kernel's test_user_copy and test_static_keys modules (each runs its tests "
                 "when loaded and refuses to load on a failure), then runs busybox "
                 "'poweroff -f'",
        kernel="generic",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "insmod /lib/extra/test_user_copy.ko\ninsmod /lib/extra/test_static_key_base.ko\n"
            "insmod /lib/extra/test_static_keys.ko\npoweroff -f\n" + IDLE),
        loose_modules=["test_user_copy", "test_static_key_base", "test_static_keys"],
        ends=("exited",),
        timeout=50,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["test_user_copy: tests passed.", "reboot: Power down"]},
    ),
    BlindScenario(
        name="console-vga-only-login",
        half="study",
        title="console=tty0 only: the boot reaches its login prompt on the screen; the "
              "serial port shows only the firmware",
        family="healthy",
        injected="nothing wrong with the boot: the command line says console=tty0 (no "
                 "console=ttyS0), so the kernel and init write to the VGA console only, and "
                 "getty runs on tty1; stopped after 30 s. The serial log holds SeaBIOS's "
                 "lines and nothing after the hand-off",
        append="console=tty0",
        initramfs=InitramfsSpec("dmesg -n 4; hostname debian; getty 38400 tty1 &\n" + IDLE),
        stop=[],
        ends=("timeout",),
        timeout=30,
        screen=True,
        outcome="unknown",
        categories=["console.silent"],
        evidence={"console.silent": ["Booting from ROM..."]},
        screen_outcome="success",
        screen_evidence={"boot.success": ["debian login:"]},
        notes="The serial port alone shows nothing after the firmware: the console is silent "
              "there and the outcome unknown. The screen shows the login prompt: success.",
    ),
]

INIT: list[BlindScenario] = [
    BlindScenario(
        name="init-script-syntax-error",
        half="holdout",
        title="The initramfs's /init shell script has a syntax error: init exits, the kernel panics",
        family="root-device",
        injected="the /init script (busybox sh) ends inside an 'if' block that has no 'fi' "
                 "(an edit gone wrong); sh runs the commands before it, then reports the "
                 "syntax error and exits with status 2",
        append="console=tty0 console=ttyS0",
        initramfs=InitramfsSpec(
            "if [ -e /etc/app.conf ]; then\n  . /etc/app.conf\n" + READY_THEN_GETTY,
            files={"/etc/app.conf": ("APP_PORT=8080\n", 0o644)}),
        stop=panic_stop(),
        screen=True,
        excerpt=12,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["syntax error: unexpected end of file"],
                  "kernel.panic": [KILL_INIT + "0x00000200"]},
        screen_evidence={"kernel.panic": [KILL_INIT + "0x00000200"]},
        excerpt_evidence={"kernel.panic": ["end Kernel panic - not syncing: Attempted to kill init!"]},
        notes="The init program cannot run as written (annotated init.not-found: no working "
              "init); its exit makes the kernel panic.",
    ),
    BlindScenario(
        name="init-exec-missing-program",
        half="study",
        title="init execs an application that is not in the image: exit 127, the kernel panics",
        family="root-device",
        injected="the /init script ends with 'exec /usr/bin/app-server --config /etc/app.conf' "
                 "and the image has no /usr/bin/app-server (left out of the build); the shell "
                 "exits with status 127",
        append="console=ttyS0",
        initramfs=InitramfsSpec("exec /usr/bin/app-server --config /etc/app.conf\n"),
        stop=panic_stop(),
        excerpt=14,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["/usr/bin/app-server: not found"],
                  "kernel.panic": [KILL_INIT + "0x00007f00"]},
        excerpt_evidence={"kernel.panic": [KILL_INIT + "0x00007f00"]},
        notes="The program init hands over to is missing: no working init, then the panic.",
    ),
    BlindScenario(
        name="init-param-missing-file",
        half="holdout",
        title="init= names a program that is not on the root file system",
        family="root-device",
        injected="a good ext4 root on NVMe (root=/dev/nvme0n1p1) and init=/usr/lib/systemd/"
                 "systemd (the image has busybox only, no systemd); no initramfs",
        append="console=ttyS0 console=tty0 root=/dev/nvme0n1p1 init=/usr/lib/systemd/systemd",
        root_disk=DiskSpec("nvme"),
        stop=panic_stop(),
        screen=True,
        outcome="failure",
        categories=["init.not-found", "kernel.panic"],
        evidence={"init.not-found": ["Requested init /usr/lib/systemd/systemd failed (error -2)"],
                  "kernel.panic": ["Kernel panic - not syncing: Requested init "
                                   "/usr/lib/systemd/systemd failed (error -2)"]},
        screen_evidence={"init.not-found": ["Requested init /usr/lib/systemd/systemd failed"],
                         "kernel.panic": ["Kernel panic - not syncing: Requested init"]},
    ),
]

FILESYSTEMS: list[BlindScenario] = [
    BlindScenario(
        name="ext4-data-errors-remount-ro",
        half="study",
        title="A data disk mounted errors=remount-ro meets a corrupt inode: read-only, boot goes on",
        family="filesystems",
        injected="a 32 MB ext4 data disk (virtio, vda) with one inode (/app/config) "
                 "overwritten; init mounts it with -o errors=remount-ro, reads /app/config "
                 "(the kernel meets the bad inode and remounts read-only), tries to write "
                 "/data/app/state/pid, then offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\n"
            "mount -t ext4 -o loud,errors=remount-ro /dev/vda /data\n"
            "cat /data/app/config\necho 1 > /data/app/state/pid\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-needs-fsck",
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["EXT4-fs error (device vda)", "Remounting filesystem read-only"],
                  "boot.success": ["debian login:"]},
        notes="The data disk is read-only from then on; the boot reaches its login prompt.",
    ),
    BlindScenario(
        name="data-mount-label-missing",
        half="holdout",
        title="The data disk is mounted by a label it does not carry; the boot goes on without it",
        family="filesystems",
        injected="an ext4 data disk (virtio, vda) labelled 'data'; init mounts LABEL=appdata "
                 "on /data (the label the image's fstab expects), then offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\n"
            "mount -t ext4 LABEL=appdata /data\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-data",
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["LABEL=appdata"], "boot.success": ["debian login:"]},
        notes="A data mount that fails while the boot reaches its login prompt "
              "(the convention of samples/blind/: disk.fs-error next to boot.success).",
    ),
    BlindScenario(
        name="fsck-data-size-mismatch",
        half="study",
        title="fsck of a data disk whose ext4 is larger than the disk; the boot goes on without it",
        family="filesystems",
        injected="an ext4 made for 64 MB on a 32 MB data disk (virtio, vda); init runs "
                 "Debian's e2fsck -p on it (it refuses), skips the mount and offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "if /usr/sbin/e2fsck -p /dev/vda; then mkdir -p /data; "
            "mount -t ext4 /dev/vda /data; fi\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        host_programs={"/usr/sbin/e2fsck": "/usr/sbin/e2fsck"},
        data="ext4-larger-than-device",
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["The filesystem size (according to the superblock) is"],
                  "boot.success": ["debian login:"]},
    ),
    BlindScenario(
        name="data-disk-full-enospc",
        half="holdout",
        title="An application fills its data disk: No space left on device; the boot goes on",
        family="filesystems",
        injected="a healthy 32 MB ext4 data disk (virtio, vda) mounted on /data; init copies "
                 "64 MB into /data/app/cache.bin with busybox dd (the disk fills), then "
                 "offers a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /data\n"
            "mount -t ext4 /dev/vda /data\n"
            "dd if=/dev/zero of=/data/app/cache.bin bs=1M count=64\n" + READY_THEN_GETTY + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-data",
        stop=LOGIN,
        outcome="success",
        categories=["boot.success", "disk.fs-error"],
        evidence={"disk.fs-error": ["No space left on device"], "boot.success": ["debian login:"]},
        notes="A full file system is a file-system problem (disk.fs-error) that did not stop "
              "the boot.",
    ),
]

KERNEL: list[BlindScenario] = [
    BlindScenario(
        name="oom-kill-then-login",
        half="study",
        title="A job exhausts the machine's memory; the global OOM killer kills it; login follows",
        family="kernel-health",
        injected="128 MB of RAM; init runs busybox awk doubling a string until memory runs out "
                 "(no memory cgroup, panic_on_oom left at 0), then offers a login",
        append="console=ttyS0",
        memory_mb=128,
        initramfs=InitramfsSpec("awk 'BEGIN { s = \"consolewatch\"; while (1) s = s s }'\n"
                                + READY_THEN_GETTY + IDLE),
        stop=LOGIN,
        timeout=50,
        outcome="success",
        categories=["boot.success", "kernel.oom"],
        evidence={"kernel.oom": ["invoked oom-killer", "Out of memory: Killed process"],
                  "boot.success": ["debian login:"]},
        notes="The OOM killer picks the job; the machine carries on to its login prompt.",
    ),
    BlindScenario(
        name="rcu-stall-rt-spinner",
        half="holdout",
        title="A real-time busy loop starves the kernel's threads: RCU stall warnings, no login",
        family="kernel-health",
        injected="rcupdate.rcu_cpu_stall_timeout=5 on the command line (default 21 s); init "
                 "disables RT throttling (sched_rt_runtime_us=-1) and starts a SCHED_FIFO 99 "
                 "busy loop with this machine's chrt, on the only CPU; init never runs again; "
                 "stopped 8 s after the first RCU stall report",
        append="console=ttyS0 rcupdate.rcu_cpu_stall_timeout=5",
        initramfs=InitramfsSpec(
            "echo -1 > /proc/sys/kernel/sched_rt_runtime_us\n"
            "/usr/bin/chrt -f 99 sh -c 'while :; do :; done' &\nsleep 1\n"
            + READY_THEN_GETTY + IDLE),
        host_programs={"/usr/bin/chrt": "/usr/bin/chrt"},
        stop=[StopRule(r"rcu: INFO: ", settle=8.0)],
        timeout=58,
        excerpt=30,
        outcome="stall",
        categories=["kernel.oops"],
        optional=["boot.stall"],
        evidence={"kernel.oops": ["rcu: INFO: rcu_preempt detected stalls"]},
        excerpt_evidence={"kernel.oops": ["rcu_preempt kthread starved for"]},
        notes="An RCU stall is annotated kernel.oops (the convention of samples/blind/); the "
              "machine stays up but never reaches its login prompt.",
    ),
    BlindScenario(
        name="hung-task-after-login",
        half="study",
        title="A writer blocked on a frozen data disk is reported hung after the login prompt",
        family="kernel-health",
        injected="hung_task_timeout_secs=3; an ext4 data disk (virtio, vda) mounted on /data "
                 "and frozen with fsfreeze; a writer started in the background blocks on it "
                 "for good while init goes on to a login prompt (console log level left at "
                 "7, dmesg -n 7, so the kernel's warnings reach the console); stopped 3 s "
                 "after the hung-task report",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "echo 3 > /proc/sys/kernel/hung_task_timeout_secs\n"
            "mkdir -p /data && mount -t ext4 /dev/vda /data\nfsfreeze --freeze /data\n"
            "touch /data/app/heartbeat &\necho " + READY + "; "
            + GETTY.replace("dmesg -n 4", "dmesg -n 7") + "\n" + IDLE,
            modules=VIRTIO_DISK),
        data="ext4-data",
        stop=[StopRule(r"blocked for more than", settle=3.0)],
        timeout=50,
        outcome="success",
        categories=["boot.success", "kernel.oops"],
        evidence={"kernel.oops": ["blocked for more than 3 seconds"],
                  "boot.success": ["debian login:"]},
        notes="The machine is up (login prompt) and keeps running; the hung writer is a "
              "warning printed after the prompt.",
    ),
]

LOOPS: list[BlindScenario] = [
    BlindScenario(
        name="app-exits-zero-as-init-panic-loop",
        half="holdout",
        title="The application run as PID 1 finishes with status 0; the kernel panics, panic=3 "
              "reboots, again",
        family="loops-resets",
        injected="init execs its application (busybox sha256sum of its own files, which "
                 "succeeds) as PID 1; when it exits 0 the kernel panics (init must never exit) "
                 "and panic=3 reboots into the same boot; stopped after the second "
                 "'Rebooting in 3 seconds'",
        append="console=ttyS0 panic=3",
        initramfs=InitramfsSpec("exec sha256sum /init /etc/modules.order\n"),
        stop=[StopRule(r"Rebooting in 3 seconds", count=2, settle=0.5)],
        timeout=58,
        excerpt=40,
        outcome="failure",
        categories=["boot.loop", "kernel.panic"],
        evidence={"boot.loop": ["Rebooting in 3 seconds.."],
                  "kernel.panic": [KILL_INIT + "0x00000000"]},
        excerpt_evidence={"boot.loop": ["Rebooting in 3 seconds.."],
                          "kernel.panic": [KILL_INIT + "0x00000000"]},
        notes="The application's own output looks healthy; exiting as PID 1 is the fault.",
    ),
    BlindScenario(
        name="login-then-reboot-loop",
        half="study",
        title="Each boot reaches its login prompt, then a supervisor reboots the machine",
        family="loops-resets",
        injected="init offers a login, then 3 s later runs busybox 'reboot -f' (a supervisor "
                 "that restarts the machine when its service exits, and the service exits "
                 "at once); QEMU resets and the same boot runs again; stopped after the "
                 "third 'reboot: Restarting system'",
        append="console=ttyS0",
        initramfs=InitramfsSpec(READY_THEN_GETTY + "sleep 3\nreboot -f\n" + IDLE),
        stop=[StopRule(r"reboot: Restarting system", count=3, settle=0.5)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop"],
        optional=["boot.success"],
        evidence={"boot.loop": ["reboot: Restarting system"],
                  "boot.success": ["debian login:"]},
        notes="Every boot looks healthy up to its login prompt; the restarts make it a loop.",
    ),
    BlindScenario(
        name="sysrq-crash-panic-loop",
        half="holdout",
        title="A health check crashes the kernel with sysrq c; panic=2 reboots, again",
        family="loops-resets",
        injected="init reaches its login prompt, then writes 'c' to /proc/sysrq-trigger "
                 "(a hang detector's last resort, with no crash kernel loaded); panic=2 "
                 "reboots into the same boot; stopped after the second 'Rebooting in 2 seconds'",
        append="console=ttyS0 panic=2",
        initramfs=InitramfsSpec(READY_THEN_GETTY + "sleep 2\necho c > /proc/sysrq-trigger\n"
                                + IDLE),
        stop=[StopRule(r"Rebooting in 2 seconds", count=2, settle=0.5)],
        timeout=58,
        outcome="failure",
        categories=["boot.loop", "kernel.panic"],
        optional=["boot.success"],
        evidence={"boot.loop": ["Rebooting in 2 seconds.."],
                  "kernel.panic": ["Kernel panic - not syncing: sysrq triggered crash"]},
    ),
]

NETWORK: list[BlindScenario] = [
    BlindScenario(
        name="udhcpc-mac-ignored",
        half="study",
        title="The DHCP server ignores this machine's MAC address: udhcpc gets no lease",
        family="network-dhcp",
        injected="dnsmasq on the GCE-like network told to ignore the guest's MAC "
                 "(--dhcp-host=52:54:00:12:34:56,ignore, a stale filter); busybox udhcpc with "
                 "busybox's example script, then the metadata fetch",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /run\n" + UDHCPC + "\n" + FETCH_THEN_READY,
            modules=NET_MODULES, files=BASE_FILES),
        **UDHCPC_SIMPLE,
        network="gce",
        dnsmasq_args=["--dhcp-host=52:54:00:12:34:56,ignore"],
        stop=NET_STOP,
        timeout=50,
        outcome="failure",
        categories=["network.dhcp.no-lease"],
        optional=["network.metadata-unreachable"],
        evidence={"network.dhcp.no-lease": ["udhcpc: no lease, failing"]},
    ),
    BlindScenario(
        name="dhclient-stale-lease-nak",
        half="holdout",
        title="dhclient asks for its old address, the server NAKs it, then a fresh lease works",
        family="network-dhcp",
        injected="nothing that stops the boot: Debian's dhclient (with its rfc3442 hook) "
                 "finds a lease for 192.168.1.50 from another network in "
                 "/var/lib/dhcp/dhclient.leases and asks for it; dnsmasq, authoritative "
                 "(--dhcp-authoritative), answers DHCPNAK; dhclient starts over and gets the "
                 "GCE-like /32 lease; then the metadata fetch and a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /var/lib/dhcp /run\ndhclient -v -1 eth0\n" + FETCH_THEN_READY,
            modules=NET_MODULES,
            files={**BASE_FILES, "/var/lib/dhcp/dhclient.leases": (
                'lease {\n  interface "eth0";\n  fixed-address 192.168.1.50;\n'
                "  option subnet-mask 255.255.255.0;\n  option routers 192.168.1.1;\n"
                "  option dhcp-server-identifier 192.168.1.1;\n"
                "  renew never;\n  rebind never;\n  expire never;\n}\n", 0o644)}),
        host_programs=DEBIAN_SH,
        package_files={"isc-dhcp-client": [
            *DHCLIENT_FILES, "/etc/dhcp/dhclient-exit-hooks.d/rfc3442-classless-routes"]},
        network="gce",
        dnsmasq_args=["--dhcp-authoritative"],
        stop=NET_STOP,
        timeout=55,
        outcome="success",
        categories=["boot.success"],
        evidence={"boot.success": ["bound to 10.128.0.2", "debian login:"]},
        notes="The NAK of a stale address is normal DHCP; the fresh lease works.",
    ),
    BlindScenario(
        name="two-nics-second-gets-lease",
        half="study",
        title="Two NICs: the first is on a network with no DHCP server, the second gets a lease",
        family="network-dhcp",
        injected="nothing that stops the boot: eth0 is a tap device in a private namespace "
                 "with no DHCP server, eth1 is on QEMU user networking; busybox udhcpc tries "
                 "eth0 (no lease), then eth1 (lease), then a login",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "udhcpc -i eth0 -n -q -t 3 -T 2 -s /etc/udhcpc.script\n"
            "udhcpc -i eth1 -n -q -t 3 -T 2 -s /etc/udhcpc.script && "
            f"echo {READY}; {GETTY}\n" + IDLE,
            modules=NET_MODULES,
            files={**BASE_FILES, "/etc/udhcpc.script": (UDHCPC_APPLIES_121, 0o755)}),
        network="isolated",
        qemu_args=["-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,romfile="],
        stop=LOGIN,
        timeout=50,
        outcome="success",
        categories=["boot.success"],
        optional=["network.dhcp.no-lease"],
        evidence={"boot.success": ["lease of 10.0.2.15 obtained", "debian login:"],
                  "network.dhcp.no-lease": ["udhcpc: no lease, failing"]},
        notes="The first NIC's failure is benign: the machine is reachable through the "
              "second (optional, neither rewarded nor penalised).",
    ),
    BlindScenario(
        name="ipv6-only-network-no-dhcpv4",
        half="holdout",
        title="An IPv6-only network: no DHCPv4 answer, the IPv4 metadata fetch fails",
        family="network-dhcp",
        injected="a virtio NIC on QEMU user networking with IPv4 off (ipv4=off,ipv6=on: router "
                 "advertisements, no DHCPv4); busybox udhcpc with busybox's example script, "
                 "then the metadata fetch over IPv4",
        append="console=ttyS0",
        initramfs=InitramfsSpec(
            "mkdir -p /run\n" + UDHCPC + "\n" + FETCH_THEN_READY, modules=NET_MODULES, files=BASE_FILES),
        **UDHCPC_SIMPLE,
        qemu_args=["-netdev", "user,id=n0,ipv4=off,ipv6=on",
                   "-device", "virtio-net-pci,netdev=n0,romfile="],
        stop=NET_STOP,
        timeout=50,
        outcome="failure",
        categories=["network.dhcp.no-lease"],
        optional=["network.metadata-unreachable"],
        evidence={"network.dhcp.no-lease": ["udhcpc: no lease, failing"]},
    ),
]

ROUND5: list[BlindScenario] = HEALTHY + INIT + FILESYSTEMS + KERNEL + LOOPS + NETWORK
