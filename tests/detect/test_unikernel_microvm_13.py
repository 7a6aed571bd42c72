"""Unikernels and microVM guests of round 13 (parsers/detectors/unikernel-microvm-13.yaml, the
widened unikernel-application-fatal and unikraft-crit, test-summary's Boost.Test and uktest lines,
SquashFS's ignored xattrs): each crash, tender or VMM failure fails the boot, a network timeout
the service runs on decides nothing, the healthy look-alikes stay quiet and the healthy ends are
successes. Lines are the rules' real samples (the pages cited there) or the sources' format
strings (marked synthetic in the rules), and the hostile-bytes pattern of test_hostile_12."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely, categories

# https://github.com/includeos/IncludeOS/issues/1686: the version banner and the service running
INCLUDEOS_UP = [" IncludeOS v0.12.0-rc.2-dirty (x86_64 / 64-bit)", " +--> Running [ IncludeOS Router Service ]"]


def rules(a) -> set[str]:
    return {f.rule for f in a.findings()}


def test_an_includeos_cpu_exception_after_the_service_started_fails_the_run(catalog):
    # IncludeOS's idt.cpp format strings (__cpu_exception)
    a = run_lines(catalog, [*INCLUDEOS_UP, "", ">>>> !!! CPU 0 EXCEPTION !!! <<<<",
                            "General Protection Fault (13)   EIP  0x2052fa   CODE 0"])
    assert a.outcome == "failure" and "includeos-cpu-exception" in rules(a)
    assert "unikernel.crash" in categories(a)
    assert run_lines(catalog, INCLUDEOS_UP).outcome == "success"


def test_includeos_dhcp_timing_out_is_reported_and_a_later_lease_makes_it_moot(catalog):
    timed_out = run_lines(catalog, [*INCLUDEOS_UP, "     [ DHCPv4 ] Negotiation timed out (eth0)"])
    assert "includeos-dhcp-timed-out" in rules(timed_out)
    assert timed_out.outcome == "unknown"   # the service runs; it is only unreachable
    # dh4client.cpp: a later negotiation acknowledged
    later = run_lines(catalog, [*INCLUDEOS_UP, "      [ DHCPv4 ] Negotiation timed out",
                                "      [ DHCPv4 ] Negotiating IP-address (xid=3489251247)",
                                "      [ DHCPv4 ] Config complete"])
    assert "includeos-dhcp-timed-out" not in rules(later)


def test_a_nanos_page_protection_violation_fails_the_boot_and_the_bare_words_do_not(catalog):
    # Nanos's unix/mmap.c (2019-2020) format string, after the interface's address
    a = run_lines(catalog, ["en1: assigned 10.0.2.15", "", "Page protection violation",
                            "addr 0x7f0001200000, rip 0x4a1b2c, error WUD"])
    assert a.outcome == "failure" and "nanos-page-protection-violation" in rules(a)
    other = run_lines(catalog, ["Page protection violation", "Caused by write access"])
    assert "nanos-page-protection-violation" not in rules(other)


def test_fly_init_failing_to_spawn_the_command_fails_the_machine(catalog):
    # https://docs.atomagentos.com/DEPLOYMENT_PLAYBOOK
    a = run_lines(catalog, ["ERROR: failed to spawn command: [/app/docker-entrypoint.sh web]: No such file or directory",
                            "Virtual machine exited abruptly"])
    assert a.outcome == "failure" and "fly-init-spawn-failed" in rules(a)
    assert "init.unit-failed" in categories(a)
    ok = run_lines(catalog, ["2025-05-27T12:29:14Z app[908027d3be7938] dfw [info] INFO Main child exited normally with code: 0"])
    assert "fly-init-spawn-failed" not in rules(ok)


def test_a_fly_machine_at_its_restart_limit_is_a_loop(catalog):
    a = run_lines(catalog, ["machine has reached its max restart count of 10"])
    assert a.outcome == "failure" and "fly-machine-restart-limit-reached" in rules(a)
    assert "boot.loop" in categories(a)


def test_a_pre_0_4_solo5_memory_map_is_a_banner_for_the_application_crash(catalog):
    # Solo5 kernel/mem.c format strings (before 0.4), then dash's report of SIGFPE
    memory_map = ["Solo5: Memory map: 512 MB addressable:", "Solo5:     unused @ (0x0 - 0xfffff)"]
    a = run_lines(catalog, [*memory_map, "Floating point exception"])
    assert a.outcome == "failure" and "unikernel-application-fatal" in rules(a)
    assert "unikernel-application-fatal" not in rules(run_lines(catalog, ["Floating point exception"]))


def test_squashfs_ignoring_xattrs_is_no_file_system_error(catalog):
    # fs/squashfs/xattr.h with CONFIG_SQUASHFS_XATTR off: the mount goes on
    a = run_lines(catalog, ["[    2.104417] SQUASHFS error: Xattrs in filesystem, these will be ignored"])
    assert "disk.fs-error" not in categories(a, "all")
    b = run_lines(catalog, ["SQUASHFS error: lzma returned unexpected result 0x1"])
    assert "disk.fs-error" in categories(b, "all")


def test_unikraft_elfloader_failing_to_load_the_program_fails_the_boot(catalog):
    # search-index file id 56170981952: a Go server on Unikraft Cloud with no musl loader in the image
    a = run_lines(catalog, ["Powered by Unikraft Ijiraq (0.21.0~a653e50)",
                            "ERR: [appelfloader] <interp>: Failed to load /lib/ld-musl-x86_64.so.1: No such file",
                            "ERR: [appelfloader] mcp-server: Failed to load program interpreter /lib/ld-musl-x86_64.so.1"])
    assert a.outcome == "failure" and "unikraft-elfloader-cannot-load-program" in rules(a)
    # search-index file id 70970194264: the loader's info line on a healthy start
    ok = run_lines(catalog, ["[    0.173730] Info: [appelfloader] <main.c @  358> igkmf-app: ELF program loaded to "
                             "0x41f801000-0x41f8d4000 (864256 B), entry at 0x41f809840"])
    assert "unikraft-elfloader-cannot-load-program" not in rules(ok)


def test_qemu_without_its_accelerator_fails_unless_it_fell_back_to_tcg(catalog):
    # QEMU accel/kvm/kvm-all.c's format strings
    a = run_lines(catalog, ["Could not access KVM kernel module: Permission denied",
                            "qemu-system-x86_64: -accel kvm: failed to initialize kvm: Permission denied"])
    assert a.outcome == "failure" and "qemu-accelerator-unavailable" in rules(a)
    # search-index file id 20428670426 (bluez CI): the fallback, then a guest that boots
    fell_back = run_lines(catalog, ["Could not access KVM kernel module: No such file or directory",
                                    "qemu-system-x86_64: failed to initialize KVM: No such file or directory",
                                    "qemu-system-x86_64: Back to tcg accelerator"])
    assert "qemu-accelerator-unavailable" not in rules(fell_back)
    booted = run_lines(catalog, ["qemu-system-x86_64: failed to initialize KVM: No such file or directory",
                                 "SeaBIOS (version 1.16.2)", "Powered by Unikraft Calypso (0.17.0~ddc5bf7)", "Hello"])
    assert "qemu-accelerator-unavailable" not in rules(booted)


def test_firecracker_failing_to_start_the_microvm_fails_and_a_refused_drive_config_does_not(catalog):
    # https://github.com/firecracker-microvm/firectl/issues/123
    a = run_lines(catalog, ["FATA[0000] Failed to start machine: [PUT /machine-config][400] putMachineConfigurationBadRequest  "
                            "&{FaultMessage:unknown field `smt`, expected one of `vcpu_count`, `mem_size_mib`, `ht_enabled`, "
                            "`cpu_template` at line 1 column 25}"])
    assert a.outcome == "failure" and "firecracker-microvm-start-failed" in rules(a)
    # search-index file id 2366427390: Firecracker's test of a drive configuration it refuses
    drive = run_lines(catalog, ["Received Error. Status code: 400 Bad Request. Message: Drive config error: Unable to create "
                                "the virtio block device: Virtio backend error: Error coming from the IO engine: "
                                "Unsupported engine type: Async"])
    assert "firecracker-microvm-start-failed" not in rules(drive)


def test_a_benign_unikraft_crit_from_the_elf_loaders_brk_does_not_fail_a_running_program(catalog):
    # search-index file id 18780805757: sqlite3 on app-elfloader goes on after brk() said CRIT
    a = run_lines(catalog, ["Powered by", " OoOoO ._, ._:_:_,\\_._,  .__,_:_, \\___)", "             Epimetheus 0.12.0~5bd4b94d",
                            "[    0.800341] CRIT: [appelfloader] <brk.c @   60> Cannot handle multiple user space heaps: Not implemented!",
                            "SQLite version 3.22.0 2018-01-22 18:45:57", 'Enter ".help" for usage hints.'])
    assert "unikraft-crit" not in rules(a) and a.outcome == "success"
    crashed = run_lines(catalog, ["CRIT: [libukschedcoop] Assertion failure: prev->sched"])
    assert crashed.outcome == "failure"


def test_uhyve_unable_to_create_the_vm_fails_the_run(catalog):
    # uhyve's src/bin/uhyve.rs expect() message
    a = run_lines(catalog, ["thread 'main' panicked at 'Unable to create VM! Is the hypervisor interface (e.g. KVM) "
                            "activated?: Kvm(Error(2))', src/bin/uhyve.rs:215:4"])
    assert a.outcome == "failure" and "uhyve-cannot-create-vm" in rules(a)


def test_cloud_hypervisors_newer_error_chain_fails_and_ch_remotes_does_not(catalog):
    # search-index file id 40006609185: a tap Cloud Hypervisor may not configure
    a = run_lines(catalog, ["Error: Cloud Hypervisor exited with the following chain of errors:", "  0: Error booting VM",
                            "  7: Operation not permitted (os error 1)"])
    assert a.outcome == "failure" and "cloud-hypervisor-exited-with-error" in rules(a)
    # search-index file id 68803549277: the API client's own chain
    client = run_lines(catalog, ["Error: ch-remote exited with the following chain of errors:", "  0: http client error"])
    assert "cloud-hypervisor-exited-with-error" not in rules(client)


def test_rust_hypervisor_firmware_failing_its_default_entry_fails_unless_a_kernel_boots(catalog):
    # rust-hypervisor-firmware main.rs format strings
    a = run_lines(catalog, ["Filesystem ready", "Error loading default entry: BzImageError(InvalidKernelVersion)",
                            "Using EFI boot."])
    assert a.outcome == "failure" and "rust-hypervisor-firmware-default-entry-failed" in rules(a)
    none = run_lines(catalog, ["Filesystem ready", "Error loading default entry: FileError(NotFound)", "Using EFI boot."])
    assert "rust-hypervisor-firmware-default-entry-failed" not in rules(none)
    booted = run_lines(catalog, ["Filesystem ready", "Error loading default entry: BzImageError(InvalidKernelVersion)",
                                 "Using EFI boot.", "[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)"])
    assert "rust-hypervisor-firmware-default-entry-failed" not in rules(booted)


def test_a_program_that_cannot_start_under_a_unikernels_binary_compatibility_fails_the_boot(catalog):
    banner = "Powered by Unikraft Calypso (0.17.0~ddc5bf7)"
    for line in ("mysql: error while loading shared libraries: libncursesw.so.5: cannot open shared object file: "
                 "No such file or directory",                       # search-index file id 57091340223
                 "Fatal Python error: init_fs_encoding: failed to get the Python codec of the filesystem encoding",
                 "FATAL: kernel too old"):                           # search-index file id 23622806713
        a = run_lines(catalog, [banner, line])
        assert a.outcome == "failure" and "unikernel-application-fatal" in rules(a), line
    # search-index file id 58136383886: an optional library probed with dlopen, the program runs on
    probe = run_lines(catalog, [banner, "Error loading shared library libgssapi_krb5.so.2", "listening on :8080"])
    assert "unikernel-application-fatal" not in rules(probe) and probe.outcome == "success"


def test_an_osv_program_returning_non_zero_fails_the_run(catalog):
    # OSv core/app.cc's format string, after https://github.com/cloudius-systems/osv/issues/1300's start
    up = ["OSv v0.57.0", "eth0: 192.168.122.15", "Booted up in 0.00 ms", "Cmdline: /tests/tst-fail.so"]
    a = run_lines(catalog, [*up, "program /tests/tst-fail.so returned 1"])
    assert a.outcome == "failure" and "osv-program-returned-nonzero" in rules(a)
    assert "osv-program-returned-nonzero" not in rules(run_lines(catalog, up))


def test_a_boost_test_run_with_no_errors_is_a_healthy_end_and_its_failures_decide_nothing(catalog):
    # search-index file id 22079572990: Boost.Test's last line when every test passed
    assert run_lines(catalog, ["Running 3 test cases...", "*** No errors detected"]).outcome == "success"
    failed = run_lines(catalog, ["Running 3 test cases...", '*** 1 failure is detected in the test module "MasterTestSuite"'])
    assert failed.outcome == "unknown"


def test_unikrafts_uktest_statistics_with_no_failure_are_a_healthy_end(catalog):
    # Unikraft lib/uktest/test.c's uk_test_print_stats format strings
    ok = run_lines(catalog, ["[    0.110593] Info: [libuktest] <test.c @  131> uktest:assertions: 84 total"])
    assert ok.outcome == "success"
    failed = run_lines(catalog, ["[    0.110593] Info: [libuktest] <test.c @  131> uktest:assertions: 2 failed, 84 total"])
    assert failed.outcome != "success"


def test_a_firecracker_guest_that_reboots_ends_its_run_and_a_panic_does_not(catalog):
    linux = "[    0.000000] Linux version 6.1.102 (root@buildkitsandbox) (gcc (GCC) 11.4.0) #1 SMP"
    # search-index file id 66964788353: Firecracker's exit line
    fc_exit = "2026-05-17T12:29:43.532139694 [anonymous-instance:main] Firecracker exiting successfully. exit_code=0"
    ran = run_lines(catalog, [linux, "[    1.020000] reboot: Restarting system", fc_exit])
    assert ran.outcome == "success" and "reboot-never-reset" not in rules(ran)
    # the reset never came, with no VMM to say it stopped: the restart-hangs rule stands
    hung = run_lines(catalog, [linux, "[    1.020000] reboot: Restarting system"])
    assert "reboot-never-reset" in rules(hung)
    panicked = run_lines(catalog, [linux, "[    0.600000] Kernel panic - not syncing: No working init found.  Try passing "
                                   "init= option to kernel.", "[    1.620000] Rebooting in 1 seconds..", fc_exit])
    assert panicked.outcome == "failure" and "firecracker-stopped-on-guest-reboot" not in rules(panicked)


PAD = b"A" * 70000

HOSTILE = [
    ("includeos-cpu-exception", [b">>>> !!! CPU 0 EXCEPTION !!! <<<<\x1b]0;evil\x07\x00\xff" + PAD]),
    ("includeos-dhcp-timed-out", [b"     [ DHCPv4 ] Negotiation timed out (eth0)\x1b[2J\x00\xff" + PAD]),
    ("nanos-page-protection-violation",
     [b"Page protection violation", b"addr 0x7f0001200000, rip 0x4a1b2c, error WUD \x1b]8;;http://x\x07\x00\xff" + PAD]),
    ("fly-init-spawn-failed",
     [b"ERROR Error: failed to spawn command: /app/\x1b]0;evil\x07start.sh\x00\xff: Permission denied \x1b[2J" + PAD]),
    ("unikraft-elfloader-cannot-load-program",
     [b"ERR:  [appelfloader] <elf_load.c @  803> /app/\x1b]0;evil\x07srv: Failed to execute /app/srv\x00: No such \xff" + PAD]),
    ("qemu-accelerator-unavailable",
     [b"qemu-system-x86_64: -accel kvm: failed to initialize kvm: \x1b]0;evil\x07Permission\x00 denied\xff" + PAD]),
    ("firecracker-microvm-start-failed",
     [b"Received Error. Status code: 400 Bad Request. Message: Start microvm error: \x1b]0;evil\x07\x00\xff" + PAD]),
    ("cloud-hypervisor-exited-with-error",
     [b"cloud-hypervisor:   0.016376s: <main> ERROR:src/lib.rs:23 -- Fatal error: VmBoot(\x1b]0;evil\x07\x00\xff" + PAD]),
    ("fly-machine-restart-limit-reached", [b"\x1b[31mmachine has reached its max restart count of 10\x1b[0m\x00"]),
]


@pytest.mark.parametrize(("rule", "lines"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_bytes_in_the_round_13_unikernel_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, lines)
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
