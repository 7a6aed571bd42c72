"""Timestamp prefixes on console lines: printk, syslog, ISO/RFC 3339, cloud-init, Go log.

`split_stamps(text)` returns the line's *message* (the text with the prefixes removed, which is
what format and detector regexes search), the printk time in seconds since kernel start, the
wall-clock time printed in the line (epoch seconds; syslog lines carry no year, so year 2000 is
assumed: only differences within a capture are meaningful) and the syslog program name.
The line's own text is never changed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: Month abbreviations, lower-case. journalctl and syslog daemons print the month as the locale
#: abbreviates it (strftime's %b): English, and those of German, French, Italian, Spanish,
#: Portuguese and Dutch that differ from it ("gen 18 19:37:27 localhost systemd[1]: ..."), dots dropped.
_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
           "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_MONTHS.update({
    "mär": 3, "mai": 5, "okt": 10, "dez": 12,  # de
    "janv": 1, "févr": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7, "août": 8, "sept": 9, "déc": 12,  # fr
    "gen": 1, "mag": 5, "giu": 6, "lug": 7, "ago": 8, "set": 9, "ott": 10, "dic": 12,  # it
    "ene": 1, "abr": 4,  # es
    "fev": 2, "out": 10,  # pt
    "mrt": 3, "mei": 5,  # nl
})

_PRI = re.compile(r"<\d{1,3}>")
_SYSLOG = re.compile(
    r"(?P<mon>[^\W\d_]{3,4})\.? (?P<day>[ \d]\d) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)  ?"  # a pasted journal may double the space
    r"(?:(?P<host>[^\s:\[]+) )?(?P<prog>[^\s:\[]+)(?:\[\d+\])?: ?"
)
_PRINTK = re.compile(r"\[ *(?P<sec>\d{1,7}\.\d{1,9})\] ?")
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)[ T](?P<h>\d\d):(?P<m>\d\d)[:.](?P<s>\d\d(?:[.,]\d+)?)"
    r"(?: ?(?:Z|[+-]\d\d:?\d\d))?(?::? - |: | )"
)
#: After an RFC 3339 stamp (journalctl -o short-iso, rsyslog's RSYSLOG_FileFormat: the default
#: of Debian 12's /var/log/syslog): the host and the program with its pid ("kernel" has none).
_ISO_HOST_PROG = re.compile(r"(?P<host>[^\s:\[]+) (?P<prog>[^\s:\[]+)(?:\[\d+\]|(?<= kernel)): ")
_GO = re.compile(r"(?P<y>\d{4})/(?P<mo>\d\d)/(?P<d>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?) ")


class Stamps(NamedTuple):
    message: str
    guest_time: float | None
    wall_time: float | None
    program: str | None


_DAYS: dict[tuple[int, int, int], int] = {}


def _days(y: int, mo: int) -> int:
    """Days from 1970-01-01 to the first of month `mo` of year `y` (proleptic Gregorian), as
    `calendar.timegm` counts them; without `calendar`, whose import (with `datetime`) costs
    more than a process's whole use of it."""
    y -= mo <= 2
    era, yoe = divmod(y, 400)
    doe = yoe * 365 + yoe // 4 - yoe // 100 + (153 * (mo - 3 if mo > 2 else mo + 9) + 2) // 5
    return era * 146097 + doe - 719468


def _epoch(y: int, mo: int, d: int, h: str, m: str, s: str) -> float | None:
    day = _DAYS.get((y, mo, d))
    if day is None:
        if not (1 <= y <= 9999 and 1 <= mo <= 12):  # what `calendar.timegm` refuses
            return None
        day = (_days(y, mo) + d - 1) * 86400
        if len(_DAYS) < 4096:
            _DAYS[(y, mo, d)] = day
    return day + int(h) * 3600 + int(m) * 60 + float(s.replace(",", "."))


def split_stamps(text: str) -> Stamps:
    """Strip the timestamp prefixes this module knows and return them parsed."""
    pos = 0
    guest = wall = None
    program = None
    if text.startswith("<"):
        m = _PRI.match(text)
        if m:
            pos = m.end()
    c = text[pos:pos + 1]
    if c.isalpha():
        m = _SYSLOG.match(text, pos)
        month = _MONTHS.get(m["mon"].lower()) if m else None
        if m and month:
            wall = _epoch(2000, month, int(m["day"]), m["h"], m["m"], m["s"])
            program = m["prog"]
            pos = m.end()
            c = text[pos:pos + 1]
    elif c.isdigit():
        m = _ISO.match(text, pos) or _GO.match(text, pos)
        if m:
            wall = _epoch(int(m["y"]), int(m["mo"]), int(m["d"]), m["h"], m["m"], m["s"])
            iso_t = text[pos + 10:pos + 11] == "T" and text[m.end() - 1:m.end()] == " "
            pos = m.end()
            if iso_t and (hp := _ISO_HOST_PROG.match(text, pos)):
                program, pos = hp["prog"], hp.end()
            c = text[pos:pos + 1]
    if c == "[":
        m = _PRINTK.match(text, pos)
        if m:
            guest = float(m["sec"])
            pos = m.end()
    return Stamps(text[pos:] if pos else text, guest, wall, program)
