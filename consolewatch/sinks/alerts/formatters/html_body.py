"""The HTML body shared by the services that take HTML (Telegram, Matrix, email)."""

from __future__ import annotations

from typing import Callable

from consolewatch.sinks.alerts.notice import Notice


def rows(n: Notice, inert: Callable[[str], str]) -> list[str]:
    """`<b>` headline and causes, `<pre>` evidence, one row each; text through `inert`."""
    rows = [f"<b>{inert(n.headline)}</b>"]
    evidence: list[str] = []
    for kind, t in [*n.lines(), ("end", "")]:
        if kind == "evidence":
            evidence.append(inert(t))
            continue
        if evidence:
            rows.append("<pre>" + "\n".join(evidence) + "</pre>")
            evidence = []
        if kind == "heading":
            rows.append(f"<b>{inert(t)}</b>")
        elif kind != "end":
            rows.append(inert(t))
    return rows


def html_rows(n: Notice, inert: Callable[[str], str], limit: int) -> str:
    """The rows as one HTML body of at most `limit` characters (cut between rows: every tag closed)."""
    from consolewatch.sinks.alerts.formatters import fit

    return fit(rows(n, inert), limit, "<br>\n")
