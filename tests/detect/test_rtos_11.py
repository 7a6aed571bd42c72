"""Healthy runs and crashes of real-time and embedded OSes (parsers/detectors/rtos-11.yaml,
parsers/formats/rtos.yaml): Zephyr, NuttX, Tock, RTEMS and RIOT under QEMU or on boards.
Lines are the rules' real samples (board documentation, tutorials and notes that quote their
consoles, cited there by search-index file id) or the sources' own format strings (marked
synthetic in the rules' samples)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories, failure

ZEPHYR_BANNER = "*** Booting Zephyr OS build v3.7.0 ***"                      # file 62340026566
# file 61788660807: a Zephyr board crashing after it had been publishing
ZEPHYR_CRASH = [
    "[00:00:20.128,000] <err> os: ***** USAGE FAULT *****",
    "[00:00:20.128,000] <err> os:   Illegal use of the EPSR",
    "[00:00:20.128,000] <err> os: Faulting instruction address (r15/pc): 0x00000000",
    "[00:00:20.129,000] <err> os: >>> ZEPHYR FATAL ERROR 35: Unknown error on CPU 0",
    "[00:00:20.130,000] <err> os: Current thread: 0x2040c5a0 (idle)",
    "[00:00:20.130,000] <err> os: Halting system",
]
# file 24859076100: a ztest run that provokes the fault on purpose
ZTEST_DELIBERATE = [
    "START - test_arm_esf_collection",
    "E: ***** USAGE FAULT *****",
    "E: Faulting instruction address (r15/pc): 0x0800a4b2",
    "E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0",
    "E: Current thread: 0x20000020 (unknown)",
    "Caught system error -- reason 0",
    " PASS - test_arm_esf_collection in 0.038 seconds",
]
NSH = ["SeaBIOS (version 1.16.3-debian-1.16.3-2)", "Booting from ROM..",
       "NuttShell (NSH) NuttX-12.13.0", "nsh>"]                                # file 52826625490
NUTTX_FAULT = ["up_hardfault: PANIC!!! Hard fault: 40000000",                 # file 27361141213
               "up_assert: Assertion failed at file:armv7-m/up_hardfault.c line: 148 task: init"]
TOCK_UP = ["Initialization complete. Entering main loop", "tock$"]            # file 28399173275
TOCK_PANIC = ["Kernel panic at /home/brghena/Dropbox/repos/signpost/software/kernel/tock/kernel/src/process.rs:283:",
              '\t"Process fault_test had a fault"', "", "---| App Status |---"]   # file 29226085887
RTEMS_TICKER = ["*** END OF TEST CLOCK TICK ***", "", "", "[ RTEMS shutdown ]",
                "RTEMS version: 6.0.0.bc8e39f8ac4bebd97388522e38978b7382dc74a7"]   # file 34900010552
RIOT_HELLO = ["2019-08-27 09:17:09,359 - INFO # main(): This is RIOT! (Version: 2019.10-devel-488-g1b1c9)",
              "2019-08-27 09:17:09,359 - INFO # Hello World!"]                # file 43817785941


@pytest.mark.parametrize("lines", [
    ["***** Booting Zephyr OS v1.14.0-rc1 *****", "Hello World! mimxrt1060_evk"],   # file 5700586
    [ZEPHYR_BANNER, "uart:~$ "],
    NSH,
    NSH[2:3],
    TOCK_UP,
    ["  QEMU MPS2 AN385 (Cortex-M3) initialization complete.", "  Entering main loop.", "  tock$ list"],  # 62100224772
    RTEMS_TICKER,
    ["*** BEGIN OF TEST HELLO WORLD ***", "Hello World", "*** END OF TEST HELLO WORLD ***", "[ RTEMS shutdown ]"],
    RIOT_HELLO,
])
def test_an_rtos_that_handed_over_to_its_application_or_shell_is_a_success(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome == "success" and categories(a) == {"boot.success"}


@pytest.mark.parametrize("lines", [
    [ZEPHYR_BANNER],                                         # the application never printed
    ["*** BEGIN OF TEST HELLO WORLD ***", "Hello World"],     # a test run cut before its end
    # a ztest run cut inside its suite (file 9691331808): its summary decides
    ["*** Booting Zephyr OS build zephyr-v3.2.0-747-gd421737f433e  ***", "Running TESTSUITE ibecc",
     "START - test_edac_dummy_api"],
    RIOT_HELLO[:1],
    # the application complaining at error level after the banner (file 62340026566)
    [ZEPHYR_BANNER, "<inf> cyclonedds: session_create: domain=29 entering", "<err> os: tid 0x581fa0 is in use!"],
])
def test_an_rtos_run_cut_before_its_application_or_test_end_is_no_success(catalog, lines):
    a = run_lines(catalog, lines)
    assert a.outcome != "success" and "boot.success" not in categories(a)


@pytest.mark.parametrize("lines, rule, category", [
    ([ZEPHYR_BANNER, "Publishing: 'Hello World: 40'"] + ZEPHYR_CRASH, "zephyr-fatal-error", "unikernel.crash"),
    # the ASSERTION FAIL wording of sys/__assert.h
    ([ZEPHYR_BANNER, "ASSERTION FAIL [dwork != ((void *)0)] @ WEST_TOPDIR/zephyr/kernel/work.c:990"],
     "zephyr-assertion-failed", "unikernel.crash"),
    # a Zephyr x86_64 image cut inside its exception dump (kernel/fatal.c's line not in view)
    ([ZEPHYR_BANNER, "Running TESTSUITE demo", "[00:00:00.010,000] <err> os: ** CPU Exception 14 (code 2/0x2) **"],
     "zephyr-cpu-fault-dump", "unikernel.crash"),
    # Zephyr 1.x's handler (search-index file 106488886's format strings)
    (["***** Booting Zephyr OS v1.14.0-rc1 *****", "Hello", "Fatal fault in ISR! Spinning..."],
     "zephyr-fatal-error", "unikernel.crash"),
    (NSH + ["nsh> hello"] + NUTTX_FAULT, "nuttx-assertion-failed", "unikernel.crash"),
    (NSH + ["dump_assert_info: Assertion failed panic: at file: common/riscv_exception.c:85 task: nsh_main "
            "process: nsh_main 0x8000004a"], "nuttx-assertion-failed", "unikernel.crash"),
    (TOCK_UP + TOCK_PANIC, "tock-kernel-panic", "kernel.panic"),
    (["*** BEGIN OF TEST HELLO WORLD ***", "*** FATAL ***", "fatal source: 9 (RTEMS_FATAL_SOURCE_EXCEPTION)"],
     "rtems-fatal-error", "unikernel.crash"),
    (["*** BEGIN OF TEST HELLO WORLD ***", "", "*** EXIT STATUS NOT ZERO ***"], "rtems-exit-nonzero", "unikernel.crash"),
    (RIOT_HELLO + ["*** RIOT kernel panic:", "MEM MANAGE HANDLER", "", "*** halted."], "riot-kernel-panic",
     "unikernel.crash"),
])
def test_an_rtos_crash_is_a_failure_even_after_its_shell_came_up(catalog, lines, rule, category):
    a = run_lines(catalog, lines)
    assert a.outcome == "failure" and failure(a).rule == rule and failure(a).category == category
    assert "boot.success" not in categories(a)


def test_a_fault_a_ztest_provokes_on_purpose_and_catches_is_no_crash(catalog):
    a = run_lines(catalog, [ZEPHYR_BANNER, "Running TESTSUITE arm_interrupt"] + ZTEST_DELIBERATE
                  + ["PROJECT EXECUTION SUCCESSFUL"])
    assert a.outcome == "success" and "unikernel.crash" not in categories(a, "all")


def test_a_zephyr_board_that_reset_after_its_crash_and_came_up_again_is_judged_by_the_new_boot(catalog):
    # file 13551347577: the MPU test's fault, then the banner again and the shell
    a = run_lines(catalog, [ZEPHYR_BANNER] + ZEPHYR_CRASH + ["*** Booting Zephyr OS build v3.5.0-rc2-230-ga80246d0863d ***",
                                                            "uart:~$ mpu w"])
    assert len(a.boots) == 2 and a.outcome == "success"
    assert "unikernel.crash" in categories(a, "all")


def test_the_zephyr_reason_and_tock_process_reach_the_remediation(catalog):
    z = run_lines(catalog, [ZEPHYR_BANNER, "E: >>> ZEPHYR FATAL ERROR 2: Stack overflow on CPU 0"])
    assert failure(z).fields["reason_text"] == "Stack overflow" and "Stack overflow" in failure(z).remediation
    t = run_lines(catalog, TOCK_PANIC)
    assert failure(t).rule == "tock-kernel-panic"


@pytest.mark.parametrize("line", [
    "*** END OF TEST ***",                                    # a test script's banner with no test named
    "Running TestSuite",                                      # Maven surefire
    "Assertion failed at WEST_TOPDIR/zephyr/tests/kernel/semaphore/semaphore/src/main.c:776: x",  # a ztest check
    "[    3.201112] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100",
])
def test_look_alikes_of_rtos_lines_are_not_rtos_crashes_or_successes(catalog, line):
    a = run_lines(catalog, [line])
    assert not {f.rule for f in a.findings("all")} & {
        "rtos-application-running", "zephyr-fatal-error", "nuttx-assertion-failed", "tock-kernel-panic",
        "rtems-fatal-error", "riot-kernel-panic"}
    assert a.outcome != "success"


def test_hostile_bytes_in_rtos_lines_stay_inert(catalog):
    lines = [b"*** Booting Zephyr OS build \x1b]0;evil\x07v3.7.0 ***",
             b"E: >>> ZEPHYR FATAL ERROR 0: \x1b[2J\xff\x00" + b"A" * 70000,
             b"up_assert: Assertion failed at file:\x1b[31m\x00\xff" + b"B" * 70000 + b" line: 1 task: init",
             b"Kernel panic at " + b"\x1b" * 5000 + b":1:",
             b"*** RIOT kernel panic: \x9b\x1b]52;c;ZXZpbA==\x07"]
    a = run_lines(catalog, lines)
    assert a.outcome == "failure"
    assert_quoted_safely(a)
