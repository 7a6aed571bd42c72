"""Sending one formatted payload to one destination, and what the answer means.

`send()` never raises and never lets a URL out: errors are described by kind (HTTP status,
timeout, connection refused), because the messages of `requests` and Apprise quote the URL.
A 2xx is a confirmed delivery; 429 and 5xx, 408, timeouts and connection errors are worth
retrying (429 with the wait the receiver asked for: `Retry-After` in seconds or as an HTTP
date, or Telegram/Discord's `retry_after` in the JSON body); any other 4xx is permanent (a
deleted webhook does not come back by retrying).
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

from consolewatch.sinks.alerts.destinations import Destination
from consolewatch.sinks.alerts.notice import Notice

USER_AGENT = "consolewatch-alerts/0.1"


@dataclass(frozen=True, slots=True)
class Answer:
    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped at 1 h."""
    if not value:
        return None
    value = value.strip()
    try:
        secs = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        secs = when - (now if now is not None else time.time())
    if secs != secs:  # NaN
        return None
    return min(max(secs, 0.0), 3600.0)


def _body_retry_after(resp: Any) -> float | None:
    try:
        doc = resp.json()
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    value = doc.get("retry_after", (doc.get("parameters") or {}).get("retry_after")
                    if isinstance(doc.get("parameters"), dict) else None)
    return retry_after(str(value)) if isinstance(value, (int, float)) else None


def _answer(resp: Any) -> Answer:
    code = resp.status_code
    if 200 <= code < 300:
        return Answer(True)
    wait = retry_after(resp.headers.get("Retry-After"))
    if code == 429:
        return Answer(False, "HTTP 429 (rate limited)", retry_after=wait if wait is not None else _body_retry_after(resp))
    if code >= 500 or code == 408:
        return Answer(False, f"HTTP {code}", retry_after=wait)
    return Answer(False, f"HTTP {code} (rejected)", permanent=True)


def post_json(dest: Destination, endpoint: str, doc: Any, timeout: float) -> Answer:
    import requests

    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    try:
        resp = requests.post(endpoint, data=data, headers=headers, auth=dest.auth, timeout=timeout,
                             allow_redirects=False)
    except requests.exceptions.Timeout:
        return Answer(False, f"no answer within {timeout:g} s")
    except requests.exceptions.SSLError:
        return Answer(False, "TLS error")
    except requests.exceptions.ConnectionError:
        return Answer(False, "connection failed (refused, reset or unreachable)")
    except requests.exceptions.RequestException as exc:
        return Answer(False, f"request failed ({type(exc).__name__})")
    try:
        return _answer(resp)
    finally:
        resp.close()


def send(dest: Destination, notice: Notice, *, timeout: float, alert_ttl: float | None = None) -> Answer:
    """Format `notice` for `dest` and send it."""
    from consolewatch.sinks.alerts.formatters import formatter

    if dest.service == "alertmanager":
        from consolewatch.sinks.alerts.formatters import alertmanager

        doc = alertmanager.render(notice, alert_ttl) if alert_ttl else alertmanager.render(notice)
        return post_json(dest, dest.endpoints[0], doc, timeout)
    payload = formatter(dest.service)(notice)
    if dest.service == "telegram":
        for chat in dest.extra.get("chats", ()):  # every chat, or the whole message again
            answer = post_json(dest, dest.endpoints[0], {**payload, "chat_id": chat}, timeout)
            if not answer.ok:
                return answer
        return Answer(True)
    if dest.endpoints:
        return post_json(dest, dest.endpoints[0], payload, timeout)
    return _apprise(dest, payload, timeout)


def _apprise(dest: Destination, payload: dict, timeout: float) -> Answer:
    import logging

    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)  # its messages can quote URLs
    plugin = apprise.Apprise.instantiate(dest.url)
    if plugin is None:
        return Answer(False, "not an Apprise URL", permanent=True)
    for attr in ("socket_read_timeout", "socket_connect_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, timeout)
    kind = apprise.NotifyType.SUCCESS if payload.get("type") == "success" else apprise.NotifyType.FAILURE
    try:
        ok = plugin.notify(body=payload["body"], title=payload["title"], notify_type=kind,
                           body_format=payload["format"])
    except Exception as exc:  # a plugin bug must not end the delivery thread; its text may quote the URL
        return Answer(False, f"Apprise {type(plugin).__name__} failed ({type(exc).__name__})")
    return Answer(True) if ok else Answer(False, f"Apprise {type(plugin).__name__} did not deliver")
