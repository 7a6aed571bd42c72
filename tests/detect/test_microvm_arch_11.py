"""Linux on other architectures and as the guest of container sandboxes and microVMs
(parsers/detectors/microvm-arch-11.yaml, kernel.yaml's kernel-oops and kernel-oops-tail,
parsers/formats/talos.yaml): die()'s first line on s390, powerpc, riscv and loongarch is an
oops, the fault line before it stands in when a view lost die()'s line, a panic_on_oops after
it is explained by the oops; Talos stopping on a fatal sequencer error fails the boot and its
reboot countdown begins the next one; Talos waiting in maintenance mode is a stall; runsc's
FATAL ERROR fails the sandbox. Lines are built from the sources' format strings (marked
synthetic in the rules, search-index files cited there)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories

# linux arch/s390/mm/fault.c do_no_context() then arch/s390/kernel/dumpstack.c die()
S390_OOPS = [
    "[    1.734201] Unable to handle kernel pointer dereference in virtual kernel address space",
    "[    1.734210] Failing address: 0000000000000000 TEID: 0000000000000483",
    "[    1.734215] Oops: 0004 ilc:3 [#1] SMP ",
    "[    1.734240] Krnl PSW : 0704c00180000000 000000000012a3b4 (show_regs+0x4c/0x70)",
    "[    1.734300] Kernel panic - not syncing: Fatal exception: panic_on_oops",
]
# linux arch/powerpc/mm/fault.c __bad_page_fault() then arch/powerpc/kernel/traps.c __die()
PPC_OOPS = [
    "[    5.021754] BUG: Kernel NULL pointer dereference on read at 0x00000010",
    "[    5.021761] Faulting instruction address: 0xc0000000008a4f30",
    "[    5.021765] Oops: Kernel access of bad area, sig: 11 [#1]",
    "[    5.021770] LE PAGE_SIZE=64K MMU=Radix SMP NR_CPUS=2048 NUMA pSeries",
    "[    5.021900] NIP [c0000000008a4f30] of_find_property+0x30/0x90",
    "[    5.021905] LR [c0000000008a4ee0] of_get_property+0x20/0x40",
]
# linux arch/riscv/mm/fault.c die_kernel_fault() then arch/riscv/kernel/traps.c die()
RISCV_OOPS = [
    "[    1.926300] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000",
    "[    1.926374] Oops [#1]",
    "[    1.926400] epc : virtnet_probe+0x2a/0x6c4",
    "[    1.926405]  ra : virtio_dev_probe+0x158/0x2b6",
]
# linux arch/loongarch/mm/fault.c no_context() then arch/loongarch/kernel/traps.c die()
LOONGARCH_OOPS = [
    "[    1.840562] CPU 0 Unable to handle kernel paging request at virtual address ffff800000002064, era == 9000000002cd2a28, ra == 9000000002cd2a10",
    "[    1.840600] Oops[#1]:",
]


def oopses(a) -> list[str]:
    return [f.rule for f in a.findings() if f.category == "kernel.oops" and f.suppressed_by is None]


@pytest.mark.parametrize("lines", [S390_OOPS[:4], PPC_OOPS, RISCV_OOPS, LOONGARCH_OOPS],
                         ids=["s390", "powerpc", "riscv", "loongarch"])
def test_an_oops_on_another_architecture_is_a_kernel_oops(catalog, lines):
    a = run_lines(catalog, lines)
    assert set(oopses(a)) == {"kernel-oops"}
    assert a.outcome == "failure"


def test_an_s390_panic_on_oops_is_explained_by_the_oops(catalog):
    a = run_lines(catalog, S390_OOPS)
    assert a.outcome == "failure" and "kernel.oops" in categories(a)
    panic = next(f for f in a.findings() if f.rule == "kernel-panic")
    assert panic.suppressed_by is not None


@pytest.mark.parametrize("lines", [PPC_OOPS[:1], S390_OOPS[:2], LOONGARCH_OOPS[:1], PPC_OOPS[1:2]],
                         ids=["powerpc-bug", "s390-fault", "loongarch-fault", "powerpc-nip-line"])
def test_a_view_that_lost_dies_line_still_shows_the_oops(catalog, lines):
    a = run_lines(catalog, lines)
    assert "kernel.oops" in categories(a)


def test_the_fault_line_is_not_a_second_oops_when_dies_line_is_shown(catalog):
    a = run_lines(catalog, PPC_OOPS)
    assert "kernel-fault-other-arch" not in oopses(a)


@pytest.mark.parametrize("lines", [
    # show_registers() lines that a WARN prints too (s390 dumpstack.c, powerpc, riscv show_regs)
    ["[    3.100010] Krnl PSW : 0704c00180000000 000000000012a3b4 (foo+0x10/0x20)",
     "[    3.100011]            R:0 T:1 IO:1 EX:1 Key:0 M:1 W:0 P:0 AS:3 CC:0 PM:0 RI:0 EA:3"],
    ["[    3.100010] NIP [c0000000008a4f30] of_find_property+0x30/0x90",
     "[    3.100012] LR [c0000000008a4ee0] of_get_property+0x20/0x40"],
    ["[    3.100010] epc : foo+0x10/0x20", "[    3.100012]  ra : bar+0x20/0x30"],
    # a user program's fault on s390 (report_user_fault)
    ["User process fault: interruption code 0x10 in libc.so.6[3ff9a800000+1c0000]"],
])
def test_register_dumps_and_user_faults_are_no_oops(catalog, lines):
    assert "kernel.oops" not in categories(run_lines(catalog, lines))


# siderolabs/talos internal/app/machined/main.go handle(): the error, then the countdown
TALOS_FATAL = [
    "[   30.900000] [talos] phase mountSystem (3/12): failed",
    '[   31.117311] [talos] fatal sequencer error in "boot" sequence: task 1/1: failed, error mounting partitions',
    "[   31.117503] [talos] rebooting in 10 seconds",
    "[   32.117600] [talos] rebooting in 9 seconds",
]


def test_talos_stopping_on_a_fatal_sequencer_error_fails_the_boot(catalog):
    a = run_lines(catalog, TALOS_FATAL)
    assert a.outcome == "failure" and "cloudinit.error" in categories(a, "all")


def test_talos_rebooting_after_its_countdown_begins_the_next_boot(catalog):
    a = run_lines(catalog, TALOS_FATAL + ["[    0.000000] Linux version 6.6.33-talos (@buildkitsandbox) #1 SMP",
                                          "[    0.000000] Command line: talos.platform=metal console=ttyS0"])
    assert len(a.boots) == 2
    assert a.boots[0].outcome == "failure"


def test_talos_waiting_in_maintenance_mode_is_a_stall(catalog):
    a = run_lines(catalog, [
        '[    9.851478] [talos] entering maintenance service {"component": "controller-runtime", "controller": "config.AcquireController"}',
        '[    9.854129] [talos] this machine is reachable at: {"component": "controller-runtime", "controller": "runtime.MaintenanceServiceController"}',
        '[    9.855517] [talos]  10.22.27.56 {"component": "controller-runtime", "controller": "runtime.MaintenanceServiceController"}',
    ])
    assert a.outcome == "stall"
    assert any(f.rule == "talos-maintenance-waiting" for f in a.findings())


def test_talos_configured_in_maintenance_mode_and_booting_on_is_healthy(catalog):
    a = run_lines(catalog, [
        '[    9.851478] [talos] entering maintenance service {"component": "controller-runtime", "controller": "config.AcquireController"}',
        "[   40.100000] [talos] phase config (6/6): done, 1.2s",
        "[  102.315792] [talos] boot sequence: done: 1m7.749942979s",
    ])
    assert a.outcome == "success" and "cloudinit.error" not in categories(a, "all")


def test_runsc_fatal_error_fails_the_sandbox_and_names_the_error(catalog):
    a = run_lines(catalog, ["W1207 10:10:25.123456   12345 util.go:64] FATAL ERROR: <error>"])
    f = next(f for f in a.findings() if f.rule == "gvisor-runsc-fatal-error")
    assert f.category == "init.unit-failed" and f.fields["error"] == "<error>"


@pytest.mark.parametrize("lines", [
    # gVisor's quick-start docs: dmesg in a healthy runsc container (search-index file id 361169880)
    ["[    0.000000] Starting gVisor...", "[    0.354495] Daemonizing children...",
     "[    2.613217] Ready!"],
    ["FATAL ERROR: something in another program"],
])
def test_healthy_gvisor_and_other_programs_fatal_errors_are_not_runsc_failing(catalog, lines):
    a = run_lines(catalog, lines)
    assert not [f for f in a.findings() if f.rule == "gvisor-runsc-fatal-error"]


def test_firecracker_panicking_fails_the_boot_and_names_the_panic(catalog):
    # firepy's tests quote Firecracker's stderr (search-index file id 14684308256)
    a = run_lines(catalog, ["2021-07-05T22:52:12.904223200 [anonymous-instance:main:ERROR:src/firecracker/"
                            "src/main.rs:87] Firecracker panicked at 'Error creating the Kvm object: "
                            "Error(13)', src/vmm/src/vstate/system.rs:53:30"])
    f = next(f for f in a.findings() if f.rule == "firecracker-vmm-panicked")
    assert a.outcome == "failure" and "Kvm object" in f.remediation


def test_firecracker_refusing_its_arguments_is_no_panic(catalog):
    a = run_lines(catalog, ["2021-07-06T16:08:16.354918093 [anonymous-instance:main:ERROR:src/firecracker/"
                            "src/main.rs:183] Arguments parsing error: Found argument 'foo' which wasn't expected"])
    assert not [f for f in a.findings() if f.rule == "firecracker-vmm-panicked"]


def test_cloud_hypervisor_firmware_with_nothing_to_boot_is_a_boot_loader_failure(catalog):
    # cloud-hypervisor/rust-hypervisor-firmware src/main.rs (search-index file id 18434687095)
    a = run_lines(catalog, ["Starting..", "Failed to find EFI partition",
                            "PANIC: panicked at src/main.rs:180:5:", "Unable to boot from any virtio-blk device"])
    assert a.outcome == "failure" and "boot.bootloader-error" in categories(a)


@pytest.mark.parametrize("lines", [
    # linux arch/s390/boot/als.c facility_mismatch() (search-index file id 420773190)
    ["The Linux kernel requires more recent processor hardware", "Detected machine-type number: 2964",
     "Missing facilities: 58,129", "See Principles of Operations for facility bits"],
    # linux arch/x86/boot/cpu.c validate_cpu() (search-index file id 61604186092)
    ["This kernel requires the following features not present on the CPU:", "la57"],
])
def test_a_kernel_refusing_an_older_virtual_cpu_fails_the_boot(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure"
    assert next(f for f in a.findings() if f.verdict == "failure").rule == "kernel-cpu-features-missing"


def test_hostile_bytes_in_these_lines_stay_inert(catalog):
    lines = [b"BUG: Kernel NULL pointer dereference on read at 0x\x1b[31m0010\x00" + b"A" * 70000,
             b"Oops: \x1b]0;evil\x07 bad area, sig: 11 [#1]\xff",
             b"Oops: 0004 ilc:3 [#1] \x1b[2J" + b"B" * 70000,
             b'[talos] fatal sequencer error in "boot" sequence: \x1b[5m\x00\xff' + b"C" * 70000,
             b"W1207 10:10:25.123456   1 util.go:64] FATAL ERROR: \x1b]52;c;ZXZpbA==\x07" + b"D" * 70000,
             b"CPU 0 Unable to handle kernel paging request at virtual address \xff\xfe, era == 1"]
    a = run_lines(catalog, lines)
    assert a.findings("all")
    assert_quoted_safely(a)


# --- widened after round 11's study cases (rules-microvm2-11); lines from the sources' format strings ---

@pytest.mark.parametrize("lines", [
    # linux arch/s390/boot/pgm_check_info.c print_pgm_check_info() (search-index file id 73464010)
    ["Linux version 6.8.0 (builder@host) #1 SMP", "Kernel fault: interruption code 0005 ilc:2",
     "PSW : 0000200180000000 00000000000177b0 (startup_kernel+0x10/0x40)"],
    # the same line glued to a version line that lost its newline
    ["SMP Tue Mar 5 10:00:00 UTC 2024Kernel fault: interruption code 0004 ilc:3"],
])
def test_an_s390_kernel_faulting_in_its_early_code_fails_the_boot(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure"
    f = next(f for f in a.findings() if f.rule == "s390-early-kernel-fault")
    assert f.category == "kernel.panic" and f.fields["code"] in {"0005", "0004"}


@pytest.mark.parametrize("lines", [
    # aik/SLOF slof/fs/exception.fs .hw-exception and .fixed-regs (search-index file id 35007385187)
    ["Booting from memory...", "( 700 ) Program Exception [ 2000 ]",
     "    R0 .. R7           R8 .. R15         R16 .. R23         R24 .. R31"],
    ["( 300 ) Data Storage Exception [ 40000000 ]"],
    ["( 400 ) Intruction Storage Exception [ 0 ]"],          # SLOF's own spelling
    [" Exception [ -3 ] triggered by boot firmware."],
    # slof/fs/boot.fs do-load and (boot-exception-handler) (search-index file id 7023928064)
    ["Trying to load:  from: /vdevice/v-scsi@71000003/disk@8000000000000000 ... ",
     "E3405: No such device", "E3407: Load failed"],
    ["E3401: Aborting boot,  No boot device!"],
    # qemu pc-bios/s390-ccw main.c and IPL_assert (search-index file ids 317592669, 315257140)
    ["! No virtio device found !"],
    ["! No valid IPL device detected !"],
    ["Failed to load OS from hard disk"],
    # the first and a later main.c (search-index file ids 1127510535, 107742827)
    ["No virtio-blk device found!"],
    ["LOADPARM=[        ]", "Could not find a suitable boot device (none specified)"],
], ids=["slof-700", "slof-300", "slof-400", "slof-sw", "slof-e3407", "slof-e3401",
        "s390ccw-no-virtio", "s390ccw-no-ipl", "s390ccw-load", "s390ccw-2013", "s390ccw-none-specified"])
def test_pseries_and_s390_firmware_failing_to_boot_is_a_boot_loader_failure(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure"
    assert "boot.bootloader-error" in categories(a)
    assert not {"boot.stall", "console.silent"} & categories(a)


@pytest.mark.parametrize("lines", [
    # one device of SLOF's boot list missing: SLOF tries the next (exception.fs -68)
    ["E3405: No such device"],
    ["W3411: Client application returned."],
    ["    CR / XER           LR / CTR          SRR0 / SRR1        DAR / DSISR"],
    # IPL_check's warning form (s390-ccw.h)
    ["! WARNING: Unknown boot record type !"],
    ["User process fault: interruption code 0x10 in libc.so.6[3ff9a800000+1c0000]"],
])
def test_firmware_warnings_and_single_devices_are_no_boot_failure(catalog, lines):
    a = run_lines(catalog, lines)
    assert not {"boot.bootloader-error", "kernel.panic"} & categories(a, "all")


def test_an_s390_boot_device_that_failed_before_one_that_booted_is_moot(catalog):
    a = run_lines(catalog, ["! Boot device not found", " !",
                            "[    0.000000] Linux version 6.8.0 (builder@host) #1 SMP"])
    assert not [f for f in a.findings() if f.rule == "s390-ccw-bios-no-ipl-device" and f.suppressed_by is None]


@pytest.mark.parametrize("line", [
    # linux arch/s390/kernel/traps.c die() before 3.8 (search-index file id 84307684)
    "addressing exception: 0005 [#1] SMP ",
    # linux arch/mips/kernel/traps.c die_if_kernel() words (search-index file id 66221758958)
    "[    3.120551] Kernel bug detected[#1]:",
    "Reserved instruction in kernel code[#1]:",
])
def test_die_lines_of_older_s390_and_mips_loongarch_are_oopses(catalog, line):
    assert "kernel-oops" in oopses(run_lines(catalog, [line]))


def test_hostile_bytes_in_firmware_lines_stay_inert(catalog):
    lines = [b"( 700 ) Program Exception [ \x1b[31m2000 ]\x00" + b"A" * 70000,
             b"E3407: Load failed \x1b]0;evil\x07\xff" + b"B" * 70000,
             b"Kernel fault: interruption code 0005 ilc:2\x1b[2J\x9b" + b"C" * 70000,
             b"! No virtio device found !\x1b]52;c;ZXZpbA==\x07",
             b"[talos] task mountState (1/1): failed: \x1b[31m\x00\xff" + b"D" * 70000]
    a = run_lines(catalog, lines)
    assert a.findings("all")
    assert_quoted_safely(a)


# siderolabs/talos v1alpha1_controller.go runTask() (search-index file ids 18270514768, 12308511688)
TALOS_TASK_FAILED = "[   12.410522] [talos] task mountStatePartition (1/1): failed: <error>"


def test_a_talos_task_failing_alone_in_a_partial_view_fails_the_boot(catalog):
    a = run_lines(catalog, ["[   12.300100] [talos] task mountStatePartition (1/1): starting", TALOS_TASK_FAILED])
    f = next(f for f in a.findings() if f.rule == "talos-task-failed")
    assert a.outcome == "failure" and f.category == "cloudinit.error" and f.fields["task"] == "mountStatePartition"


def test_a_talos_task_failing_before_its_sequence_is_one_event(catalog):
    a = run_lines(catalog, [TALOS_TASK_FAILED, "[   12.410600] [talos] phase mountState (5/12): failed",
                            "[   12.410700] [talos] boot sequence: failed"])
    live = [f.rule for f in a.findings() if f.category == "cloudinit.error" and f.suppressed_by is None]
    assert a.outcome == "failure" and "talos-task-failed" not in live and live


def test_a_talos_task_done_is_no_failure(catalog):
    a = run_lines(catalog, ["[talos] task mountStatePartition (1/1): done, 110.42ms"])
    assert "cloudinit.error" not in categories(a, "all")
