"""Timestamp prefixes on console lines: printk, syslog, ISO/RFC 3339, cloud-init, Go log.

`split_stamps(text)` returns the line's *message* (the text with the prefixes removed, which is
what format and detector regexes search), the printk time in seconds since kernel start, the
wall-clock time printed in the line (epoch seconds; syslog lines carry no year, so year 2000 is
assumed: only differences within a capture are meaningful) and the syslog program name.
A syslog daemon may write the message's facility and priority before the program (BusyBox
syslogd, OpenWrt's logread, LinuxKit's VM log): such a line names its program too (a log file's
line: detect/views.py). The line's own text is never changed.
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
#: A syslog daemon that writes each message's facility and priority between the host and the
#: program (BusyBox syslogd and OpenWrt's: "Jul 23 11:54:59 router daemon.info dnsmasq[1]: ...";
#: LinuxKit's and Docker Desktop's VM logs after a Go time: "2016-08-10 00:01:17 +0000 UTC
#: kern.warn kernel: ..."): the names of syslog(3)'s facilities and priorities, as syslogd prints them.
_FACILITY = (r"(?:kern|user|mail|daemon|auth|authpriv|syslog|lpr|news|uucp|cron|ftp|local[0-7])"
             r"\.(?:emerg|alert|crit|err|error|warn|warning|notice|info|debug)")
_SYSLOG = re.compile(
    r"(?P<mon>[^\W\d_]{3,4})\.? (?P<day>[ \d]\d) "
    r"(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)  ?"  # a pasted journal may double the space
    r"(?:(?P<host>[^\s:\[]+) )?(?:" + _FACILITY + r" )?(?P<prog>[^\s:\[]+)(?:\[\d+\])?: ?"
)
#: OpenWrt's logread: ctime's date with its weekday and year, the facility and priority, the program
#: ("Mon Apr 12 18:29:48 2021 kern.warn kernel: [  267.720081] hostapd invoked oom-killer: ...").
_LOGREAD = re.compile(
    r"[A-Z][a-z]{2} (?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<y>\d{4}) "
    + _FACILITY + r" (?P<prog>[^\s:\[]+)(?:\[\d+\])?: ?"
)
#: printk's time, and the caller id a kernel built with CONFIG_PRINTK_CALLER prints after it
#: (kernel/printk/printk.c print_caller(): "[%6s]" of "T<pid>" or "C<cpu>", SUSE's and syzbot's
#: kernels: "[  393.919814][    T1] reboot: Restarting system").
_PRINTK = re.compile(r"\[ *(?P<sec>\d{1,7}\.\d{1,9})\](?:\[ *[CT]\d{1,10}\])? ?")
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)[ T](?P<h>\d\d):(?P<m>\d\d)[:.](?P<s>\d\d(?:[.,]\d+)?)"
    r"(?: ?(?:Z|[+-]\d\d:?\d\d))?(?::? - |: | )"
)
#: After an RFC 3339 stamp (journalctl -o short-iso, rsyslog's RSYSLOG_FileFormat: the default
#: of Debian 12's /var/log/syslog): the host and the program with its pid ("kernel" has none).
_ISO_HOST_PROG = re.compile(r"(?P<host>[^\s:\[]+) (?P<prog>[^\s:\[]+)(?:\[\d+\]|(?<= kernel)): ")
#: After any ISO or Go date (a zone's name may follow its offset, as Go's time.Time prints it):
#: a syslog facility and priority, then the program, with the host before them or not.
_ISO_FACILITY_PROG = re.compile(
    r"(?:[A-Z]{2,5} )?(?:(?P<host>[^\s:\[]+) )?" + _FACILITY + r" (?P<prog>[^\s:\[]+)(?:\[\d+\])?: ")
#: util-linux's `dmesg -T` (--time-format=ctime): the kernel's messages with their printk time
#: turned into the wall clock ("[Mon Jul 19 10:37:34 2021] XFS (nbd0): ..."). Only a running
#: system's dmesg(1) can print it: the lines are the kernel's, read after the fact, like a
#: syslog file's (detect/views.py), so they name the kernel as their program.
_DMESG_T = re.compile(
    r"\[[A-Z][a-z]{2} (?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d) (?P<y>\d{4})\] ?")
#: util-linux's `dmesg -x` (--decode): the facility and level, each padded to six, before the
#: printk time or `-T`'s date ("kern  :err   : [    2.345678] EXT4-fs error ..."). Like `-T`, only a
#: running system's dmesg(1) prints it; the kernel's own lines (facility kern) name it as their
#: program, those that user space wrote to /dev/kmsg keep none.
_DMESG_X = re.compile(r"(?P<fac>kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|ftp|local[0-7]) *:"
                      r"(?:emerg|alert|crit|err|warn|notice|info|debug) *: ")
_GO = re.compile(r"(?P<y>\d{4})/(?P<mo>\d\d)/(?P<d>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?) ")


class Stamps(NamedTuple):
    message: str
    guest_time: float | None
    wall_time: float | None
    program: str | None


_new = tuple.__new__
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
        if not month and (m := _LOGREAD.match(text, pos)):
            month = _MONTHS.get(m["mon"].lower())
        if m and month:
            year = int(m["y"]) if "y" in m.re.groupindex else 2000
            wall = _epoch(year, month, int(m["day"]), m["h"], m["m"], m["s"])
            program = m["prog"]
            pos = m.end()
            c = text[pos:pos + 1]
        elif text[pos + 6:pos + 7] == ":" and (m := _DMESG_X.match(text, pos)):
            program = "kernel" if m["fac"] == "kern" else None
            pos = m.end()
            c = text[pos:pos + 1]
    elif c.isdigit():
        m = _ISO.match(text, pos) or _GO.match(text, pos)
        if m:
            wall = _epoch(int(m["y"]), int(m["mo"]), int(m["d"]), m["h"], m["m"], m["s"])
            iso_t = text[pos + 10:pos + 11] == "T" and text[m.end() - 1:m.end()] == " "
            pos = m.end()
            if (iso_t and (hp := _ISO_HOST_PROG.match(text, pos))) or (hp := _ISO_FACILITY_PROG.match(text, pos)):
                program, pos = hp["prog"], hp.end()
            c = text[pos:pos + 1]
    if c == "[":
        m = _PRINTK.match(text, pos)
        if m:
            guest = float(m["sec"])
            pos = m.end()
        elif (pos == 0 or program == "kernel") and (m := _DMESG_T.match(text, pos)) \
                and (month := _MONTHS.get(m["mon"].lower())):
            wall = _epoch(int(m["y"]), month, int(m["day"]), m["h"], m["m"], m["s"])
            program, pos = "kernel", m.end()
    return _new(Stamps, (text[pos:] if pos else text, guest, wall, program))  # (the class's own __new__ is Python)
