"""Restore the kernel's fixed framing of a console line in tesseract's reading of it.

The kernel frames its lines with a few strings it always prints the same way: the printk
time stamp `[    2.465364] `, a panic's ` - not syncing: ` and its last line `---[ end Kernel
panic - not syncing: ... ]---`. Tesseract, reading a screenshot the glyph grid cannot (a
scaled or cropped screen, a JPEG), misreads exactly these marks, and every rule that quotes
them then misses the line. On real QEMU VGA screens of init failures it returned (see
tests/ocr/test_init_panic_screens.py):

    [    2.841771  Kernel panic - ...      the stamp's `]` lost (the message keeps its stamp)
    c    2.465364] ---[ end ...           the stamp's `[` read as `c` (also `(`, `{`, `|`)
    [    2.465364] ——-[ end ...           `-` read as an em or en dash, `[` as `{` or `(`
    ... exitcode=0x00007f00 1---          the footer's `]` read as `1`, `I`, `J` or `|`
    Kernel panic — not syncing: ...       the panic's `-` read as a dash

`restore_framing` puts these marks back (only where the rest of the mark is there: a stamp
with its six-digit fraction, `end Kernel panic` after the dashes) and keeps the line's length,
so that a row that filled the screen still does. It touches nothing else: the message
itself stays as tesseract read it, for the rules' own tolerance.
"""

from __future__ import annotations

import re

__all__ = ["restore_framing"]

_DASH = "-\u2013\u2014~"
#: a printk stamp at the start of a row: `[`, or a misread of it, the seconds with their six
#: digits, then `]`, a misread of it, or nothing (a space where it was)
_STAMP = re.compile(r"^[\[c({|](?P<sec> *\d{1,5}\.\d{6})(?:[\]\)\}1lIJ|]| (?= ))(?= )")
_PANIC = re.compile(rf"(Kernel panic )[{_DASH}]( not syncing)")
_FOOTER_HEAD = re.compile(rf"[{_DASH}]{{3}}[\[{{(] end (?=Kernel panic|trace )")
_FOOTER_TAIL = re.compile(rf"(?<=[0-9a-fA-F.)!?]) [\]1lIJ|}}]{{1,2}}[{_DASH}]{{3}}$")


def restore_framing(text: str) -> str:
    """`text` with the kernel's framing marks tesseract misread put back (same length)."""
    if not text:
        return text
    m = _STAMP.match(text)
    if m:
        text = f"[{m['sec']}]{text[m.end():]}"
    if "panic" in text:
        text = _PANIC.sub(r"\1-\2", text)
    if " end " in text:
        text = _FOOTER_HEAD.sub("---[ end ", text)
    if "---[ end " in text or (len(text) < 40 and " " in text and "[" not in text):
        # the footer's end, on its line or on the row it wrapped onto ("code=0x00007f00 1---")
        text = _FOOTER_TAIL.sub(" ]---", text)
    return text
