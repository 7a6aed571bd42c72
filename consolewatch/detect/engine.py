"""The detection engine: lines in, findings out, one line at a time; boots judged as they close.

`Engine.feed(lines)` takes a `LineBatch` from the normaliser (fast path: only the lines the
scanner flagged are looked at) or plain `Line`s, and returns the findings that became certain.
`Engine.finish()` closes the last boot (absence and boot conditions) at the end of a capture.
Rule timing uses line timestamps only; findings are deduplicated by rule, boot and masked
evidence text, carry the lines just before their evidence, and a root cause mutes its symptoms.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from typing import Any

from consolewatch.detect import bootstate, facts, sieves, views
from consolewatch.detect.bootstate import BootState, LineRef
from consolewatch.detect.catalog import Catalog, ScannedLine
from consolewatch.detect.closing import BootClosing
from consolewatch.detect.conditions import Conditions
from consolewatch.detect.deferring import Deferring
from consolewatch.detect.firing import Firing
from consolewatch.detect.quoting import CONTEXT_LINES, LineContext
from consolewatch.detect.remedy import placeholders
from consolewatch.detect.rules import AbsentCond, BootCond, CaptureCond, IdleCond, Rule, SequenceCond
from consolewatch.detect.twins import TwinLines, remember
from consolewatch.model import MILESTONES, Boot, Evidence, Finding, Line, MachineContext
from consolewatch.normalize.batch import LineBatch
from consolewatch.normalize.stamps import split_stamps

#: What must wait for a line for it to advance a rule (`Engine._plan`).
_EXPECT, _STEP = "expect", "step"


def _glued(sl: ScannedLine) -> tuple[Any, ...]:
    """The format hits of a line that begins a boot at a banner but belong to the boot before: a
    milestone past the banner's stage on the banner's own line was text before it (a reset that
    lands on a login prompt: "cw-node login: SeaBIOS (version ...)"); the boot tracker
    (normalize/boots.py) does not count it for the new boot either."""
    starts = [MILESTONES.index(h.pattern.milestone) for h in sl.formats if h.pattern.boot_start and h.pattern.milestone]
    if not starts:
        return ()
    top = max(starts)
    return tuple(h for h in sl.formats if h.pattern.milestone and MILESTONES.index(h.pattern.milestone) > top)


def _trailing_blank(block: bytes) -> int:
    """How many of the block's last lines hold nothing but blanks. (`rstrip` copies what it keeps:
    the block's end is looked at first, not a copy of the whole block made for every batch.)"""
    tail = block[-4096:]
    kept = tail.rstrip()
    if not kept and len(tail) < len(block):
        tail, kept = block, block.rstrip()
    return tail.count(b"\n", len(kept)) - (1 if kept else 0)


class Engine(TwinLines, BootClosing, Conditions, Firing, Deferring):
    def __init__(self, catalog: Catalog, *, cloud: str = "unknown", hypervisor: str = "unknown",
                 detail: str = "all") -> None:
        """`detail`: "all" (every finding complete when made), or "verdict": only the findings
        of the boots the verdict shows get their context lines and fix (`deferring`)."""
        self.catalog = catalog
        self._lazy = detail == "verdict"
        self._closed_held = None
        self.rules = {r.id: r for r in catalog.rules}
        self._absent = frozenset(r.id for r in catalog.rules if isinstance(r.condition, AbsentCond))
        """absent_after rules: a line that only meets one of their `expect`s matters while they wait."""
        self._windowed = frozenset(r.id for r in catalog.rules if isinstance(r.condition, AbsentCond) and r.condition.window is not None)
        """absent_after rules with a window: only their waits can time out (`_expire`); a boot that
        waits for the others only (a call trace cut off waits for the boot's end) expires nothing."""
        self.cloud = cloud
        self.hypervisor = hypervisor
        self.boots: list[Boot] = []
        self.boots_dropped = 0
        self.boot_outcomes: Counter[str] = Counter()
        """How many closed boots had each outcome (all of them, kept or not)."""
        self._capture_fired: set[str] = set()
        self._streaks: dict[str, list[bootstate.Ending]] = {}
        """capture rule id -> how each of the latest closed boots in a row that the rule counts ended."""
        self._origins_closed: frozenset[str] = frozenset()
        """Origins ("*": any) on which a closed boot printed."""
        self.capture_findings: list[Finding] = []
        self.lines_seen = 0
        self._boot = BootState(1)
        self._tail: deque[tuple[int, str]] = deque(maxlen=CONTEXT_LINES)
        boot_rules = [r for r in catalog.rules if isinstance(r.condition, BootCond)]
        self._early = [r for r in boot_rules if not r.condition.outcome]  # type: ignore[union-attr]
        self._late = [r for r in boot_rules if r.condition.outcome]  # type: ignore[union-attr]
        self._capture_rules = [r for r in catalog.rules if isinstance(r.condition, CaptureCond)]
        self._boot_gate: dict[tuple[Any, ...], list[Rule]] = {}
        self._idle_rules = [r for r in catalog.rules if isinstance(r.condition, IdleCond)]
        self._finished = False
        self._remedies: dict[tuple[Any, ...], str] = {}
        self.context_fields: dict[str, str] = {}
        """Facts from the cloud API (instance_type, root_device, ...) remediation texts may quote."""
        self._fields_used = {r.id: placeholders(r.remediation) for r in catalog.rules}
        self._screen_hits: dict[int, frozenset[str]] = {}
        """seq -> the rules a screen (OCR) line matched, until its text twin comes."""
        self._exact: dict[int, Evidence] = {}
        """seq -> the exact text of a line first read off a screen (the text twin's bytes)."""
        self._facts_seen = 0
        """Moves whenever `context_fields` change (the remembered matches depend on them)."""
        self._matched: dict[tuple[Any, ...], dict[str, list[tuple[int, dict[str, str]]]]] = {}
        self._matched_under: tuple[str, str, int] | None = None
        self._plans: dict[tuple[Any, ...], tuple[tuple[tuple[Any, ...], ...], bool]] = {}
        """The same key -> what the line does to each rule it matches, and whether only a rule's wait
        can take it (`_plan`)."""
        inhibitors: dict[str, set[str]] = {}  # rule id or category -> the rules whose `inhibits` name it
        for r in catalog.rules:
            for target in r.inhibits:
                inhibitors.setdefault(target, set()).add(r.id)
        self._muters: dict[str, frozenset[str]] = {
            r.id: frozenset((inhibitors.get(r.id, set()) | inhibitors.get(r.category, set())) - {r.id})
            for r in catalog.rules if r.id in inhibitors or r.category in inhibitors}
        """rule id -> the ids of the rules whose `inhibits` name it or its category (one pass over the
        rules, not one per rule that fires; a rule nothing mutes is not in it)."""
        self._masked: dict[str, bytes] = {}
        """message -> its fingerprint (digits masked), for repeated lines."""

    # -- context -------------------------------------------------------------------------

    def set_context(self, ctx: MachineContext) -> None:
        """What the cloud API says about the machine (overrides what lines suggested)."""
        if self._lazy:
            self._fix_held()  # written as before the facts change
        if ctx.cloud != "unknown":
            self.cloud = ctx.cloud
        if ctx.hypervisor != "unknown":
            self.hypervisor = ctx.hypervisor
        self.context_fields.update({k: str(v) for k, v in ctx.fields.items()})
        self._facts_seen += 1
        self._normalise_context()

    def _infer(self, context: Any) -> None:
        if self._lazy and ((self.cloud == "unknown" and context.get("cloud"))
                           or (self.hypervisor == "unknown" and context.get("hypervisor"))):
            self._fix_held()  # written as before the cloud changes
        if self.cloud == "unknown" and context.get("cloud"):
            self.cloud = context["cloud"]
        if self.hypervisor == "unknown" and context.get("hypervisor"):
            self.hypervisor = context["hypervisor"]
        self._normalise_context()
        self._matched_for_context()

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
            scanned.append(ScannedLine.of(line, self.catalog.read(line.text, triggers), triggers))
        return LineBatch(source=line.source, block=block, count=1, first_seq=line.seq,
                         boot_marks=[(line.seq, line.boot)], scanned=scanned, origin=line.origin,
                         texts=[line.text])

    def _feed_batch(self, batch: LineBatch) -> list[Finding]:
        out: list[Finding] = []
        if self._lazy and (batch.twins or batch.origin == "ocr"):
            self._complete_now()  # twins correct the quoted lines of the open boot's findings
        self._matched_for_context()  # the cloud's facts may have come since the last batch
        for twin in batch.twins:  # lines already on the timeline, older than the batch's
            out.extend(self._twin(twin))
        if not batch:
            return out
        self.lines_seen += len(batch)
        if self._boot.first is None:
            self._boot.see_line(LineRef(batch.first_seq, batch.text(0), batch.origin, batch.source))
        tail = tuple(self._tail)
        start = batch.first_seq  # first line of the batch in the current boot
        glued: tuple[Any, ...] = ()
        for sl in batch.scanned:
            if sl.boot != self._boot.index:
                end = sl.seq - 1 - batch.first_seq
                blank = self._see_end(batch, start - batch.first_seq, end, None)
                self._count(batch.origin, sl.seq - start, blank)
                glued = _glued(sl)
                for hit in glued:  # the prompt the reset landed on ("login: SeaBIOS ..."): the boot that ended
                    ref = LineRef(sl.seq, sl.text, sl.origin, sl.source)
                    pos = self._boot.seen.get(sl.origin, 0)
                    self._boot.reach(hit.pattern.milestone, ref, sl.t, hit.pattern.ref, pos, self._boot.seen.get("*", 0), hit.pattern.poweroff)
                out.extend(self._close("next-boot"))
                self._boot = BootState(sl.boot)
                self._boot.see_line(LineRef(sl.seq, sl.text, sl.origin, sl.source))
                start = sl.seq
            self._on_line(sl, batch, tail, sl.seq - start + 1, out, glued if sl.seq == start else ())
        blank = self._see_end(batch, start - batch.first_seq, len(batch) - 1, _trailing_blank(batch.block))
        self._count(batch.origin, batch.last_seq - start + 1, blank)
        if not self._windowed.isdisjoint(self._boot.pending):
            out.extend(self._expire(split_stamps(batch.text(len(batch) - 1)).guest_time, batch.last_seq))
        self._tail.extend(batch.before(batch.last_seq + 1, CONTEXT_LINES))
        if self._lazy:
            self._settle_batch(batch)
        return out

    def _see_end(self, batch: LineBatch, first: int, end: int, blank: int | None) -> int:
        """Lines `first`..`end` of `batch` are the current boot's latest: the boot sees line `end`
        and, when blank lines end the run, the last line before them that is not (the one a
        boot condition quotes). `blank`: how many lines end the batch blank, when known. Returns
        how many of the run's lines are blank at its end."""
        if blank is None:
            blank, i = 0, end
            while i >= first and not batch.text(i).strip():
                blank, i = blank + 1, i - 1
        quoted = end - blank
        if first <= quoted < end:
            self._boot.see_line(LineRef(batch.first_seq + quoted, batch.text(quoted), batch.origin, batch.source))
        if end >= 0:
            self._boot.see_line(LineRef(batch.first_seq + end, batch.text(end), batch.origin, batch.source))
        return blank

    def _count(self, origin: str, n: int, blank: int = 0) -> None:
        """`n` more lines of `origin` in this boot, the last `blank` of them blank."""
        seen, trailing = self._boot.seen, self._boot.trailing_blank
        for o in (origin, "*"):
            seen[o] = seen.get(o, 0) + n
            trailing[o] = trailing.get(o, 0) + n if blank >= n else blank

    def _on_line(self, sl: ScannedLine, batch: LineBatch, tail: tuple[Any, ...], pos: int,
                 out: list[Finding], glued: tuple[Any, ...] = ()) -> None:
        """Add the findings line `sl` makes certain to `out`. `pos`: the line's position among the
        current boot's lines of this batch (1-based); `glued`: its format hits that belong to the
        boot before (`_glued`)."""
        b = self._boot
        if sl.guest_time is not None:
            b.stamped[sl.origin] = sl.seq
            if not b.early and sl.guest_time <= views.BOOT_WINDOW:  # views.early
                b.early = sl.seq
        ref = None  # the line as the boot state keeps its milestones (`quote_exactly` corrects them)
        for hit in sl.formats:
            if hit in glued:
                continue
            p = hit.pattern
            if p.context:
                self._infer(p.context)
            milestone = p.milestone
            if p.progress or (milestone and not p.poweroff):  # a power-off ends a wait, it does not pass it
                b.progress = sl.seq
            if p.restart and b.restart is None:
                b.restart = LineRef(sl.seq, sl.text, sl.origin, sl.source)
            if p.arms and b.armed is None:
                b.armed = LineRef(sl.seq, sl.text, sl.origin, sl.source)
            if milestone:
                ref = ref or LineRef(sl.seq, sl.text, sl.origin, sl.source)
                seen = b.seen
                b.reach(milestone, ref, sl.t, p.ref, seen.get(sl.origin, 0) + pos, seen.get("*", 0) + pos, p.poweroff)
        if b.pending and not self._windowed.isdisjoint(b.pending):
            out.extend(self._expire(sl.t, sl.seq))
        # What the line does to each rule it matches, remembered as `_match`'s answer is: most
        # lines repeat one already seen
        got = self._plans.get((sl.message, sl.program, sl.triggers, sl.origin))
        plan, expects_only = got if got is not None else self._plan(sl)
        if plan:
            if sl.origin == "ocr":
                remember(self._screen_hits, sl.seq, frozenset(self._match(sl)))
            if expects_only and not b.pending:
                return  # only absent_after waits can take the line, and none waits (a "Linux version" line)
            ctx = None  # made when a rule advances (most plans' steps are expects nothing waits for)
            for rule_id, rule, hits, supersedes, waits in plan:
                if supersedes:  # the line that makes the rule's findings moot
                    b.superseding[rule_id] = sl.seq
                    if not hits:
                        continue
                if waits and (rule_id not in b.pending if waits is _EXPECT else not b.state.get(rule_id)):
                    continue  # nothing waits for this line (`_advance` would do nothing with it)
                out.extend(self._advance(rule, hits, sl, ctx or (ctx := LineContext(batch, sl.seq, tail))))

    def _plan(self, sl: ScannedLine) -> tuple[tuple[tuple[Any, ...], ...], bool]:
        """Per rule `sl` matches: its id, the rule, the hits that advance it, whether the line
        supersedes the rule's findings, and what must wait for the line for it to advance the
        rule: `_EXPECT` (only an absent_after's expects: the rule's wait) or `_STEP` (only later
        steps of a sequence: one begun), else None. Component fallbacks come last. And whether
        every step is an `_EXPECT` that supersedes nothing (with no wait pending, the line does
        nothing to any rule)."""
        matched = self._match(sl)
        plan = []
        expects_only = True
        for rule_id, hits in matched.items():
            rule = self.rules[rule_id]
            supersedes = hits[-1][0] == rule.superseded_at
            if supersedes:
                hits = hits[:-1]
            waits = None
            if hits and hits[0][0]:
                if rule_id in self._absent:
                    waits = _EXPECT
                elif isinstance(rule.condition, SequenceCond):
                    waits = _STEP
            plan.append((rule_id, rule, hits, supersedes, waits))
            expects_only = expects_only and waits is _EXPECT and not supersedes
        # a component fallback after every fuller rule of the line, so that one of its category
        # matching the same line is found first and the weaker suspect is never emitted (a live
        # tail would show it before the boot's sieves drop it)
        if len(plan) > 1:
            plan.sort(key=lambda step: step[1].component)
        if len(self._plans) > 20000:
            self._plans.clear()
        got = self._plans[(sl.message, sl.program, sl.triggers, sl.origin)] = (tuple(plan), expects_only)
        return got

    def _context(self, batch: LineBatch, seq: int) -> LineContext:
        """Where line `seq` of `batch` finds the lines before it (none before the batch)."""
        return LineContext(batch, seq, ())

    def _matched_for_context(self) -> None:
        """Forget the remembered matches when what they depend on besides the line changed (the
        cloud, the hypervisor, the cloud's facts): checked when a batch starts and when a line
        names the cloud (`_infer`), the only places these change, not for every line."""
        state = (self.cloud, self.hypervisor, self._facts_seen)
        if state != self._matched_under:
            self._matched.clear()
            self._plans.clear()
            self._matched_under = state

    def _match(self, sl: ScannedLine) -> dict[str, list[tuple[int, dict[str, str]]]]:
        """rule id -> (matcher index, fields) of each of the rule's matchers the line satisfies.

        Remembered by what it depends on: the line's message, program, triggers and origin (see
        `Catalog.matches`), the cloud and hypervisor, and the cloud's facts (`_facts_seen` moves
        when they change; `_matched_for_context` forgets). Shared between lines: callers never
        change the lists or the fields."""
        key = (sl.message, sl.program, sl.triggers, sl.origin)
        matched = self._matched.get(key)
        if matched is None:
            if len(self._matched) > 20000:
                self._matched.clear()
            matched = self._matched[key] = {}
            for rule, m, index, fields in self.catalog.matches(sl):
                if (rule.clouds or rule.hypervisors) and not rule.applies(self.cloud, self.hypervisor):
                    continue
                if not m.context or facts.holds(m.context, fields, self.context_fields):
                    matched.setdefault(rule.id, []).append((index, fields))
        return matched


    # -- live ----------------------------------------------------------------------------

    def provisional(self) -> str | None:
        """The open boot's outcome as far as it is certain now (live gates), else None."""
        b = self._boot
        _, outcome, _ = bootstate.judge(b, sieves.superseded(b, b.findings, self.rules), live=True)
        return None if outcome == "unknown" else outcome

    @property
    def boot_index(self) -> int:
        return self._boot.index

    def idle(self, quiet_seconds: float) -> list[Finding]:
        """The console has printed nothing for `quiet_seconds`: fire the idle (stall) rules."""
        b = self._boot
        if b.last is None:
            return []
        last_ms = b.last_milestone.get("*")
        fields = {"quiet": f"{quiet_seconds:.0f}s", "last_milestone": last_ms[0] if last_ms else "none"}
        out: list[Finding] = []
        for rule in self._idle_rules:
            cond = rule.condition
            assert isinstance(cond, IdleCond)
            if any(m in b.milestones for m in cond.not_reached) or not rule.applies(self.cloud, self.hypervisor):
                continue
            if self.provisional() == "failure":
                continue
            out.extend(self._fire(rule, [b.last.evidence()], fields, None, None))
        return out

    def finish(self, *, non_text: float = 0.0) -> list[Finding]:
        """End of the capture: close the open boot. Idempotent. `non_text`: the fraction of the
        text sources' bytes that were not text (capture conditions on `non_text` judge it)."""
        if self._finished:
            return []
        self._finished = True
        out: list[Finding] = []
        for rule in self._capture_rules:
            cond = rule.condition
            assert isinstance(cond, CaptureCond)
            few = cond.max_lines is not None and self.lines_seen <= cond.max_lines
            garbled = cond.non_text is not None and self.lines_seen and non_text >= cond.non_text
            if (few or garbled) and rule.applies(self.cloud, self.hypervisor):
                ev = [Evidence(1, self._boot.first.text)] if self._boot.first else []
                fields = {"lines": str(self.lines_seen), "non_text": f"{non_text:.0%}"}
                out.extend(self._fire(rule, ev, fields, None, None, capture=True))
        if self._boot.first is None and not self.boots:
            return out
        out += self._close("capture-end")
        self._complete_closed()  # the boot before the last is printed when the capture ends in its loop
        if self.boots and self.boots[-1].outcome == "success":
            # Earlier boots' failures (a loop the machine came out of) are history, not the verdict.
            self.capture_findings = [bootstate.demote(f) for f in self.capture_findings]
        return out
