"""The post-mortem report of a capture: Markdown, one self-contained HTML page, or the analysis JSON.

`Report` gathers what every format shows (the verdict, a short "what happened", per boot its
outcome, milestones and findings with their evidence in place, the notes, the last screen of
each screen source) as plain values; `report_md` and `report_html` only lay them out.

Everything that can carry console text (evidence, milestone lines, remediation filled with
values quoted from the console, note reasons, input names) is treated as hostile here:
`clean()` neutralises control, bidi and invisible format characters, and each renderer keeps
the result inert (fenced code and escaped prose in Markdown, autoescaped HTML). Links come only
from rule definitions (`safe_url`), never from console text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from consolewatch.detect import bootstate
from consolewatch.model import (
    MILESTONES, Boot, Finding, Frame, Gap, MachineContext, SourceStatus, SourceUnavailable, severity_rank,
)
from consolewatch.safetext import redact, visible
from consolewatch.session import Analysis

Format = Literal["md", "html", "json"]
FORMATS: tuple[str, ...] = ("md", "html", "json")

#: Longest text a report quotes (the normaliser already cuts console lines at 4096 characters, marked).
MAX_TEXT = 4608

OUTCOME_WORDS = {
    "failure": "failed", "stall": "stalled", "success": "succeeded", "unknown": "ended without a verdict",
}
CLOUD_LABELS = {
    "aws": "AWS EC2", "gce": "Google Compute Engine", "do": "DigitalOcean", "openstack": "OpenStack",
    "qemu": "QEMU/KVM", "azure": "Azure", "unknown": "unknown cloud",
}

_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?"
                  r"(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?(?:#[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?")
_PER_CLOUD = re.compile(r"^- On (?P<cloud>[^:]{1,60}): (?P<text>.*)$")


def clean(text: Any, limit: int = MAX_TEXT) -> str:
    """Console-derived text made safe to show: no controls, no bidi tricks, bounded length
    (the one policy of `safetext`: what could act is shown as a visible escape)."""
    s = visible(str(text).replace("\t", "    "))
    if len(s) > limit:
        s = s[:limit] + f" \u2026[{len(s) - limit} more characters]"
    return s


def safe_url(ref: str) -> str | None:
    """`ref` when it is a plain http(s) URL fit to be a link target, else None."""
    ref = ref.strip()
    if len(ref) > 2000 or not _URL.fullmatch(ref):
        return None
    return ref


@dataclass(frozen=True, slots=True)
class Row:
    """One quoted console line: a context line, an evidence line, or a break between them."""

    seq: int
    text: str
    kind: Literal["context", "evidence", "break"]
    ocr: bool = False


@dataclass(frozen=True, slots=True)
class Fix:
    """A remediation split into its main text and, for an unknown cloud, each cloud's own fix."""

    text: str
    per_cloud: tuple[tuple[str, str], ...] = ()
    mine: str | None = None
    """The per-cloud label that matches the analysis' cloud (listed first), when one does."""


@dataclass(frozen=True, slots=True)
class FindingView:
    finding: Finding
    rows: tuple[Row, ...]
    fix: Fix
    references: tuple[tuple[str, str | None], ...]
    """(text, url or None): the url only for a safe http(s) reference from the rule."""
    is_verdict: bool = False
    repeat_of: str | None = None
    """The root-cause rule that already tells this same failure (same category): shown briefly."""

    @property
    def f(self) -> Finding:
        return self.finding


@dataclass(frozen=True, slots=True)
class BootView:
    boot: Boot
    total: int
    findings: tuple[FindingView, ...]
    not_reached: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Screenshot:
    """The last frame of a screen source, ready to embed (or the reason it is not)."""

    source: str
    media_type: str = ""
    data: bytes = b""
    width: int = 0
    height: int = 0
    problem: str = ""


@dataclass
class Report:
    analysis: Analysis
    scope: str = "last"
    inputs: tuple[str, ...] = ()
    generated_at: float = field(default_factory=time.time)
    version: str = "0.1.0"
    baseline: Any = None
    """A `baseline.Comparison` of the verdict boot with a known-good boot (`--baseline`), or None."""
    baseline_inputs: tuple[str, ...] = ()

    @property
    def frames(self) -> dict[str, Frame]:
        """source -> the last frame of each screen source."""
        return {f.source: f for f in self.analysis.screens}

    # -- the verdict ---------------------------------------------------------------------

    @property
    def outcome(self) -> str:
        return self.analysis.outcome

    @property
    def last_boot(self) -> Boot | None:
        return self.analysis.boots[-1] if self.analysis.boots else None

    @property
    def verdict(self) -> Finding | None:
        return verdict_finding(self.last_boot) if self.last_boot else None

    @property
    def headline(self) -> str:
        v = self.verdict
        if v is not None:
            return clean(v.title, 300)
        if not self.analysis.boots:
            return "No console output"
        boot = self.analysis.boots[-1]
        return {"success": "The machine booted", "failure": "The boot failed", "stall": "The boot stalled"}.get(
            boot.outcome, "No verdict from the console")

    @property
    def title(self) -> str:
        """The page title (plain text)."""
        return f"{self.outcome.upper()}: {self.headline} \u2014 consolewatch post-mortem"

    @property
    def machine(self) -> str:
        a = self.analysis
        cloud = CLOUD_LABELS.get(a.cloud, clean(a.cloud, 60))
        hyper = "hypervisor unknown" if a.hypervisor == "unknown" else f"hypervisor {clean(a.hypervisor, 60)}"
        return f"{cloud}, {hyper}"

    @property
    def generated(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.generated_at))

    def what_happened(self) -> list[str]:
        """Plain sentences (renderers escape them): the outcome, how far the boot got, loops."""
        a = self.analysis
        if not a.boots:
            return [f"consolewatch read {a.lines} console line(s) and found no boot in them: the console "
                    "printed nothing usable, or the capture holds the wrong source."]
        boot = a.boots[-1]
        who = "The boot" if len(a.boots) == 1 else f"Boot {boot.index} of {boot.index} (the last one)"
        v = self.verdict
        out = []
        if v is not None:
            out.append(f"{who} {OUTCOME_WORDS.get(boot.outcome, boot.outcome)}: {clean(v.title, 300)} "
                       f"(line {v.first_seq}, {v.category}).")
        else:
            out.append(f"{who} {OUTCOME_WORDS.get(boot.outcome, boot.outcome)}: {clean(boot.reason, 300)}.")
        if boot.milestones and boot.outcome != "success":
            m = boot.milestones[-1]
            out.append(f"The last milestone it reached was {m.name} (line {m.seq}).")
        out += _earlier_boots(a.boots, v)
        loops = [clean(f.title, 300) for f in a.capture_findings
                 if severity_rank(f.severity) >= severity_rank("warning")]
        if loops:
            out.append(f"Across boots: {'; '.join(loops)}.")
        if len(a.boots) > 1 and self.scope != "all":
            out.append(f"The capture holds {len(a.boots)} boots; this report details the last one "
                       "(--boot all details every one).")
        return out

    @property
    def verdict_fix(self) -> Fix | None:
        v = self.verdict
        a = self.analysis
        if v is None or not v.remediation.strip() or self.outcome == "success":
            return None
        return split_fix(v.remediation, a.cloud, a.hypervisor)

    # -- the body ------------------------------------------------------------------------

    def boots(self) -> list[BootView]:
        a = self.analysis
        shown = a.boots if self.scope == "all" else a.boots[-1:]
        out = []
        for boot in shown:
            verdict = verdict_finding(boot)
            views = []
            by_rule = {f.rule: f for f in boot.findings}
            for f in boot.findings:
                root = by_rule.get(f.suppressed_by or "")
                repeat = root.rule if root is not None and root.category == f.category else None
                views.append(finding_view(f, is_verdict=f is verdict, repeat_of=repeat,
                                          cloud=a.cloud, hypervisor=a.hypervisor))
            # boots are numbered from the capture's start even when the oldest were not kept
            out.append(BootView(boot, a.boots[-1].index, tuple(views), not_reached(boot)))
        return out

    def capture_findings(self) -> list[FindingView]:
        a = self.analysis
        return [finding_view(f, cloud=a.cloud, hypervisor=a.hypervisor) for f in a.capture_findings]

    def notes(self) -> list[str]:
        """Plain lines: gaps, sources that could not deliver, what the cloud API said."""
        out = [note_text(n) for n in self.analysis.notes]
        return [n for n in out if n]

    def compared(self):
        """The comparison with the good boot as the report shows it (sinks.baseline_view), or None."""
        if self.baseline is None:
            return None
        from consolewatch.sinks.baseline_view import baseline_view

        return baseline_view(self.baseline, self.baseline_inputs)

    def screenshots(self) -> list[Screenshot]:
        from consolewatch.sinks.report_image import screenshot

        return [screenshot(source, frame) for source, frame in sorted(self.frames.items())]


def _earlier_boots(boots: tuple[Boot, ...], verdict: Finding | None) -> list[str]:
    """A sentence on the boots before the last that did not succeed (same way, or each briefly)."""
    last = boots[-1]
    earlier = [(b, verdict_finding(b)) for b in boots[:-1] if b.outcome != "success"]
    if not earlier:
        return []
    if verdict is not None and all(b.outcome == last.outcome and w is not None and w.rule == verdict.rule
                                   for b, w in earlier):
        return [f"The {len(earlier)} boot(s) before it {OUTCOME_WORDS.get(last.outcome, last.outcome)} the same way."]
    told = [f"boot {b.index} {OUTCOME_WORDS.get(b.outcome, b.outcome)}"
            + (f" ({clean(w.title, 200)}, line {w.first_seq})" if w is not None else "") for b, w in earlier[-3:]]
    more = f" (and {len(earlier) - 3} more)" if len(earlier) > 3 else ""
    return [f"Before it, {len(earlier)} boot(s) did not succeed: {'; '.join(told)}{more}."]


def verdict_finding(boot: Boot) -> Finding | None:
    """The finding that decided the boot's outcome (the rule bootstate.judge applies)."""
    return bootstate.verdict_finding(boot.outcome, boot.findings)


def not_reached(boot: Boot) -> tuple[str, ...]:
    """Milestones after the last one reached (earlier unseen ones may simply not print)."""
    if boot.outcome == "success" or not boot.milestones:
        return ()
    reached = {m.name for m in boot.milestones}
    last = max(MILESTONES.index(m.name) if m.name in MILESTONES else -1 for m in boot.milestones)
    return tuple(m for m in MILESTONES[last + 1:] if m not in reached)


def finding_view(f: Finding, *, is_verdict: bool = False, repeat_of: str | None = None,
                 cloud: str = "unknown", hypervisor: str = "unknown") -> FindingView:
    refs = tuple((clean(r, 500), safe_url(r)) for r in f.references)
    return FindingView(f, evidence_rows(f), split_fix(f.remediation, cloud, hypervisor), refs, is_verdict, repeat_of)


def evidence_rows(f: Finding) -> tuple[Row, ...]:
    """Context lines then evidence lines in line order, with a break where lines were skipped."""
    rows: list[Row] = []
    items = [(e.seq, 0, e) for e in f.context] + [(e.seq, 1, e) for e in f.evidence]
    seen: set[int] = set()
    prev: int | None = None
    for seq, is_ev, e in sorted(items, key=lambda t: (t[0], -t[1])):
        if seq in seen:
            continue
        seen.add(seq)
        if prev is not None and seq > prev + 1:
            rows.append(Row(0, f"\u22ee {seq - prev - 1} line(s) not shown", "break"))
        rows.append(Row(seq, clean(e.text), "evidence" if is_ev else "context", e.origin == "ocr"))
        prev = seq
    return tuple(rows)


def split_fix(remediation: str, cloud: str = "unknown", hypervisor: str = "unknown") -> Fix:
    """Remediation text -> its main paragraph and the `- On CLOUD: text` lines after it.

    The engine writes every cloud's fix when it did not know the cloud at the time; when the
    analysis knows it by the end, that cloud's entry is listed first and marked as this machine's.
    """
    main: list[str] = []
    per_cloud: list[tuple[str, str]] = []
    for raw in remediation.splitlines():
        m = _PER_CLOUD.match(raw)
        if m and (main or per_cloud):
            per_cloud.append((clean(m["cloud"], 80), clean(m["text"])))
        elif per_cloud:
            cloud, text = per_cloud[-1]
            per_cloud[-1] = (cloud, f"{text} {clean(raw.strip())}".strip())
        elif raw.strip():
            main.append(clean(raw.strip()))
    mine = None
    if cloud not in ("unknown", "") and per_cloud:
        from consolewatch.detect.remedy import CLOUD_NAMES, remediation_keys

        labels = [CLOUD_NAMES.get(k, k) for k in remediation_keys(cloud, hypervisor) if k != "default"]
        mine = next((label for label in labels if any(c == label for c, _ in per_cloud)), None)
        if mine is not None:
            per_cloud.sort(key=lambda item: item[0] != mine)
    return Fix(" ".join(main), tuple(per_cloud), mine)


def note_text(n: Any) -> str:
    if isinstance(n, Gap):
        lost = f"{n.lost_bytes} bytes" if n.lost_bytes is not None else "an unknown amount of output"
        why = f" ({clean(n.reason, 300)})" if n.reason else ""
        return f"Gap in {clean(n.source, 80)}: {lost} lost{why}."
    if isinstance(n, SourceUnavailable):
        hint = f" {clean(n.hint, 300)}" if n.hint else ""
        return f"{clean(n.source, 80)} unavailable: {clean(n.reason, 300)}.{hint}"
    if isinstance(n, MachineContext):
        facts = ", ".join(f"{clean(k, 40)}={clean(v, 80)}" for k, v in sorted(n.fields.items())[:12])
        return (f"Machine context from {clean(n.source, 80)}: cloud {clean(n.cloud, 40)}, hypervisor "
                f"{clean(n.hypervisor, 40)}" + (f"; {facts}" if facts else "") + ".")
    if isinstance(n, SourceStatus):
        return ""
    return clean(n, 300)


def milestone_time(t: float | None) -> str:
    return f"{t:.2f}s" if t is not None else ""


def render(report: Report, fmt: str) -> str:
    """The report as text in `fmt` (md, html or json)."""
    if fmt == "md":
        from consolewatch.sinks.report_md import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from consolewatch.sinks.report_html import render_html

        return render_html(report)
    if fmt == "json":
        from consolewatch.sinks.jsonout import analysis_dict, dumps

        return dumps(analysis_dict(report.analysis, report.scope, report.baseline)) + "\n"
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
