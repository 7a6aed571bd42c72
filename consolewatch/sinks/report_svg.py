"""The timeline picture of one boot for the HTML report: inline SVG, no script, no external resource.

Left to right, the boot's lines (first to last) on a piecewise scale that gives every phase
room: the boot phases (from each milestone to the next, with the time the console's own stamps
say it took), the milestones never reached, the findings (a mark at their first evidence line,
coloured by severity), the gaps in the capture, and one lane per source showing which lines it
put on the timeline (solid) and which lines it showed again after another source (pale).
Hover titles (SVG <title>) carry the details; nothing needs JavaScript. Its classes (tl-*) are
styled by the page's stylesheet.

Every piece of text passes `report.clean` (controls, bidi and invisible characters neutralised,
length bounded) and is then XML-escaped (`& < > " '`), so console text, file names and gap
reasons cannot close the SVG or add markup. The result is a `markupsafe.Markup` string.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from consolewatch.model import Boot
from consolewatch.normalize.stamps import split_stamps
from consolewatch.sinks.report import clean

WIDTH = 960
LEFT, RIGHT = 150, 16
PHASE_Y, PHASE_H = 8, 40
MIN_PHASE = 72
MAX_MARKS = 60
LANE_H, LANE_GAP = 14, 8
PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#ede9fe", "#fce7f3", "#cffafe", "#e0e7ff", "#ecfccb", "#ffedd5")
SEVERITY = {"critical": "#7a100a", "error": "#b42318", "warning": "#dc8a09", "info": "#2e6fd8"}
ORIGIN = {"text": "serial", "ocr": "screen"}


def _e(text: Any, limit: int = 300) -> str:
    return escape(clean(text, limit), quote=True)


@dataclass(frozen=True, slots=True)
class _Phase:
    name: str
    start: int
    end: int
    """First line of the next phase (exclusive)."""
    x: float
    w: float
    seconds: float | None


def _phases(boot: Boot, width: float) -> list[_Phase]:
    """The boot's lines split at its milestones, each part at least MIN_PHASE wide."""
    first, end = boot.first_seq, boot.last_seq + 1
    marks = sorted((m for m in boot.milestones if first <= m.seq < end), key=lambda m: m.seq)
    cuts: list[tuple[str, int, float | None]] = []
    if not marks or marks[0].seq > first:
        cuts.append(("start", first, None))
    for m in marks:
        if cuts and cuts[-1][1] == m.seq:
            cuts[-1] = (cuts[-1][0] + " + " + m.name, m.seq, cuts[-1][2] if cuts[-1][2] is not None else m.time)
        else:
            cuts.append((m.name, m.seq, m.time))
    last_time = split_stamps(boot.last_text).guest_time
    bounds = [c[1] for c in cuts[1:]] + [end]
    times = [c[2] for c in cuts[1:]] + [last_time]
    lines = [max(1, b - c[1]) for c, b in zip(cuts, bounds)]
    spare = max(0.0, width - MIN_PHASE * len(cuts))
    total = sum(lines)
    out, x = [], float(LEFT)
    for (name, start, t0), stop, t1, n in zip(cuts, bounds, times, lines):
        w = MIN_PHASE + spare * n / total if width >= MIN_PHASE * len(cuts) else width / len(cuts)
        seconds = t1 - t0 if t0 is not None and t1 is not None and t1 >= t0 else None
        out.append(_Phase(name, start, stop, x, w, seconds))
        x += w
    return out


def _x(phases: list[_Phase], seq: float) -> float:
    for p in phases:
        if seq < p.end or p is phases[-1]:
            frac = min(1.0, max(0.0, (seq - p.start) / max(1, p.end - p.start)))
            return p.x + frac * p.w
    return float(LEFT)


def _fit(text: str, width: float, px: float = 7.0) -> str:
    """`text` cut (with an ellipsis) to what `width` pixels hold at about `px` per character."""
    room = max(1, int((width - 8) / px))
    return text if len(text) <= room else text[: max(room - 1, 1)] + "\u2026"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def timeline_svg(boot: Boot, analysis: Any, not_reached: tuple[str, ...] = ()) -> str:
    """The picture of `boot` (of `analysis`: its spans and gaps) as an inline <svg> element."""
    from markupsafe import Markup

    ahead = 110.0 * min(len(not_reached), 3) if not_reached else 0.0
    phases = _phases(boot, WIDTH - LEFT - RIGHT - ahead)
    out: list[str] = []
    for i, p in enumerate(phases):
        took = _duration(p.seconds)
        tip = f"{p.name}: lines {p.start}-{p.end - 1}" + (f", {took}" if took else "")
        out.append(f'<g class="tl-phase"><title>{_e(tip)}</title>'
                   f'<rect x="{p.x:.1f}" y="{PHASE_Y}" width="{max(p.w - 2, 1):.1f}" height="{PHASE_H}" rx="4" '
                   f'fill="{PALETTE[i % len(PALETTE)]}" stroke="#94a3b8"/>'
                   f'<text x="{p.x + 5:.1f}" y="{PHASE_Y + 16}" class="tl-name">{_e(_fit(p.name, p.w))}</text>'
                   f'<text x="{p.x + 5:.1f}" y="{PHASE_Y + 32}" class="tl-note">{_e(_fit(took, p.w, 6.0))}</text></g>')
    x = phases[-1].x + phases[-1].w + 4 if phases else float(LEFT)
    for name in not_reached[:3]:
        out.append(f'<g class="tl-missing"><title>{_e(name)}: never reached</title>'
                   f'<rect x="{x:.1f}" y="{PHASE_Y}" width="104" height="{PHASE_H}" rx="4" fill="none" '
                   f'stroke="#98a2b3" stroke-dasharray="4 3"/>'
                   f'<text x="{x + 5:.1f}" y="{PHASE_Y + 16}" class="tl-name tl-dim">{_e(name, 40)}</text>'
                   f'<text x="{x + 5:.1f}" y="{PHASE_Y + 32}" class="tl-note tl-dim">not reached</text></g>')
        x += 110
    y = PHASE_Y + PHASE_H + 22
    out.append(f'<text x="4" y="{y + 4}" class="tl-lane">findings</text>')
    out += _findings(boot, phases, y)
    y += 24
    out.append(f'<text x="4" y="{y + 4}" class="tl-lane">gaps</text>')
    out += _gaps(boot, analysis, phases, y)
    y += 20
    lanes, y = _lanes(boot, analysis, phases, y)
    out += lanes
    out.append(f'<text x="{LEFT}" y="{y + 14}" class="tl-note">line {boot.first_seq}</text>'
               f'<text x="{phases[-1].x + phases[-1].w if phases else LEFT:.1f}" y="{y + 14}" class="tl-note" '
               f'text-anchor="end">line {boot.last_seq}</text>')
    height = y + 22
    label = f"Timeline of boot {boot.index}: {len(phases)} phase(s), {len(boot.findings)} finding(s)"
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="boot-timeline" viewBox="0 0 {WIDTH} {height}" '
           f'width="100%" role="img" aria-label="{_e(label)}"><title>{_e(label)}</title>'
           + "".join(out) + "</svg>")
    return Markup(svg)  # every piece of text above was escaped by _e


def _findings(boot: Boot, phases: list[_Phase], y: float) -> list[str]:
    out = []
    for f in boot.findings[:MAX_MARKS]:
        x = _x(phases, f.first_seq)
        ev = f.evidence[0] if f.evidence else None
        seen = " (read off the screen)" if ev is not None and ev.origin == "ocr" else ""
        tip = f"{f.severity.upper()} {f.title} (line {f.first_seq}){seen}" + (f": {ev.text}" if ev else "")
        colour = SEVERITY.get(f.severity, "#2e6fd8")
        hollow = f.suppressed_by is not None
        out.append(f'<g class="tl-finding"><title>{_e(tip, 600)}</title>'
                   f'<path d="M{x:.1f} {y - 8} l7 8 l-7 8 l-7 -8 z" fill="{"#fff" if hollow else colour}" '
                   f'stroke="{colour}" stroke-width="2"/></g>')
    return out


def _gaps(boot: Boot, analysis: Any, phases: list[_Phase], y: float) -> list[str]:
    out = []
    for seq, gap in getattr(analysis, "gaps", ())[:MAX_MARKS * 4]:
        if not boot.first_seq <= seq <= boot.last_seq + 1:
            continue
        x = _x(phases, seq)
        lost = f"{gap.lost_bytes} bytes" if gap.lost_bytes is not None else "an unknown amount"
        tip = f"gap in {gap.source} before line {seq}: {lost} lost" + (f" ({gap.reason})" if gap.reason else "")
        out.append(f'<g class="tl-gap"><title>{_e(tip)}</title><path d="M{x - 5:.1f} {y - 7} l5 4 l-5 4 l5 4 l-5 4" '
                   f'fill="none" stroke="#b42318" stroke-width="2"/></g>')
    return out


def _lanes(boot: Boot, analysis: Any, phases: list[_Phase], y: float) -> tuple[list[str], float]:
    """One lane per source: the lines it put on the timeline, and (pale) those it showed again."""
    spans = [s for s in getattr(analysis, "spans", ()) if s.last >= boot.first_seq and s.first <= boot.last_seq]
    sources: list[tuple[str, str]] = []
    for s in spans:
        if (s.source, s.origin) not in sources and not s.also:
            sources.append((s.source, s.origin))
    for s in spans:
        if (s.source, s.origin) not in sources:
            sources.append((s.source, s.origin))
    out = []
    for source, origin in sources:
        kind = ORIGIN.get(origin, origin)
        name = clean(source, 120)
        short = name if len(name) <= 14 else name[:13] + "\u2026"
        out.append(f'<text x="4" y="{y + 11}" class="tl-lane"><title>{_e(name)} ({_e(kind)})</title>'
                   f'{_e(short)} \u00b7 {_e(kind)}</text>')
        for s in spans:
            if (s.source, s.origin) != (source, origin):
                continue
            a, b = max(s.first, boot.first_seq), min(s.last, boot.last_seq) + 1
            x0, x1 = _x(phases, a), _x(phases, b)
            what = "showed again" if s.also else "printed"
            out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1.5):.1f}" height="{LANE_H}" '
                       f'fill="{"#2e6fd8" if origin == "text" else "#7c3aed"}" '
                       f'fill-opacity="{0.3 if s.also else 0.85}"><title>{_e(name)} {what} lines {a}-{b - 1}</title>'
                       "</rect>")
        y += LANE_H + LANE_GAP
    return out, y
