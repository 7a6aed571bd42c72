"""The detection engine: lines in, findings out, one line at a time; boots judged as they close.

`Engine.feed(lines)` takes a `LineBatch` from the normaliser (fast path: only the lines the
scanner flagged are looked at) or plain `Line`s, and returns the findings that became certain.
`Engine.finish()` closes the last boot (absence and boot conditions) at the end of a capture.
Rule timing uses line timestamps only; findings are deduplicated by rule, boot and masked
evidence text, carry the lines just before their evidence, and a root cause mutes its symptoms.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Iterable, Sequence

from consolewatch.detect import bootstate
from consolewatch.detect.bootstate import BootState, LineRef
from consolewatch.detect.catalog import Catalog, ScannedLine
from consolewatch.detect.remedy import render
from consolewatch.detect.rules import (
    AbsentCond, BootCond, CaptureCond, LineCond, LineMatcher, RepeatCond, Rule, SequenceCond,
)
from consolewatch.model import Boot, Evidence, Finding, Line, MachineContext
from consolewatch.normalize.batch import LineBatch
from consolewatch.normalize.stamps import split_stamps

_MASK = re.compile(r"0x[0-9a-fA-F]+|[0-9a-f]{8,}|\d+")
CONTEXT_LINES = 3


class Engine:
    def __init__(self, catalog: Catalog, *, cloud: str = "unknown", hypervisor: str = "unknown") -> None:
        self.catalog = catalog
        self.rules = {r.id: r for r in catalog.rules}
        self.cloud_given = cloud
        self.cloud = cloud
        self.hypervisor = hypervisor
        self.boots: list[Boot] = []
        self.capture_findings: list[Finding] = []
        self._boot = BootState(1)
        self._tail: deque[tuple[int, str]] = deque(maxlen=CONTEXT_LINES)
        self._boot_rules = [r for r in catalog.rules if isinstance(r.condition, BootCond)]
        self._capture_rules = [r for r in catalog.rules if isinstance(r.condition, CaptureCond)]
        self._windowed = [r for r in catalog.rules if isinstance(r.condition, (AbsentCond, SequenceCond))]
        self._finished = False
        self.lines_seen = 0

    # -- context -------------------------------------------------------------------------

    def set_context(self, ctx: MachineContext) -> None:
        """What the cloud API says about the machine (overrides what lines suggested)."""
        if ctx.cloud != "unknown":
            self.cloud = ctx.cloud
        if ctx.hypervisor != "unknown":
            self.hypervisor = ctx.hypervisor
        self._normalise_context()

    def _infer(self, context: dict[str, str]) -> None:
        if self.cloud == "unknown" and context.get("cloud"):
            self.cloud = context["cloud"]
        if self.hypervisor == "unknown" and context.get("hypervisor"):
            self.hypervisor = context["hypervisor"]
        self._normalise_context()

    def _normalise_context(self) -> None:
        if self.cloud == "aws" and self.hypervisor == "kvm":
            self.hypervisor = "nitro"  # EC2's KVM-based hypervisor

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, item: LineBatch | Line | Sequence[Line]) -> list[Finding]:
        """Look at more lines; return the findings they made certain."""
        if isinstance(item, LineBatch):
            return self._feed_batch(item)
        lines = [item] if isinstance(item, Line) else list(item)
        out: list[Finding] = []
        for line in lines:
            out.extend(self._feed_batch(self._single(line)))
        return out

    def _single(self, line: Line) -> LineBatch:
        block = line.text.replace("\n", " ").encode("utf-8", "backslashreplace") + b"\n"
        hits, _ = self.catalog.scanner.scan(block)
        scanned = []
        if hits:
            triggers = frozenset(hits[0])
            stamps, formats, fields = self.catalog.read(line.text, triggers)
            scanned.append(ScannedLine(line, stamps.message, formats, triggers, fields, stamps.program))
        return LineBatch(source=line.source, block=block, count=1, first_seq=line.seq,
                         boot_marks=[(line.seq, line.boot)], scanned=scanned, origin=line.origin,
                         texts=[line.text])

    def _feed_batch(self, batch: LineBatch) -> list[Finding]:
        if not batch.count:
            return []
        self.lines_seen += batch.count
        out: list[Finding] = []
        if self._boot.first is None:
            self._boot.see_line(LineRef(batch.first_seq, batch.text(0), batch.origin, batch.source))
        for sl in batch.scanned:
            line = sl.line
            if line.boot != self._boot.index:
                if line.seq - 1 >= batch.first_seq:
                    i = line.seq - 1 - batch.first_seq
                    self._boot.see_line(LineRef(line.seq - 1, batch.text(i), batch.origin, batch.source))
                out.extend(self._close("next-boot"))
                self._boot = BootState(line.boot)
            out.extend(self._on_line(sl, batch))
        last = LineRef(batch.last_seq, batch.text(batch.count - 1), batch.origin, batch.source)
        self._boot.see_line(last)
        out.extend(self._expire(split_stamps(last.text).guest_time, batch.last_seq))
        for seq, text in batch.before(batch.last_seq + 1, CONTEXT_LINES):
            self._tail.append((seq, text))
        return out

    def _context(self, seq: int, batch: LineBatch) -> tuple[Evidence, ...]:
        pairs = batch.before(seq, CONTEXT_LINES) if seq >= batch.first_seq else []
        if len(pairs) < CONTEXT_LINES and seq - len(pairs) <= batch.first_seq:
            older = [p for p in self._tail if p[0] < min(seq, batch.first_seq)]
            pairs = older[len(older) - (CONTEXT_LINES - len(pairs)):] + pairs if older else pairs
        return tuple(Evidence(s, t, batch.source, batch.origin) for s, t in pairs[-CONTEXT_LINES:])  # type: ignore[arg-type]

    def _on_line(self, sl: ScannedLine, batch: LineBatch) -> list[Finding]:
        line = sl.line
        ref = LineRef(line.seq, line.text, line.origin, line.source)
        self._boot.see_line(ref)
        for hit in sl.formats:
            if hit.pattern.context:
                self._infer(dict(hit.pattern.context))
            if hit.pattern.milestone:
                self._boot.reach(hit.pattern.milestone, ref, line.t)
        out = self._expire(line.t, line.seq)
        matched: dict[str, list[tuple[int, dict[str, str]]]] = {}
        for rule, m in self.catalog.candidates(sl):
            if not rule.applies(self.cloud, self.hypervisor):
                continue
            fields = self.catalog.check(m, sl)
            if fields is not None:
                matched.setdefault(rule.id, []).append((rule.matchers.index(m), fields))
        for rule_id, hits in matched.items():
            rule = self.rules[rule_id]
            ctx = self._context(line.seq, batch)
            out.extend(self._advance(rule, hits, sl, ctx))
        return out

    # -- conditions ------------------------------------------------------------------------

    def _advance(self, rule: Rule, hits: list[tuple[int, dict[str, str]]], sl: ScannedLine,
                 ctx: tuple[Evidence, ...]) -> list[Finding]:
        cond = rule.condition
        line = sl.line
        ev = Evidence(line.seq, line.text, line.source, line.origin)
        st = self._boot.state
        matched = {rule.matchers[i]: f for i, f in hits}
        if isinstance(cond, LineCond):
            return self._fire(rule, [ev], hits[0][1], ctx, sl.message)
        if isinstance(cond, SequenceCond):
            progress: dict[int, tuple] = st.setdefault(rule.id, {})
            out: list[Finding] = []
            for k in range(len(cond.steps) - 1, -1, -1):
                fields = matched.get(cond.steps[k])
                if fields is None:
                    continue
                if k == 0:
                    progress[1] = ([ev], line.t, line.seq, fields, ctx, sl.message)
                    continue
                p = progress.get(k)
                if p is None or cond.window.exceeded(p[1], p[2], line.t, line.seq):
                    progress.pop(k, None)
                    continue
                chain = (p[0] + [ev], p[1], p[2], {**p[3], **fields}, p[4], p[5])
                if k == len(cond.steps) - 1:
                    del progress[k]
                    out.extend(self._fire(rule, chain[0], chain[3], chain[4], chain[5]))
                else:
                    progress[k + 1] = chain
            return out
        if isinstance(cond, AbsentCond):
            pending = st.get(rule.id)
            if cond.expect in matched and pending is not None:
                st.pop(rule.id)  # satisfied in time (expiry was checked before matching)
            elif cond.first in matched and pending is None:
                st[rule.id] = (ev, line.t, line.seq, matched[cond.first], ctx, sl.message)
            return []
        if isinstance(cond, RepeatCond):
            seen: deque = st.setdefault(rule.id, deque())
            seen.append((ev, line.t, line.seq, hits[0][1], ctx, sl.message))
            if cond.window is not None:
                while seen and cond.window.exceeded(seen[0][1], seen[0][2], line.t, line.seq):
                    seen.popleft()
            if len(seen) >= cond.count:
                first, last = seen[0], seen[-1]
                seen.clear()
                return self._fire(rule, [first[0], last[0]], {**first[3], **last[3]}, first[4], first[5])
        return []

    def _expire(self, t: float | None, seq: int) -> list[Finding]:
        out: list[Finding] = []
        st = self._boot.state
        for rule in self._windowed:
            cond = rule.condition
            if isinstance(cond, AbsentCond):
                p = st.get(rule.id)
                if p is not None and cond.window is not None and cond.window.exceeded(p[1], p[2], t, seq):
                    del st[rule.id]
                    out.extend(self._fire(rule, [p[0]], p[3], p[4], p[5]))
        return out

    # -- findings --------------------------------------------------------------------------

    def _fire(self, rule: Rule, evidence: list[Evidence], fields: dict[str, str],
              ctx: tuple[Evidence, ...], message: str | None, *, capture: bool = False) -> list[Finding]:
        b = self._boot
        key = (rule.id, "capture") if capture else (rule.id, _MASK.sub("#", message or evidence[0].text if evidence else ""))
        if key in b.counts or (capture and any(f.rule == rule.id for f in self.capture_findings)):
            b.counts[key] = b.counts.get(key, 1) + 1
            return []
        b.counts[key] = 1
        if not capture:
            b.index_of[key] = len(b.findings)
        finding = Finding(
            rule=rule.id, category=rule.category, severity=rule.severity, title=rule.title,
            boot=b.index, evidence=tuple(evidence),
            remediation=render(rule.remediation, self.cloud, self.hypervisor, fields),
            context=ctx, fields=dict(fields), verdict=rule.verdict,  # type: ignore[arg-type]
            description=rule.description, references=rule.references,
        )
        if capture:
            self.capture_findings.append(finding)
        else:
            b.findings.append(finding)
        return [finding]

    def _close(self, ended_by: str) -> list[Finding]:
        b = self._boot
        out: list[Finding] = []
        for rule in self._windowed:
            p = b.state.get(rule.id)
            if isinstance(rule.condition, AbsentCond) and p is not None:
                out.extend(self._fire(rule, [p[0]], p[3], p[4], p[5]))
        late = [r for r in self._boot_rules if r.condition.outcome]  # type: ignore[union-attr]
        for rule in self._boot_rules:
            if rule not in late and rule.applies(self.cloud, self.hypervisor):
                ev = b.boot_matches(rule.condition, ended_by, None)  # type: ignore[arg-type]
                if ev:
                    out.extend(self._fire(rule, ev, {}, (), None))
        findings = bootstate.apply_inhibition(bootstate.with_counts(b), self.rules)
        outcome, reason = bootstate.decide(b, findings)
        for rule in late:
            if rule.applies(self.cloud, self.hypervisor):
                ev = b.boot_matches(rule.condition, ended_by, outcome)  # type: ignore[arg-type]
                if ev:
                    out.extend(self._fire(rule, ev, {}, (), None))
        findings = bootstate.apply_inhibition(bootstate.with_counts(b), self.rules)
        self.boots.append(bootstate.close(b, findings, outcome, reason))
        for rule in self._capture_rules:
            cond = rule.condition
            assert isinstance(cond, CaptureCond)
            if cond.min_boots is None:
                continue
            judged = [x for x in self.boots if not cond.outcome or x.outcome in cond.outcome]
            if len(judged) >= cond.min_boots and rule.applies(self.cloud, self.hypervisor):
                ev = [Evidence(x.first_seq, x.first_text) for x in judged]
                out.extend(self._fire(rule, ev, {"boots": str(len(judged))}, (), None, capture=True))
        return out

    def finish(self) -> list[Finding]:
        """End of the capture: close the open boot. Idempotent."""
        if self._finished:
            return []
        self._finished = True
        out: list[Finding] = []
        for rule in self._capture_rules:
            most = rule.condition.max_lines  # type: ignore[union-attr]
            if most is not None and self.lines_seen <= most and rule.applies(self.cloud, self.hypervisor):
                ev = [Evidence(1, self._boot.first.text)] if self._boot.first else []
                out.extend(self._fire(rule, ev, {"lines": str(self.lines_seen)}, (), None, capture=True))
        if self._boot.first is None and not self.boots:
            return out
        return out + self._close("capture-end")
