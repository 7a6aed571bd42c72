"""Kernels of other operating systems as guests (parsers/detectors/os-guests-11.yaml,
parsers/formats/os-kernels.yaml): illumos and Solaris, NetBSD, OpenBSD, FreeBSD's prompt,
Plan 9, Redox, HelenOS, ReactOS and Windows. A root that cannot be mounted is a failure where
the kernel panics and a stall where it asks for a root device and waits; panics and the BSD
debugger stop the boot; a console login, Plan 9's shell or Windows' SAC are a healthy boot.
Lines are the rules' real samples (search-index files cited there) or the sources' own format
strings (marked synthetic in the rules)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories, failure

# search-index file id 23313173632: NetBSD 10.99.10 MICROVM under QEMU, its disk gone
NETBSD_NO_ROOT = [
    "[   1.0000000] NetBSD 10.99.10 (MICROVM) #8: Wed Jan 31 09:01:58 CST 2024",
    "[   1.0155438] root on ld0c dumps on ld0b",
    "[   1.0155438] vfs_mountroot: can't open root device",
    "[   1.0155438] cannot mount root, error = 6",
    "[   1.0155438] root device (default ld0c): ",
]
# the same machine with its disk found
NETBSD_ROOT_FOUND = [
    "[   1.0000000] NetBSD 10.99.10 (MICROVM) #1891: Tue Jan 23 06:43:58 CET 2024",
    "[   1.0244222] boot device: ld0",
    "[   1.0244222] root on ld0c dumps on ld0b",
    "[   1.0244222] root file system type: ffs",
]
# search-index file id 58094300043: illumos arm64 with no driver bound to its disk
ILLUMOS_NO_ROOT = [
    "NOTICE: Cannot read the pool label from '/virtio_mmio@a003c00/vioblk@a003c00/blkdev@0,0:b'",
    "NOTICE: spa_import_rootpool: error 5",
    "Cannot mount root on /virtio_mmio@a003c00/vioblk@a003c00/blkdev@0,0:b fstype zfs",
    "",
    "panic[cpu0]/thread=fffffffffe153000: vfs_mountroot: cannot mount root",
]
# search-index file id 20274517575: OpenBSD 6.1 on VirtualBox, a uvm_fault into ddb
OPENBSD_DDB = [
    "OpenBSD 6.1 (GENERIC) #19: Sat Apr  1 13:42:46 MDT 2017",
    "root on wd0a (d6cbe3aebd54fb8e.a) swap on wd0b dump on wd0b",
    "uvm_fault(0xffffff00036f0d00, 0x88, 0, 1) -> e",
    "kernel: page fault trap, code=0",
    "Stopped at      brelse+0x18:    cmpq    $0,clean_idt+0x68(%rbx)",
    "ddb> trace",
]
# search-index file id 2753640007: an illumos port whose /usr could not be remounted
SMF_MAINTENANCE = [
    "SunOS Release 5.11 Version illumos-7a1b2c3d4e 64-bit",
    "Feb 29 04:41:49 svc.startd[100003]: svc:/system/filesystem/usr:default: Method \"/lib/svc/method/fs-usr\" failed with exit status 95.",
    "Feb 29 04:41:49 svc.startd[100003]: system/filesystem/usr:default failed fatally: transitioned to maintenance (see 'svcs -xv' for details)",
    "Hostname: virt-a64",
    "Requesting System Maintenance Mode",
    "(See /lib/svc/share/README for more information.)",
    "Console login service(s) cannot run",
    "",
    "Enter user name for system maintenance (control-d to bypass): ",
]


def test_netbsd_asking_for_a_root_device_after_it_could_not_mount_one_is_a_stall(catalog):
    a = run_lines(catalog, NETBSD_NO_ROOT)
    assert a.outcome == "stall" and "disk.root-not-found" in categories(a)
    f = next(f for f in a.findings() if f.rule == "bsd-root-device-asked")
    assert f.fields["errno"] == "6" and "error 6" in f.remediation


def test_netbsd_mounting_its_root_says_nothing_of_root_devices(catalog):
    a = run_lines(catalog, NETBSD_ROOT_FOUND)
    assert "disk.root-not-found" not in categories(a) and a.outcome == "unknown"


def test_a_root_device_prompt_that_was_answered_is_no_stall(catalog):
    a = run_lines(catalog, NETBSD_ROOT_FOUND[:2] + ["root device (default ld0c): ld0a",
                                                     "dump device (default ld0b): ",
                                                     "NetBSD/amd64 (vm) (constty)", "login: "])
    assert a.outcome == "success" and "disk.root-not-found" not in categories(a)


def test_illumos_unable_to_mount_root_is_the_cause_of_its_panic(catalog):
    a = run_lines(catalog, ILLUMOS_NO_ROOT)
    assert a.outcome == "failure" and failure(a).rule == "illumos-root-mount-failed"
    panic = next(f for f in a.findings() if f.category == "kernel.panic")
    assert panic.suppressed_by == "illumos-root-mount-failed"


def test_freebsd_waiting_at_the_mountroot_prompt_is_a_stall(catalog):
    a = run_lines(catalog, ["Copyright (c) 1992-2023 The FreeBSD Project.",
                            "Manual root filesystem specification:", "mountroot> "])
    assert a.outcome == "stall" and "disk.root-not-found" in categories(a)


def test_openbsd_stopping_in_ddb_after_a_fault_is_a_kernel_panic(catalog):
    a = run_lines(catalog, OPENBSD_DDB)
    assert a.outcome == "failure" and failure(a).rule == "bsd-kernel-debugger-stop"
    assert failure(a).fields["where"] == "brelse+0x18"
    assert a.boots[-1].milestones[0].name == "kernel"


@pytest.mark.parametrize("lines", [
    # search-index file id 18763823928: NetBSD 4.0.1/prep on qemu-system-ppc
    ["trap: kernel read DSI trap @ 0x7c3042a6 by 0x3e4cf8 (DSISR 0x40000000, err=14), lr 0x377eac",
     "panic: trap", "Stopped in pid 0.1 () at        netbsd:cpu_Debugger+0x10:       lwz     r0, r1, 0"],
    # synthetic: Plan 9's panic() then shutdown()'s "cpu%d: exiting" (search-index file id 2711641328)
    ["panic: fault: 0x0", "cpu0: exiting"],
])
def test_a_bsd_or_plan9_panic_is_one_kernel_panic_naming_its_reason(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure" and failure(a).rule == "bsd-kernel-panic"
    assert failure(a).fields["reason"] in {"trap", "fault: 0x0"}
    assert [f.rule for f in a.findings() if f.category == "kernel.panic" and f.suppressed_by is None] == ["bsd-kernel-panic"]


def test_a_go_programs_panic_is_no_kernel_panic(catalog):
    a = run_lines(catalog, ["panic: runtime error: invalid memory address or nil pointer dereference",
                            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]",
                            "", "goroutine 1 [running]:", "rebooting in 30 seconds"])
    assert "kernel.panic" not in categories(a)


def test_smf_maintenance_mode_is_an_emergency_shell_and_the_service_is_named(catalog):
    a = run_lines(catalog, SMF_MAINTENANCE)
    assert a.outcome == "failure" and {"init.emergency-mode", "init.unit-failed"} <= categories(a)
    assert "disk.fs-error" not in categories(a)  # the file system service failed, not the file system
    svc = next(f for f in a.findings() if f.rule == "illumos-smf-service-maintenance")
    assert svc.fields["fmri"] == "system/filesystem/usr:default"


@pytest.mark.parametrize("lines", [
    # search-index file id 17042161479: Solaris 2.6 at its console login
    ["SunOS Release 5.6 Version Generic 64-bit", "The system is ready.", "", "solaris console login: root"],
    # search-index file id 56902962093: Windows' SAC after the greeting
    ["Computer is booting, SAC started and initialized.", "", "SAC>",
     "EVENT: The CMD command is now available."],
    # Plan 9 init starting the console's shell (sys/src/cmd/init.c)
    ["Plan 9", "init: starting /bin/rc"],
])
def test_a_console_login_plan9_shell_or_windows_sac_is_a_healthy_boot(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "success"
    assert not [f for f in a.findings() if f.severity in ("error", "critical")]


@pytest.mark.parametrize("line, rule, category", [
    ("*** Fatal System Error: 0x0000006b", "windows-bugcheck", "kernel.panic"),
    ("Your PC ran into a problem and needs to restart. We're just collecting some error info, and then "
     "we'll restart for you.", "windows-bugcheck", "kernel.panic"),
    # a boot device Windows cannot read is named as such, the bug check its symptom
    ("*** STOP: 0x0000007B (0xF78D2524,0xC0000034,0x00000000,0x00000000)", "windows-inaccessible-boot-device",
     "disk.root-not-found"),
    ("Stop code: INACCESSIBLE_BOOT_DEVICE (0x7B)", "windows-inaccessible-boot-device", "disk.root-not-found"),
    ("KERNEL PANIC: panicked at src/allocator/mod.rs:24:9:", "research-kernel-panic", "kernel.panic"),
    ("######> Kernel panic on cpu0 due to a failed assertion: <######", "research-kernel-panic", "kernel.panic"),
    ("unrecoverable, halting processor.", "research-kernel-panic", "kernel.panic"),  # Twizzler's panic handler
])
def test_a_bug_check_or_a_research_kernels_panic_stops_the_boot(catalog, line, rule, category):
    a = run_lines(catalog, ["Computer is booting, SAC started and initialized.", line])
    assert a.outcome == "failure" and failure(a).rule == rule and failure(a).category == category


def test_plan9_asking_again_for_its_root_waits_and_an_answered_prompt_does_not(catalog):
    prompt = "root is from (tcp, local)[local!#S/sdC0/fossil]: "
    a = run_lines(catalog, ["Plan 9", prompt, prompt])
    assert a.outcome == "stall" and "disk.root-not-found" in categories(a)
    ok = run_lines(catalog, ["Plan 9", prompt, "user[none]: glenda", "init: starting /bin/rc"])
    assert ok.outcome == "success" and "disk.root-not-found" not in categories(ok)


def test_a_redox_program_faulting_is_reported_but_decides_nothing(catalog):
    a = run_lines(catalog, ["redox login: user", "Page fault: 0000000000000008 PageFaultError(", "RIP: 0000000000401234"])
    oops = [f for f in a.findings("all") if f.rule == "redox-cpu-exception"]
    assert oops and oops[0].verdict == "none"
    assert a.outcome != "failure"


def test_netbsd_unable_to_exec_init_with_nothing_after_is_init_not_found(catalog):
    a = run_lines(catalog, NETBSD_ROOT_FOUND + ["[   1.0294073] exec /sbin/init: error 2"])
    assert a.outcome == "failure" and failure(a).category == "init.not-found"
    ran = run_lines(catalog, NETBSD_ROOT_FOUND + ["[   1.0294073] exec /sbin/init: error 8",
                                                  "[   1.0294073] init: trying /sbin/oinit"])
    assert "init.not-found" not in categories(ran)


def test_hostile_bytes_in_other_kernels_lines_stay_inert(catalog):
    lines = [b"root device (default \x1b]0;evil\x07ld0c\xff): " + b"A" * 70000,
             b"Stopped at      \x1b[2Jbrelse+0x18:\x00" + b"B" * 70000,
             b"panic: \x1b[31mevil\x00\xff" + b"C" * 70000,
             b"cpu0: exiting",
             b"*** STOP: 0x\x1b\x1b\x1b" + b"\xff" * 5000,
             b"x console login: \x1b[5m" + b"D" * 70000]
    a = run_lines(catalog, lines)
    assert_quoted_safely(a)


@pytest.mark.parametrize("lines, rule", [
    # the 2017 Redox kernel's panic handler (search-index file id 12509795308)
    (["PANIC: kernel memory allocation failed", "FILE: src/panic.rs", "LINE: 30", "HALT"], "redox-kernel-panic-legacy"),
    # search-index file id 65806936868: a NetBSD kernel's assertion stopping in ddb
    (['panic: kernel diagnostic assertion "sn->sn_opencnt" failed: file',
      "Stopped in pid 104.104 (init) at netbsd:cpu_Debugger+0x4"], "bsd-kernel-panic"),
])
def test_a_whole_kernels_panic_is_no_unikernel_crash(catalog, lines, rule):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure" and failure(a).rule == rule
    assert "unikernel.crash" not in categories(a)


def test_a_rump_kernel_panic_is_still_a_unikernel_crash(catalog):
    # https://github.com/mato/opam-rumprun/issues/3 (rumprun-panic's own sample)
    a = run_lines(catalog, ["cannot handle page request order 2/0x0!", "panic: uvm_km_alloc failed",
                            "rump kernel halting...", "PANIC: rumpuser panic", "halted"])
    assert "unikernel.crash" in categories(a)
