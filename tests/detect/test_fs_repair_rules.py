"""xfs_repair's reports of damage (lines as xfsprogs 6.1.0 printed them on a real damaged image,
see parsers/detectors/fs-repair.yaml) inside a real boot: the damage is reported, the boot's
outcome is what it did next; a clean repair run reports nothing."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import serial_lines

DAMAGED = ["Phase 1 - find and verify superblock...", "Phase 2 - using internal log",
           "        - zero log...", "        - scan filesystem freespace and inode maps...",
           "Metadata CRC error detected at 0x55cdfc0d09e9, xfs_bnobt block 0x8/0x1000",
           "btree block 0/1 is suspect, error -74", "bad magic # 0xf0ff3f13 in btbno block 0/1",
           "root inode chunk not found"]
INODE = ["bad magic number 0x0 on inode 128", "would clear root inode 128", "root inode would be lost"]
CLEAN = DAMAGED[:4] + ["        - found root inode chunk", "Phase 3 - for each AG..."]


def _with(lines: list[str]) -> list[str]:
    healthy = serial_lines("qemu/healthy")
    at = next(i for i, x in enumerate(healthy) if "Run /init as init process" in x) + 1
    return healthy[:at] + lines + healthy[at:]


def test_damage_xfs_repair_reports_is_a_file_system_error_that_does_not_decide_the_boot(catalog):
    a = run_lines(catalog, _with(DAMAGED))
    found = [f for f in a.findings("all") if f.rule == "xfs-repair-found-damage"]
    assert found and found[0].category == "disk.fs-error"
    assert a.outcome == "success"  # the boot came up after the repair: a warning, not the verdict
    alone = run_lines(catalog, DAMAGED)
    assert "disk.fs-error" in {f.category for f in alone.findings()} and alone.outcome == "unknown"
    inode = run_lines(catalog, INODE)  # a zeroed root inode, as xfs_repair -n reports it
    assert [e.text for f in inode.findings() if f.category == "disk.fs-error" for e in f.evidence][:1] == INODE[:1]


def test_a_clean_xfs_repair_run_reports_nothing(catalog):
    a = run_lines(catalog, _with(CLEAN))
    assert a.outcome == "success" and not [f for f in a.findings("all") if f.category == "disk.fs-error"]
