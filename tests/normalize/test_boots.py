"""The boot tracker's one-call path for a line whose only news is its printk time (`tick`) is
`observe` then `time`: the same boots, the same rule clock, whatever comes before it."""

from __future__ import annotations

import random

from consolewatch.model import MILESTONES
from consolewatch.normalize.boots import BootTracker


def _lines(seed: int, n: int = 400) -> list[tuple[tuple[str, ...], float | None, float | None, bool]]:
    """(milestones, printk time, wall time, restart) of a run of flagged lines: mostly printk-only
    lines whose clock goes on, with milestones, restarts, wall stamps and the clock going back to
    zero (a kernel starting again) mixed in."""
    rnd = random.Random(seed)
    out = []
    guest = 0.0
    for _ in range(n):
        roll = rnd.random()
        if roll < 0.05:
            guest = rnd.uniform(0.0, 3.0)  # back to zero: a new kernel's clock
        else:
            guest += rnd.uniform(0.0, 2.0)
        milestones = (rnd.choice(MILESTONES),) if roll > 0.9 else ()
        wall = 1_700_000_000 + guest * 1.01 if rnd.random() < 0.3 else None
        printk = None if rnd.random() < 0.1 else guest
        out.append((milestones, printk, wall, rnd.random() < 0.02))
    return out


def test_tick_is_observe_then_time_for_a_printk_only_line():
    for seed in range(40):
        one, two = BootTracker(), BootTracker()
        for milestones, guest, wall, restart in _lines(seed):
            if not milestones and not restart and guest is not None:
                expect = (one.observe((), (), guest, False, "text"), one.time(guest, wall))
                got = (two.tick(guest, wall, "text"), guest)
            else:
                starts = milestones if milestones and milestones[0] in ("firmware", "bootloader") else ()
                expect = (one.observe(starts, milestones, guest, restart, "text"), one.time(guest, wall))
                got = (two.observe(starts, milestones, guest, restart, "text"), two.time(guest, wall))
            assert got == expect, seed
            assert (two.index, two.max_rank) == (one.index, one.max_rank), seed
