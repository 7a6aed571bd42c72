"""Unikernels of round 15 (parsers/detectors/unikernel-runtimes-15.yaml, the widened nanos-fault and
unikernel-application-fatal): Nanos's frame trace, OSv's kernel aborts, the out-of-memory stops of
unikernel kernels and of the runtimes inside them, and a start-up script whose shell cannot fork.
Each stops the unikernel (a failure); the look-alikes of Linux and of running systems stay quiet.
Lines are the rules' real samples (the threads cited there) or the sources' format strings (marked
synthetic in the rules)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories


def rules(a) -> set[str]:
    return {f.rule for f in a.findings()}


# https://github.com/nanovms/nanos/issues/1933
NANOS_TRACE = ["frame trace: ",
               "ffffc00000a47b98:   ffffffff800461ee\t(mutex_lock + 000000000000000e/000000000000003f)",
               "ffffc00000a47ba8:   ffffffff80097983\t(filesystem_storage_write + 0000000000000073/0000000000000132)"]


def test_a_nanos_frame_trace_cut_before_its_reason_fails_the_run(catalog):
    a = run_lines(catalog, ["en1: assigned 10.0.2.15", *NANOS_TRACE])
    assert a.outcome == "failure" and "nanos-frame-trace" in rules(a)
    assert "unikernel.crash" in categories(a)
    # a frame alone (its header not in view) is no trace
    assert "nanos-frame-trace" not in rules(run_lines(catalog, NANOS_TRACE[1:]))


def test_the_assertion_after_a_nanos_frame_trace_speaks_for_it(catalog):
    # https://github.com/nanovms/nanos/issues/1963's assertion line after the trace of issue 1933
    a = run_lines(catalog, [*NANOS_TRACE, "assertion w->retval++ < (w->poll_fds->length / sizeof(struct pollfd)) "
                            "failed at /nanos/src/unix/poll.c:939 (IP 0xffffffff800c0c63)  in poll_notify(); halt"])
    assert a.outcome == "failure" and "nanos-assertion-halt" in rules(a)
    assert "nanos-frame-trace" not in rules(a)   # a fallback: the fuller rule said it


def test_osv_aborting_in_its_kernel_fails_the_run_after_boot(catalog):
    # OSv's arch-cpu.cc abort("exception nested too deeply") after its boot lines (osv format samples)
    a = run_lines(catalog, ["OSv v0.57.0", "eth0: 192.168.122.15", "Booted up in 152.57 ms", "Cmdline: /hello.so",
                            "exception nested too deeply", "", "[backtrace]"])
    assert a.outcome == "failure" and "osv-kernel-abort" in rules(a)
    assert "osv-backtrace" not in rules(a)
    # core/mempool.cc's abort for an allocation larger than memory: a crash, no machine out of memory
    b = run_lines(catalog, ["Unreasonable allocation attempt, larger than memory. Aborting.", "[backtrace]"])
    assert "osv-kernel-abort" in rules(b) and "kernel.oom" not in categories(b)


def test_linux_general_protection_faults_are_not_osv_aborts(catalog):
    a = run_lines(catalog, ["[    2.415394] general protection fault, probably for non-canonical address "
                            "0xdead000000000000: 0000 [#1] PREEMPT SMP NOPTI"])
    assert "osv-kernel-abort" not in rules(a)


def test_unikernel_kernels_out_of_memory_are_oom(catalog):
    # Nanos's mem_alloc and OSv's oom() format strings
    for line in ("mem_alloc error: Out of memory: cannot allocate 2097152 bytes",
                 "Out of memory: could not reclaim any further. Current memory: 10236 Kb"):
        a = run_lines(catalog, [line])
        assert a.outcome == "failure" and "unikernel-kernel-out-of-memory" in rules(a), line
        assert "kernel.oom" in categories(a)


def test_a_mirage_unikernel_out_of_memory_is_oom_and_its_exit_a_crash(catalog):
    # https://github.com/mirage/mirage-dev/pull/69
    a = run_lines(catalog, ["[192.168.33.1:54955] TLS ok", "Cannot handle page request order 8!",
                            "Fatal error: out of memory.", "Mirage exiting with status 2", "Do_exit called!"])
    assert a.outcome == "failure"
    assert {"unikernel-kernel-out-of-memory", "ocaml-runtime-out-of-memory"} <= rules(a)
    assert {"kernel.oom", "unikernel.crash"} <= categories(a)
    # the firewall shedding load under memory pressure runs on
    # (https://github.com/mirage/qubes-mirage-firewall/issues/120)
    low = run_lines(catalog, ["2020-10-27 09:01:04 -00:00: WRN [firewall] Memory low - dropping packet and "
                              "resetting NAT table"])
    assert "kernel.oom" not in categories(low)


def test_a_go_or_rust_program_out_of_memory_in_a_unikernel(catalog):
    a = run_lines(catalog, ["OSv v0.57.0", "runtime: out of memory: cannot allocate 4194304-byte block "
                            "(1073741824 in use)", "fatal error: out of memory"])
    assert a.outcome == "failure" and "unikernel-runtime-out-of-memory" in rules(a)
    assert {"kernel.oom", "unikernel.crash"} <= categories(a)
    b = run_lines(catalog, ["[0][INFO ] Welcome to Hermit 0.6.7", "memory allocation of 1073741824 bytes failed"])
    assert "unikernel-runtime-out-of-memory" in rules(b)
    # with no unikernel banner before it, a Linux program's message is not a unikernel's
    assert "unikernel-runtime-out-of-memory" not in rules(run_lines(catalog, ["fatal error: runtime: out of memory"]))


def test_a_start_script_that_cannot_fork_in_a_unikernel_fails_it(catalog):
    # bash's sys_error("fork") (jobs.c) after a Unikraft banner
    a = run_lines(catalog, ["Powered by Unikraft Calypso (0.17.0~ddc5bf7)",
                            "/usr/local/bin/start.sh: fork: Function not implemented",
                            "en1: Set IPv4 address 10.0.2.15 mask 255.255.255.0 gw 10.0.2.2"])
    assert a.outcome == "failure" and "unikernel-application-fatal" in rules(a)
    assert "unikraft-application-running" not in rules(a)
    # bash retrying a fork decides nothing
    retry = run_lines(catalog, ["Powered by Unikraft Calypso (0.17.0~ddc5bf7)",
                                "bash: fork: retry: Resource temporarily unavailable"])
    assert "unikernel-application-fatal" not in rules(retry)


def test_a_2019_nanos_unhandled_fault_fails_the_run(catalog):
    # Nanos 2019 src/unix/unix.c default_fault_handler's format strings
    a = run_lines(catalog, ["assigned: 10.0.2.15", "Unhandled: 000000000000000e"])
    assert a.outcome == "failure" and "nanos-fault" in rules(a)


def test_a_monitor_stopping_the_unikernel_on_a_guest_fault_fails_it(catalog):
    # Solo5 tenders/hvt/hvt_kvm_x86_64.c errx() format strings, after a Solo5 banner (solo5 format sample)
    a = run_lines(catalog, ["Solo5: Bindings version v0.4.1-208-g0f901b7",
                            "solo5-hvt: KVM: host/guest translation fault: rip=0x10a3c2"])
    assert a.outcome == "failure" and "unikernel-monitor-guest-fault" in rules(a)
    # the tender refusing to set the VM up is its own rule (solo5-tender-refused-image)
    refused = run_lines(catalog, ["solo5-hvt: KVM: ioctl (SET_SREGS) failed: Invalid argument"])
    assert "unikernel-monitor-guest-fault" not in rules(refused)


def test_a_zfs_root_pool_with_no_label_names_the_root_and_leaves_the_verdict_to_what_follows(catalog):
    # spa_import_rootpool's cmn_err (OpenZFS on FreeBSD, OSv's port) after an OSv banner
    a = run_lines(catalog, ["OSv v0.57.0", "Solaris: NOTICE: Cannot find the pool label for 'zroot'"])
    assert "zfs-root-pool-label-not-found" in rules(a)
    assert "disk.root-not-found" in categories(a) and a.outcome != "failure"
    # illumos: the panic after it decides (search-index file id 58094300043, illumos-root-mount-failed sample)
    b = run_lines(catalog, ["NOTICE: Cannot read the pool label from '/virtio_mmio@a003c00/vioblk@a003c00/blkdev@0,0:b'",
                            "NOTICE: spa_import_rootpool: error 5",
                            "Cannot mount root on /virtio_mmio@a003c00/vioblk@a003c00/blkdev@0,0:b fstype zfs", "",
                            "panic[cpu0]/thread=fffffffffe153000: vfs_mountroot: cannot mount root"])
    assert b.outcome == "failure" and "illumos-root-mount-failed" in rules(b)


PAD = b"A" * 70000

HOSTILE = [
    ("nanos-frame-trace", [b"frame trace: \x1b]0;evil\x07",
                           b"ffffc00000a47b98:   ffffffff800461ee\t(mutex_lock + 000000000000000e/000000000000003f)\x00\xff\x1b[2J"]),
    ("osv-kernel-abort", [b"OSv v0.57.0", b"exception nested too deeply \x1b[2J\x00\xff" + PAD]),
    ("unikernel-monitor-guest-fault", [b"Solo5: Bindings version v0.4.1-208-g0f901b7",
                                       b"solo5-hvt: KVM: host/guest translation fault: rip=0x10a3c2 \x1b]52;c;ZXZpbA==\x07\xff" + PAD]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_bytes_in_the_round_15_unikernel_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, lines)
    assert rule in rules(a)
    assert_quoted_safely(a)
