"""Init failures on a VGA screen that tesseract reads (a resized or re-encoded screenshot).

Real screens (frames/qemu-init-*.png, made by tests/qemu/extra/init_screens.py: the Debian
cloud kernel under QEMU with a broken initramfs /init; .txt is the VGA text buffer at the same
moment). Scaled (1.25x, 1.5x: what a cloud console or an image viewer hands a user) the glyph
grid cannot read them and tesseract does. What tesseract did to these screens, and what must
still be concluded:

- the panic's framing marks misread: the printk stamp's `]` lost or `[` read as `c`, `-` as a
  dash, `---[ end` as `---{ end`, the footer's `]---` as `1---`: the footer must still be the
  panic's, the outcome a failure (it was `unknown` on 12 of 32 readings of exec-missing);
- `init!` read as `init?`/`initt`, hex digits in capitals: the exit status 127 must still name
  init (missed on every scaled reading);
- a scaled 80x25 screen is still 80 columns: the footer's wrapped `code=0x00007f00 ]---` row
  joins its line;
- the panic's own dump (CPU/Comm, Hardware name, Call Trace, user registers) is no oops.
"""

from __future__ import annotations

import io

import pytest
from helpers import FRAMES
from PIL import Image

from consolewatch.analysis import analyze
from consolewatch.ocr.framing import restore_framing
from consolewatch.ocr.reader import read_frame

#: frame -> the categories the screen shows
SCREENS = {
    "qemu-init-exec-missing": {"init.not-found", "kernel.panic"},   # /init execs a missing program: 127
    "qemu-init-no-shell": {"init.not-found", "kernel.panic"},       # No working init found
}


def _shown(name: str, scale: float, quality: int | None, tmp_path):
    img = Image.open(FRAMES / f"{name}.png").convert("RGB")
    img = img.resize((round(720 * scale), round(400 * scale)), Image.Resampling.BICUBIC)
    path = tmp_path / ("screen.png" if quality is None else "screen.jpg")
    buf = io.BytesIO()
    img.save(buf, "PNG") if quality is None else img.save(buf, "JPEG", quality=quality)
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize(("scale", "quality"), [(1.5, None), (1.25, 50)])
@pytest.mark.parametrize("name", sorted(SCREENS))
def test_an_init_failure_read_by_tesseract_is_an_init_failure_not_an_oops(name, scale, quality, tmp_path, catalog):
    truth = (FRAMES / f"{name}.txt").read_text()
    assert "---[ end Kernel panic" in truth and "</TASK>" in truth  # the panic's dump is in view
    path = _shown(name, scale, quality, tmp_path)
    assert read_frame(path.read_bytes()).engine == "tesseract"  # not the glyph grid
    result = analyze([path], catalog=catalog)
    found = {f.category for f in result.findings()}
    assert result.outcome == "failure"
    assert found == SCREENS[name], [(f.rule, f.category, [e.text for e in f.evidence]) for f in result.findings()]


def test_a_scaled_text_screen_keeps_its_80_columns(tmp_path):
    result = read_frame(_shown("qemu-init-exec-missing", 1.5, None, tmp_path).read_bytes())
    assert (result.cols, result.rows) == (80, 25)
    footer = [line.text for line in result.lines if "end Kernel panic" in line.text]
    assert footer and len(footer[0]) == 80  # a full row: the next row continues it


@pytest.mark.parametrize(("read", "meant"), [
    # what tesseract 5.3 returned for rows of the frames above (scaled, JPEG)
    ("[    2.841771  Kernel panic - not syncing: No working init found.  Try passing i",
     "[    2.841771] Kernel panic - not syncing: No working init found.  Try passing i"),
    ("c    2.465364] ---[ end Kernel panic - not syncing: Attempted to kill init! exit",
     "[    2.465364] ---[ end Kernel panic - not syncing: Attempted to kill init! exit"),
    ("[    2.465364] \u2014\u2014-[ end Kernel panic - not syncing: Attempted to kill init? exit",
     "[    2.465364] ---[ end Kernel panic - not syncing: Attempted to kill init? exit"),
    ("[    2.465364] ---[ end Kernel panic \u2014 not syncing: Attempted to kill init? exit",
     "[    2.465364] ---[ end Kernel panic - not syncing: Attempted to kill init? exit"),
    ("[    2.087522] ---{ end Kernel panic - not syncing: No working init found.  Try",
     "[    2.087522] ---[ end Kernel panic - not syncing: No working init found.  Try"),
    ("code=0x00007f00 1---", "code=0x00007f00 ]---"),
    ("code=0x00007f00 I]-\u2014\u2014", "code=0x00007f00 ]---"),
    ("[    2.4601981 R13: 0000990000000001", "[    2.460198] R13: 0000990000000001"),
])
def test_the_kernels_framing_is_restored(read, meant):
    assert restore_framing(read) == meant


@pytest.mark.parametrize("text", [
    "[    2.086367]  ? rest_init+0xd0/0xd0",               # a trace row: nothing to restore
    "cat 1---",                                             # not a footer's end
    "Welcome to Debian GNU/Linux 12 (bookworm)!",
    "[ 12.5 ] weird",
    "\x1b[31m---{ end of list 1---",                      # hostile: escapes stay as they are
    "c" * 5000,
])
def test_other_text_is_left_alone(text):
    assert restore_framing(text) == text
