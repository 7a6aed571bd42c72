"""The post-mortem as one self-contained HTML page (inline CSS, no script, no external resource).

Jinja2 renders `templates/report.html.j2` with autoescaping on for every value: console text,
fixes, notes and input names are data, never markup (and never templates: only the file here is
compiled). A strict Content-Security-Policy in the page forbids scripts and any fetch; the only
images are the capture's screenshots, re-encoded and embedded as data: URIs; the only links are
http(s) references from rule definitions.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from consolewatch.sinks.report import Report, clean, milestone_time

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
SEVERITY_CLASS = {"critical": "sev-critical", "error": "sev-error", "warning": "sev-warning", "info": "sev-info"}


@lru_cache(maxsize=1)
def _template():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=True,  # every {{ value }} is HTML-escaped, whatever the file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mtime"] = milestone_time
    env.filters["c"] = clean  # console-derived or definition text: no controls, no bidi tricks
    env.filters["sevclass"] = lambda s: SEVERITY_CLASS.get(s, "sev-info")
    return env.get_template("report.html.j2")


def render_html(report: Report) -> str:
    shots = []
    for s in report.screenshots():
        uri = f"data:{s.media_type};base64,{base64.b64encode(s.data).decode('ascii')}" if s.data else ""
        shots.append({"source": s.source, "uri": uri, "width": s.width, "height": s.height, "problem": s.problem})
    a = report.analysis
    from consolewatch.sinks.baseline_view import KIND_LABEL
    from consolewatch.sinks.report_svg import timeline_svg

    return _template().render(
        r=report, a=a, csp=CSP, shots=shots, boots=report.boots(), capture=report.capture_findings(),
        notes=report.notes(), what=report.what_happened(), fix=report.verdict_fix,
        outcome=report.outcome if report.outcome in ("success", "failure", "stall") else "unknown",
        compared=report.compared(), kinds=KIND_LABEL,
        timeline=lambda bv: timeline_svg(bv.boot, a, bv.not_reached),
    )
