"""Verdicts a person would sign: what decides a boot's outcome and a finding's weight.

- an error that stopped the boot is a failure; waiting forever is a stall;
- a problem that did not stop the boot reaching ready is a warning (severity and verdict);
- a failure in an earlier boot that a later boot recovered from is history, not the verdict;
- a root cause and its symptom are both reported, the cause first;
- a fragment of a crash (a panic footer) stands in for the crash only when its header is missing.

Lines are real console lines (their sources are named where they are used); the rule sets are
written for each behaviour, as in test_engine.py, except where the shipped catalog is the point.
"""

from __future__ import annotations

from pathlib import Path

from consolewatch.detect.checks import run_lines
from tests.detect.test_engine import catalog_with, rule

#: samples/qemu/fs-error/serial.log, samples/qemu/healthy/serial.log
EXT4 = ("[    2.573407] EXT4-fs error (device nvme0n1p1): __ext4_find_entry:1696: inode #2: comm swapper/0: "
        "checksumming directory block 0")
#: samples/qemu/driver-missing/serial.log
PANIC = "[    1.534776] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
FOOTER = "[    1.542626] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0) ]---"
SEABIOS = "SeaBIOS (version 1.16.2-debian-1.16.2-1)"
#: samples/qemu-kernel-soft-lockup/serial.log
LOCKUP = "[   11.789822] watchdog: BUG: soft lockup - CPU#0 stuck for 8s! [insmod:83]"
#: samples/openstack-ttylinux-no-lease-metadata-unreachable
NOLEASE = "No lease, failing"

#: https://github.com/GoogleCloudPlatform/guest-agent/issues/377 (the ready line of the test formats)
LOGIN = "2024/03/12 14:36:48 GCEGuestAgent: GCE Agent Started (version 20240109.00)"


def _rules(tmp_path: Path):
    return catalog_with(tmp_path, "rules:"
                        + rule("fs", "disk.fs-error", "error", "{line: {regex: 'EXT4-fs error'}}")
                        + rule("panic", "kernel.panic", "critical", "{line: {regex: '^Kernel panic - not syncing'}}")
                        + rule("footer", "kernel.panic", "critical", "{line: {regex: '^---\\[ end Kernel panic'}}",
                               "fallback: true")
                        + rule("lockup", "kernel.oops", "error", "{line: {regex: 'BUG: soft lockup'}}", "verdict: stall")
                        + rule("lease", "network.dhcp.no-lease", "error", "{line: {regex: 'No lease, failing'}}")
                        + rule("loop", "boot.loop", "critical", "{capture: {min_boots: 2, outcome: [failure]}}"))


def test_an_error_the_boot_got_past_is_a_warning_not_the_verdict(tmp_path):
    a = run_lines(_rules(tmp_path), [EXT4, LOGIN])
    assert a.outcome == "success"
    [f] = [f for f in a.findings() if f.rule == "fs"]
    assert (f.severity, f.verdict, f.demoted_from) == ("warning", "none", "error")
    assert "did not stop it" in a.boots[-1].reason
    assert a.worst() == "warning"


def test_an_error_that_stopped_the_boot_is_a_failure(tmp_path):
    a = run_lines(_rules(tmp_path), [EXT4])
    assert a.outcome == "failure"
    [f] = a.findings()
    assert (f.severity, f.verdict, f.demoted_from) == ("error", "failure", None)


def test_a_panic_after_ready_is_still_a_failure_but_a_later_error_is_not(tmp_path):
    cat = _rules(tmp_path)
    a = run_lines(cat, [LOGIN, PANIC])
    assert a.outcome == "failure" and a.findings()[0].severity == "critical"
    b = run_lines(cat, [LOGIN, EXT4])
    assert b.outcome == "success" and b.findings()[0].severity == "warning"


def test_a_lost_network_is_not_undone_by_a_login_prompt(tmp_path):
    a = run_lines(_rules(tmp_path), [NOLEASE, LOGIN])
    assert a.outcome == "failure"
    assert a.findings()[0].severity == "error"


def test_waiting_forever_is_a_stall_and_a_recovered_stall_a_warning(tmp_path):
    cat = _rules(tmp_path)
    a = run_lines(cat, [LOCKUP])
    assert a.outcome == "stall"
    b = run_lines(cat, [LOCKUP, LOGIN])
    assert b.outcome == "success"
    assert b.findings()[0].severity == "warning" and b.findings()[0].demoted_from == "error"


def test_an_earlier_failed_boot_is_history(tmp_path):
    a = run_lines(_rules(tmp_path), [SEABIOS, PANIC, SEABIOS, PANIC, SEABIOS, LOGIN])
    assert [b.outcome for b in a.boots] == ["failure", "failure", "success"]
    assert a.outcome == "success"
    assert a.boots[0].findings[0].severity == "critical"  # the history keeps what happened
    [loop] = a.capture_findings
    assert loop.category == "boot.loop" and loop.severity == "warning" and loop.demoted_from == "critical"
    assert a.worst() == "warning"
    (tmp_path / "again").mkdir()
    c = run_lines(_rules(tmp_path / "again"), [SEABIOS, PANIC, SEABIOS, PANIC])
    assert c.outcome == "failure" and c.capture_findings[0].severity == "critical"


def test_a_crash_footer_stands_in_only_when_the_header_is_missing(tmp_path):
    cat = _rules(tmp_path)
    only_footer = run_lines(cat, [FOOTER])
    assert [f.rule for f in only_footer.findings()] == ["footer"] and only_footer.outcome == "failure"
    both = run_lines(cat, [PANIC, FOOTER])
    assert [f.rule for f in both.findings()] == ["panic"]


def test_shipped_catalog_reports_missing_driver_first_and_root_not_found_next(catalog):
    lines = Path(__file__).resolve().parents[2].joinpath("samples/qemu/driver-missing/serial.log").read_text(
        errors="replace").splitlines()
    a = run_lines(catalog, lines)
    cats = [f.category for f in a.findings() if f.suppressed_by is None or f.category != "kernel.panic"]
    assert cats.index("disk.driver-missing") < cats.index("disk.root-not-found")
    driver = next(f for f in a.findings() if f.category == "disk.driver-missing")
    root = next(f for f in a.findings() if f.category == "disk.root-not-found")
    assert driver.suppressed_by is None and root.suppressed_by == driver.rule
    assert a.boots[-1].reason.startswith("disk.driver-missing")
    assert "no disk" in driver.description.lower() and "file system" in driver.description.lower()


def test_a_capture_that_ends_inside_a_reset_loop_is_a_failure(catalog):
    """samples/qemu-reset-after-handoff: a boot sector triple-faults right after SeaBIOS hands over."""
    banner = "SeaBIOS (version 1.16.2-debian-1.16.2-1)"
    again = "Booting from Hard Disk.." + banner
    a = run_lines(catalog, [banner, again, again, again])
    assert [b.outcome for b in a.boots][:3] == ["failure", "failure", "failure"]
    assert a.boots[3].outcome in ("stall", "unknown")  # cut off by the end of the capture
    assert {f.rule for f in a.boots[0].findings} == {"reset-after-handoff"}
    assert {f.rule for f in a.capture_findings} == {"boot-loop", "reboot-after-failure"}
    assert a.outcome == "failure"
    one = run_lines(catalog, [banner])  # a capture that simply stops at the banner is not a loop
    assert one.outcome != "failure" and not one.capture_findings


# -- a run that completes its work without a ready line ------------------------------------------

#: The Unikraft C Hello README's "successful run" (public README, search index file id 36261717296).
UNIKRAFT = ["Booting from ROM..Powered by",
            "o.   .o       _ _               __ _",
            " OoOoO ._, ._:_:_,\\_._,  .__,_:_, \\___)",
            "                Calypso 0.17.0~5d38d108"]
HELLO = "Hello from Unikraft!"


def test_an_outcome_rule_that_sees_output_after_a_banner_decides_an_undecided_boot(tmp_path):
    ran = rule("ran", "boot.success", "info", "{boot: {outcome: [unknown], last_pattern: [t.linux], "
               "min_lines_after: 2, ended_by: [capture-end], evidence: last-line}}")
    cat = catalog_with(tmp_path, "rules:" + ran + rule("fs", "disk.fs-error", "error", "{line: {regex: 'EXT4-fs error'}}"))
    banner = "Linux version 6.1.0-27-cloud-amd64 (x)"
    a = run_lines(cat, [banner, "work done", "more work"])
    assert a.outcome == "success" and [f.rule for f in a.findings()] == ["ran"]
    assert a.findings()[0].evidence[0].text == "more work"
    assert run_lines(cat, [banner, "work done"]).outcome == "unknown"  # fewer lines than asked
    failed = run_lines(cat, [banner, "work done", EXT4])
    assert failed.outcome == "failure" and [f.rule for f in failed.findings()] == ["fs"]


def test_min_lines_after_must_be_a_non_negative_integer(tmp_path):
    (tmp_path / "detectors").mkdir()
    (tmp_path / "detectors" / "t.yaml").write_text("rules:" + rule(
        "bad", "boot.success", "info", "{boot: {min_lines_after: -1}}"))
    from consolewatch import definitions
    problems = definitions.load([tmp_path]).problems
    assert any("`min_lines_after` must be a non-negative integer" in str(p) for p in problems)


def test_shipped_catalog_calls_a_unikraft_application_running_after_its_banner_a_success(catalog):
    assert run_lines(catalog, UNIKRAFT + [HELLO]).outcome == "success"
    assert run_lines(catalog, UNIKRAFT).outcome == "unknown"  # the banner alone: nothing ran yet
    crash = run_lines(catalog, UNIKRAFT + [
        "[    0.372817] CRIT: [libukvmem] Cannot handle write page fault at 0xffffc6e78 (ec: 0x2): Bad address (14)."])
    assert crash.outcome == "failure"
    assert "boot.success" not in {f.category for f in crash.findings()}


def test_no_route_to_the_metadata_server_is_a_failure_unless_the_network_later_works(catalog):
    """GNU Wget 1.21.3 in an empty network namespace; samples/qemu/gce-option121-applied/serial.log."""
    unreachable = ("Connecting to metadata.google.internal (metadata.google.internal)|169.254.169.254|:80... "
                   "failed: Network is unreachable.")
    login = "debian login: "
    a = run_lines(catalog, [unreachable, login])
    assert a.outcome == "failure"  # a login prompt nobody can reach over the network
    [f] = [f for f in a.findings() if f.rule == "metadata-no-route"]
    assert f.severity == "error" and f.category == "network.metadata-unreachable"
    later = run_lines(catalog, [unreachable, "Connecting to 169.254.169.254 (169.254.169.254:80)",
                                "'/tmp/hostname' saved", login])
    assert later.outcome == "success"
    assert "metadata-no-route" not in {f.rule for f in later.findings()}


def test_shipped_catalog_calls_a_test_run_with_no_failures_a_success(catalog):
    """Real output of cargo 1.95 `cargo test`, go 1.19 `go test -v` and pytest 9.2 on this machine."""
    rust_ok = "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s"
    rust_failed = "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.26s"
    go = ["=== RUN   TestOne", "--- PASS: TestOne (0.00s)", "PASS", "ok  \texample.com/gt\t0.003s"]
    go_failed = ["--- FAIL: TestTwo (0.00s)", "FAIL", "FAIL\texample.com/gt\t0.013s", "FAIL"]
    pytest_failed = "========================= 1 failed, 2 passed in 2.57s =========================="
    assert run_lines(catalog, [rust_ok]).outcome == "success"
    assert run_lines(catalog, go).outcome == "success"
    assert run_lines(catalog, ["2 passed in 2.54s"]).outcome == "success"
    for failed in ([rust_failed], go_failed, [pytest_failed]):
        assert run_lines(catalog, failed).outcome == "unknown", failed


def test_systemd_basics_failing_decide_a_failure_unless_the_boot_still_reaches_its_target(catalog):
    """samples/qemu-systemd-journal-sockets-fail-ready/serial.log (systemd 252 under QEMU)."""
    sockets = ["[FAILED] Failed to listen on system…rnald.socket - Journal Socket.",
               "[DEPEND] Dependency failed for syst…ald.service - Journal Service."]
    stuck = run_lines(catalog, sockets)
    assert stuck.outcome == "failure"
    [f] = [f for f in stuck.findings() if f.rule == "systemd-basic-units-failed"]
    assert f.severity == "error" and f.category == "init.unit-failed"
    ready = run_lines(catalog, sockets + [
        "[    4.899132] systemd[1]: Startup finished in 4.338s (kernel) + 595ms (userspace) = 4.933s."])
    assert ready.outcome == "success"
    [w] = [f for f in ready.findings() if f.rule == "systemd-basic-units-failed"]
    assert w.severity == "warning"


#: qemu boot: restart-every-boot (tests/qemu/kernel_faults.py): an init that reboots on every boot
RESTARTING = ["[    4.085126] Run /init as init process", "consolewatch-guest: update applied, restarting",
              "[    5.670515] reboot: Restarting system", "[    5.670670] reboot: machine restart"]


def test_boots_that_restart_before_ready_in_a_row_are_a_loop_and_the_cut_off_last_boot_is_not_silent(catalog):
    a = run_lines(catalog, [SEABIOS, "Booting from ROM...", *RESTARTING] * 3 + [SEABIOS, "Booting from ROM..."])
    assert [b.outcome for b in a.boots] == ["unknown"] * 4
    assert [f.rule for f in a.capture_findings] == ["boot-loop"]
    assert [e.text for e in a.capture_findings[0].evidence] == [RESTARTING[2]] * 3  # each boot's restart line
    assert a.outcome == "failure"  # the capture ends inside the loop
    assert not {f.category for f in a.findings()} & {"console.silent", "boot.stall"}
    two = run_lines(catalog, [SEABIOS, *RESTARTING, SEABIOS, *RESTARTING])  # one restart is no loop
    assert not two.capture_findings and two.outcome == "unknown"


def test_a_loop_is_boots_in_a_row_a_boot_that_came_up_ends_the_run(tmp_path):
    cat = _rules(tmp_path)
    a = run_lines(cat, [SEABIOS, PANIC, SEABIOS, LOGIN, SEABIOS, PANIC])
    assert [b.outcome for b in a.boots] == ["failure", "success", "failure"] and not a.capture_findings
    loop = run_lines(cat, [SEABIOS, PANIC, "[    1.831308] Rebooting in 1 seconds.."] * 2)
    [f] = loop.capture_findings  # the loop quotes the failure that ended each boot, not its last line
    assert [e.text for e in f.evidence] == [PANIC, PANIC]


def test_the_first_quiet_boot_is_silent_but_not_a_later_one(catalog):
    """samples/qemu/console-silent ends with a blank line a screen clear leaves: not output."""
    first = run_lines(catalog, [SEABIOS, "Booting from ROM...", "Probing EDD (edd=off to disable)... o", ""])
    assert {f.category for f in first.findings()} == {"console.silent", "boot.stall"}
    assert first.outcome == "stall"
    later = run_lines(catalog, [SEABIOS, "Booting from ROM...", PANIC, "[    1.831308] Rebooting in 1 seconds..",
                                SEABIOS, "Booting from ROM...", "Probing EDD (edd=off to disable)... o", ""])
    assert later.boots[-1].outcome == "unknown" and not later.boots[-1].findings


def test_a_restart_line_ends_the_boot_before_uefi_lines_that_start_none(catalog):
    """An illumos guest on UEFI firmware (Propolis/bhyve): its panic, "rebooting...", then the
    firmware's boot manager lines, which are not boot starts (several come in one boot)."""
    a = run_lines(catalog, [
        "panic[cpu0]/thread=ffffff03f26347e0: assertion failed: res != NULL, file: kvm_mmu.c, line: 3054",
        "skipping system dump - no dump device configured", "rebooting...",
        'BdsDxe: loading Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)',
        'BdsDxe: starting Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)'])
    assert [b.outcome for b in a.boots] == ["failure", "unknown"]
    assert a.outcome == "unknown"  # the panic is history; the new boot has only begun
    assert [f.rule for f in a.boots[0].findings] == ["unix-kernel-panic"]


#: qemu boot: samples/qemu-init-work-poweroff (the kernel's line once init asks for a power-off)
POWER_DOWN = "[   11.616310] reboot: Power down"


def test_a_clean_power_off_ends_a_run_but_does_not_undo_a_fatal_failure(catalog):
    got_past = run_lines(catalog, [EXT4, POWER_DOWN])
    assert got_past.outcome == "success"
    [fs] = [f for f in got_past.findings() if f.category == "disk.fs-error"]
    assert (fs.severity, fs.demoted_from) == ("warning", "error")
    emergency = run_lines(catalog, ["Give root password for maintenance", POWER_DOWN])
    assert emergency.outcome == "failure"
    assert {f.category for f in emergency.findings() if f.severity == "critical"} == {"init.emergency-mode"}
    came_up = run_lines(catalog, ["Give root password for maintenance", "debian login: "])
    assert came_up.outcome == "success"  # someone logged in from the shell: the machine came up


#: samples/qemu-floppy-failed-then-disk-boots/serial.log, lines 1-5 (cut after the disk hand-off)
FLOPPY_FAILED = [SEABIOS, "Booting from Floppy...", "Boot failed: could not read the boot disk", "",
                 "Booting from Hard Disk..."]


def test_a_boot_the_firmware_already_failed_in_is_that_failure_not_a_silent_console(catalog):
    a = run_lines(catalog, FLOPPY_FAILED)
    assert [f.category for f in a.findings()] == ["boot.bootloader-error"]
    assert a.outcome == "failure"
    quiet = run_lines(catalog, [SEABIOS, "Booting from Hard Disk..."])  # no failure before the hand-off
    assert "console.silent" in {f.category for f in quiet.findings()}


#: jinnko/debian-luks-btrfs-raid-failure-test:README.md (the end of a 3.16 oops, its header cut off)
OOPS_TAIL = ["[ 1416.192635] RIP  [<ffffffffa0189acd>] btrfs_kobj_rm_device+0x1d/0x40 [btrfs]",
             "[ 1416.193361]  RSP <ffff88003cdffce0>", "[ 1416.193649] CR2: 0000000000000088",
             "[ 1416.194995] ---[ end trace caa9c0215a900e44 ]---"]
#: samples/qemu-kernel-softlockup-panic/serial.log (a report of a kernel that locked up before)
TAINTED_L = "[    9.059968] CPU: 0 PID: 83 Comm: insmod Tainted: G           OEL     6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2"


def test_the_end_of_an_oops_is_a_failure_and_a_report_after_an_earlier_one_a_stall(catalog):
    tail = run_lines(catalog, OOPS_TAIL)
    assert [f.rule for f in tail.findings()] == ["kernel-oops-tail"]  # not also the WARN-or-oops fragment
    assert tail.outcome == "failure"
    later = run_lines(catalog, [TAINTED_L])
    assert [f.rule for f in later.findings()] == ["kernel-died-earlier"] and later.outcome == "stall"
    came_up = run_lines(catalog, [*OOPS_TAIL, LOGIN])
    assert came_up.outcome == "success" and came_up.worst() == "warning"


#: qemu boot: reset-during-boot (tests/qemu/kernel_faults.py): the monitor resets the machine while init runs
RESET = ["[    2.166201] Run /init as init process", "consolewatch-guest: ready",
         "[    2.452886] clocksource: Switched to clocksource tsc"]


def test_a_boot_cut_short_by_an_unannounced_reset_is_a_failure_and_repeats_are_a_loop(catalog):
    a = run_lines(catalog, [SEABIOS, "Booting from ROM...", *RESET, SEABIOS, "Booting from ROM..."])
    assert [b.outcome for b in a.boots] == ["failure", "unknown"]
    [f] = a.boots[0].findings
    assert (f.rule, f.evidence[0].text) == ("reset-during-boot", RESET[-1])  # how far it got
    announced = run_lines(catalog, [SEABIOS, *RESTARTING, SEABIOS])  # "reboot: Restarting system"
    assert not announced.boots[0].findings and announced.boots[0].outcome == "unknown"
    was_up = run_lines(catalog, [SEABIOS, *RESET, LOGIN, SEABIOS])  # a reset after the machine came up
    assert was_up.boots[0].outcome == "success" and not was_up.capture_findings
    loop = run_lines(catalog, [SEABIOS, *RESET] * 3 + [SEABIOS])
    assert "boot-loop" in {f.rule for f in loop.capture_findings} and loop.outcome == "failure"


def test_an_initramfs_that_cannot_mount_the_root_reports_that_before_the_missing_init(catalog):
    """https://github.com/ShaoxunZeng/DKernel-Plus/issues/2 (initramfs-tools, busybox mount)."""
    a = run_lines(catalog, ["mount: mounting /dev/vda1 on /root failed: No such device",
                            "Target filesystem doesn't have requested /sbin/init.",
                            "No init found. Try passing init= bootarg."])
    cause = next(f for f in a.findings() if f.category == "disk.driver-missing")
    assert cause.suppressed_by is None and a.outcome == "failure"
    symptoms = [f for f in a.findings() if f.category == "init.not-found"]
    assert symptoms and all(f.suppressed_by == cause.rule for f in symptoms)
    assert a.boots[-1].reason.startswith("disk.driver-missing")


#: https://github.com/Zakkaus/gentoo-install/pull/418 (GRUB's cryptomount prompt on the screen)
UNLOCK = "Enter passphrase for hd0,gpt2 (1c0438c5-2259-45c0-a361-fd9abe71345a):"


def test_a_passphrase_prompt_nobody_answers_is_a_stall_and_one_answered_is_not(catalog):
    waiting = run_lines(catalog, [UNLOCK])
    assert [f.rule for f in waiting.findings()] == ["disk-unlock-prompt"] and waiting.outcome == "stall"
    answered = run_lines(catalog, [UNLOCK, LOGIN])
    assert answered.outcome == "success" and answered.worst() == "warning"


#: qemu 7.2 with Debian OVMF 2022.11 booting an EFI System Partition (the local run quoted by
#: uefi-boot-option-failed), and qemu boot: ovmf-reset-during-boot (tests/qemu/kernel_faults.py)
BDS = ['BdsDxe: loading Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)',
       'BdsDxe: starting Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x2,0x0)']
EFI_STUB = "EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path"
LINUX = ("[    0.000000] Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
         "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 "
         "(2026-11-26)")


def test_the_firmware_or_a_boot_loader_again_after_a_kernel_ran_is_a_new_boot_banner_or_not(catalog):
    """UEFI firmware prints no banner on the serial port: its boot manager's lines (or the
    kernel's EFI stub) coming back after a kernel ran mean the machine started over."""
    a = run_lines(catalog, [*BDS, EFI_STUB, LINUX, *RESET, *BDS, EFI_STUB, LINUX])
    assert [b.outcome for b in a.boots] == ["failure", "unknown"]
    assert a.boots[1].first_text == BDS[0]  # the new boot begins at the firmware's first line
    [f] = a.boots[0].findings
    assert (f.rule, f.evidence[0].text) == ("reset-during-boot", RESET[-1])
    stub_only = run_lines(catalog, [EFI_STUB, LINUX, *RESET, EFI_STUB, LINUX])  # -kernel: no BdsDxe lines
    assert [b.first_text for b in stub_only.boots] == [EFI_STUB, EFI_STUB]
    one = run_lines(catalog, [*BDS, EFI_STUB, LINUX, *RESET])  # the stub after the boot manager: one boot
    assert len(one.boots) == 1


#: https://github.com/QubesOS/qubes-issues/issues/6029 (xl dmesg of an HVM guest)
TRIPLE = ["(d29) Invoking SeaBIOS ...", "(XEN) MMIO emulation failed (1): d29v0 32bit @ 0008:fffeedfd -> ",
          "(XEN) d29v0 Triple fault - invoking HVM shutdown action 1"]


def test_a_triple_fault_the_hypervisor_reports_is_a_reset_that_failed_the_boot(catalog):
    a = run_lines(catalog, TRIPLE)
    assert [f.rule for f in a.findings()] == ["triple-fault"] and a.outcome == "failure"
    assert not run_lines(catalog, TRIPLE[:2]).findings()


#: samples/qemu-grub-rescue-prompt/serial.log (GRUB cannot load its modules: rescue mode)
GRUB_RESCUE = ["error: file `/boot/grub/i386-pc/normal.mod' not found.", "grub rescue> "]


def test_a_stall_the_boot_loader_failure_explains_is_not_said_beside_it(catalog):
    """GRUB asked for a passphrase and then failed into rescue mode: the boot never left the boot
    loader, and its failure is the verdict, not a wait at the prompt."""
    a = run_lines(catalog, [UNLOCK, *GRUB_RESCUE])
    assert {f.category for f in a.findings()} == {"boot.bootloader-error"} and a.outcome == "failure"
    handed_over = run_lines(catalog, [SEABIOS, "Booting from Hard Disk..."])
    assert {f.category for f in handed_over.findings()} == {"console.silent", "boot.stall"}


#: samples/qemu/boot-loop/serial.log: each boot's panic and the kernel's restart line (lines 338,
#: 353; 690, 705; 1044, 1059), as a user pastes the repeating end of a loop without the banners
PASTED_LOOP = ["[    1.826033] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
               "[    1.831308] Rebooting in 1 seconds..",
               "[    1.785723] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
               "[    1.789014] Rebooting in 1 seconds..",
               "[    2.105773] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
               "[    2.109002] Rebooting in 1 seconds.."]


def test_after_a_restart_line_the_kernel_clock_starting_again_is_the_next_boot(catalog):
    """The second boot's panic is stamped earlier than the first boot's restart line: the clock began
    again. (The third's is not earlier than the second's restart line: a clock alone cannot
    tell every boot apart; the panic line, which a kernel prints once per run, seen again does:
    tests/detect/test_once_lines.py.)"""
    a = run_lines(catalog, PASTED_LOOP)
    assert [b.outcome for b in a.boots] == ["failure", "failure", "failure"]
    assert "boot.loop" in {f.category for f in a.capture_findings} and a.outcome == "failure"
    assert not run_lines(catalog, PASTED_LOOP[:2]).capture_findings  # one panic and its restart: no loop
    later = run_lines(catalog, [PASTED_LOOP[0], PASTED_LOOP[1], "[    1.840000] reboot: machine restart"])
    assert len(later.boots) == 1  # lines of the same boot after the restart line keep its clock


def test_a_console_that_stops_in_the_boot_loader_is_neither_silent_nor_stalled_at_a_hand_off(catalog):
    """samples/qemu-grub-rescue-prompt/serial.log lines 1-3: the boot sector reached GRUB; what
    follows is GRUB's (a capture that ends here ends inside the boot loader, not after the OS
    was handed the machine)."""
    a = run_lines(catalog, [SEABIOS, "Booting from Hard Disk...", "GRUB loading."])
    assert not a.findings() and a.outcome == "unknown"
    rescue = run_lines(catalog, [SEABIOS, "Booting from Hard Disk...", "GRUB loading.", *GRUB_RESCUE])
    assert {f.category for f in rescue.findings()} == {"boot.bootloader-error"} and len(rescue.boots) == 1


#: https://github.com/siderolabs/sidero/issues/447 (iPXE chain-loaded by UEFI PXE, its image fails)
IPXE_FAILED = ["Could not boot image: Error 0x7f048287 (http://ipxe.org/7f048287)", "No more network devices"]


def test_a_network_boot_that_fails_is_a_boot_loader_error_unless_the_disk_boots_after_it(catalog):
    a = run_lines(catalog, IPXE_FAILED)
    assert [f.rule for f in a.findings()] == ["ipxe-boot-failed"] and a.outcome == "failure"
    disk = run_lines(catalog, [*IPXE_FAILED, "Booting from Hard Disk...", "GRUB loading."])  # PXE first, then the disk
    assert not disk.findings()


#: public page in the search index (file id 28987634517): a Proxmox host's journal, stale /etc/fstab entries
EMERGENCY = "oct 10 18:05:51 pve systemd[1]: Reached target emergency.target - Emergency Mode."
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log
MULTI_USER = "[  OK  ] Reached target Multi-User System."


def test_emergency_mode_in_a_journals_earlier_boot_is_history(catalog):
    """journalctl separates boots with "-- Reboot --" (systemd <= 246) or "-- Boot ID --"."""
    for separator in ("-- Reboot --", "-- Boot 0e706ef4e7c64174bdd0cb139cf157bc --"):
        a = run_lines(catalog, [EMERGENCY, separator, MULTI_USER])
        assert [b.outcome for b in a.boots] == ["failure", "success"] and a.outcome == "success"
        assert "init.emergency-mode" not in {f.category for f in a.findings()}
    assert run_lines(catalog, [EMERGENCY]).outcome == "failure"


def test_emergency_mode_is_claimed_only_when_a_shell_was_started(catalog):
    """BusyBox 1.35.0 (Debian 12) `busybox sh -l` on a terminal; the AWS EC2 troubleshooting guide's
    initramfs-tools console (awsdocs/amazon-ec2-user-guide); dracut 059's die() (synthetic, as in
    parsers/detectors/systemd.yaml)."""
    banner = "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) built-in shell (ash)"
    assert "init.emergency-mode" not in {f.category for f in run_lines(catalog, [banner]).findings()}
    dropped = run_lines(catalog, ["ALERT! /dev/sda1 does not exist. Dropping to a shell!", "",
                                  "BusyBox v1.13.3 (Ubuntu 1:1.13.3-1ubuntu5) built-in shell (ash)"])
    assert "init.emergency-mode" in {f.category for f in dropped.findings()}
    fatal = ["[    2.913351] dracut: FATAL: No or empty root= argument", "[    2.913838] dracut: Refusing to continue"]
    panicked = run_lines(catalog, fatal + ["[    2.915012] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"])
    assert {f.category for f in panicked.findings()} >= {"disk.root-not-found", "kernel.panic"}
    assert "init.emergency-mode" not in {f.category for f in panicked.findings()}
    shell = run_lines(catalog, fatal + ["Entering emergency mode. Exit the shell to continue."])
    assert "dracut-fatal" in {f.rule for f in shell.findings()}


#: samples/qemu-initramfs-exec-init-missing/serial.log lines 349-356: the panic's call trace, cut
#: before its "Kernel panic" line and its end (a pasted excerpt, a screen scrolled past them)
PANIC_TRACE = ["[    3.078453] Call Trace:", "[    3.078990]  <TASK>", "[    3.079147]  dump_stack_lvl+0x44/0x5c",
               "[    3.079412]  panic+0x118/0x2f4", "[    3.079480]  do_exit.cold+0x15/0x15",
               "[    3.079547]  do_group_exit+0x2d/0x80"]
#: samples/qemu/oom/serial.log lines 350-351: the OOM killer's frames, without its report lines
OOM_TRACE = ["[    5.195623]  oom_kill_process.cold+0xb/0x10", "[    5.195738]  out_of_memory+0x1fd/0x4c0"]
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log
STARTED = "[  OK  ] Started Dynamic System Tuning Daemon."


def test_a_call_trace_without_its_header_still_names_a_panic_or_the_oom_killer(catalog):
    panic = run_lines(catalog, PANIC_TRACE)
    assert [(f.rule, f.category) for f in panic.findings()] == [("kernel-panic-call-trace", "kernel.panic")]
    assert panic.outcome == "failure"
    whole = run_lines(catalog, ["[    3.076188] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00",
                                *PANIC_TRACE])
    assert "kernel-panic-call-trace" not in {f.rule for f in whole.findings()}  # the panic line says more
    oom = run_lines(catalog, OOM_TRACE)
    assert [f.category for f in oom.findings()] == ["kernel.oom"] and oom.outcome == "failure"
    assert run_lines(catalog, [*OOM_TRACE, STARTED]).outcome == "unknown"  # the boot went on after it
