"""Init systems, units and kernel reports of round 18 (parsers/detectors/init-units-18.yaml,
kernel-reports-18.yaml and the widened systemd, kmod, oops and WARN rules): what a user sees for
each console, the healthy look-alikes that stay quiet, and hostile bytes next to the new words
quoted inertly. Lines are the rules' samples (format strings of the programs' sources)."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import KERNEL, assert_quoted_safely, by_category, categories


def rules(a) -> set[str]:
    return {f.rule for f in a.findings()}


def test_a_dropped_ordering_cycle_job_is_a_unit_warning_that_decides_nothing(catalog):
    a = run_lines(catalog, ["systemd[1]: sockets.target: Found ordering cycle on ssh.socket/start",
                            "systemd[1]: sockets.target: Job ssh.socket/start deleted to break ordering cycle "
                            "starting with sockets.target/start",
                            "[ SKIP ] Ordering cycle found, skipping OpenBSD Secure Shell server socket"])
    f = next(f for f in a.findings() if f.rule == "systemd-ordering-cycle-job-deleted")
    assert f.category == "init.unit-failed" and f.severity == "warning" and f.verdict == "none"
    assert f.fields["unit"] == "ssh.socket"
    # the cycle's description alone is no deletion
    assert "systemd-ordering-cycle-job-deleted" not in rules(
        run_lines(catalog, ["systemd[1]: sockets.target: Found dependency on sockets.target/start"]))


def test_a_unit_with_a_bad_setting_is_named(catalog):
    a = run_lines(catalog, ["systemd[1]: /etc/systemd/system/agent.service:6: WorkingDirectory= path is not absolute: ~/a",
                            "systemd[1]: agent.service: Unit configuration has fatal error, unit will not be started."])
    assert "systemd-unit-bad-setting" in rules(a)
    assert by_category(a)["init.unit-failed"][0].fields["unit"] == "agent.service"


def test_systemd_unable_to_spawn_a_units_task_names_the_unit(catalog):
    a = run_lines(catalog, ["systemd[1]: myapp.service: Failed to load environment files: No such file or directory",
                            "systemd[1]: myapp.service: Failed to spawn 'start' task: No such file or directory",
                            "systemd[1]: myapp.service: Failed with result 'resources'."])
    assert "systemd-unit-failed-older-wordings" in rules(a)
    assert "init.unit-failed" in categories(a)


def test_pid1_crashing_or_unable_to_queue_the_default_target_stops_the_boot(catalog):
    for line in ("[    2.311042] systemd[1]: Caught <SEGV> from our own process.",
                 "[    2.311042] systemd[1]: Failed to isolate default target: Unit data.mount not found."):
        a = run_lines(catalog, [KERNEL, line])
        assert a.outcome == "failure" and "systemd-pid1-frozen" in rules(a), line
    # the healthy queueing of the default target is no finding
    assert not run_lines(catalog, ["systemd[1]: Queued start job for default target Multi-User System."]).findings()


def test_sysvinit_crashing_in_pid1_fails_a_boot_that_goes_no_further(catalog):
    a = run_lines(catalog, ["INIT: version 2.88 booting", "INIT: Entering runlevel: 2",
                            "INIT: PANIC: segmentation violation! sleeping for 30 seconds."])
    assert a.outcome == "failure" and "sysvinit-init-crashed" in rules(a)
    b = run_lines(catalog, ['INIT: cannot execute "/etc/init.d/rcS"'])
    assert "sysvinit-cannot-execute" in rules(b) and b.outcome != "failure"
    assert not run_lines(catalog, ["panic: segmentation violation at 0x0"]).findings()


def test_openrc_failure_badge_but_not_its_ok_badge_nor_the_network(catalog):
    a = run_lines(catalog, [" * Mounting local filesystems ...                                 [ !! ]"])
    assert "openrc-step-failed-badge" in rules(a)
    assert by_category(a)["init.unit-failed"][0].fields["what"] == "Mounting local filesystems"
    for line in (" * Mounting local filesystems ...                                 [ ok ]",
                 " * Starting networking ... [ !! ]", "  [ !! ] Backend not responding"):
        assert "openrc-step-failed-badge" not in rules(run_lines(catalog, [line])), line


def test_s6_and_runit_fatal_errors(catalog):
    a = run_lines(catalog, ["s6-svscan: fatal: unable to chdir to /run/service: No such file or directory"])
    assert "s6-runit-init-fatal" in rules(a) and a.outcome == "failure"
    assert "s6-runit-init-fatal" not in rules(run_lines(catalog, ["- runit: warning: unable to open /etc/runit/stopit"]))


def test_upstart_jobs_that_fail_but_not_the_noisy_ones_nor_a_shutdown(catalog):
    for line in ("init: ssh main process (1234) terminated with status 255",
                 "init: mysql main process (812) killed by SEGV signal",
                 "init: Failed to spawn nginx main process: unable to execute: No such file or directory"):
        assert "upstart-job-process-failed" in rules(run_lines(catalog, [line])), line
    for line in ("init: plymouth-upstart-bridge main process (290) terminated with status 1",
                 "init: tty1 main process (1021) killed by TERM signal",
                 "init: ssh main process (1234) exited normally"):
        assert "upstart-job-process-failed" not in rules(run_lines(catalog, [line])), line


def test_init_that_cannot_be_executed_by_chroot_or_for_want_of_binfmt_is_init_not_found(catalog):
    a = run_lines(catalog, [KERNEL, "[    1.212000] Run /init as init process",
                            "chroot: can't execute '/sbin/init': No such file or directory"])
    assert a.outcome == "failure" and "init.not-found" in categories(a)
    b = run_lines(catalog, [KERNEL, "[    8.915730] request_module: modprobe binfmt-464c cannot be processed, "
                                    "kmod busy with 50 threads for more than 5 seconds now"])
    assert "request-module-runaway-loop" in rules(b)
    for line in ("switch_root: failed to execute /sbin/init: No such file or directory",
                 "chroot: failed to run command \u2018/sbin/init\u2019: No such file or directory"):
        assert "switch-root-failed" in rules(run_lines(catalog, [line])), line
    assert "switch-root-failed" not in rules(run_lines(catalog, [
        "switch_root: failed to mount moving /dev to /sysroot/dev: No such file or directory"]))
    c = run_lines(catalog, [KERNEL, "[  145.461962] request_module: modprobe fs-xfs cannot be processed, "
                                    "kmod busy with 50 threads for more than 5 seconds now"])
    assert "request-module-runaway-loop" not in rules(c)


def test_oops_heads_of_x86_arm_and_arm64_are_oopses(catalog):
    for line in ("[    5.112400] kernel tried to execute NX-protected page - exploit attempt? (uid: 0)",
                 "[    3.517231] Internal error: : 1406 [#1] SMP ARM",
                 "[    1.902771] Unhandled 64-bit el1h sync exception on CPU0, ESR 0x0000000086000004 -- IABT (current EL)",
                 "[   20.752000] Kernel unaligned instruction access[#1]:"):
        a = run_lines(catalog, [KERNEL, line])
        assert "kernel-oops" in rules(a) and a.outcome == "failure", line


def test_the_warn_banner_of_linux_6_19_and_self_checks_are_warnings(catalog):
    a = run_lines(catalog, [KERNEL, "[    1.734013] WARNING: drivers/gpu/drm/drm_atomic.c:1412 at "
                                    "drm_atomic_check_only+0x5f4/0x8b0, CPU#2: kworker/2:1/87"])
    (f,) = [f for f in a.findings() if f.rule == "kernel-warning"]
    assert f.severity == "warning" and f.fields["cpu"] == "2" and a.outcome != "failure"
    for line in ("[    4.018862] WARNING: possible circular locking dependency detected",
                 "[    1.552200] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580",
                 "[    3.104521] UBSAN: array-index-out-of-bounds in drivers/scsi/foo.c:3130:31",
                 "[   12.120155] BUG kmalloc-64 (Tainted: G    B             ): Redzone overwritten"):
        b = run_lines(catalog, [KERNEL, line])
        (g,) = [g for g in b.findings() if g.rule == "kernel-debug-check-report"]
        assert g.severity == "warning" and g.verdict == "none" and b.outcome != "failure", line
    assert "kernel-debug-check-report" not in rules(run_lines(catalog, [
        "[    0.000000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar"]))


def test_hostile_bytes_around_the_new_words_stay_inert(catalog):
    lines = ["\x1b]0;pwn\x07 * Mounting \x1b[31mlocal\x00 filesystems ... [ !! ]",
             "systemd[1]: x\x9b2J.service: Unit configuration has fatal error, unit will not be started.",
             "init: ssh\x1b[2J main process (1) terminated with status 1",
             "INIT: cannot execute \"/etc/\x1b]52;c;AAAA\x07rcS\"",
             "s6-svscan: fatal: unable to \x1b[?1049h chdir",
             "[    1.0] UBSAN: shift-out-of-bounds in \x1b[1mfoo.c:1:2"]
    a = run_lines(catalog, lines)
    assert a.findings()
    assert_quoted_safely(a)


def test_shepherd_procd_and_generator_failures_are_unit_warnings(catalog):
    for line, rule in (("shepherd[1]: Service ssh-daemon could not be started.", "shepherd-service-failed"),
                       ("procd: Instance dropbear::instance1 s in a crash loop 6 crashes, 0 seconds since last crash",
                        "procd-instance-crash-loop"),
                       ("systemd[1]: /usr/lib/systemd/system-generators/systemd-fstab-generator failed with exit status 1.",
                        "systemd-generator-failed")):
        a = run_lines(catalog, [line])
        f = next(f for f in a.findings() if f.rule == rule)
        assert f.category == "init.unit-failed" and f.severity == "warning", line
    for line in ("shepherd[1]: Service ssh-daemon has been started.",
                 "shepherd[1]: Service networking could not be started.",
                 "cloud-init[812]: /usr/bin/foo failed with exit status 1."):
        assert "init.unit-failed" not in categories(run_lines(catalog, [line])), line


def test_mini_os_general_protection_and_traps_crash_the_unikernel(catalog):
    for line in ("GPF rip: 10f3c2, error_code=0", "FATAL:  Unhandled Trap 6 (invalid opcode), error code=0x0",
                 "Page fault at linear address 0, eip 1043a1, regs 0022ff8c, sp 22ffd4, our_sp 0022ff74, code 2"):
        a = run_lines(catalog, ["Xen Minimal OS!", line])
        assert a.outcome == "failure" and "minios-page-fault" in rules(a), line


def test_android_init_unable_to_exec_its_next_stage_is_init_not_found(catalog):
    a = run_lines(catalog, [KERNEL, '[    1.903212] init: execv("/system/bin/init") failed: No such file or directory'])
    assert a.outcome == "failure" and "android-init-exec-failed" in rules(a)
    assert "init.not-found" in categories(a)


def test_sysvinit_with_nothing_left_to_run_is_a_warning(catalog):
    a = run_lines(catalog, ["INIT: Entering runlevel: 3", "INIT: no more processes left in this runlevel"])
    f = next(f for f in a.findings() if f.rule == "sysvinit-runlevel-empty")
    assert f.severity == "warning" and a.outcome != "failure"


def test_nanos_kernel_mode_division_and_x86_bad_pagetable_are_crashes(catalog):
    a = run_lines(catalog, ["en1: assigned 10.0.2.15", "", "Divide by zero occurs in kernel mode"])
    assert a.outcome == "failure" and "nanos-kernel-fault-or-heap-overflow" in rules(a)
    b = run_lines(catalog, [KERNEL, "[   44.120340] Bad pagetable: 000d [#1] PREEMPT SMP NOPTI"])
    assert b.outcome == "failure" and "kernel.oops" in categories(b)


def test_supervise_daemon_giving_up_is_a_unit_warning(catalog):
    a = run_lines(catalog, ['Dec  7 23:10:41 alpine supervise-daemon[2211]: respawned "/usr/sbin/chronyd" too many '
                            'times, exiting'])
    f = next(f for f in a.findings() if f.rule == "openrc-supervise-daemon-gave-up")
    assert f.fields["command"] == "/usr/sbin/chronyd" and f.severity == "warning"


def test_freebsd_rc_not_starting_a_service_is_a_unit_warning(catalog):
    a = run_lines(catalog, ["No host key files found", "/etc/rc: WARNING: failed precmd routine for sshd"])
    f = next(f for f in a.findings() if f.rule == "freebsd-rc-precmd-failed")
    assert f.fields["unit"] == "sshd" and f.category == "init.unit-failed"


def test_start_stop_daemon_unable_to_exec_a_daemon_in_both_dpkg_wordings(catalog):
    for line, program in (("start-stop-daemon: unable to start /usr/sbin/atd (Input/output error)", "/usr/sbin/atd"),
                          ("Starting nginx: start-stop-daemon: Unable to start /usr/sbin/nginx: No such file or "
                           "directory (No such file or directory)", "/usr/sbin/nginx")):
        f = next(f for f in run_lines(catalog, [line]).findings() if f.rule == "start-stop-daemon-unable-to-start")
        assert f.fields["program"] == program and f.category == "init.unit-failed", line
    assert "start-stop-daemon-unable-to-start" not in rules(run_lines(catalog, [
        "start-stop-daemon: warning: failed to kill 1234: No such process"]))
