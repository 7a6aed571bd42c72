"""Discord webhooks: `content` in Discord's Markdown, mentions off twice over.

`allowed_mentions: {"parse": []}` tells Discord to ping nobody whatever the text says; the text
is also made inert: every Markdown character is backslash-escaped (Discord honours `\\` before
any ASCII punctuation), so `**`, `__`, `` ` ``, `> `, `# `, `[text](url)` and `<@id>` show as
typed, and `@` gets a word joiner. Embeds (link previews) are suppressed (flag 4).
"""

from __future__ import annotations

import re

from consolewatch.sinks.alerts.formatters import WJ, fit, plain
from consolewatch.sinks.alerts.notice import Notice

MAX_CONTENT = 2000  # Discord's limit for `content`
_MARKDOWN = re.compile(r"([\\*_~`|>#\-\[\]()<:.!+={}])")


def inert(text: str) -> str:
    """The one place Discord text is made inert."""
    return _MARKDOWN.sub(r"\\\1", plain(text)).replace("@", "@" + WJ)


def render(n: Notice) -> dict:
    rows = [f"**{inert(n.headline)}**"]
    for kind, t in n.lines():
        rows.append(f"**{inert(t)}**" if kind == "heading" else inert(t))
    return {"content": fit(rows, MAX_CONTENT), "allowed_mentions": {"parse": []}, "flags": 4}
