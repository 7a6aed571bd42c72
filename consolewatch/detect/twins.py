"""Lines a screen showed first and a text console printed later: how the engine takes them.

`normalize.timeline` keeps such a line once on the timeline, at the seq of the screen reading,
and hands the text console's copy to the engine as a *twin* (`LineBatch.twins`). `TwinLines`
is the part of `Engine` that reads twins (split out to keep the engine module small); it uses
the engine's boot state, matching and firing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from consolewatch.detect import bootstate
from consolewatch.detect.bootstate import LineRef
from consolewatch.model import Evidence, Finding, Line

if TYPE_CHECKING:
    from typing import Protocol

    from consolewatch.detect.bootstate import BootState
    from consolewatch.detect.catalog import ScannedLine
    from consolewatch.detect.quoting import LineContext
    from consolewatch.detect.rules import Rule
    from consolewatch.normalize.batch import LineBatch

    class _Engine(Protocol):
        """What `TwinLines` uses of the engine it is mixed into."""

        _boot: BootState
        rules: dict[str, Rule]
        _screen_hits: dict[int, frozenset[str]]
        _exact: dict[int, Evidence]

        def _single(self, line: Line) -> LineBatch: ...
        def _context(self, batch: LineBatch, seq: int) -> LineContext: ...
        def _match(self, sl: ScannedLine) -> dict[str, list[tuple[int, dict[str, str]]]]: ...
        def _advance(self, rule: Rule, hits: list[tuple[int, dict[str, str]]], sl: ScannedLine,
                     ctx: LineContext) -> list[Finding]: ...
        def _remedy(self, rule: Rule, fields: dict[str, str]) -> str: ...
        def _requote(self, rule: Rule, seq: int, fields: dict[str, str]) -> None: ...

#: Screen lines remembered until their text twin comes (the rules they matched, their exact text).
TWINS_KEPT = 4096


class TwinLines:
    """Mixed into `Engine`: `_twin(line)` for each text twin of a batch."""

    _screen_hits: dict[int, frozenset[str]]
    """seq -> the rules a screen (OCR) line matched, until its text twin comes."""
    _exact: dict[int, Evidence]
    """seq -> the exact text of a line first read off a screen (the text twin's bytes)."""
    # The engine provides: _boot, rules, _single, _match, _context, _advance, _remedy (see _Engine).

    def _twin(self: _Engine, line: Line) -> list[Finding]:
        """A line already on the timeline (at `line.seq`), as the other kind of source showed it.

        Either way the line counts among its own source's lines (`BootState.see_twin`: boot
        conditions on one origin's lines judge the same whichever source showed a line first),
        without moving the boot's last milestone over all sources. A screen's copy of a text
        line adds nothing else: detectors judged the exact text.

        The text console's copy of a line first read off a screen is its exact text. The rule:
        a line counts once. Rules the screen reading matched are not advanced again; their
        findings quote the exact text from now on and take the values it quotes (the fix is
        written again with them) but are not emitted again. Rules only the exact text matches
        (the OCR misread the line) are advanced now, at the line's seq, and may emit a finding.
        A finding made from the screen reading is never withdrawn. Milestones the screen
        reading missed are reached. A line of a boot already closed changes nothing (that boot
        was judged as its lines came).
        """
        if line.boot != self._boot.index:
            return []
        b = self._boot
        text = line.origin == "text"
        if text:
            ev = Evidence(line.seq, line.text, line.source, "text")
            remember(self._exact, line.seq, ev)
            quote_exactly(b, ev)
        single = self._single(line)
        ref = LineRef(line.seq, line.text, line.origin, line.source)
        sl = single.scanned[0] if single.scanned else None
        patterns = [hit.pattern for hit in sl.formats] if sl is not None else []
        b.see_twin(ref, line.t, [(p.milestone, p.ref) for p in patterns if p.milestone],
                   any(p.restart for p in patterns))
        if sl is None or not text:
            return []
        judged = self._screen_hits.pop(line.seq, frozenset())
        out: list[Finding] = []
        ctx = self._context(single, line.seq)
        for rule_id, hits in self._match(sl).items():
            rule = self.rules[rule_id]
            if rule_id in judged:
                self._requote(rule, line.seq, hits[0][1])
            else:
                out.extend(self._advance(rule, hits, sl, ctx))
        return out

    def _requote(self: _Engine, rule: Rule, seq: int, fields: dict[str, str]) -> None:
        """Findings of `rule` quoting line `seq` take the values its exact text quotes."""
        b = self._boot
        for i, f in enumerate(b.findings):
            if f.rule == rule.id and any(e.seq == seq for e in f.evidence):
                merged = {**f.fields, **fields}
                b.findings[i] = dataclasses.replace(f, fields=merged, remediation=self._remedy(rule, merged))

    def _exactly(self, evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
        """Evidence with the lines first read off a screen quoted as the text console printed them."""
        if not self._exact:
            return tuple(evidence)
        return tuple(self._exact.get(e.seq, e) if e.origin == "ocr" else e for e in evidence)


def remember(memory: dict[Any, Any], key: Any, value: Any) -> None:
    """Add to a bounded memory, forgetting the oldest entry beyond TWINS_KEPT."""
    memory[key] = value
    if len(memory) > TWINS_KEPT:
        del memory[next(iter(memory))]


def quote_exactly(state: BootState, ev: Evidence) -> None:
    """Line `ev.seq`, first read off a screen, is quoted from now on as the text console printed it."""
    seq = ev.seq

    def swap(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
        return tuple(ev if e.seq == seq and e.origin == "ocr" else e for e in evidence)

    for i, f in enumerate(state.findings):
        evidence, context = swap(f.evidence), swap(f.context)
        if evidence != f.evidence or context != f.context:
            state.findings[i] = bootstate.replaced(f, evidence=evidence, context=context)
    for name, m in state.milestones.items():
        if m.seq == seq:
            state.milestones[name] = dataclasses.replace(m, text=ev.text)
    refs = [state.first, state.last, *state.last_by_origin.values(), *state.ready,
            *(v[1] for v in state.last_milestone.values())]
    for ref in refs:
        if ref is not None and ref.seq == seq:
            ref.text = ev.text
