"""Matrix (through Apprise's `matrix://`), sent as HTML (`formatted_body`).

HTML-escaping (quotes too) means no tag, so no `<a href="https://matrix.to/#/@user">` pill and no
spoofed link; `@` gets a word joiner so neither `@room` (which notifies the whole room) nor a
user id in the plain `body` mentions anyone.
"""

from __future__ import annotations

import html

from consolewatch.sinks.alerts.formatters import WJ, plain
from consolewatch.sinks.alerts.formatters.html_body import html_rows
from consolewatch.sinks.alerts.notice import Notice


def inert(text: str) -> str:
    """The one place Matrix text is made inert."""
    return html.escape(plain(text), quote=True).replace("@", "@" + WJ)


def render(n: Notice) -> dict:
    return {"title": inert(n.headline), "body": html_rows(n, inert, 20000), "format": "html",
            "type": "success" if n.status == "resolved" else "failure"}
