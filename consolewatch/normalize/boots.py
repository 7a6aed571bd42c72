"""Splitting a capture into boots, and the clock rules use within a boot.

A boot begins at a `boot_start` line (firmware or bootloader banner, `Linux version`, a
unikernel banner) when the current boot has already reached that stage or a later one, at any
firmware or bootloader milestone line after a kernel ran on the same source kind (a kernel
milestone, or any line with a printk time stamp: `quiet` hides the kernel's banner but not its
panic; the firmware
and the boot loader run only before the OS: "BdsDxe: loading Boot0001", "Booting from Hard
Disk...", GRUB's "Booting `Debian'" after a kernel mean the machine started over, banner or
not), at the
first milestone line after the system said it was restarting (a `restart` line: "reboot:
Restarting system", "rebooting...") or at the first line whose printk time is earlier than
the restart line's (a pasted loop of panics, each boot's banner left out), when printk time
jumps back to near zero after a kernel ran, or at a line that what printed it prints once per
run (a `once` pattern: the kernel's "Kernel panic - not syncing", its "Rebooting in N
seconds..") seen again on the same origin: the kernel ran again, whatever its time stamps say.
All times come from the lines themselves, never the wall clock, so a replay decides exactly as the live run did.
"""

from __future__ import annotations

from collections.abc import Iterable

from consolewatch.model import MILESTONES

RANK = {m: i for i, m in enumerate(MILESTONES)}
_KERNEL = RANK["kernel"]
_NONE: frozenset[str] = frozenset()


class BootTracker:
    """Follows boots across the lines the scanner flagged, in timeline order."""

    def __init__(self) -> None:
        self.index = 1
        self.max_rank = -1
        self._last_guest: float | None = None
        self._last_t: float | None = None
        self._anchor: tuple[float, float] | None = None  # (wall, t)
        self._restarting = False
        self._restart_at: tuple[float, str] | None = None  # printk time and origin of the restart line
        self._kernel_on: set[str] = set()  # origins on which this boot showed a kernel (or later) milestone
        self._rank_on: dict[str, int] = {}  # the furthest milestone rank this boot showed, per origin
        self._once_on: dict[str, set[str]] = {}  # the `once` patterns this boot showed, per origin

    def observe(self, starts: Iterable[str], milestones: Iterable[str], guest_time: float | None,
                restart: bool = False, origin: str = "text", once: tuple[str, ...] = ()) -> bool:
        """Account for one flagged line; True when it begins a new boot.

        `starts`: milestones of the line's boot_start patterns; `milestones`: all its milestones;
        `restart`: the line says the system is restarting; `origin`: text or ocr (a firmware or
        boot loader line begins a new boot after a kernel ran on the same origin: a screen left
        showing GRUB's last lines while the kernel writes only to the serial port is one boot).
        A line with no milestone, no restart and no `guest_time` changes nothing here (the
        normaliser skips the call for it; keep it so).
        """
        if not milestones and not starts and not restart and not once and not self._restarting and guest_time is not None:
            # The common line (a printk time stamp, nothing else): only the kernel's clock going
            # back to zero can begin a boot here; else the clock moves on (as below).
            if not self._clock_restarted(guest_time):
                self._last_guest = guest_time
                self._kernel_on.add(origin)
                return False
        new = bool(self._restarting and milestones)
        if self._restarting and guest_time is not None and self._restart_at is not None \
                and guest_time < self._restart_at[0] and origin == self._restart_at[1]:
            new = True  # after "Rebooting in 1 seconds..", the kernel's clock began again: the next boot
        if starts and self._rank_on.get(origin, -1) >= min(map(RANK.__getitem__, starts)):
            new = True  # a banner again on the same origin (a screen and the serial port are two views of one boot)
        if once and not self._once_on.get(origin, _NONE).isdisjoint(once):
            new = True  # printed once per run, printed again: it ran again (a loop pasted without banners)
        if milestones and origin in self._kernel_on and min(map(RANK.__getitem__, milestones)) < _KERNEL:
            new = True  # the firmware or a boot loader runs again after a kernel ran: a reset
        if not new and guest_time is not None and self._clock_restarted(guest_time):
            new = True  # the kernel started again
        if new:
            self.index += 1
            self.max_rank = -1
            self._last_guest = None
            self._last_t = None
            self._anchor = None
            self._restarting = False
            self._restart_at = None
            self._kernel_on = set()
            self._rank_on = {}
            self._once_on = {}
        if once:
            self._once_on.setdefault(origin, set()).update(once)
        if restart:
            self._restarting = True
            self._restart_at = (guest_time, origin) if guest_time is not None else None
        top = max((RANK[m] for m in starts), default=None) if new else None
        for m in milestones:
            rank = RANK[m]
            if top is not None and rank > top:
                continue  # text glued before the banner ("login: SeaBIOS ..."): the boot that ended reached it
            if rank > self.max_rank:
                self.max_rank = rank
            if rank > self._rank_on.get(origin, -1):
                self._rank_on[origin] = rank
            if rank >= _KERNEL:
                self._kernel_on.add(origin)
        if guest_time is not None:
            self._last_guest = guest_time
            self._kernel_on.add(origin)  # a printk time stamp: a kernel ran here (quiet hides its banner)
        return new

    def _clock_restarted(self, guest_time: float) -> bool:
        """printk time went back to zero after a kernel ran: the kernel started again."""
        last = self._last_guest
        return last is not None and guest_time + 1.0 < last and guest_time < 5.0 and self.max_rank >= _KERNEL

    def tick(self, guest_time: float, wall_time: float | None, origin: str = "text") -> bool:
        """`observe` of a line whose only news is its printk time (no milestone, restart or
        `once` pattern), then `time` of it (which is `guest_time`): one call for the common
        flagged line. True when it begins a new boot."""
        if self._restarting or self._clock_restarted(guest_time):
            new = self.observe((), (), guest_time, False, origin)
        else:  # observe's fast path
            new = False
            self._last_guest = guest_time
            self._kernel_on.add(origin)
        if wall_time is not None and self._anchor is None:
            self._anchor = (wall_time, guest_time)
        self._last_t = guest_time
        return new

    def time(self, guest_time: float | None, wall_time: float | None) -> float | None:
        """The rule clock for a flagged line of the current boot.

        printk seconds when the line has them; otherwise its wall stamp placed on the boot's
        timeline through the first line that had both (or the last known time); otherwise the
        time of the previous flagged line.
        """
        t: float | None
        if guest_time is not None:
            t = guest_time
            if wall_time is not None and self._anchor is None:
                self._anchor = (wall_time, guest_time)
        elif wall_time is not None:
            if self._anchor is None:
                self._anchor = (wall_time, self._last_t or 0.0)
            t = self._anchor[1] + (wall_time - self._anchor[0])
        else:
            t = self._last_t
        if t is not None:
            self._last_t = t
        return t
