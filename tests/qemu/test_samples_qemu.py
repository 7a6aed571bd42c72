"""The captured samples under samples/qemu are complete and self-consistent (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from guestkit.boot import join_screen_rows, sanitize_lines
from PIL import Image
from scenarios import BY_NAME, SCENARIOS

ROOT = Path(__file__).resolve().parents[2] / "samples" / "qemu"
CATEGORIES = {
    "network.dhcp.no-lease", "network.dhcp.option121-missing", "network.no-device",
    "network.static-config-missing", "network.metadata-unreachable",
    "disk.root-not-found", "disk.driver-missing", "disk.fs-error",
    "kernel.panic", "kernel.oops", "kernel.oom",
    "init.not-found", "init.unit-failed", "init.emergency-mode",
    "boot.bootloader-error", "boot.loop", "boot.stall", "console.silent",
    "cloudinit.error", "unikernel.crash", "boot.success",
}


def folders():
    return sorted(p for p in ROOT.iterdir() if p.is_dir())


def test_every_scenario_has_a_sample():
    assert {p.name for p in folders()} == {s.name for s in SCENARIOS}


@pytest.mark.parametrize("folder", folders(), ids=lambda p: p.name)
def test_sample_is_consistent(folder):
    meta = yaml.safe_load((folder / "meta.yaml").read_text())
    exp = yaml.safe_load((folder / "expected.yaml").read_text())
    sc = BY_NAME[folder.name]
    assert meta["synthetic"] is False
    for name in meta["files"]:
        assert (folder / name).is_file()
    assert meta["kernel"]["release"] and meta["qemu"]["argv"]
    assert exp["outcome"] == sc.outcome
    assert set(exp["categories"]) == set(sc.categories) and set(exp["categories"]) <= CATEGORIES
    lines = sanitize_lines((folder / "serial.log").read_bytes())
    for category, quoted in exp["evidence"].items():
        assert category in exp["categories"]
        for line in quoted:
            assert line in lines, f"{category}: {line!r} not in serial.log"
    if "boots" in exp:
        assert exp["boots"] == meta["boot"]["boots_on_serial"] >= 3
    if sc.screen:
        with Image.open(folder / "screen.png") as img:
            assert img.format == "PNG" and img.size[0] >= 640
        assert set(exp["screen_categories"]) <= set(exp["categories"])
        screen = join_screen_rows(meta["screen_text"].splitlines())
        assert exp["screen_evidence"] in [s.strip() for s in screen]
    for marker in meta["markers"]:
        assert marker["printed"] == any(line == marker["text"] for line in lines)
