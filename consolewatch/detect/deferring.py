"""Findings whose context lines and fix are written only if someone will read them.

`analyze --boot last` prints the verdict's boots only (the last boot, and the failed boot
before it when the capture ends inside its loop; `Analysis.findings`), yet every boot of the
capture is judged, and judging needs a finding's rule, category, severity, verdict and evidence,
never its context lines or its fix. With `Engine(detail="verdict")` a finding is made without
them (`context=()`, `remediation=""`) and what writing them takes is held beside it
(`Held`); the boots that can be printed get them when the capture ends, the same as they would
have been written when the finding was made (or again at its boot's close, as `_rerender` does).
Every other boot keeps findings without context and fix: nothing prints them.

`Deferring` is the part of `Engine` that does it (split out to keep the engine module small).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from consolewatch.detect.bootstate import replaced
from consolewatch.detect.quoting import LineContext

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Protocol

    from consolewatch.detect.bootstate import BootState
    from consolewatch.detect.rules import Rule
    from consolewatch.model import Boot, Evidence, Finding
    from consolewatch.normalize.batch import LineBatch

    class _Engine(Protocol):
        """What `Deferring` uses of the engine it is mixed into."""

        _boot: BootState
        rules: dict[str, Rule]
        cloud: str
        boots: list[Boot]
        _lazy: bool
        _closed_held: tuple[Boot, list[Finding], list[Held]] | None

        def _remedy(self, rule: Rule, fields: Mapping[str, str]) -> str: ...
        def _fix_held(self) -> None: ...
        def _settle(self, held: list[Held], batch: LineBatch | None) -> None: ...
        def _complete(self, findings: list[Finding], held: list[Held]) -> list[Finding]: ...
        def _complete_open(self) -> None: ...
        def _complete_closed(self) -> None: ...


class Held:
    """What a finding made without context and fix needs to get them: where its context lines
    are (a `LineContext`, or the lines once read), the fields its fix is written with (None:
    the finding's own, as at its boot's close) and the fix once written (None: not yet)."""

    __slots__ = ("context", "fields", "fix")

    def __init__(self, context: LineContext | tuple[Evidence, ...], fields: Mapping[str, str] | None) -> None:
        self.context = context
        self.fields = fields
        self.fix: str | None = None


def _key(f: Finding) -> tuple[str, int]:
    """A finding among its boot's: one per rule and first evidence line (`_fire` keeps one per
    rule and evidence fingerprint; judging changes neither)."""
    return f.rule, f.evidence[0].seq if f.evidence else -1


class Deferring:
    """Mixed into `Engine`: holding and completing findings made without context and fix."""

    _lazy: bool
    """Findings are made without context and fix (`Engine(detail="verdict")`) until the last boot."""
    _closed_held: tuple[Boot, list[Finding], list[Held]] | None
    """The boot closed last, its findings as judging took them and what each needs (`_hold_closed`)."""

    def _fix_held(self: _Engine) -> None:
        """The cloud, hypervisor or facts are about to change: write the fixes still held now,
        with what they would have been written with (nothing changed since they were made, or
        since their boot closed)."""
        held = [(self._boot.findings, self._boot.held)]
        if self._closed_held is not None:
            held.append(self._closed_held[1:])
        for findings, entries in held:
            for f, h in zip(findings, entries):
                if h.fix is None:
                    h.fix = self._remedy(self.rules[f.rule], h.fields if h.fields is not None else f.fields)

    def _settle(self: _Engine, held: list[Held], batch: LineBatch | None) -> None:
        """Read the context lines held in `batch` (all, when None), so that no batch stays in memory
        for a finding after its lines were handled."""
        for h in held:
            ctx = h.context
            if isinstance(ctx, LineContext) and (batch is None or ctx.batch is batch):
                h.context = ctx.lines()

    def _settle_batch(self: _Engine, batch: LineBatch) -> None:
        """`batch` is done: no batch is kept in memory for the lines a held finding quotes."""
        self._settle(self._boot.held, batch)
        if self._closed_held is not None:
            self._settle(self._closed_held[2], batch)

    def _complete(self: _Engine, findings: list[Finding], held: list[Held]) -> list[Finding]:
        """`findings` with the context lines and fix `held` for each."""
        self._settle(held, None)
        out = []
        for f, h in zip(findings, held):
            fix = h.fix if h.fix is not None else self._remedy(self.rules[f.rule], h.fields if h.fields is not None else f.fields)
            out.append(replaced(f, context=h.context, remediation=fix))
        return out

    def _hold_closed(self: _Engine, boot: Boot, fixed_at_close: bool) -> None:
        """The boot just closed may yet be printed (the failed boot the capture ends looping on):
        keep what its findings need until the next boot closes. `fixed_at_close`: its fixes are
        written as at its close (`_rerender`: the cloud was known), from its findings' own fields."""
        b = self._boot
        if fixed_at_close:
            for h in b.held:
                h.fields, h.fix = None, None
        self._closed_held = (boot, b.findings, b.held)

    def _complete_open(self: _Engine) -> None:
        """The open boot is the last: its findings get their context and fix now, and every later
        finding is made complete."""
        b = self._boot
        b.findings[:] = self._complete(b.findings, b.held)
        b.held.clear()
        self._lazy = False

    def _complete_closed(self: _Engine) -> None:
        """The boot closed last gets its findings' context and fix (when the capture ends, it is
        the one before the last)."""
        if self._closed_held is None:
            return
        boot, findings, held = self._closed_held
        self._closed_held = None
        at = next((i for i in (-1, -2) if len(self.boots) >= -i and self.boots[i] is boot), None)
        if at is None:
            return
        complete: dict[Any, Finding] = {_key(f): f for f in self._complete(findings, held)}
        done = tuple(dataclasses.replace(f, context=g.context, remediation=g.remediation)
                     if (g := complete.get(_key(f))) is not None else f for f in boot.findings)
        self.boots[at] = dataclasses.replace(boot, findings=done)

    def _complete_now(self: _Engine) -> None:
        """From now on every finding is made complete (a screen's lines and their text twins
        are coming: `quote_exactly` corrects the context lines of the open boot's findings)."""
        self._complete_open()
        self._complete_closed()
