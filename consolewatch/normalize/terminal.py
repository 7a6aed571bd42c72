"""What a terminal would show for one console row: escape sequences, CR, BS, controls.

Console bytes come from the guest and may be hostile, so nothing here is passed through:
colour (SGR) and all other CSI sequences are interpreted or dropped, OSC/DCS/APC/PM/SOS strings
(title set, OSC 8 links, OSC 52 clipboard) are removed, C0/C1 controls are dropped or shown
as visible `\\xNN` escapes. The result is plain text that is inert in a terminal, HTML or chat.

Only lines that contain a control character come here (see `assembler`); clean lines skip it.

Work is linear in the row's length: cursor motion can ask for blank cells (padding after a
jump right, erasing to the left of the cursor) out of proportion to the bytes that asked, so
each row has a budget of `WORK_PER_CHAR` cells per input character; past it, a jump right
no longer pads and an erase to the left is ignored. No real console comes near it.
"""

from __future__ import annotations

import re

# ESC-introduced strings and sequences, in the order they are tried.
_OSC_LIKE = re.compile(  # every branch opens with a literal: `re` then skips to candidates fast
    r"(?:\x1b[\]PX^_]|\x90|\x98|\x9d|\x9e|\x9f)"  # OSC, DCS, SOS, PM, APC (7- and 8-bit)
    r"[^\x07\x1b\x9c]*"  # payload
    r"(?:\x07|\x1b\\|\x9c|(?=\x1b)|$)"  # BEL, ST, or an interrupted string
)
_CSI = re.compile(r"(?:\x1b\[|\x9b)([\x30-\x3f]*)[\x20-\x2f]*([\x40-\x7e])?")
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f]+")
_ESC_OTHER = re.compile(r"\x1b(?:[\x20-\x2f]+[\x30-\x7e]?|[\x30-\x7e])?")

#: Controls dropped silently: NUL padding, bell, shift in/out, XON/XOFF, CAN/SUB, DEL.
_DROP = frozenset("\x00\x07\x0e\x0f\x11\x13\x18\x1a\x7f")
#: A cell the cursor skipped over (a cursor move, not a printed space). Leading ones are dropped:
#: text a full-screen program placed at column 40 is not a line indented by 40 spaces.
_SKIP = "\x00"
#: Blank cells a row may cost per input character (plus `WORK_BASE`), see the module doc.
WORK_PER_CHAR = 8
WORK_BASE = 512
#: CSI finals that move the cursor or change cells; every other one is dropped.
_ACTED_ON = frozenset("CDG`HfKJABEF")
#: The farthest column a cursor sequence can address.
MAX_COLUMN = 65535


def _row(cells: list[str]) -> str:
    return "".join(cells).lstrip(_SKIP).replace(_SKIP, " ")


def _end_row(cells: list[str], rows: list[str]) -> None:
    """What was written on a row the cursor leaves, unless it is blank."""
    row = _row(cells).rstrip()
    if row.strip():
        rows.append(row)


def _number(param: str) -> int:
    """A CSI parameter, clamped: `99999999999` is a far column, not a 4,300-digit int parse."""
    digits = param.lstrip("0")
    if not digits.isdigit():
        return 0
    return int(digits) if len(digits) <= 5 else MAX_COLUMN


def row_dependent(raw: bytes) -> bool:
    """Whether rendering the line `raw` (UTF-8 bytes) may read the cursor row or set it
    absolutely: a cursor position (CSI H/f) or a full reset (ESC c). Every other line moves the
    row by the same amount wherever it starts, so the assembler may reuse its rows. Keep this in
    step with `RowTerminal.render` and `_csi`."""
    if b"\x1b" not in raw and b"\xc2\x9b" not in raw:
        return False
    return b"H" in raw or b"f" in raw or b"\x1bc" in raw


def _visible(ch: str) -> str:
    return "\\x%02x" % ord(ch)


class RowTerminal:
    """Interprets control sequences on a stream of rows; tracks the cursor row across calls.

    `render(text)` takes the characters between two newlines and returns the rows a terminal
    would show (usually one; more when a cursor-position sequence moves to another row).
    """

    __slots__ = ("row", "_budget")

    def __init__(self) -> None:
        self.row = 0
        self._budget = 0

    def render(self, text: str) -> list[str]:
        self._budget = WORK_BASE + WORK_PER_CHAR * len(text)
        text = _OSC_LIKE.sub("", text)
        rows: list[str] = []
        cells: list[str] = []
        col = 0
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch >= " " and not ("\x7f" <= ch <= "\x9f"):
                run = _PRINTABLE.match(text, i).group()  # type: ignore[union-attr]  # ch matches: one slice
                if col > len(cells):
                    if self._spend(col - len(cells)):
                        cells.extend(_SKIP * (col - len(cells)))
                    else:  # over budget: no padding, the text goes on where the row ends
                        col = len(cells)
                cells[col:col + len(run)] = run
                col += len(run)
                i += len(run)
                continue
            if ch == "\r":
                col = 0
            elif ch == "\b":
                col = max(0, col - 1)
            elif ch == "\t":
                col = min(col, len(cells))
                cells[col:col + 1] = ["\t"]
                col += 1
            elif ch == "\x1b" or ch == "\x9b":
                m = _CSI.match(text, i)
                if m:
                    col, cells = self._csi(m.group(1), m.group(2), col, cells, rows)
                    i = m.end()
                    continue
                if text.startswith("\x1bc", i):  # RIS, a full reset: the screen is cleared, the cursor homed
                    _end_row(cells, rows)
                    cells, col, self.row = [], 0, 0
                    i += 2
                    continue
                m = _ESC_OTHER.match(text, i)
                i = m.end() if m else i + 1
                continue
            elif ch in _DROP:
                pass
            else:
                # Any other C0 or C1 control: shown, never passed through.
                col = min(col, len(cells))
                for c in _visible(ch):
                    cells[col:col + 1] = [c]
                    col += 1
            i += 1
        rows.append(_row(cells))
        self.row += 1
        return rows

    def _spend(self, cells: int) -> bool:
        if cells > self._budget:
            return False
        self._budget -= cells
        return True

    def _csi(self, params: str, final: str | None, col: int, cells: list[str], rows: list[str]) -> tuple[int, list[str]]:
        if final is None or final not in _ACTED_ON:
            return min(col, MAX_COLUMN), cells  # colour, modes (?7l) and the rest change no cell
        nums = [_number(p) for p in params.split(";", 2)] if params else []
        first = nums[0] if nums else 0
        if final == "C":
            col += max(first, 1)
        elif final == "D":
            col = max(0, col - max(first, 1))
        elif final == "G" or final == "`":
            col = max(first, 1) - 1
        elif final in "Hf":
            row = max(first, 1) - 1
            col = max(nums[1] if len(nums) > 1 else 1, 1) - 1
            if row != self.row:
                # Moving to another row ends what was written on this one.
                _end_row(cells, rows)
                cells = []
                self.row = row
        elif final == "K":
            if first == 0:
                del cells[col:]
            elif first == 1:
                width = min(col + 1, len(cells))
                if self._spend(width):
                    cells[:width] = [" "] * width
            else:
                cells = []
        elif final == "J" and first in (2, 3):
            _end_row(cells, rows)
            cells = []
        elif final in "AB" or final in "EF":
            _end_row(cells, rows)
            cells = []
            if final in "EF":
                col = 0
        return min(col, MAX_COLUMN), cells
