"""`analyze --boot last` writes context lines and fixes only for the boots it prints (detect/deferring.py).

What a user reads must not change: the verdict's boots (the last, and the failed boot before it
when the capture ends inside its loop) carry the same context lines and fixes, judged the same,
as when every finding is written in full. Real consoles from samples/ (QEMU boots and a cloud
console whose fixes are written for its cloud).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import consolewatch
from consolewatch.analysis import analyze
from consolewatch.sinks.jsonout import analysis_dict, dumps

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: samples/qemu/boot-loop/serial.log (lines 1-2, 338, 353-355): a boot that panics and restarts
SEABIOS = "SeaBIOS (version 1.16.2-debian-1.16.2-1)"
ROM = "Booting from ROM..."
PANIC = "[    1.826033] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
REBOOTING = "[    1.831308] Rebooting in 1 seconds.."
#: GCE's SeaBIOS (parsers/formats/seabios.yaml): the console names its cloud
GCE_EVENT = "Sending Seabios boot VM event."


@pytest.mark.parametrize(("console", "cloud"), [
    ("qemu-softdog-reboot-loop/serial.log", None),  # a watchdog resets every boot: a loop
    ("qemu/boot-loop/serial.log", None),  # a panic loop
    ("qemu/boot-loop/serial.log", "aws"),  # the same, its fixes written for EC2 at every boot's close
    ("qemu-login-then-softdog-reset/serial.log", "gce"),  # came up, then a watchdog reset it
    ("aws-nixos-reboot-kill-init-panic/console.log", None),  # the console names EC2 after findings
])
def test_the_printed_boots_are_the_same_whether_other_boots_get_their_detail(console, cloud):
    full = analyze(SAMPLES / console, cloud)
    verdict = analyze(SAMPLES / console, cloud, detail="verdict")
    assert len(verdict.boots) == len(full.boots)
    assert dumps(analysis_dict(verdict, "last")) == dumps(analysis_dict(full, "last"))
    printed = verdict.findings("last")
    assert any(f.context for f in printed) and all(f.remediation for f in printed)
    # every boot is judged alike: outcomes and findings, context lines and fixes left aside
    assert [b.outcome for b in verdict.boots] == [b.outcome for b in full.boots]
    assert [[(f.rule, f.evidence, f.verdict, f.severity) for f in b.findings] for b in verdict.boots] == [
        [(f.rule, f.evidence, f.verdict, f.severity) for f in b.findings] for b in full.boots]


def test_a_capture_that_ends_inside_its_loop_prints_the_failed_boot_before_the_last_in_full(tmp_path):
    log = tmp_path / "serial.log"
    log.write_text("\n".join([SEABIOS, ROM, "x", "y", "z", PANIC, REBOOTING, SEABIOS, ROM]) + "\n")
    full = analyze(log)
    verdict = analyze(log, detail="verdict")
    assert verdict.outcome == "failure" and len(verdict.boots) == 2
    looped = [f for f in verdict.findings("last") if f.boot == 1]
    assert looped, "the failed boot the capture loops on is part of the verdict"
    panic = next(f for f in looped if f.category == "disk.root-not-found")
    assert [e.text for e in panic.context] == ["x", "y", "z"] and panic.remediation
    assert verdict.findings("last") == full.findings("last")


def test_fixes_of_a_boot_closed_before_the_console_named_its_cloud_stay_as_written_then(tmp_path):
    # the failed boot closes with the cloud unknown (its fix the default text); the next boot,
    # cut off in the loop, names GCE: the boot before it is printed with the fix it had
    log = tmp_path / "serial.log"
    log.write_text("\n".join([SEABIOS, ROM, PANIC, REBOOTING, SEABIOS, GCE_EVENT, ROM]) + "\n")
    full = analyze(log)
    verdict = analyze(log, detail="verdict")
    assert verdict.cloud == full.cloud == "gce" and verdict.outcome == "failure"
    assert [f for f in verdict.findings("last") if f.boot == 1]
    assert verdict.findings("last") == full.findings("last")


def test_analyze_json_prints_what_the_full_analysis_holds(cli):
    console = SAMPLES / "qemu-softdog-reboot-loop" / "serial.log"
    r = cli("analyze", "--json", "--fail-on", "never", str(console))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc == json.loads(dumps({**analysis_dict(consolewatch.analyze(console), "last"), "boot_scope": "last"}))
    assert any(f["context"] for f in doc["findings"])
