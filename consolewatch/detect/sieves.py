"""The sieves a boot's findings pass through before the boot is judged: fallbacks that add
nothing dropped, symptoms muted by their root cause, reports a later line made moot, and
reports the boot went on past kept without deciding its outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from consolewatch.detect import views
from consolewatch.detect.bootstate import demote, replaced
from consolewatch.model import Finding

if TYPE_CHECKING:
    from consolewatch.detect.bootstate import BootState
    from consolewatch.detect.rules import Rule

def without_fallbacks(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """Drop fallback findings (evidence fragments) that add nothing: their category was found
    from fuller evidence, or a root cause in the boot explains them (run after inhibition too).
    A component fallback's is the weakest: any other finding of its category, a fallback's too,
    is fuller."""
    kinds = [_fallback_kind(rule) if (rule := rules.get(f.rule)) is not None and rule.fallback else ""
             for f in findings]  # a full rule's "" without a call (most findings are full rules')
    if not any(kinds):
        return findings  # each caller's list is a new one: nothing to copy
    full = {f.category for f, k in zip(findings, kinds) if not k}
    fuller = full | {f.category for f, k in zip(findings, kinds) if k == "fallback"}
    kept = [(f, k) for f, k in zip(findings, kinds)
            if not k or (f.category not in (fuller if k == "component" else full) and f.suppressed_by is None)]
    return _unneeded(kept) if len(kept) > 1 else [f for f, _ in kept]


def _fallback_kind(rule: Rule | None) -> str:
    """What kind of fallback `rule` is: "component", "fallback", or "" for a full (or unknown) rule."""
    if rule is None or not rule.fallback:
        return ""
    return "component" if rule.component else "fallback"


def _unneeded(kept: list[tuple[Finding, str]]) -> list[Finding]:
    """Without the component fallbacks (a component named next to a failure word) whose every
    line a fuller rule's finding, of any category, already quotes: that rule said what the line
    means (the kernel's decompressor failing is a corrupt kernel, not the boot loader's error).
    `kept`: each finding with its `_fallback_kind`."""
    claimed = {e.seq for f, k in kept if k != "component" for e in f.evidence}
    return [f for f, k in kept if k != "component" or not f.evidence or any(e.seq not in claimed for e in f.evidence)]


def apply_inhibition(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """Mark symptoms muted by a root cause in the same boot; root causes sort first."""
    if len(findings) < 2:
        return list(findings)
    muted: dict[str, str] = {}  # rule id or category -> the rule that mutes it
    for g in findings:
        rule = rules.get(g.rule)
        for target in rule.inhibits if rule is not None else ():
            muted.setdefault(target, g.rule)
    out: list[Finding] = []
    for f in findings:
        by = muted.get(f.rule) or muted.get(f.category)
        if by == f.rule:
            by = None
        out.append(replaced(f, suppressed_by=by) if by != f.suppressed_by else f)
    out.sort(key=lambda f: (f.suppressed_by is not None, f.first_seq))
    return out


def superseded(state: BootState, findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """`findings` (the boot's, in the order `state.findings` has them) without those a later line
    made moot: their rule's `superseded_by` milestone reached, or its line seen, after the
    finding's last occurrence (a DHCP client that retried and got its lease; firmware that
    booted from disk after its network boot failed; the network working after a route error).
    With `keep` the finding stays, deciding nothing: the wait it reported ended (in a failure
    that its own rule reports)."""
    out = []
    for i, f in enumerate(findings):
        rule = rules.get(f.rule)
        if rule is not None and (rule.superseded_reached or rule.superseded_at >= 0) and f.evidence:
            last = max(state.repeated_at.get(i, 0), max(e.seq for e in f.evidence))
            later = max([state.superseding.get(f.rule, 0)] + [state.reached_at.get(m, 0) for m in rule.superseded_reached])
            if later > last and rule.superseded_keeps:
                f = replaced(f, verdict="none")
            elif later > last:
                continue
        out.append(f)
    return out


def gone_past(findings: list[Finding], progress: int, rules: dict[str, Rule], shown: bool = True,
              repeats: Mapping[tuple[str, int], int] | None = None, up_at: int = 0,
              early: bool = False, cut: bool = False) -> list[Finding]:
    """Findings the boot went on past (a line showing progress after their evidence, seq <
    `progress`), reported at their severity, deciding no outcome: a stall (a wait that ended
    was not forever) and a failure of a `survivable` rule (an action on one process that the
    system carries on after: the OOM killer's kill, an oops). `shown`: the view shows the boot
    (a milestone); without one, a `needs_milestone` rule's report decides nothing either (an
    excerpt of a running system's hung tasks or lockups). `repeats`: (rule, first seq) -> the seq
    of the latest line that repeated a finding's evidence: progress before a repeat is not past it.
    `up_at`: the seq of the boot's first ready line when the machine came up, 0 when it did not:
    a component fallback (a component's generic complaint) after it is a warning about a running
    system, not what stopped the boot (fuller rules know which failures after it still matter).
    `early`: the view has a line from the kernel's first minutes (views.BOOT_WINDOW): a stall
    it reports (a watchdog saying nothing moved for seconds) is the boot's, milestone or not
    (views.report_unseen judges both). `cut`: the capture ends inside a dump (views.cut_in_dump):
    it cannot show the boot stopping, so a `survivable` failure decides nothing, progress or not,
    unless it is the crash the dump belongs to (a `kernel.*` finding: an oops, a BUG)."""
    out = []
    for f in findings:
        rule = rules.get(f.rule)
        if up_at and rule is not None and rule.component and f.evidence and min(e.seq for e in f.evidence) > up_at:
            out.append(demote(f))
            continue
        survives = f.verdict == "failure" and rule is not None and rule.survivable
        decides = f.verdict == "stall" or survives
        if views.report_unseen(f, rule, shown, early) or (decides and _went_past(f, progress, repeats)) or (
                survives and cut and not f.category.startswith("kernel.")):
            f = replaced(f, verdict="none")
        out.append(f)
    return out


def _went_past(f: Finding, progress: int, repeats: Mapping[tuple[str, int], int] | None) -> bool:
    """A line showing progress came after the finding's evidence and its latest repeat."""
    if not f.evidence:
        return False
    return progress > max([e.seq for e in f.evidence] + [(repeats or {}).get((f.rule, f.first_seq), 0)])
