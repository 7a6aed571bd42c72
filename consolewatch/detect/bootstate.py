"""What the engine knows about one boot while it is open, and how a boot is judged when it closes."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from consolewatch.detect import netjudge, views
from consolewatch.detect.rules import BootCond
from consolewatch.model import MILESTONES, Boot, Evidence, Finding, Milestone, severity_rank

_FINDING_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))
_FINDING_VALUES = operator.attrgetter(*_FINDING_FIELDS)
_FINDING_INDEX = {n: i for i, n in enumerate(_FINDING_FIELDS)}


def replaced(f: Finding, **changes: Any) -> Finding:
    """`dataclasses.replace(f, **changes)`, built positionally from all its values read at once:
    a third faster (judging a boot replaces a few findings; a 100 MB capture closes
    thousands of boots)."""
    values = list(_FINDING_VALUES(f))
    for name, value in changes.items():
        values[_FINDING_INDEX[name]] = value
    return Finding(*values)


@dataclass(slots=True)
class LineRef:
    seq: int
    text: str
    origin: str = "text"
    source: str = "console"

    def evidence(self) -> Evidence:
        return Evidence(self.seq, self.text, self.source, self.origin)  # type: ignore[arg-type]


@dataclass(slots=True)
class BootState:
    index: int
    first: LineRef | None = None
    last: LineRef | None = None
    last_by_origin: dict[str, LineRef] = field(default_factory=dict)
    milestones: dict[str, Milestone] = field(default_factory=dict)
    """First line that reached each milestone."""
    last_milestone: dict[str, tuple[str, LineRef, str, int]] = field(default_factory=dict)
    """origin ("*": any) -> (milestone, line, format pattern ref, its position among the boot's
    lines of that origin) of the latest milestone line."""
    seen: dict[str, int] = field(default_factory=dict)
    """origin ("*": any) -> lines of that origin in this boot so far (before the current batch)."""
    trailing_blank: dict[str, int] = field(default_factory=dict)
    """origin ("*": any) -> how many of the boot's last lines are blank (a screen cleared at the end)."""
    ready: list[LineRef] = field(default_factory=list)
    up: int = 0
    """seq of the last ready line that shows the machine up (not a power-off), 0 when none."""
    findings: list[Finding] = field(default_factory=list)
    found: dict[str, bool] = field(default_factory=dict)
    """category -> whether a finding of it came from a rule that is no component fallback (False:
    only component fallbacks' findings so far): what a fallback's fuller evidence is (`Firing._fire`)."""
    muting: list[str] = field(default_factory=list)
    """The rules of the boot's findings whose `inhibits` name others, in the findings' order (`Firing._root_of`)."""
    counts: dict[Any, int] = field(default_factory=dict)
    """fingerprint -> how many times the finding's evidence was seen."""
    index_of: dict[Any, int] = field(default_factory=dict)
    alternatives: dict[int, set[int]] = field(default_factory=dict)
    """finding index -> the alternatives of its rule's `any` its evidence matched (one event)."""
    state: dict[str, Any] = field(default_factory=dict)
    """Per-rule progress of sequence and repeat conditions."""
    pending: dict[str, Any] = field(default_factory=dict)
    """absent_after conditions waiting for their expected line: rule id -> ([first line seen, and
    with `latest` the latest such line], its time, seq, fields, context, message)."""
    restart: LineRef | None = None
    """The first line saying the system restarts ("reboot: Restarting system"), if any."""
    armed: LineRef | None = None
    """The first line showing a watchdog that resets the machine unless fed (an `arms` pattern)."""
    stamped: dict[str, int] = field(default_factory=dict)
    """origin -> seq of its latest line with a printk time stamp (a kernel ran and printed there)."""
    early: int = 0
    """seq of the first line stamped in the kernel's first minutes (views.BOOT_WINDOW), 0 when none."""
    progress: int = 0
    """seq of the latest line that shows the boot going on (a milestone, a unit started)."""
    reached_at: dict[str, int] = field(default_factory=dict)
    """milestone -> seq of the latest line that reached it."""
    superseding: dict[str, int] = field(default_factory=dict)
    """rule id -> seq of the latest line its `superseded_by` line matcher matched."""
    repeated_at: dict[int, int] = field(default_factory=dict)
    """finding index -> seq of the latest line that repeated its evidence."""
    held: list[Any] = field(default_factory=list)
    """Per finding (same index), what writing its context and fix takes, when deferred (`deferring`)."""

    def reach(self, name: str, ref: LineRef, time: float | None, pattern: str, pos: int, pos_all: int,
              poweroff: bool = False) -> None:
        """Milestone `name` reached at `ref`, the `pos`-th line of its origin (`pos_all`-th of all);
        `poweroff`: the line is a clean power-off."""
        if name not in self.milestones:
            self.milestones[name] = Milestone(name, ref.seq, ref.text, time)
        self.reached_at[name] = max(ref.seq, self.reached_at.get(name, 0))
        self.last_milestone[ref.origin] = (name, ref, pattern, pos)
        self.last_milestone["*"] = (name, ref, pattern, pos_all)
        if name == "ready":
            self.ready.append(ref)
            if not poweroff:
                self.up = ref.seq

    def reach_late(self, name: str, ref: LineRef, time: float | None) -> None:
        """Milestone `name` found on a line already judged (its exact text came after a screen
        reading that missed it): recorded if new, without moving the boot's last milestone."""
        self.reached_at[name] = max(ref.seq, self.reached_at.get(name, 0))
        if name not in self.milestones:
            self.milestones[name] = Milestone(name, ref.seq, ref.text, time)
            if name == "ready":
                self.ready.append(ref)

    def see_twin(self, ref: LineRef, time: float | None, milestones: Sequence[tuple[str, str]] = (),
                 restart: bool = False) -> None:
        """Line `ref.seq`, already on the timeline from the other kind of source, shown by
        `ref.origin` too (its twin): the line counts among that origin's lines, where the
        timeline has it (before the lines the origin prints next), with the (milestone, pattern)
        pairs it reaches and whether it says the system restarts. What a source showed does not
        depend on which source showed a line first: conditions on one origin's lines judge the
        same. The last milestone over all sources does not move (the line was judged there)."""
        o = ref.origin
        self.seen[o] = self.seen.get(o, 0) + 1
        if time is not None:
            self.stamped[o] = ref.seq
        self.trailing_blank[o] = 0
        self.last_by_origin[o] = ref
        for name, pattern in milestones:
            self.reach_late(name, ref, time)
            self.last_milestone[o] = (name, ref, pattern, self.seen[o])
        if restart and self.restart is None:
            self.restart = ref

    def screen_at(self, milestones: Sequence[str], origin: str) -> bool:
        """Does a screen (lines of origin ocr) show the boot still at one of `milestones`: its last
        milestone is one of them, no kernel line (a printk time stamp) came after it there, and
        `origin` got no further (a screenshot taken before the serial port's last hand-off line
        is only older, not a boot that stopped earlier)?"""
        screen = self.last_milestone.get("ocr")
        if screen is None or screen[0] not in milestones or self.stamped.get("ocr", -1) > screen[1].seq:
            return False
        other = self.last_milestone.get(origin)
        return other is None or MILESTONES.index(other[0]) <= MILESTONES.index(screen[0])

    def see_line(self, ref: LineRef) -> None:
        """Line `ref` is the boot's latest so far. A blank line is no line to quote as the last
        one an origin printed: `last_by_origin` keeps the one before it."""
        if self.first is None:
            self.first = ref
        self.last = ref
        if ref.text.strip():
            self.last_by_origin[ref.origin] = ref
            self.last_by_origin["*"] = ref

    def ends(self, ended_by: str) -> set[str]:
        """How the boot ended: `ended_by`; "reset": the next boot began with no restart line (a triple
        fault, a watchdog, a reset from outside); "restart-unanswered": the capture ended a line after one."""
        last, rs = self.last_by_origin.get("*"), self.restart
        if ended_by == "capture-end" and rs is not None and last is not None and last.seq - rs.seq <= 1:
            return {ended_by, "restart-unanswered"}
        return {ended_by, "reset"} if ended_by == "next-boot" and rs is None else {ended_by}

    def boot_matches(self, cond: BootCond, ends: frozenset[str], outcome: str | None,
                     earlier: frozenset[str] = frozenset()) -> list[Evidence] | None:
        """Evidence when the boot satisfies `cond`, else None. `ends`: how it ended (`ends`);
        `earlier`: the origins on which an earlier boot of the capture printed."""
        reached = self.milestones
        for m in cond.reached:
            if m not in reached:
                return None
        for m in cond.not_reached:
            if m in reached:
                return None
        if cond.ended_by and ends.isdisjoint(cond.ended_by):
            return None
        if cond.outcome and outcome not in cond.outcome:
            return None
        origin = cond.origin or "*"
        if cond.first_boot is not None and (origin not in earlier) != cond.first_boot:
            return None
        if cond.armed is not None and (self.armed is not None) != cond.armed:
            return None
        if cond.unless_found and any(f.category in cond.unless_found for f in self.findings):
            return None
        if cond.unless_screen_at and self.screen_at(cond.unless_screen_at, cond.origin or "*"):
            return None
        last_ms = self.last_milestone.get(origin)
        last_line = self.last_by_origin.get(origin)
        if cond.last_milestone and (last_ms is None or last_ms[0] not in cond.last_milestone):
            return None
        if cond.last_pattern and (last_ms is None or last_ms[2] not in cond.last_pattern):
            return None
        after = (self.seen.get(origin, 0) - self.trailing_blank.get(origin, 0) - last_ms[3]) if last_ms else 0
        if cond.max_lines_after is not None and (last_ms is None or after > cond.max_lines_after):
            return None
        if cond.min_lines_after is not None and (last_ms is None or after < cond.min_lines_after):
            return None
        if cond.evidence == "ready":
            refs = self.ready[:1] + self.ready[-1:] if len(self.ready) > 1 else self.ready[:1]
        elif cond.evidence == "last-milestone":
            refs = [last_ms[1]] if last_ms else []
        elif cond.evidence == "first-line":
            refs = [self.first] if self.first else []
        elif cond.evidence == "armed":
            refs = [r for r in (self.armed, last_line) if r is not None]
        else:
            refs = [last_line] if last_line else []
        return [r.evidence() for r in refs if r is not None]


#: Categories whose failure a ready line does not undo (netjudge: up is not reachable).
NOT_UNDONE_BY_READY = netjudge.NOT_UNDONE_BY_READY


#: Categories of waits on the boot's own path (a root device, an init, a boot stage): one that
#: began after a ready line shows that line was not the machine up.
BOOT_PATH_WAITS = ("disk.", "init.", "boot.")


def _waits_after(f: Finding, up: int) -> bool:
    """Is `f` a wait of the boot's own path that began after its last ready line (`up`)? An early
    ready line (a kernel self-test's summary) ends no such wait; a kernel health report or a
    network wait after a login prompt is another matter (a warning, or netjudge's)."""
    return f.verdict == "stall" and 0 < up < f.first_seq and f.category.startswith(BOOT_PATH_WAITS)


def _survived(f: Finding, up: int) -> bool:
    """Did the boot reach its target despite `f`? A problem that was not fatal did; a fatal one
    did when the machine came up after it (a ready line that is not a power-off: powering off
    after a panic or from an emergency shell is no recovery), judged by its last line (a
    sequence's first lines only set the scene). With no ready line but a power-off (`up` 0), a
    deciding failure or stall stands: a stalled machine stopped, a batch VM whose work failed."""
    if f.category.startswith(NOT_UNDONE_BY_READY):
        return False
    if (f.verdict in ("failure", "stall") and not up) or _waits_after(f, up):
        return False
    return f.severity != "critical" or f.verdict != "failure" or max((e.seq for e in f.evidence), default=0) < up


def demote(f: Finding) -> Finding:
    """`f` as a warning that decides no outcome, remembering the severity its rule gives."""
    if f.verdict not in ("failure", "stall") and severity_rank(f.severity) < severity_rank("error"):
        return f
    return replaced(f, severity="warning", verdict="none", demoted_from=f.demoted_from or f.severity)


def verdict_finding(outcome: str, findings: Sequence[Finding]) -> Finding | None:
    """The finding that decides `outcome`: of failures, root causes first, then the most severe,
    then the earliest; of stalls and successes, the first."""
    wanted = [f for f in findings if f.verdict == outcome]
    if not wanted:
        return None
    if outcome == "failure":
        return min(wanted, key=lambda f: (f.suppressed_by is not None, -severity_rank(f.severity), f.first_seq))
    return wanted[0]


def judge(state: BootState, findings: list[Finding], *, live: bool = False) -> tuple[list[Finding], str, str]:
    """The boot's findings as judged, its outcome and a one-line reason (`live`: the boot is still
    open, judged for a gate while the console goes on).

    - An error that stopped the boot is a failure; waiting forever (a stall finding, no
      failure) is a stall; a boot that reached ready is a success, unless a network or
      provisioning error it went on past leaves it up but not as asked (unknown: netjudge). A power-off with
      nothing showing the machine up before it ends no wait: a stall stands.
    - A problem that did not stop the boot reaching ready is a warning, not the verdict: a
      failure or stall seen before the last ready line, or a non-fatal one after it (except
      network and provisioning failures, which a login prompt does not undo). A wait of the
      boot's own path that began after the last ready line is still a stall: that line was
      not the machine up (a kernel self-test's summary early in the boot).
    - A failure to get an address is not the verdict of a boot that got one anyway or died of
      something else after it: a warning (netjudge).
    """
    demoted = 0
    moot = netjudge.not_the_verdict(state, findings)
    if moot:
        findings = [demote(f) if i in moot else f for i, f in enumerate(findings)]
        demoted = len(moot)
    unseen = views.unseen_stops(state, findings)  # a log file cannot show the boot stopping
    if not live:  # a client that gave up, the boot went on and the capture ended: said at the close
        unseen += netjudge.went_on(state, findings)
    if unseen:
        findings = [replaced(f, verdict="none") if i in unseen else f for i, f in enumerate(findings)]
    if state.ready:
        out = []
        for f in findings:
            g = demote(f) if _survived(f, state.up) else f
            demoted += g is not f
            out.append(g)
        findings = out
    top = verdict_finding("failure", findings)
    if top is not None:
        return findings, "failure", f"{top.category}: {top.title} (line {top.first_seq})"
    stall = verdict_finding("stall", findings)
    waits = stall is not None and (not state.up or _waits_after(stall, state.up))
    if "ready" in state.milestones and not waits:  # a power-off ends no wait
        m = state.milestones["ready"]
        unmet = netjudge.up_unmet(state, findings)
        if unmet is not None:
            return findings, "unknown", (f"reached ready at line {m.seq}, but {unmet.category}: {unmet.title} "
                                         f"(line {unmet.first_seq}): up, not as it was asked to be")
        also = f"; {demoted} problem(s) that did not stop it are warnings" if demoted else ""
        return findings, "success", f"reached ready at line {m.seq}{also}"
    if stall is not None:
        return findings, "stall", f"{stall.category}: {stall.title} (line {stall.first_seq})"
    top = verdict_finding("success", findings)
    if top is not None:  # an outcome rule that recognised a run with no ready line (a unikernel's)
        return findings, "success", f"{top.title} (line {top.first_seq})"
    last = state.last_milestone.get("*")
    if last is None:
        return findings, "unknown", "no boot milestone seen"
    return findings, "unknown", f"last milestone: {last[0]} (line {last[1].seq}); no failure and no ready line seen"


@dataclass(frozen=True, slots=True)
class Ending:
    """How a closed boot ended, as the loop rules quote it."""

    lines: tuple[Evidence, ...]
    """The failure or stall that decided its outcome (what made it restart), then its restart
    line; with neither, its last milestone line and its last line."""
    cause: str
    """The deciding failure or stall in words (its category and title), "" when none."""
    how: str
    """How it ended in words: the restart the system asked for, or a reset nothing announced."""


def ending(state: BootState, findings: list[Finding], outcome: str) -> Ending:
    """The lines that say how a closed boot ended, its cause and how it restarted."""
    decisive = verdict_finding(outcome, findings) if outcome in ("failure", "stall") else None
    lines: list[Evidence] = []
    cause = ""
    if decisive is not None and decisive.evidence:
        lines.append(decisive.evidence[0])
        cause = f"{decisive.category} ({decisive.title})"
    if state.restart is not None:
        if not lines or lines[0].seq != state.restart.seq:
            lines.append(state.restart.evidence())
        how = f'a restart the system asked for ("{state.restart.text.strip()}")'
    else:
        how = "a reset nothing announced (a triple fault, a watchdog, a reset from outside)"
    if not lines:
        last_ms = state.last_milestone.get("*")
        refs = [last_ms[1] if last_ms else None, state.last]
        lines = [r.evidence() for i, r in enumerate(refs) if r is not None and r not in refs[:i]]
    return Ending(tuple(lines) or (Evidence(0, ""),), cause, how)


def with_counts(state: BootState) -> list[Finding]:
    """The boot's findings, each with how many times its evidence repeated."""
    out = list(state.findings)
    if not state.repeated_at:  # nothing repeated: every count is 1 (a repeat is always noted there)
        return out
    for key, i in state.index_of.items():
        n = state.counts.get(key, 1)
        if n > out[i].occurrences:  # an event told by several lines: the most repeated one
            out[i] = replaced(out[i], occurrences=n)
    return out


def repeats(state: BootState) -> dict[tuple[str, int], int]:
    """(rule, first seq) of each finding whose evidence repeated -> the seq of its latest repeat."""
    return {(state.findings[i].rule, state.findings[i].first_seq): seq for i, seq in state.repeated_at.items()}


def close(state: BootState, findings: list[Finding], outcome: str, reason: str) -> Boot:
    ms = tuple(sorted(state.milestones.values(), key=lambda m: m.seq))
    return Boot(
        index=state.index, outcome=outcome, milestones=ms, findings=tuple(findings),  # type: ignore[arg-type]
        first_seq=state.first.seq if state.first else 0, last_seq=state.last.seq if state.last else 0,
        first_text=state.first.text if state.first else "",
        last_text=state.last.text if state.last else "", reason=reason,
    )
