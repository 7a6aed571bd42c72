"""Alert destinations: an Apprise URL (or `alertmanager://`) -> a `Destination`.

The URL is a secret (webhook paths and tokens grant posting rights): it lives only in memory
and in the user's config. The store keeps `key` (a hash of the URL) and `label` (a redacted
form: scheme, and the host for schemes whose host is not a token); errors name the label.

consolewatch speaks the HTTP APIs itself where it must see the answer (a 429's Retry-After,
a timeout) and control every byte of the payload: generic JSON webhooks (`json://`,
`jsons://`), Slack incoming webhooks (`slack://A/B/C`, `https://hooks.slack.com/services/...`,
and `slack+http(s)://HOST/PATH` for Slack-compatible receivers such as Mattermost), Discord
webhooks, Telegram bots and Alertmanager (`alertmanager://HOST:PORT[/PREFIX]`,
`alertmanagers://` for TLS). Everything else Apprise knows (Matrix, Teams `workflows://`,
email `mailto://`, ...) is sent through Apprise, which answers only "sent" or "not sent".
Apprise's own Slack plugin is not used for sending: it turns `&lt;!channel&gt;` back into
`<!channel>` (apprise 2.3.0, plugins/slack.py), which would undo the escaping.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

#: Schemes whose host part is a server name (shown), not a token (hidden).
_HOST_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "alertmanager", "alertmanagers",
                 "slack+http", "slack+https", "http", "https", "mailto", "mailtos", "matrix", "matrixs",
                 "workflow", "workflows"}
_APPRISE_SERVICES = {"NotifyMatrix": "matrix", "NotifyWorkflows": "teams", "NotifyEmail": "email"}


class DestinationError(ValueError):
    """A URL that cannot be used; the message names only the redacted label."""


@dataclass(frozen=True, slots=True)
class Destination:
    service: str
    """Formatter and transport: json, slack, discord, telegram, alertmanager, matrix, teams, email, apprise."""
    key: str
    """sha256 of the URL (first 16 hex digits): what the store keeps to name the destination."""
    label: str
    """The redacted URL, for output."""
    url: str = field(repr=False)
    endpoints: tuple[str, ...] = field(default=(), repr=False)
    """HTTP URLs consolewatch posts to (own transports), secret too."""
    auth: tuple[str, str] | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False, hash=False, compare=False)

    def __str__(self) -> str:
        return self.label


def url_key(url: str) -> str:
    return hashlib.sha256(url.strip().encode("utf-8", "surrogateescape")).hexdigest()[:16]


def redact(url: str) -> str:
    """`scheme://host:port/…` for server-named schemes, `scheme://…` otherwise, plus a short id
    so that two destinations can be told apart. Never the path, query, user or password."""
    url = url.strip()
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower() if scheme.replace("+", "").isalnum() and len(scheme) < 20 else "?"
    shown = ""
    if scheme in _HOST_SCHEMES and rest:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            shown = quote(host, safe=".-[]:") + (f":{parts.port}" if parts.port else "")
        except ValueError:
            shown = ""
    tail = f"\u2026#{url_key(url)[:6]}"
    return f"{scheme}://{shown}/{tail}" if shown else f"{scheme}://{tail}"


def _http(scheme: str, url: str) -> tuple[str, tuple[str, str] | None]:
    """The http(s) URL behind a `json://`-like URL, and its basic-auth pair."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise DestinationError(f"{redact(url)}: bad port") from None
    if not parts.hostname:
        raise DestinationError(f"{redact(url)}: no host")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{port}" if port else "")
    query = f"?{parts.query}" if parts.query else ""
    auth = (parts.username or "", parts.password or "") if parts.username else None
    return f"{scheme}://{netloc}{parts.path or '/'}{query}", auth


def parse(url: str) -> Destination:
    url = url.strip()
    if "://" not in url:
        raise DestinationError(f"{redact(url)}: not a URL (an Apprise URL or alertmanager://HOST:PORT)")
    scheme = url.split("://", 1)[0].lower()
    key, label = url_key(url), redact(url)
    if scheme in ("alertmanager", "alertmanagers"):
        base, auth = _http("https" if scheme == "alertmanagers" else "http", url)
        endpoint = base.split("?", 1)[0].rstrip("/") + "/api/v2/alerts"
        return Destination("alertmanager", key, label, url, (endpoint,), auth)
    if scheme in ("json", "jsons"):
        endpoint, auth = _http("https" if scheme == "jsons" else "http", url)
        _apprise(url)  # an Apprise URL indeed
        return Destination("json", key, label, url, (endpoint,), auth)
    if scheme in ("slack+http", "slack+https"):
        endpoint, auth = _http(scheme.split("+")[1], url)
        return Destination("slack", key, label, url, (endpoint,), auth)
    plugin = _apprise(url)
    kind = type(plugin).__name__
    if kind == "NotifySlack":
        if not (getattr(plugin, "token_a", None) and getattr(plugin, "token_c", None)):
            raise DestinationError(f"{label}: only Slack incoming webhooks are supported "
                                   "(slack://A/B/C or https://hooks.slack.com/services/A/B/C)")
        hook = f"https://hooks.slack.com/services/{plugin.token_a}/{plugin.token_b}/{plugin.token_c}"
        return Destination("slack", key, label, url, (hook,))
    if kind == "NotifyDiscord":
        hook = f"https://discord.com/api/webhooks/{plugin.webhook_id}/{plugin.webhook_token}"
        return Destination("discord", key, label, url, (hook,))
    if kind == "NotifyTelegram":
        chats = [str(t) for t in getattr(plugin, "targets", []) or []]
        if not chats:
            raise DestinationError(f"{label}: name the chat: tgram://BOT_TOKEN/CHAT_ID")
        send = f"https://api.telegram.org/bot{plugin.bot_token}/sendMessage"
        return Destination("telegram", key, label, url, (send,), extra={"chats": tuple(chats)})
    return Destination(_APPRISE_SERVICES.get(kind, "apprise"), key, label, url)


def _apprise(url: str):
    import logging

    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)  # its messages can quote URLs
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise DestinationError(f"{redact(url)}: not a URL Apprise or consolewatch can send to")
    return plugin
