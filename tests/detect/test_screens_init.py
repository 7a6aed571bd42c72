"""A small or lossy screenshot of the kernel's init panic: OCR misreads its letters (l, i, t as
|, 1, [; n as m; N as M), and the exact wording no-working-init knows is not there. Real QEMU
screens (samples/qemu-init-*/screen.png) made smaller or saved as JPEG here, read by the real
OCR engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import consolewatch
from tests.detect.findings import SAMPLES


def _degraded(case: str, tmp_path: Path, how: str) -> Path:
    im = Image.open(SAMPLES / case / "screen.png").convert("RGB")
    w, h = im.size
    if how == "half":
        out = tmp_path / f"{case}-half.png"
        im.resize((w // 2, h // 2)).save(out)
    else:
        out = tmp_path / f"{case}-q15.jpg"
        im.save(out, quality=15)
    return out


@pytest.mark.parametrize("case,how", [("qemu-init-wrong-arch", "half"), ("qemu-init-requested-missing", "q15")])
def test_a_degraded_screen_of_the_init_panic_is_init_not_found(tmp_path, case, how):
    a = consolewatch.analyze([_degraded(case, tmp_path, how)])
    assert a.outcome == "failure"
    assert "init.not-found" in {f.category for f in a.findings()}


def test_a_degraded_screen_of_another_failure_is_not_init_not_found(tmp_path):
    a = consolewatch.analyze([_degraded("qemu-itools-root-mount-failed", tmp_path, "half")])
    assert not [f for f in a.findings("all") if f.rule == "no-working-init-misread"]
