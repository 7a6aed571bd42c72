"""How the engine makes a finding: one per rule, boot and evidence fingerprint (digits masked:
a line repeating with other numbers is counted, not reported again), quoting the lines just
before its evidence, with its fix written for this cloud and the root cause that mutes it.

`Firing` is the part of `Engine` that does it (split out to keep the engine module small); it
uses the engine's boot state, rules and the cloud's facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from consolewatch.detect.deferring import Held
from consolewatch.detect.quoting import LineContext
from consolewatch.detect.remedy import render
from consolewatch.detect.rules import Rule
from consolewatch.model import Evidence, Finding

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol

    from consolewatch.detect.bootstate import BootState

    class _Engine(Protocol):
        """What `Firing` uses of the engine it is mixed into."""

        _boot: BootState
        rules: dict[str, Rule]
        cloud: str
        hypervisor: str
        capture_findings: list[Finding]
        context_fields: dict[str, str]
        _fields_used: dict[str, tuple[str, ...]]
        _remedies: dict[tuple[Any, ...], str]
        _masked: dict[str, bytes]
        _muters: dict[str, frozenset[str]]
        _lazy: bool

        def _mask(self, text: str) -> bytes: ...
        def _remedy(self, rule: Rule, fields: Mapping[str, str]) -> str: ...
        def _root_of(self, rule: Rule) -> str | None: ...
        def _exactly(self, evidence: Sequence[Evidence]) -> tuple[Evidence, ...]: ...

#: Digits are masked in fingerprints so a line repeating with other numbers is one finding.
_MASK = bytes.maketrans(b"0123456789", b"##########")


class Firing:
    """Mixed into `Engine`: `_fire` makes a finding (or counts a repeat of one)."""

    def _mask(self: _Engine, text: str) -> bytes:
        """`text`'s fingerprint: its bytes with digits masked (a line repeating with other numbers
        is one finding); remembered, as consoles repeat lines."""
        masked = self._masked.get(text)
        if masked is None:
            if len(self._masked) > 20000:
                self._masked.clear()
            masked = self._masked[text] = text.encode("utf-8", "surrogateescape").translate(_MASK)
        return masked

    def _fire(self: _Engine, rule: Rule, evidence: list[Evidence], fields: dict[str, str], ctx: LineContext | None,
              message: str | None, *, capture: bool = False, mask: bytes | None = None) -> list[Finding]:
        """The finding `rule` makes of `evidence` (none when it repeats one of this boot's).
        `mask`: `_mask(message)`, when the caller has it already."""
        b = self._boot
        if capture:
            if any(f.rule == rule.id for f in self.capture_findings):
                return []
            key: tuple[str, str | bytes] = (rule.id, "capture")
        else:
            if rule.fallback and (full := b.found.get(rule.category)) is not None and (rule.component or full):
                return []  # the fuller evidence was seen: the fragment adds nothing
            if mask is None:
                mask = self._mask(message if message is not None else (evidence[0].text if evidence else ""))
            key = (rule.id, mask)
            if key in b.counts:
                b.counts[key] += 1
                b.repeated_at[b.index_of[key]] = max(e.seq for e in evidence) if evidence else 0
                return []
            b.counts[key] = 1
            b.index_of[key] = len(b.findings)
        context: tuple[Evidence, ...] = ()
        if self._lazy and not capture:  # context and fix written only if the boot may be printed
            b.held.append(Held(ctx if ctx is not None else (), fields))
            fix = ""
        else:
            fix, context = self._remedy(rule, fields), self._exactly(ctx.lines()) if ctx is not None else ()
        finding = Finding(  # by position (the order of its fields): cheaper than by name
            rule.id, rule.category, rule.severity, rule.title, b.index, self._exactly(evidence),
            fix, context, dict(fields),
            rule.verdict,  # type: ignore[arg-type]
            None if capture or rule.id not in self._muters else self._root_of(rule), rule.description, rule.references,
        )
        if capture:
            self.capture_findings.append(finding)
        else:
            b.findings.append(finding)
            if not b.found.get(rule.category):
                b.found[rule.category] = not rule.component
            if rule.inhibits:
                b.muting.append(rule.id)
        return [finding]

    def _root_of(self: _Engine, rule: Rule) -> str | None:
        """A root cause already found in this boot that mutes `rule` (so a live view groups them)."""
        muters = self._muters.get(rule.id)  # the rules whose `inhibits` name this one or its category
        if muters:
            for rule_id in self._boot.muting:  # only such rules' findings can be one
                if rule_id in muters:
                    return rule_id
        return None

    def _remedy(self: _Engine, rule: Rule, fields: Mapping[str, str]) -> str:
        facts = self.context_fields  # what the console said (`fields`) wins over the API
        used = self._fields_used[rule.id]
        values = tuple([fields[n] if n in fields else facts.get(n) for n in used]) if used else ()
        key = (rule.id, self.cloud, self.hypervisor, values)
        text = self._remedies.get(key)
        if text is None:
            if len(self._remedies) > 4096:
                self._remedies.clear()
            text = self._remedies[key] = render(rule.remediation, self.cloud, self.hypervisor,
                                                {**facts, **fields} if facts else fields)
        return text
