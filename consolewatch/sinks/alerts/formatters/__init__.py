"""One formatter per service: `render(notice) -> payload`, a pure function (no I/O, no clock).

Each module holds the ONE function that makes console text inert for its service (`inert`),
and every piece of text that reaches the payload goes through it. `FORMATTERS` maps a service
name (see `destinations.py`) to its `render`.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from consolewatch.safetext import visible
from consolewatch.sinks.alerts.notice import Notice

#: U+2060 WORD JOINER: invisible, and it breaks `@everyone`, `<!channel>` and friends apart.
WJ = "\u2060"
# C0/C1 controls (but newline) and the bidirectional overrides that can reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def plain(text: str) -> str:
    """Text with no control character and no bidi override (shared first step, not escaping);
    the other invisible format characters (zero-width, BOM, line separators, tags) are shown
    as escapes, as in every other output (`safetext`)."""
    return visible(_UNSAFE.sub("\ufffd", str(text)))


def fit(rows: list[str], limit: int, sep: str = "\n", more: str = "\u2026") -> str:
    """Whole rows (each already inert, with its own markup) joined by `sep`: as many as fit in
    `limit` characters, then `more` on a row of its own when some were left out. A message is
    never cut inside an escape, an entity, a tag or a bold marker, where half of one would act
    or leave the markup of the rest open."""
    text = sep.join(rows)
    if len(text) <= limit:
        return text
    keep: list[str] = []
    size = len(more)
    for row in rows:
        size += len(row) + len(sep)
        if size > limit:
            break
        keep.append(row)
    return sep.join([*keep, more])


def _registry() -> dict[str, Callable[[Notice], Any]]:
    from consolewatch.sinks.alerts.formatters import (
        alertmanager, discord, email, jsonhook, matrix, slack, teams, telegram, text,
    )

    return {"slack": slack.render, "discord": discord.render, "telegram": telegram.render,
            "matrix": matrix.render, "teams": teams.render, "email": email.render,
            "json": jsonhook.render, "apprise": text.render, "alertmanager": alertmanager.render}


def formatter(service: str) -> Callable[[Notice], Any]:
    return _registry()[service]
