"""Healthy runs and crashes of guests that are not Linux (parsers/detectors/guests-11.yaml,
parsers/formats/sel4.yaml, parsers/formats/hermit-runtime.yaml): an seL4 root task, a Microkit
system or sel4test running after the kernel dropped to user space, and their faults; the Hermit
unikernel shutting down after its program, its network coming up, and its CPU exceptions.
Lines are the rules' real samples (the seL4 tutorials, a Microkit workshop's hello world,
seL4test notes) or the sources' own format strings (marked so in the rules' samples)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories, failure

# search-index file 37174888757: the Microkit hello world on QEMU (its LDR| region lines cut)
MICROKIT = [
    "LDR|INFO: altloader for seL4 starting",
    "LDR|INFO: enabling MMU",
    "LDR|INFO: jumping to kernel",
    "Bootstrapping kernel",
    "Warning: Could not infer GIC interrupt target ID, assuming 0.",
    "available phys memory regions: 1",
    "  [40000000..80000000]",
    "Booting all finished, dropped to user space",
    "MON|INFO: Microkit Bootstrap",
    "MON|INFO: bootinfo untyped list matches expected list",
    "MON|INFO: Number of bootstrap invocations: 0x00000009",
    "MON|INFO: Number of system invocations:    0x00000022",
    "MON|INFO: completed bootstrap invocations",
    "MON|INFO: completed system invocations",
]
# search-index file 13153940721: the seL4 tutorials' hello world
HELLO = ["Bootstrapping kernel", "Booting all finished, dropped to user space", "", "Hello, World!"]
# search-index file 9127858351: the capabilities tutorial before its exercise is done
CAPS_UNDONE = [
    "Booting all finished, dropped to user space",
    "Initial CNode is 65536 slots in size",
    "The CNode is 0 bytes in size",
    '<<seL4(CPU 0) [decodeInvocation/530 T0xffffff801ffb5400 "rootserver" @401397]: Attempted to invoke a null cap #4095.>>',
    "main@main.c:33 [Cond failed: error]",
    "    Failed to set priority",
]
USER_ERROR = CAPS_UNDONE[3]
HERMIT_END = ["Number of interrupts", "[0][Timer]: 3", "[0][INFO] Shutting down system"]


@pytest.mark.parametrize("lines", [MICROKIT + ["hello, world"], MICROKIT, HELLO])
def test_an_sel4_system_running_after_the_kernel_dropped_to_user_space_is_a_success(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "success" and categories(a) == {"boot.success"}


def test_the_kernels_notes_on_refused_invocations_are_user_space_at_work(catalog):
    a = run_lines(catalog, ["Booting all finished, dropped to user space", USER_ERROR, USER_ERROR,
                            "component init called"])
    assert a.outcome == "success" and not [f for f in a.findings("all") if f.severity in ("error", "critical")]


@pytest.mark.parametrize("lines", [
    HELLO[:2],                                                     # nothing from user space yet
    HELLO[:2] + ["Starting test suite sel4test", "Starting test 0: BIND0001"],   # a test run cut short
    HELLO[:2] + ["Starting test suite sel4test", "Test suite failed. 143/144 tests passed.",
                 "*** FAILURES DETECTED ***"],
    # a test suite's threads provoke the kernel's notes on purpose: they do not finish it
    HELLO[:2] + ["Starting test suite sel4test", "Starting test 0: CNODEOP0001",
                 USER_ERROR.replace('"rootserver"', '"sel4test-tests"'), "test output"],
    MICROKIT[:-1],                                                 # the monitor not done yet
])
def test_an_sel4_run_that_did_not_finish_or_failed_its_tests_is_no_success(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome != "success" and "boot.success" not in categories(a)


def test_sel4test_with_nothing_failed_is_a_success(catalog):
    # search-index file 49313583618
    a = run_lines(catalog, HELLO[:2] + ["Starting test suite sel4test",
                                        "Test suite passed. 114 tests passed. 49 tests disabled.",
                                        "All is well in the universe"])
    assert a.outcome == "success"


@pytest.mark.parametrize("lines, rule", [
    (CAPS_UNDONE, "sel4-root-task-fatal-check"),
    (HELLO[:2] + ["Caught cap fault in send phase at address 0x0", "while trying to handle:",
                  "vm fault on data at address 0x0 with status 0x92000006"], "sel4-thread-fault-unhandled"),
    (MICROKIT + ["MON|ERROR: received message 0x00000006  badge: 0x0000000000000001  tcb cap: 0x80000000000000c3",
                 "MON|ERROR: faulting PD: hello"], "microkit-pd-fault"),
    (HELLO[:2] + ["client: the next instruction will cause a vm fault due to permissions",
                  "FAULT HANDLER: data fault from client.client_0_control"], "camkes-component-fault"),
])
def test_a_thread_or_component_faulting_on_sel4_is_a_crash_even_after_the_system_came_up(catalog, lines, rule):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure" and failure(a).rule == rule
    assert failure(a).category == "unikernel.crash" and "boot.success" not in categories(a)


def test_the_pd_a_microkit_fault_names_reaches_the_remediation(catalog):
    a = run_lines(catalog, MICROKIT + ["MON|ERROR: faulting PD: serial_driver"])
    assert "serial_driver" in failure(a).remediation


def test_a_failed_sel4_kernel_assertion_is_a_kernel_panic(catalog):
    a = run_lines(catalog, ["Bootstrapping kernel",
                            "seL4 failed assertion 'sc_sporadic(sc)' at src/kernel/sporadic.c:345 in function refill_budget_check"])
    assert a.outcome == "failure" and failure(a).category == "kernel.panic"
    assert failure(a).fields["function"] == "refill_budget_check"


def test_the_microkit_loader_failing_is_a_boot_loader_error(catalog):
    a = run_lines(catalog, ["LDR|INFO: altloader for seL4 starting",
                            "LDR|ERROR: mismatch on loader data structure magic number"])
    assert a.outcome == "failure" and failure(a).category == "boot.bootloader-error"


def test_a_second_kernel_bootstrap_is_a_second_boot(catalog):
    a = run_lines(catalog, MICROKIT + ["hello, world"] + MICROKIT[:4])
    assert len(a.boots) == 2


@pytest.mark.parametrize("lines", [
    ["Hello, world!"] + HERMIT_END,
    ["[0][INFO] DHCP config acquired!", "[0][INFO] IP address:      10.0.5.3/24", "listening on 0.0.0.0:9975"],
    ["[0][\x1b[32mINFO\x1b[0m] Hermit is running on common system!", "Hello, world!"] + HERMIT_END,
])
def test_a_hermit_program_that_ended_or_serves_is_a_success(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "success" and categories(a) == {"boot.success"}


@pytest.mark.parametrize("first", [
    "[0][ERROR] General Protection (#GP) Exception: ExceptionStackFrame {",
    "[0][PANIC] panicked at src/arch/x86_64/mm/paging.rs:110:9:",
])
def test_a_hermit_crash_before_its_shutdown_is_no_success(catalog, first):
    a = run_lines(catalog, ["[0][INFO] Hermit is running on common system!", first] + HERMIT_END)
    assert a.outcome == "failure" and failure(a).category == "unikernel.crash"


def test_hostile_bytes_in_sel4_and_hermit_lines_stay_inert(catalog):
    lines = [b"Booting all finished, dropped to user space\x1b]0;evil\x07",
             b"<<seL4(CPU 0) [x/1 T0x1 \"\x1b[2J\xff\x00\"" + b"A" * 70000,
             b"MON|ERROR: faulting PD: \x1b[31mevil\x00\xff" + b"B" * 70000,
             b"[0][" + b"\x1b" * 5000 + b"] Shutting down system"]
    a = run_lines(catalog, lines)
    assert_quoted_safely(a)
    pd = [f for f in a.findings() if f.rule == "microkit-pd-fault"]
    assert pd and "\x1b" not in pd[0].fields["pd"]


def test_nanos_unable_to_resolve_the_applications_page_fault_is_a_crash(catalog):
    a = run_lines(catalog, ["en1: assigned 10.0.2.15", "unix_fault_page error: no vmap found for vaddr 0x7f2a10"])
    assert a.outcome == "failure" and failure(a).rule == "nanos-application-page-fault-unhandled"
    assert failure(a).fields["address"] == "0x7f2a10"


@pytest.mark.parametrize("report", [
    "Floating point exception (core dumped)",                 # dash 0.5.12
    "bash: line 1:  6903 Illegal instruction     ./sig 4",    # bash 5.2.15
])
def test_a_unikernel_process_the_shell_reports_killed_by_a_signal_is_a_crash(catalog, report):
    a = run_lines(catalog, ["Solo5: Bindings version v0.4.1-208-g0f901b7", "Solo5: Memory map: 512 MB addressable:",
                            "hello", report])
    assert a.outcome == "failure" and "boot.success" not in categories(a)
    assert any(f.rule == "unikernel-application-fatal" for f in a.findings())


def test_a_linux_program_killed_by_a_signal_is_no_unikernel_crash(catalog):
    a = run_lines(catalog, ["bash: line 1:  6905 Bus error               ./sig 7"])
    assert "unikernel.crash" not in categories(a, "all")


FREEBSD = ["Copyright (c) 1992-2023 The FreeBSD Project.", "Trying to mount root from ufs:/dev/vtbd0p2 [rw]...",
           "Starting sshd.", "Starting cron.", ""]


def test_freebsd_rc_ending_with_the_date_is_multi_user_even_before_the_login_prompt(catalog):
    a = run_lines(catalog, FREEBSD + ["Mon Dec  7 09:26:16 UTC 2026", ""])
    assert a.outcome == "success" and [f.rule for f in a.findings()] == ["freebsd-rc-finished"]
    # the getty's prompt after it says the same: one success finding, the ready line's
    b = run_lines(catalog, FREEBSD + ["Mon Dec  7 09:26:16 UTC 2026", "", "FreeBSD/amd64 (cw) (ttyu0)", "", "login: "])
    assert b.outcome == "success" and [f.rule for f in b.findings()] == ["boot-reached-ready"]


def test_a_date_line_without_a_freebsd_kernel_or_before_rc_ends_decides_nothing(catalog):
    assert run_lines(catalog, ["Mon Dec  7 09:26:16 UTC 2026"]).outcome == "unknown"
    assert run_lines(catalog, FREEBSD).outcome == "unknown"
