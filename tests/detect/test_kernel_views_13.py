"""Kernel views of round 13 (parsers/detectors/partial-views-13.yaml, kernel-health-13.yaml): a
call trace the view cuts off with neither its header nor its end in sight, and a reboot that hangs
in a lockup, an RCU stall or a hung task. Lines are built from the printing functions' format
strings (arch/x86/kernel/dumpstack.c, arch/arm64/kernel/stacktrace.c, kernel/reboot.c,
kernel/watchdog.c, kernel/rcu/tree_stall.h), as the rules' samples say, or are samples/ lines."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories


def rules(a) -> set[str]:
    return {f.rule for f in a.findings("all")}


CUT_TRACE = ["[ 9000.000001]  ? ip_reply_glue_bits+0x40/0x40",
             "[ 9000.000002]  udp_sendmsg+0x2ff/0x910",
             "[ 9000.000003]  __sys_sendmmsg+0xa1/0x1a0",
             "[ 9000.000004]  do_syscall_64+0x66/0x1d0",
             "[ 9000.000005]  entry_SYSCALL_64_after_hwframe+0x21/0x86"]


def test_a_trace_the_view_cuts_off_is_a_kernel_oops_warning_that_decides_nothing(catalog):
    a = run_lines(catalog, CUT_TRACE)
    f = next(f for f in a.findings("all") if f.rule == "kernel-call-trace-cut-off")
    assert f.category == "kernel.oops" and f.severity == "warning"
    assert f.fields.get("frame") == "entry_SYSCALL_64_after_hwframe"   # the latest frame quoted
    assert a.outcome == "unknown"


def test_an_interrupt_stack_marker_ends_a_cut_off_trace_too(catalog):
    a = run_lines(catalog, ["[  392.755193]  napi_gro_receive+0xb8/0xe0", "[  392.755195]  net_rx_action+0x139/0x3a0",
                            "[  392.755198]  __do_softirq+0xde/0x2b3", "[  392.755199]  irq_exit+0xae/0xb0",
                            "[  392.755200]  </IRQ>"])
    assert "kernel-call-trace-cut-off" in rules(a)


def test_a_trace_with_its_end_or_its_panic_or_the_boot_going_on_is_no_cut_off_trace(catalog):
    ended = run_lines(catalog, [*CUT_TRACE, "[ 9000.000006] ---[ end trace 0000000000000000 ]---"])
    assert "kernel-call-trace-cut-off" not in rules(ended) and "kernel-trace-fragment" in rules(ended)
    went_on = run_lines(catalog, [*CUT_TRACE, "[  OK  ] Started Journal Service."])
    assert "kernel-call-trace-cut-off" not in rules(went_on)
    panic = run_lines(catalog, ["[    1.000000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
                                "[    1.000001] Call Trace:", "[    1.000002]  kernel_init+0x11/0x120",
                                "[    1.000003]  ret_from_fork+0x22/0x30"])
    assert "kernel.panic" in categories(panic) and "kernel.oops" not in categories(panic)


def test_a_full_oops_keeps_its_own_finding_and_the_fragment_is_dropped(catalog):
    a = run_lines(catalog, ["[    2.216692] BUG: kernel NULL pointer dereference, address: 0000000000000008",
                            "[    2.216700] Oops: 0002 [#1] PREEMPT SMP NOPTI", "[    2.216800] Call Trace:",
                            *CUT_TRACE])
    assert "kernel.oops" in categories(a)
    assert "kernel-call-trace-cut-off" not in {f.rule for f in a.findings()}


def test_a_reboot_that_hangs_in_a_lockup_or_rcu_stall_is_a_stall(catalog):
    for second in ("[  419.997263] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [systemd-shutdow:1]",
                   "[  108.422889] rcu: INFO: rcu_sched self-detected stall on CPU",
                   "INFO: rcu_sched detected stalls on CPUs/tasks:"):
        a = run_lines(catalog, ["[   87.423510] reboot: Restarting system", second])
        assert "reboot-hangs-in-lockup" in rules(a), second
        assert "boot.stall" in categories(a) and a.outcome == "stall", second
    caller = run_lines(catalog, ["[  393.919814][    T1] reboot: Restarting system",
                                 "[  419.997263][    C0] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [systemd-shutdow:1]"])
    assert "reboot-hangs-in-lockup" in rules(caller)


def test_a_lockup_with_no_restart_before_it_or_a_reset_that_came_is_no_hung_reboot(catalog):
    alone = run_lines(catalog, ["[  120.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [kworker/0:1:42]"])
    assert "reboot-hangs-in-lockup" not in rules(alone)
    # samples/qemu-first-boot-reboot-then-ready/serial.log: the reset came
    reset = run_lines(catalog, ["[    3.484065] reboot: Restarting system", "[    3.484235] reboot: machine restart",
                                "SeaBIOS (version 1.16.2-debian-1.16.2-1)"])
    assert "reboot-hangs-in-lockup" not in rules(reset)


def test_printk_caller_ids_are_part_of_the_stamp_not_of_the_message(catalog):
    # CONFIG_PRINTK_CALLER's "[    T1]" after the time: ^-anchored kernel patterns still read the line
    a = run_lines(catalog, ["[  100.000000][    T1] ---[ end trace 0000000000000000 ]---"])
    assert "kernel-trace-fragment" in rules(a)   # its pattern is anchored at the message's start
    f = next(f for f in a.findings("all") if f.rule == "kernel-trace-fragment")
    assert f.evidence[0].text.startswith("[  100.000000][    T1] ")   # the line itself is quoted whole


HOSTILE = [
    ("kernel-call-trace-cut-off",
     [b"[ 9000.000004]  do_syscall_64+0x66/0x1d0", b"[ 9000.000005]  entry_SYSCALL_64_after_hwframe+0x21/0x86 \x1b]0;evil\x07\x00\xff"]),
    ("kernel-call-trace-cut-off",
     [b"[ 9000.000004]  \x1b[2Jnet_rx_action+0x139/0x3a0", b"[ 9000.000005]  irq_exit+0xae/0xb0", b"\x1b[31m" + b" " * 70000 + b"</IRQ>"]),
    ("reboot-hangs-in-lockup",
     [b"[   87.423510] reboot: Restarting system",
      b"[  108.422889] watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [\x1b]52;c;ZXZpbA==\x07evil\x00\xff" + b"A" * 70000 + b"]"]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[f"{c[0]}-{i}" for i, c in enumerate(HOSTILE)])
def test_hostile_bytes_in_the_round_13_kernel_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, lines)
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
