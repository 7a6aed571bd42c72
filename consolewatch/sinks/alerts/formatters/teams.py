"""Microsoft Teams (through Apprise's `workflows://`, a Power Automate workflow that posts an
Adaptive Card), sent as Markdown.

Adaptive Card text supports a Markdown subset (emphasis, lists, `[text](url)` links); every
Markdown character is backslash-escaped so none of it applies, `<` is escaped too (no tag),
and `@` gets a word joiner (no `<at>` mention can be formed).
"""

from __future__ import annotations

import re

from consolewatch.sinks.alerts.formatters import WJ, fit, plain
from consolewatch.sinks.alerts.notice import Notice

_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<!+{}.])")


def inert(text: str) -> str:
    """The one place Teams text is made inert."""
    return _MARKDOWN.sub(r"\\\1", plain(text)).replace("@", "@" + WJ)


def render(n: Notice) -> dict:
    rows = []
    for kind, t in n.lines():
        rows.append(f"**{inert(t)}**" if kind == "heading" else inert(t))
    return {"title": inert(n.headline), "body": fit(rows, 20000, "\n\n"), "format": "markdown",
            "type": "success" if n.status == "resolved" else "failure"}
