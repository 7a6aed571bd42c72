"""Plain text, for any Apprise service without a formatter of its own (and the base of json).

Inert here means: no mention (`@` is followed by a word joiner), no Slack-style control
sequence or tag (`<` is followed by a word joiner), no Markdown link (`](` is split). The
text reads the same to a person; no receiver that relays it into a chat can ping or link.
"""

from __future__ import annotations

from consolewatch.sinks.alerts.formatters import WJ, fit, plain
from consolewatch.sinks.alerts.notice import Notice

MAX_BODY = 3500


def inert(text: str) -> str:
    """The one place plain-text console text is made inert."""
    return plain(text).replace("@", "@" + WJ).replace("<", "<" + WJ).replace("](", "]" + WJ + "(")


def body(n: Notice, limit: int = MAX_BODY) -> str:
    return fit([inert(t) for _, t in n.lines()], limit)


def render(n: Notice) -> dict:
    """Title, body and Apprise's body format, for `apprise.Apprise.notify`."""
    return {"title": inert(n.headline), "body": body(n), "format": "text",
            "type": "success" if n.status == "resolved" else "failure"}
