"""Generic JSON webhook (Apprise `json://` / `jsons://`): Apprise's JSON shape plus the alert
as data under `consolewatch`. Every string is plain text made inert by `text.inert`."""

from __future__ import annotations

from consolewatch.sinks.alerts.formatters.text import body, inert
from consolewatch.sinks.alerts.notice import Notice


def render(n: Notice) -> dict:
    return {
        "version": "1.0",
        "title": inert(n.headline),
        "message": body(n),
        "attachments": [],
        "type": "success" if n.status == "resolved" else "failure",
        "consolewatch": {
            "id": n.id, "status": n.status, "target": inert(n.target), "cloud": inert(n.cloud),
            "capture": n.capture, "boot": n.boot, "verdict": n.verdict, "reason": inert(n.reason),
            "repeat": n.repeat, "report": inert(n.report),
            "causes": [{"rule": inert(c.rule), "category": inert(c.category), "severity": inert(c.severity),
                        "title": inert(c.title), "fix": inert(c.fix),
                        "evidence": [{"line": s, "text": inert(t)} for s, t in c.evidence]} for c in n.causes],
        },
    }
