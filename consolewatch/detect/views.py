"""What a view of a boot can show: whether a capture shows the boot at all, judged the same way
for every rule (the outcome principles of parsers/README.md, "How a boot's outcome is decided").

A console captured from power-on shows the boot; a pasted excerpt may show only a running
system. Two things a view carries say which it is, whatever printed the lines:

- **The kernel's clock.** A printk time stamp counts seconds since the kernel started. A view
  with a line stamped in the kernel's first minutes (`BOOT_WINDOW`) is of the boot, milestone or
  not: a watchdog's report there (a soft or hard lockup, an RCU stall, a hung task: the kernel
  saying nothing moved for many seconds) is the boot waiting, and a capture that ends in it
  ends in a boot that waits forever (a stall). A report stamped hours after the kernel
  started, with nothing of the boot in view, is a running system's (a `dmesg` pasted from a
  host): it decides nothing. A single failure message there (an agent's fetch failing) is no
  wait: in an excerpt cut after it the boot may have gone on, so it still needs a milestone.
- **Log files.** A syslog or journal excerpt (each line with a date, a host and a program; no
  milestone and no printk-stamped line in the boot; `dmesg -T`'s wall-clock stamp, with `-x`'s
  facility and level or without, names the kernel as the program, normalize/stamps.py) is a
  file read after the fact: it cannot show the boot stopping where it ends. A failure or a
  stall it reports decides nothing, of any category: a unit failing, a device timing out, a
  file system shutting down are reported at their severity, and the outcome is unknown. What
  is the stop itself decides wherever it is read: the kernel's panic, an emergency shell.
  (netjudge says the same, more strongly, of a failure to get an address: a warning.)

- **A view cut inside a dump.** The kernel prints a call trace, a register dump or a hex dump
  of a buffer whole, in a burst. A capture whose last line is inside one (a frame with no end
  of the trace after it, a register or hex-dump row) was cut there by whoever copied it, not
  stopped there by the machine: it cannot show whether the boot carried on. A report the
  system carries on after (a `survivable` rule's failure: a file system's corruption report,
  an I/O error, a unit failing) then decides nothing. The crash the dump belongs to (an oops,
  a BUG: a `kernel.*` finding), what is the stop itself (a panic, an emergency shell) and a
  wait the view shows (a stall) still decide.

What a watchdog means for the outcome is judged here, whatever printed its lines. What it
*reports* (`report_unseen`): a `needs_milestone` rule's stall or failure decides only in a view
that shows the boot (a milestone; for a stall, a line from the kernel's first minutes too). What
its *reset* leaves in view (`rearmed`): a boot the capture cuts off after it came up no further
than the boot before it, which a watchdog reset, with its watchdog armed again, is not known to
stay up. The reset itself is a rule's (parsers/detectors/watchdog-resets.yaml: a boot with an
`arms` line, `BootCond.armed`, ended by a reset nothing announced); `rearmed` asks whether such
a rule found the boot before. (consolewatch/watchdog.py is another thing: the process's own
timer.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from consolewatch.detect.rules import BootCond
from consolewatch.model import MILESTONES
from consolewatch.normalize.stamps import split_stamps

if TYPE_CHECKING:
    from consolewatch.detect.bootstate import BootState
    from consolewatch.detect.rules import Rule
    from consolewatch.model import Boot, Finding

#: Seconds after the kernel started within which a printk-stamped line is of the boot: a cloud
#: or local VM reaches its login prompt well within them; the hung-task detector's first report
#: (120 s by default) of a task blocked from the boot's first minute falls inside too.
BOOT_WINDOW = 180.0

#: Categories whose finding is the stop itself, wherever it is read (a log file included).
STOPS_ITSELF = ("kernel.panic", "init.emergency-mode")


#: A line inside a dump the kernel prints in one burst: a call-trace frame (`func+0x1a/0x60
#: [module]`, with or without its `[<address>]` and `? `), a register row (`RAX: 0000...`,
#: `RSP: 0018:ffff...`), a hex-dump row of a buffer (`00000030: 00 00 ...`).
_IN_DUMP = re.compile(
    r"\s*(?:(?:\[<[0-9a-f]{8,16}>\]\s*)?(?:\? )?[\w.$]{1,200}\+0x[0-9a-f]{1,16}/0x[0-9a-f]{1,16}"
    r"|(?:[RE][A-Z0-9]{1,3}|EFLAGS|CR\d|DR\d|[CDEFGS]S|x\d{1,2}|sp) ?: {0,2}[0-9a-f]{4}(?:[0-9a-f]{4}|:[0-9a-f])|(?:pc|lr) : "
    r"|[0-9a-f]{8}: (?:[0-9a-f]{2} ){8})")


def cut_in_dump(state: BootState, ended_by: str) -> bool:
    """Does the capture end inside a dump (the boot's last line a frame, register or hex-dump
    row): cut by whoever copied it, so it cannot show the boot stopping?"""
    last = state.last_by_origin.get("*")
    if ended_by != "capture-end" or last is None:
        return False
    return _IN_DUMP.match(split_stamps(last.text).message) is not None


def early(guest_time: float) -> bool:
    """Is a line with this printk time stamp of the boot (the kernel's first minutes)?"""
    return guest_time <= BOOT_WINDOW


def logged(f: Finding) -> bool:
    """Is every line `f` quotes a syslog or journal line (a date, a host, the program)?"""
    return bool(f.evidence) and all(split_stamps(e.text).program is not None for e in f.evidence)


def log_excerpt(state: BootState) -> bool:
    """Does the boot show nothing of itself (no milestone, no printk-stamped line): a log file?"""
    return not (state.milestones or state.stamped)


def unseen_stops(state: BootState, findings: Sequence[Finding]) -> list[int]:
    """Indexes of the deciding findings (failures, stalls) of a syslog or journal excerpt that
    cannot show the boot stopping: every line they quote is a log line and the boot shows
    nothing of itself. Not a panic or an emergency shell: those are the stop itself."""
    if not log_excerpt(state):
        return []
    return [i for i, f in enumerate(findings)
            if f.verdict in ("failure", "stall") and not f.category.startswith(STOPS_ITSELF) and logged(f)]


def report_unseen(f: Finding, rule: Rule | None, shown: bool, early: bool) -> bool:
    """Is `f` a report a running system carries on after (a `needs_milestone` rule's stall or
    failure: a lockup, a hung task, an agent's fetch failing) in a view that cannot show the boot
    stopping there? `shown`: the view shows a milestone of the boot; `early`: it has a line from
    the kernel's first minutes, where a watchdog's report (a stall: nothing moved for seconds) is
    the boot waiting, milestone or not; a single failure message there still needs a milestone."""
    if rule is None or not rule.needs_milestone or f.verdict not in ("stall", "failure"):
        return False
    return not (shown or (early and f.verdict == "stall"))


def furthest(milestones: Iterable[str]) -> int:
    """The rank in `MILESTONES` of the furthest of these milestones, -1 for none."""
    return max((MILESTONES.index(m) for m in milestones), default=-1)


def rearmed(boots: Sequence[Boot], state: BootState, rules: Mapping[str, Rule]) -> bool:
    """The boot the capture cuts off came up with a watchdog armed (`BootCond.armed`) right after a
    boot that a watchdog reset with no line (a finding of an `armed` boot rule), and got no further
    than that boot got: the machine is in the loop, its next reset not seen yet. It is not known to
    stay up (undecided), and the capture ends inside the loop."""
    if state.armed is None or not boots or boots[-1].index != state.index - 1:
        return False
    before = boots[-1]
    reset = any(isinstance(r.condition, BootCond) and r.condition.armed
                for f in before.findings if (r := rules.get(f.rule)) is not None)
    return reset and furthest(state.milestones) <= furthest(m.name for m in before.milestones)
