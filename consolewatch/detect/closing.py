"""How the engine closes a boot: pending absences fire, boot rules are judged, findings are
muted and demoted, the boot gets its outcome, and capture rules count the run of boots.

`BootClosing` is the part of `Engine` that does it (split out to keep the engine module small);
it uses the engine's boot state, rules and firing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, Any

from consolewatch.detect import bootstate, sieves, views
from consolewatch.detect.rules import CaptureCond, Rule
from consolewatch.model import Boot, Evidence, Finding

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Protocol

    from consolewatch.detect.bootstate import BootState, Ending
    from consolewatch.detect.quoting import LineContext

    class _Engine(Protocol):
        """What `BootClosing` uses of the engine it is mixed into."""

        _boot: BootState
        rules: dict[str, Rule]
        cloud: str
        hypervisor: str
        boots: list[Boot]
        boots_dropped: int
        boot_outcomes: Counter[str]
        _early: list[Rule]
        _late: list[Rule]
        _capture_rules: list[Rule]
        _capture_fired: set[str]
        _streaks: dict[str, list[Ending]]
        _origins_closed: frozenset[str]
        _boot_gate: dict[tuple[Any, ...], list[Rule]]
        _lazy: bool

        def _fire(self, rule: Rule, evidence: list[Evidence], fields: dict[str, str], ctx: LineContext | None,
                  message: str | None, *, capture: bool = False) -> list[Finding]: ...
        def _remedy(self, rule: Rule, fields: Mapping[str, str]) -> str: ...
        def _rerender(self, findings: list[Finding]) -> list[Finding]: ...
        def _boot_rules(self, rules: list[Rule], ends: frozenset[str], outcome: str | None) -> list[Rule]: ...
        def _boot_rule(self, rule: Rule, ends: frozenset[str], outcome: str | None,
                       earlier: frozenset[str]) -> list[Finding]: ...
        def _capture_loop(self, ending: Callable[[], Ending], ended_by: str, ends: frozenset[str]) -> list[Finding]: ...
        def _sieved(self, ended_by: str) -> list[Finding]: ...
        def _loop_rules(self) -> list[Rule]: ...
        def _complete_open(self) -> None: ...
        def _hold_closed(self, boot: Boot, fixed_at_close: bool) -> None: ...

#: Closed boots kept in full; older ones are summarised (a long boot loop stays bounded).
MAX_BOOTS_KEPT = 1000


class BootClosing:
    """Mixed into `Engine`: `_close(ended_by)` when a boot ends."""

    def _close(self: _Engine, ended_by: str) -> list[Finding]:
        b = self._boot
        if self._lazy and ended_by == "capture-end":
            self._complete_open()  # the last boot is printed
        out: list[Finding] = []
        for rule_id, p in list(b.pending.items()):
            out.extend(self._fire(self.rules[rule_id], p[0], p[3], p[4], p[5]))
        b.pending.clear()
        earlier = self._origins_closed
        ends = frozenset(b.ends(ended_by))
        for rule in self._boot_rules(self._early, ends, None):
            out.extend(self._boot_rule(rule, ends, None, earlier))
        findings = self._sieved(ended_by) if b.findings else []  # the sieves keep nothing of nothing
        findings, outcome, reason = bootstate.judge(b, findings)
        if outcome == "success" and ended_by == "capture-end" and views.rearmed(self.boots, b, self.rules):
            outcome, reason = "unknown", "came up as far as the boot before it, which its watchdog reset: the loop goes on"
        late: list[Finding] = []
        for rule in self._boot_rules(self._late, ends, outcome):
            late += self._boot_rule(rule, ends, outcome, earlier)
        if late:
            findings += late  # judged from the outcome: they mute nothing and repeat nothing
            out.extend(late)
            decides = any(f.verdict in ("failure", "stall") for f in late) or (
                outcome == "unknown" and any(f.verdict == "success" for f in late))
            if decides:
                findings, outcome, reason = bootstate.judge(b, findings)  # an undecided boot decided
        self.boots.append(bootstate.close(b, findings, outcome, reason))
        if self._lazy:
            self._hold_closed(self.boots[-1], self.cloud != "unknown")  # its fixes as `_rerender` writes them
        if not self._origins_closed.issuperset(b.seen):  # a new origin (seldom): those that printed
            self._origins_closed = self._origins_closed.union(o for o, n in b.seen.items() if n)
        self.boot_outcomes[outcome] += 1
        if len(self.boots) > MAX_BOOTS_KEPT:
            del self.boots[0]
            self.boots_dropped += 1
        out.extend(self._capture_loop(partial(bootstate.ending, b, findings, outcome), ended_by, ends))
        return out

    def _sieved(self: _Engine, ended_by: str) -> list[Finding]:
        """The open boot's findings through the sieves (`sieves`), before it is judged."""
        b = self._boot
        judged = sieves.superseded(b, bootstate.with_counts(b), self.rules)
        findings = sieves.without_fallbacks(judged, self.rules)
        fallbacks = findings is not judged  # a fallback's finding among them (else the list comes back)
        findings = sieves.apply_inhibition(findings if self._lazy else self._rerender(findings), self.rules)
        if fallbacks:  # a root cause muting what a fallback's fragment explains (inhibition changes no rule)
            findings = sieves.without_fallbacks(findings, self.rules)
        up_at = b.milestones["ready"].seq if b.up else 0
        return sieves.gone_past(findings, b.progress, self.rules, bool(b.milestones), bootstate.repeats(b), up_at,
                                b.early > 0, views.cut_in_dump(b, ended_by))

    def _rerender(self: _Engine, findings: list[Finding]) -> list[Finding]:
        """Fixes written before the console named its cloud, written again for that cloud."""
        if self.cloud == "unknown":
            return findings
        out = []
        for f in findings:
            text = self._remedy(self.rules[f.rule], f.fields) if f.rule in self.rules else f.remediation
            out.append(f if text == f.remediation else dataclasses.replace(f, remediation=text))
        return out

    def _boot_rules(self: _Engine, rules: list[Rule], ends: frozenset[str], outcome: str | None) -> list[Rule]:
        """The boot rules among `rules` that can hold for a boot that ended so (`ends`, see
        `BootState.ends`) with `outcome` on this cloud: what a boot's lines do not change,
        judged once per combination (the rest is `BootState.boot_matches`)."""
        key = (id(rules), ends, outcome, self.cloud, self.hypervisor)
        got = self._boot_gate.get(key)
        if got is None:
            got = self._boot_gate[key] = [
                r for r in rules if r.applies(self.cloud, self.hypervisor)
                and (not r.condition.ended_by or not ends.isdisjoint(r.condition.ended_by))  # type: ignore[union-attr]
                and (not r.condition.outcome or outcome in r.condition.outcome)]  # type: ignore[union-attr]
        return got

    def _boot_rule(self: _Engine, rule: Rule, ends: frozenset[str], outcome: str | None, earlier: frozenset[str]) -> list[Finding]:
        """`ends`: how the boot ended (`BootState.ends`); `earlier`: the origins on which a boot
        closed before this one printed."""
        ev = self._boot.boot_matches(rule.condition, ends, outcome, earlier)  # type: ignore[arg-type]
        return self._fire(rule, ev, {}, None, None) if ev else []

    def _capture_loop(self: _Engine, ending: Callable[[], Ending], ended_by: str, ends: frozenset[str]) -> list[Finding]:
        """Capture rules on the boot that just closed: `min_boots` boots in a row with the
        outcomes a rule counts (a boot with another outcome, one that came up, ends the run) and,
        when the rule says so, that ended so (`ends`, see `BootState.ends`: restarted).
        `ending`: makes how the closed boot ended (the lines quoted for it, its cause), called only
        when a rule counts the boot (most boots end a run or count for no rule); the finding
        quotes each boot's and names the cause of the last one that had one."""
        out: list[Finding] = []
        ended: Ending | None = None
        outcome = loop_outcome(self.boots, ended_by)
        for rule in self._loop_rules():
            cond = rule.condition
            assert isinstance(cond, CaptureCond) and cond.min_boots is not None  # (`_loop_rules`)
            if rule.id in self._capture_fired:
                continue
            run = self._streaks.setdefault(rule.id, [])
            if (cond.outcome and outcome not in cond.outcome) or (cond.ended_by and ends.isdisjoint(cond.ended_by)):
                run.clear()
                continue
            if ended is None:
                ended = ending()
            run.append(ended)
            if len(run) >= cond.min_boots:
                ev = [line for e in run[: cond.min_boots] for line in e.lines]
                cause = next((e.cause for e in reversed(run) if e.cause), run[-1].how)
                self._capture_fired.add(rule.id)
                self._streaks.pop(rule.id, None)
                out.extend(self._fire(rule, ev, {"boots": str(len(run)), "cause": cause}, None, None, capture=True))
        return out


    def _loop_rules(self: _Engine) -> list[Rule]:
        """The capture rules that count boots in a row (`min_boots`) on this cloud, judged once per
        cloud and hypervisor."""
        key = (id(self._capture_rules), self.cloud, self.hypervisor)
        got = self._boot_gate.get(key)
        if got is None:
            got = self._boot_gate[key] = [r for r in self._capture_rules if r.condition.min_boots is not None  # type: ignore[union-attr]
                                          and r.applies(self.cloud, self.hypervisor)]
        return got


def _furthest(boot: Boot) -> int:
    return views.furthest(m.name for m in boot.milestones)


def counted_outcome(boot: Boot) -> str:
    """A closed boot's outcome as the loop rules count it. A boot that came up and was then
    taken down by a reset nothing asked for (a watchdog, a triple fault: a `boot.loop` failure
    that its ready line made a warning) failed: a machine that the same reset ends on every
    boot loops, however far each boot gets."""
    if boot.outcome == "success" and any(f.category == "boot.loop" and f.demoted_from for f in boot.findings):
        return "failure"
    return boot.outcome


def loop_outcome(boots: list[Boot], ended_by: str) -> str:
    """The last closed boot's outcome as the loop rules count it (`counted_outcome`). A last
    boot the capture cuts off undecided right after a failed boot, no further than where that
    boot got, is the loop going on (the machine restarted into the same boot; "a capture that
    ends inside a boot loop is a failure"): it counts as a failure. One that got further, or
    came up, does not."""
    closed = boots[-1]
    if ended_by != "capture-end" or closed.outcome != "unknown" or len(boots) < 2:
        return counted_outcome(closed)
    before = boots[-2]
    if counted_outcome(before) == "failure" and before.index == closed.index - 1 and _furthest(closed) <= _furthest(before):
        return "failure"
    return closed.outcome
