"""The VGA screen at the end of a real kernel panic shows the panic's own dump (the CPU line,
registers, the call trace through panic(), "---[ end Kernel panic"): that dump is the panic's,
not an oops. Frames recorded by frames/capture_panics.py, read as a user's screenshot (PNG, and
the same screen as a JPEG of quality 50)."""

from __future__ import annotations

import io

import pytest
from helpers import FRAMES
from PIL import Image

from consolewatch.analysis import analyze

#: recipe -> the categories the screen shows (the panic, and its cause where the screen names it)
PANICS = {
    "kill-init": {"kernel.panic"},
    "nmi-panic": {"kernel.panic"},
    "oom-init": {"kernel.panic", "kernel.oom"},
    "mce-fatal": {"kernel.panic"},
}


@pytest.mark.parametrize("quality", [None, 50])
@pytest.mark.parametrize("name", sorted(PANICS))
def test_a_panics_own_dump_on_a_screen_is_not_an_oops(name, quality, tmp_path, catalog):
    png = FRAMES / f"qemu-panic-{name}.png"
    truth = (FRAMES / f"qemu-panic-{name}.txt").read_text()
    assert "---[ end Kernel panic" in truth and ("</TASK>" in truth or name == "mce-fatal")  # the dump in view
    path = png
    if quality is not None:
        buf = io.BytesIO()
        Image.open(png).convert("RGB").save(buf, "JPEG", quality=quality)
        path = tmp_path / "screen.jpg"
        path.write_bytes(buf.getvalue())
    result = analyze([path], catalog=catalog)
    categories = {f.category for f in result.findings()}
    assert result.outcome == "failure"
    assert categories == PANICS[name], [(f.rule, f.category) for f in result.findings()]
