"""The message an alert carries, before any service formats it: a frozen `Notice`.

A notice is built from the core's values (findings of one boot of one target, or the boot
that resolved them) and is what the outbox stores: service-neutral data, no secret, no markup.
Each formatter in `formatters/` turns it into one service's payload and makes the console text
in it inert for that service. `as_dict`/`from_dict` round-trip it through the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Literal

from consolewatch.model import Finding, severity_rank

#: Bounds so that a hostile console cannot make a message (or the outbox) grow without end.
MAX_CAUSES = 5
MAX_EVIDENCE = 8
MAX_TEXT = 400
MAX_HEADLINE = 600

Status = Literal["firing", "resolved"]


def clip(text: str, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True, slots=True)
class Cause:
    """One finding as a message shows it."""

    rule: str
    category: str
    severity: str
    title: str
    evidence: tuple[tuple[int, str], ...]
    fix: str

    @classmethod
    def of(cls, f: Finding) -> "Cause":
        return cls(clip(f.rule, 120), clip(f.category, 80), clip(f.severity, 20), clip(f.title),
                   tuple((e.seq, clip(e.text)) for e in f.evidence[:MAX_EVIDENCE]), clip(f.remediation, 1500))


@dataclass(frozen=True, slots=True)
class Notice:
    id: str
    """Stable id of this message: receivers can drop a repeat (delivery is at-least-once)."""
    status: Status
    target: str
    cloud: str
    capture: int
    boot: int
    verdict: str
    """failure, stall (firing) or success (resolved)."""
    reason: str
    causes: tuple[Cause, ...]
    muted: tuple[str, ...] = ()
    """Categories of the symptoms a root cause muted (inhibition)."""
    report: str = ""
    """Where the full report is: a command and the store's path."""
    started_at: float = 0.0
    ended_at: float | None = None
    repeat: int = 0
    """0 for the first message of an incident, n for the n-th reminder."""

    @property
    def headline(self) -> str:
        """One line, at most MAX_HEADLINE characters: even escaped (`&` is `&amp;`) it fits the
        first row of every service's message, so no cut ever leaves a message without it."""
        if self.status == "resolved":
            return clip(f"RESOLVED: {self.target} booted (boot {self.boot})", MAX_HEADLINE)
        top = self.causes[0] if self.causes else None
        what = f"{top.category}: {top.title}" if top else self.reason
        word = "STALLED BOOT" if self.verdict == "stall" else "FAILED BOOT"
        return clip(f"{word}: {self.target} ({self.cloud}) {what}", MAX_HEADLINE)

    def lines(self) -> list[tuple[str, str]]:
        """The body as (kind, text) rows; kinds: text, heading, evidence, fix. Formatters style
        each kind their way; every text is console-derived and hostile."""
        rows: list[tuple[str, str]] = []
        if self.status == "resolved":
            rows.append(("text", f"Target: {self.target} (cloud: {self.cloud}), boot {self.boot}: {self.reason}"))
            for c in self.causes:
                rows.append(("text", f"Resolved: [{c.severity}] {c.category}: {c.title} ({c.rule})"))
        else:
            rows.append(("text", f"Target: {self.target} (cloud: {self.cloud}), boot {self.boot}"))
            rows.append(("text", f"Verdict: {self.verdict}: {self.reason}"))
            if self.repeat:
                rows.append(("text", f"Still failing (reminder {self.repeat})"))
            for c in self.causes:
                rows.append(("heading", f"Root cause: [{c.severity}] {c.category}: {c.title} ({c.rule})"))
                rows.extend(("evidence", f"{seq:>6} | {text}") for seq, text in c.evidence)
                rows.append(("fix", f"Fix: {c.fix}"))
            if self.muted:
                rows.append(("text", f"Muted symptoms of the root cause: {', '.join(self.muted)}"))
        if self.report:
            rows.append(("text", f"Full report: {self.report}"))
        return rows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Notice":
        causes = tuple(Cause(c["rule"], c["category"], c["severity"], c["title"],
                             tuple((int(s), str(t)) for s, t in c["evidence"]), c["fix"]) for c in d["causes"])
        return cls(**{**d, "causes": causes, "muted": tuple(d.get("muted", ()))})


def fingerprint(target: str, f: Finding) -> str:
    """Identity of one finding, stable across re-polls, restarts and overlapping snapshots: the
    target, the rule and the text of its evidence lines (printk stamps make a real boot's
    lines its own; a console without stamps that fails with the same lines again is the same
    incident, still firing)."""
    h = hashlib.sha256()
    for part in (target, f.rule, *(e.text for e in f.evidence)):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()[:32]


def firing(target: str, cloud: str, capture: int, boot: int, findings: Iterable[Finding], *,
           muted: Iterable[str] = (), report: str = "", now: float, repeat: int = 0) -> Notice:
    causes = sorted(findings, key=lambda f: (-severity_rank(f.severity), f.first_seq))[:MAX_CAUSES]
    top = causes[0]
    verdict = "stall" if all(f.verdict == "stall" for f in causes) else "failure"
    reason = f"{top.category}: {top.title} (line {top.first_seq})"
    ident = hashlib.sha256(f"{target}\0{capture}\0{boot}\0{now}\0{repeat}".encode("utf-8", "surrogateescape"))
    return Notice(ident.hexdigest()[:24], "firing", clip(target), clip(cloud, 40), capture, boot, verdict,
                  clip(reason), tuple(Cause.of(f) for f in causes), tuple(sorted(set(muted)))[:10],
                  report, now, None, repeat)


def resolved(fired: Iterable[Notice], *, boot: int, capture: int, reason: str, now: float) -> Notice:
    fired = list(fired)
    first = fired[0]
    seen: dict[str, Cause] = {}
    for n in fired:
        for c in n.causes:
            seen.setdefault(c.rule, c)
    ident = hashlib.sha256(f"resolved\0{first.id}\0{capture}\0{boot}".encode())
    return Notice(ident.hexdigest()[:24], "resolved", first.target, first.cloud, capture, boot, "success",
                  clip(reason), tuple(seen.values())[:MAX_CAUSES], (), first.report,
                  min(n.started_at for n in fired), now)


def reminder(fired: Notice, count: int, now: float) -> Notice:
    """The same incident, still firing: sent again after the repeat interval."""
    from dataclasses import replace

    ident = hashlib.sha256(f"repeat\0{fired.id}\0{count}".encode())
    return replace(fired, id=ident.hexdigest()[:24], repeat=count, ended_at=now)
