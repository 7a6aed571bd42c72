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
