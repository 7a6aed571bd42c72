"""Telegram Bot API `sendMessage` with `parse_mode: HTML`.

In HTML mode Telegram reads tags and entities, so `&`, `<`, `>` are escaped (the only three it
requires); `@username` would link to a user or channel, so `@` gets a word joiner. Our own tags
are `<b>` (title, root cause) and `<pre>` (evidence). Link previews are off.
"""

from __future__ import annotations

import html

from consolewatch.sinks.alerts.formatters import WJ, fit, html_body, plain
from consolewatch.sinks.alerts.notice import Notice

MAX_TEXT = 4000  # Telegram: 4096 characters after entities are parsed


def inert(text: str) -> str:
    """The one place Telegram text is made inert."""
    return html.escape(plain(text), quote=False).replace("@", "@" + WJ)


def render_text(n: Notice) -> str:
    return fit(html_body.rows(n, inert), MAX_TEXT)  # Telegram's HTML has no <br>: rows end with a newline


def render(n: Notice) -> dict:
    """The sendMessage fields; the transport adds `chat_id` per chat."""
    return {"text": render_text(n), "parse_mode": "HTML", "disable_web_page_preview": True}
