"""Email (through Apprise's `mailto://` / `mailtos://`), sent as HTML.

HTML-escaping (quotes too) means console text can add no tag, link, image or style; `@` gets a
word joiner so mail clients do not turn console text into `mailto:` links.
"""

from __future__ import annotations

import html

from consolewatch.sinks.alerts.formatters import WJ, plain
from consolewatch.sinks.alerts.formatters.html_body import html_rows
from consolewatch.sinks.alerts.notice import Notice


def inert(text: str) -> str:
    """The one place email text is made inert."""
    return html.escape(plain(text), quote=True).replace("@", "@" + WJ)


def subject(text: str) -> str:
    """The Subject header is plain text on one line (no HTML, no header injection)."""
    return plain(text).replace("\n", " ").replace("@", "@" + WJ)


def render(n: Notice) -> dict:
    return {"title": subject(n.headline), "body": html_rows(n, inert, 100000),
            "format": "html", "type": "success" if n.status == "resolved" else "failure"}
