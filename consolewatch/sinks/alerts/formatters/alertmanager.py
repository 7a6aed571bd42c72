"""Prometheus Alertmanager API v2: `POST /api/v2/alerts` with a list of alerts.

One alert per root cause of a failed boot. Labels identify it (alertname, target, cloud,
category, rule, severity) and are the same on the resolving post, which sets `endsAt` to the
time the later boot succeeded. A firing alert carries `endsAt` = now + `ttl` so that it stays
active while consolewatch keeps refreshing it (each repeat re-posts it) and expires on its own
if nothing does. Annotations (title, evidence, fix, report) are console-derived; Alertmanager's
own notifiers put them into Slack, email, ... unescaped, so they are made inert here with the
plain-text rules (a word joiner after `<` and `@`, `](` split).
"""

from __future__ import annotations

from datetime import UTC, datetime

from consolewatch.sinks.alerts.formatters.text import inert
from consolewatch.sinks.alerts.notice import Notice

ALERTNAME = "ConsoleWatchBootFailure"
DEFAULT_TTL = 24 * 3600.0


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(n: Notice, ttl: float = DEFAULT_TTL) -> list[dict]:
    alerts = []
    for c in n.causes:
        labels = {"alertname": ALERTNAME, "target": inert(n.target), "cloud": inert(n.cloud),
                  "category": inert(c.category), "rule": inert(c.rule), "severity": inert(c.severity)}
        annotations = {"title": inert(c.title),
                       "evidence": "\n".join(inert(f"{s}: {t}") for s, t in c.evidence),
                       "fix": inert(c.fix), "summary": inert(n.headline), "boot": str(n.boot)}
        if n.report:
            annotations["report"] = inert(n.report)
        if n.status == "resolved":
            ends = n.ended_at or n.started_at
        else:
            ends = (n.ended_at or n.started_at) + ttl
        alerts.append({"labels": labels, "annotations": annotations, "startsAt": rfc3339(n.started_at),
                       "endsAt": rfc3339(ends)})
    return alerts
