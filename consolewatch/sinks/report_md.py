"""The post-mortem as Markdown: readable raw, and inert when rendered.

Console text goes only into fenced code blocks whose fence is longer than any backtick run in
the block. Prose that may hold console-derived values (a fix quoting the panic reason, a note,
an input name) is escaped: every character Markdown gives a meaning to is backslash-escaped,
as are the `://`, `www.` and dotted names an autolinker would turn into links, so nothing in it
becomes a heading, a link, HTML or emphasis.
"""

from __future__ import annotations

import re

from consolewatch.sinks.report import (
    BootView, Fix, FindingView, Report, Row, clean, milestone_time,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&@$])")
_LEADING = re.compile(r"^(\d{1,9})([.)])|^([-+=])")
_DOTTED = re.compile(r"\.(?=\w)")


def md_text(text: str, limit: int = 4096) -> str:
    """Plain text as Markdown that renders as exactly this text."""
    s = " ".join(clean(text, limit).split())
    s = _SPECIAL.sub(r"\\\1", s)
    s = s.replace("://", "\\://")  # no autolink (the `:` is consumed by its escape)
    s = _DOTTED.sub(r"\\.", s)  # no www. or fuzzy links (evil.example) in renderers that linkify
    m = _LEADING.match(s)
    if m:  # a list marker, or a setext underline, at the start of a paragraph
        s = (m[1] + "\\" + m[2] + s[m.end():]) if m[1] else ("\\" + s)
    return s


def md_code(text: str, limit: int = 300) -> str:
    """An inline code span holding `text` verbatim (for ids: categories, rules, sources)."""
    s = " ".join(clean(text, limit).split()) or " "
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s[0] in "` " or s[-1] in "` " else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def fence(lines: list[str], info: str = "text") -> list[str]:
    """A fenced code block that no line of `lines` can close or escape."""
    body = [clean(line) for line in lines]
    longest = max((len(r) for line in body for r in re.findall(r"`+", line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + info, *body, ticks]


def _rows(rows: tuple[Row, ...]) -> list[str]:
    width = max((len(str(r.seq)) for r in rows if r.kind != "break"), default=1)
    out = []
    for r in rows:
        if r.kind == "break":
            out.append(f"   {'':>{width}} {r.text}")
            continue
        mark = ">" if r.kind == "evidence" else " "
        ocr = "*" if r.ocr else " "
        out.append(f"{mark}{ocr} {r.seq:>{width}} | {r.text}".rstrip())
    return out


def _fix(fix: Fix, label: str = "Fix") -> list[str]:
    out = [f"**{label}:** {md_text(fix.text)}" if fix.text else f"**{label}:**", ""]
    if fix.per_cloud:
        out += [f"- **On {md_text(cloud)}{' (this machine)' if cloud == fix.mine else ''}:** {md_text(text)}"
                for cloud, text in fix.per_cloud]
        out.append("")
    return out


def _compared(view) -> list[str]:
    """The comparison with the good boot (sinks.baseline_view): the failure's new lines first."""
    out = ["## Compared with a good boot", "", md_text(view.summary), ""]
    if view.rows:
        out += ["Lines whose template the good boot never printed, the failure's own first (`>` quoted by a "
                "finding, `!` reads like trouble; `xN`: lines with the same template):", ""]
        width = max(len(str(r.seq)) for r in view.rows)
        mark = {"finding": ">", "error": "!", "other": " "}
        rows = [f"{mark[r.kind]} {r.seq:>{width}} {('x' + str(r.count)) if r.count > 1 else '':>4} | {r.text}".rstrip()
                for r in view.rows]
        out += fence(rows)
        out.append("")
        if view.more:
            out += [f"... and {view.more} more new template(s) in the JSON report (--format json).", ""]
    return out


def _finding(v: FindingView, level: str = "####", fix_above: bool = False) -> list[str]:
    f = v.f
    if v.repeat_of:
        return [f"- Also reported by rule {md_code(f.rule)} ({md_text(f.severity)}): {md_text(f.title)}; "
                f"the same failure as {md_code(v.repeat_of)}.", ""]
    out = [f"{level} {md_text(f.severity.upper())} \u00b7 {md_text(f.title, 300)}", ""]
    meta = [f"category {md_code(f.category)}", f"rule {md_code(f.rule)}"]
    if v.is_verdict:
        meta.append("**the verdict of this boot**")
    if f.occurrences > 1:
        meta.append(f"seen {f.occurrences} times")
    if f.suppressed_by:
        meta.append(f"a symptom of {md_code(f.suppressed_by)}")
    out += [" \u00b7 ".join(meta), ""]
    if f.description:
        out += [md_text(f.description), ""]
    if v.rows:
        out += [f"Evidence (lines marked `>`; {'`*` read off the screen; ' if any(r.ocr for r in v.rows) else ''}"
                "the lines before them for context):", ""]
        out += fence(_rows(v.rows))
        out.append("")
    if v.is_verdict and fix_above:
        out += ["**Fix:** under What happened, above.", ""]
    else:
        out += _fix(v.fix)
    if v.references:
        out += ["References:", ""]
        for text, url in v.references:
            out.append(f"- <{url}>" if url else f"- {md_text(text)}")
        out.append("")
    return out


def _boot(bv: BootView, scope_all: bool, fix_above: bool = False) -> list[str]:
    b = bv.boot
    out = [f"## Boot {b.index} of {bv.total}: {md_text(b.outcome.upper())}", ""]
    out += [f"**Outcome:** {md_text(b.outcome)} \u2014 {md_text(b.reason)}  ",
            f"Console lines {b.first_seq}\u2013{b.last_seq}.", ""]
    out += ["### Milestones", ""]
    if b.milestones:
        width = max(4, *(len(str(m.seq)) for m in b.milestones))
        lines = [f"{'line':>{width}}  {'time':>8}  {'milestone':<12}  console line"]
        for m in b.milestones:
            lines.append(f"{m.seq:>{width}}  {milestone_time(m.time):>8}  {m.name:<12}  {m.text.strip()}")
        out += fence(lines)
        out.append("")
    else:
        out += ["No milestone reached.", ""]
    if bv.not_reached:
        out += ["Not seen on the console: " + ", ".join(md_text(n) for n in bv.not_reached) + ".", ""]
    out += ["### Findings", ""]
    if not bv.findings:
        out += ["No detector fired on this boot.", ""]
    for v in bv.findings:
        out += _finding(v, fix_above=fix_above)
    return out


def render_markdown(report: Report) -> str:
    a = report.analysis
    out = [f"# {md_text(report.outcome.upper())}: {md_text(report.headline, 300)}", ""]
    facts = [md_text(report.machine), f"{a.lines} console lines", f"{len(a.boots)} boot(s)"]
    out += ["*consolewatch post-mortem* \u00b7 " + " \u00b7 ".join(facts) + "  ",
            f"Generated {md_text(report.generated)} by consolewatch {md_text(report.version)}"
            + (" from " + ", ".join(md_code(i, 200) for i in report.inputs) if report.inputs else "") + ".", ""]
    out += ["## What happened", "", md_text(" ".join(report.what_happened())), ""]
    if report.verdict_fix is not None:
        out += _fix(report.verdict_fix)
    compared = report.compared()
    if compared is not None:
        out += _compared(compared)
    for bv in report.boots():
        out += _boot(bv, report.scope == "all", fix_above=report.verdict_fix is not None)
    capture = report.capture_findings()
    if capture:
        out += ["## Across boots", ""]
        for v in capture:
            out += _finding(v, "###")
    notes = report.notes()
    if report.frames:
        notes += [f"The last screen of {clean(s, 120)} is embedded in the HTML report (--format html)."
                  for s in sorted(report.frames)]
    if notes:
        out += ["## Notes", ""]
        out += [f"- {md_text(n)}" for n in notes]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
