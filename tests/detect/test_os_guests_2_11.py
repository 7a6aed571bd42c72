"""Kernels of other operating systems as guests, second set (parsers/detectors/os-guests-2-11.yaml,
parsers/formats/os-kernels-2.yaml): Haiku, SerenityOS, GNU Mach and the Hurd, MINIX 3, Zircon
(Fuchsia) and Genode. A whole kernel's panic or debugger stop is a kernel panic; a panic that
says no boot device was found is a missing root, the panic its symptom; a server or component
dying is a failed unit; banners mark the kernel and a Genode child that finishes its work is a
healthy run. Lines are the rules' samples: the sources' own format strings (cited, marked
synthetic there) and the lines Fuchsia's documentation shows."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories, failure

# Haiku: vfs_boot.cpp's panic through the kernel debugger (debug.cpp), after main.cpp's banner
HAIKU_NO_PARTITION = [
    "Welcome to kernel debugger output!",
    "Haiku revision: hrev57937",
    "KDiskDeviceManager::InitialDeviceScan() returned error: No such file or directory",
    "PANIC: did not find any boot partitions!",
    "Welcome to Kernel Debugging Land...",
    'Thread 14 "main2" running on CPU 0',
    "kdebug> ",
]
# SerenityOS: StorageManagement's PANIC through the PANIC macro
SERENITY_NO_ROOT = [
    "[#0 Kernel]: Starting SerenityOS...",
    "[#0 Kernel]: StorageManagement: Detected 1 storage devices",
    "[#0 Kernel]: KERNEL PANIC! :^(",
    "[#0 Kernel]: StorageManagement: Couldn't find a suitable device to boot from",
    "[#0 Kernel]: at ./Kernel/Devices/Storage/StorageManagement.cpp:494 in create_first_vfs_root_context()",
]
# Genode: core's banner and init's quota, a test component, init logging its exit
GENODE_RUN = [
    "Genode 17.11-95-gf44edd4",
    "4039 MiB RAM and 63253 caps assigned to init",
    "[init -> test-log] hello",
]


def failure_or_stall(a):
    return next(f for f in a.findings() if f.verdict in ("failure", "stall"))


def unsuppressed(a, category: str) -> list[str]:
    return [f.rule for f in a.findings() if f.category == category and f.suppressed_by is None]


def test_haiku_finding_no_boot_partition_is_the_cause_of_its_panic(catalog):
    a = run_lines(catalog, HAIKU_NO_PARTITION)
    assert a.outcome == "failure" and failure(a).rule == "haiku-no-boot-partition"
    panic = next(f for f in a.findings() if f.rule == "haiku-kernel-panic")
    assert panic.suppressed_by == "haiku-no-boot-partition"
    assert "unikernel.crash" not in {f.category for f in a.findings() if f.suppressed_by is None}
    assert a.boots[-1].milestones[0].name == "kernel"


def test_haiku_stopping_in_kdl_is_a_kernel_panic_not_a_unikernel_crash(catalog):
    a = run_lines(catalog, ["Welcome to kernel debugger output!", "PANIC: could not get boot device!", "",
                            "Welcome to Kernel Debugging Land...", "kdebug> "])
    assert a.outcome == "failure" and failure(a).rule == "haiku-kernel-panic"
    assert unsuppressed(a, "unikernel.crash") == []


def test_haiku_loader_with_no_boot_device_waits_at_its_menu(catalog):
    a = run_lines(catalog, ["\tno boot path found, scan for all partitions...",
                            "Could not locate any supported boot devices!"])
    assert a.outcome == "stall" and failure_or_stall(a).rule == "haiku-loader-no-boot-device"


def test_haiku_healthy_kernel_output_says_nothing(catalog):
    a = run_lines(catalog, ["Welcome to kernel debugger output!", "Haiku revision: hrev57937",
                            "get_boot_partitions(): boot method type: 0",
                            "Mounted boot partition: /dev/disk/virtual/virtio_block/0/raw"])
    assert a.outcome == "unknown"
    assert not [f for f in a.findings("all") if f.severity in ("error", "critical")]
    assert [m.name for m in a.boots[-1].milestones] == ["kernel", "root-mounted"]


def test_minix_stopping_while_rc_starts_its_services_is_a_stall(catalog):
    a = run_lines(catalog, ["MINIX 3.4.0. (GENERIC)", "Starting services: random lance"])
    assert a.outcome == "stall" and failure_or_stall(a).rule == "minix-rc-stopped-starting-services"
    assert "Starting services: random lance" in failure_or_stall(a).evidence[0].text
    old = run_lines(catalog, ["Multiuser startup in progress ...: floppy is"])
    assert old.outcome == "stall"
    going_on = run_lines(catalog, ["MINIX 3.4.0. (GENERIC)", "Starting services: random inet printer ipc.",
                                   "Starting daemons: update cron syslogd."])
    assert going_on.outcome == "unknown" and "boot.stall" not in categories(going_on, "all")
    up = run_lines(catalog, ["MINIX 3.4.0. (GENERIC)", "Starting services: random inet printer ipc.",
                             "Starting daemons: update cron syslogd.", "login: "])
    assert up.outcome == "success"


def test_serenity_without_a_boot_device_reports_the_root_before_the_panic(catalog):
    a = run_lines(catalog, SERENITY_NO_ROOT)
    assert a.outcome == "failure" and failure(a).rule == "serenity-no-boot-device"
    assert next(f for f in a.findings() if f.rule == "serenity-kernel-panic").suppressed_by == "serenity-no-boot-device"


@pytest.mark.parametrize("lines, rule", [
    (["[#0 Kernel]: Starting SerenityOS...", "CRASH: CPU #0 Page Fault in ring 0", "Crash in ring 0"],
     "serenity-kernel-panic"),
    # the CRASH line of a ring-0 exception alone, in both kernels' wordings (the panic after it cut off)
    (["[#0 Kernel]: Starting SerenityOS...", "[#0 Kernel]: CRASH: CPU #1 General protection fault in ring 0"],
     "serenity-kernel-panic"),
    (["CRASH: CPU #0 Page Fault. Ring 0."], "serenity-kernel-panic"),
    (["ASSERTION FAILED: !m_lock.is_locked()",
      "./Kernel/Memory/MemoryManager.cpp:712 in void Kernel::Memory::MemoryManager::unmap()"],
     "serenity-kernel-assertion"),
    (["panic {cpu0} ../vm/vm_page.c:1630: vm_page_alloc_pa: vm_page: no free pages"], "gnumach-kernel-panic"),
    (["MINIX 3.4.0. (GENERIC)", "kernel panic: pagefault in kernel", "kernel on CPU 0: 0xf0412345 0xf0401234"],
     "minix-kernel-panic"),
    (["", "ZIRCON KERNEL PANIC", "", "UPTIME: 4711ms",
      "panic (caller 0xffffffff00163f2a frame 0xffffff9783a57e40): crash_cmd: deliberate kernel panic"],
     "zircon-kernel-panic"),
])
def test_a_whole_kernels_panic_stops_the_boot(catalog, lines, rule):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure" and failure(a).rule == rule and failure(a).category == "kernel.panic"
    assert set(unsuppressed(a, "kernel.panic")) == {rule}


def test_a_serenity_user_programs_assertion_or_ring3_crash_is_no_kernel_panic(catalog):
    a = run_lines(catalog, ["ASSERTION FAILED: index < m_size", "./AK/Vector.h:183 in T& AK::Vector<T>::at(size_t)",
                            "CRASH: CPU #0 Illegal instruction in ring 3", "CRASH: CPU #1 Divide error. Ring 3."])
    assert "kernel.panic" not in categories(a, "all")


def test_gnumach_panic_names_file_and_function_and_a_go_panic_is_not_one(catalog):
    a = run_lines(catalog, ["panic ../i386/i386at/model_dep.c:401: c_boot_entry: no kernel arguments"])
    f = failure(a)
    assert f.fields["function"] == "c_boot_entry" and f.fields["reason"] == "no kernel arguments"
    assert "c_boot_entry" in f.remediation
    go = run_lines(catalog, ["panic: runtime error: index out of range [3] with length 3"])
    assert "gnumach-kernel-panic" not in {f.rule for f in go.findings("all")}


def test_hurd_bootstrap_is_userland_starting(catalog):
    a = run_lines(catalog, ["Hurd server bootstrap: ext2fs[hd0s1] exec startup proc auth."])
    assert [m.name for m in a.boots[-1].milestones] == ["init"]
    assert not [f for f in a.findings("all") if f.severity in ("error", "critical")]


def test_a_minix_server_panic_is_a_failed_unit_unless_the_boot_goes_on(catalog):
    lines = ["MINIX 3.4.0. (GENERIC)", "vfs(1): panic: unable to mount root file system: -5",
             "syslib:panic.c: stacktrace: 0x80a1b2c 0x8049f00"]
    a = run_lines(catalog, lines)
    assert a.outcome == "failure" and failure(a).rule == "minix-server-panic"
    assert failure(a).fields["server"] == "vfs" and failure(a).category == "init.unit-failed"
    up = run_lines(catalog, lines + ["login: "])
    assert up.outcome == "success"


def test_zircon_userboot_without_bootfs_is_a_missing_root(catalog):
    a = run_lines(catalog, ["[0.000][klog][klog][I] welcome to Zircon",
                            "userboot: no '/boot' bootfs in bootstrap message"])
    assert a.outcome == "failure" and failure(a).category == "disk.root-not-found"


def test_zircon_oops_is_reported_and_a_healthy_start_says_nothing(catalog):
    lines = ["[0.000][klog][klog][I] welcome to Zircon",
             "[00002.668] 01032:01039> ZIRCON KERNEL OOPS",
             "[00002.668] 01032:01039> Reason: Out Of Order"]
    a = run_lines(catalog, lines)
    oops = [f for f in a.findings("all") if f.rule == "zircon-kernel-oops"]
    assert oops and oops[0].category == "kernel.oops" and "kernel.panic" not in categories(a, "all")
    healthy = run_lines(catalog, lines[:1])
    assert healthy.outcome == "unknown" and not healthy.findings("all")
    assert healthy.boots[-1].milestones[0].name == "kernel"


def test_a_genode_child_that_finishes_is_a_healthy_run_and_one_that_fails_is_not(catalog):
    ok = run_lines(catalog, GENODE_RUN + ['[init] child "test-log" exited with exit value 0'])
    assert ok.outcome == "success"
    assert not [f for f in ok.findings("all") if f.severity in ("error", "critical")]
    assert [m.name for m in ok.boots[-1].milestones] == ["kernel", "init", "ready"]
    bad = run_lines(catalog, GENODE_RUN + ['[init] child "test-log" exited with exit value 1'])
    assert bad.outcome == "failure" and failure(bad).rule == "genode-child-exit-error"
    assert failure(bad).fields["child"] == "test-log" and failure(bad).fields["value"] == "1"


@pytest.mark.parametrize("line, rule", [
    ('[init] Warning: test-fs: no route to service "File_system" (label="test-fs")', "genode-no-route-to-service"),
    ("[core] no RM attachment (READ pf_addr=0x0 pf_ip=0x10d3e4 from pager_object: pd='init -> test-segfault' "
     "thread='ep')", "genode-component-page-fault"),
    ("[00017.412] 01102:01104> <== fatal exception: process /boot/bin/sh[1102] thread initial-thread[1104]",
     "fuchsia-process-fatal-exception"),
    ("[init -> test-fs] Error: Uncaught exception of type 'Genode::Out_of_ram'", "genode-component-aborted"),
    ("[init -> test-exception] Warning: C++ runtime: terminate called after throwing an instance of '",
     "genode-component-aborted"),
    ("[init -> test-exception] abort called - thread: 'main'", "genode-component-aborted"),
])
def test_a_component_failing_is_a_failed_unit_that_a_later_ready_line_demotes(catalog, line, rule):
    a = run_lines(catalog, GENODE_RUN + [line])
    assert a.outcome == "failure" and failure(a).rule == rule and failure(a).category == "init.unit-failed"
    later = run_lines(catalog, GENODE_RUN + [line, '[init] child "test-log" exited with exit value 0'])
    assert later.outcome == "success"
    assert all(f.verdict == "none" for f in later.findings() if f.rule == rule)


def test_a_genode_abort_names_the_exception_and_other_cxx_runtime_words_are_not_one(catalog):
    a = run_lines(catalog, GENODE_RUN + ["[init -> test-fs] Error: Uncaught exception of type 'Genode::Out_of_ram'",
                                         "[init -> test-fs] Warning: abort called - thread: ep",
                                         '[init] child "timer" announces service "Timer"'])
    assert a.outcome == "failure" and failure(a).fields["exception"] == "Genode::Out_of_ram"
    assert "Genode::Out_of_ram" in failure(a).remediation
    other = run_lines(catalog, ["C++ runtime: libstdc++ 13 is required",
                                "[init -> test-exception] Warning: stderr - not yet implemented"])
    assert "init.unit-failed" not in categories(other, "all")


def test_a_genode_banner_again_is_a_new_boot(catalog):
    a = run_lines(catalog, GENODE_RUN + ["Genode 17.11-95-gf44edd4", "4039 MiB RAM and 63253 caps assigned to init"])
    assert len(a.boots) == 2


def test_hostile_bytes_in_these_kernels_lines_stay_inert(catalog):
    lines = [b"PANIC: \x1b]0;evil\x07did not find any boot partitions!\xff" + b"A" * 70000,
             b"Welcome to Kernel Debugging Land...\x1b[2J\x00",
             b"kdebug> \x1b[31m" + b"B" * 70000,
             b'[init] child "\x1b[5mevil\xff" exited with exit value 7' + b"C" * 70000,
             b"panic {cpu0} a.c:1: f\x1b: \x00" + b"D" * 70000,
             b"vfs(1): panic: \x1b]8;;http://x\x07" + b"\xff" * 5000,
             b"Genode \x1b[1m17.11" + b"E" * 70000,
             b"[init -> x] Error: Uncaught exception of type '\x1b]0;t\x07" + b"F" * 70000 + b"'",
             b"[init -> x] Warning: C++ runtime: \x1b[2J\xff" + b"G" * 70000,
             b"CRASH: CPU #0 \x1b[31m\x00" + b"H" * 70000 + b" in ring 0",
             b"Haiku revision: hrev\x1b[1m1\xff" + b"I" * 70000,
             b"Starting services: random \x1b]8;;http://x\x07" + b"J" * 70000]
    a = run_lines(catalog, lines)
    assert a.findings("all")
    assert_quoted_safely(a)
