"""One event told by several lines: joining a line to the finding an earlier line of the same
event made (split out of bootstate.py to keep it small)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consolewatch.detect.bootstate import replaced

if TYPE_CHECKING:
    from consolewatch.detect.bootstate import BootState
    from consolewatch.model import Evidence


def _groups(m: Any) -> tuple[str, ...]:
    """The field names a line matcher's own regex captures."""
    return tuple(m.regex.groupindex) if m.regex is not None else ()


def join_event(state: BootState, rule_id: str, matchers: tuple[Any, ...], index: int, fields: dict[str, str],
               key: Any, ev: Evidence) -> bool:
    """One event told by several lines: a line matching another alternative (`index`) of a rule's
    `any` than the rule's latest finding in this boot did (the OOM killer's "invoked" and "Killed
    process"), quoting the same values for the fields both alternatives name, joins that finding
    as evidence instead of making a second finding. True when it joined."""
    if len(matchers) < 2 or key in state.counts:
        return False
    for i, seen in reversed(state.alternatives.items()):  # the line rules' findings, latest first
        f = state.findings[i]
        if f.rule != rule_id or index in seen:
            continue
        shared = set(_groups(matchers[index])) & {n for j in seen for n in _groups(matchers[j])}
        if not shared or any(f.fields.get(n) != fields.get(n) for n in shared):
            return False
        seen.add(index)
        state.counts[key], state.index_of[key] = 1, i
        state.findings[i] = replaced(f, evidence=f.evidence + (ev,), fields={**fields, **f.fields})
        return True
    return False
