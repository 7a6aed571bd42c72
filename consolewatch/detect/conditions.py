"""How a line advances a rule's condition: a line condition fires at once, a sequence takes its
steps in order within a window, an absence waits for its expected line, a repeat counts lines.

`Conditions` is the part of `Engine` that does it (split out to keep the engine module small);
it uses the engine's boot state and firing.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from consolewatch.detect import joining
from consolewatch.detect.quoting import LineContext, evidence_of
from consolewatch.detect.rules import AbsentCond, LineCond, RepeatCond, Rule, SequenceCond
from consolewatch.model import Evidence, Finding

if TYPE_CHECKING:
    from typing import Protocol

    from consolewatch.detect.bootstate import BootState
    from consolewatch.detect.catalog import ScannedLine

    class _Engine(Protocol):
        """What `Conditions` uses of the engine it is mixed into."""

        _boot: BootState
        rules: dict[str, Rule]
        _masked: dict[str, bytes]

        def _mask(self, text: str) -> bytes: ...
        def _fire(self, rule: Rule, evidence: list[Evidence], fields: dict[str, str], ctx: LineContext | None,
                  message: str | None, *, capture: bool = False, mask: bytes | None = None) -> list[Finding]: ...


class Conditions:
    """Mixed into `Engine`: `_advance` for a rule a line matched, `_expire` for waits timed out."""

    def _advance(self: _Engine, rule: Rule, hits: list[tuple[int, dict[str, str]]], sl: ScannedLine, ctx: LineContext) -> list[Finding]:
        cond = rule.condition
        line = sl  # its first values are the line's own (no `Line` built on the hot path)
        if isinstance(cond, LineCond):
            index, fields = hits[0]
            masked = self._masked.get(sl.message)  # `_mask`, its memory asked first (most lines repeat)
            key = (rule.id, masked if masked is not None else self._mask(sl.message))
            b = self._boot
            if rule.fallback:
                if len(cond.matchers) < 2 and (full := b.found.get(rule.category)) is not None and (rule.component or full):
                    return []  # the fuller evidence was seen (as `_fire` says) and no event to join: nothing to do
            elif key in b.counts:
                b.counts[key] += 1  # seen in this boot: one more occurrence (as _fire counts)
                b.repeated_at[b.index_of[key]] = sl.seq
                return []
            ev = evidence_of(line)
            if joining.join_event(b, rule.id, cond.matchers, index, fields, key, ev):
                return []  # another line of an event already found
            found = self._fire(rule, [ev], fields, ctx, sl.message, mask=key[1])
            if found:
                b.alternatives[len(b.findings) - 1] = {index}
            return found
        st = self._boot.state
        if isinstance(cond, SequenceCond):
            progress: dict[int, tuple[Any, ...]] = st.setdefault(rule.id, {})
            out: list[Finding] = []
            # A sequence's matchers are its steps, in order; `hits` come by matcher index, each
            # once: the last step first, so one line does not take two steps.
            for k, got in reversed(hits):
                if k == 0:
                    progress[1] = ([evidence_of(line)], line.t, line.seq, got, ctx, sl.message)
                    continue
                p = progress.get(k)
                if p is None or cond.window.exceeded(p[1], p[2], line.t, line.seq):
                    progress.pop(k, None)
                    continue
                chain = (p[0] + [evidence_of(line)], p[1], p[2], {**p[3], **got}, p[4], p[5])
                if k == len(cond.steps) - 1:
                    del progress[k]
                    out.extend(self._fire(rule, chain[0], chain[3], chain[4], chain[5]))
                else:
                    progress[k + 1] = chain
            return out
        if isinstance(cond, AbsentCond):
            pending = self._boot.pending
            # An absent_after's matchers: 0 first, 1.. its expects; `hits` by matcher index.
            if hits[-1][0] >= 1 and rule.id in pending:
                del pending[rule.id]  # satisfied in time (expiry was checked before matching)
            elif hits[0][0] == 0 and rule.id not in pending:
                pending[rule.id] = ([evidence_of(line)], line.t, line.seq, hits[0][1], ctx, sl.message)
            elif hits[0][0] == 0 and cond.latest:  # still waiting: quote the first and the latest
                p = pending[rule.id]
                pending[rule.id] = ([p[0][0], evidence_of(line)], p[1], p[2], {**p[3], **hits[0][1]}, p[4], p[5])
            return []
        if isinstance(cond, RepeatCond):
            seen: deque[Any] = st.setdefault(rule.id, deque())
            seen.append((evidence_of(line), line.t, line.seq, hits[0][1], ctx, sl.message))
            if cond.window is not None:
                while seen and cond.window.exceeded(seen[0][1], seen[0][2], line.t, line.seq):
                    seen.popleft()
            if len(seen) >= cond.count:
                first, last = seen[0], seen[-1]
                seen.clear()
                return self._fire(rule, [first[0], last[0]], {**first[3], **last[3]}, first[4], first[5])
        return []

    def _expire(self: _Engine, t: float | None, seq: int) -> list[Finding]:
        out: list[Finding] = []
        pending = self._boot.pending
        for rule_id in list(pending):
            cond = self.rules[rule_id].condition
            p = pending[rule_id]
            if cond.window is not None and cond.window.exceeded(p[1], p[2], t, seq):  # type: ignore[union-attr]
                del pending[rule_id]
                out.extend(self._fire(self.rules[rule_id], p[0], p[3], p[4], p[5]))
        return out
