"""Slack incoming webhooks (and Slack-compatible receivers such as Mattermost).

Slack parses `<...>` in any message text as a control sequence (`<!channel>`, `<@U123>`,
`<url|text>`); its documented escaping is `&` -> `&amp;`, `<` -> `&lt;`, `>` -> `&gt;`.
`"mrkdwn": false` turns off bold/italic/strike/code so console text cannot style the message;
`@word` gets a word joiner because Slack-compatible receivers turn `@here`/`@channel`/`@all`
into mentions even without angle brackets. Link previews are off.
"""

from __future__ import annotations

from consolewatch.sinks.alerts.formatters import WJ, fit, plain
from consolewatch.sinks.alerts.notice import Notice

MAX_TEXT = 3500


def inert(text: str) -> str:
    """The one place Slack text is made inert."""
    text = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@" + WJ)


def render(n: Notice) -> dict:
    rows = [inert(t) for t in [n.headline, *(t for _, t in n.lines())]]
    return {"text": fit(rows, MAX_TEXT), "mrkdwn": False, "unfurl_links": False, "unfurl_media": False}
