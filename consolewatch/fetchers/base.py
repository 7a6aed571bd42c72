"""The fetcher interface: the only async edge of consolewatch.

A fetcher follows one target (an EC2 instance, a GCE VM, a file, a QEMU socket, ...) and yields
`SourceEvent`s: `Chunk` (bytes), `Frame` (an image of the screen), `Gap` (lost data),
`SourceUnavailable` (a result, not an exception), `SourceStatus` (for status lines) and
`MachineContext` (what the cloud API says about the machine). Everything after the fetcher is
synchronous.

Errors the user must act on (bad credentials, unknown instance, wrong region) are raised as
`FetchError` with one clear line; transient errors are retried inside the fetcher and reported as
`SourceStatus(state="backoff")`.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, ClassVar, Mapping
from urllib.parse import urlsplit, urlunsplit

from consolewatch.model import SourceEvent


class FetchError(Exception):
    """A fetcher cannot go on and the user must act (one clear line, no traceback)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: Any, limit: int = 240) -> str:
    """Text from an API or a server made safe for one terminal line: controls collapsed,
    bidi/format characters escaped (`safetext`), bounded length."""
    from consolewatch.safetext import escape_unicode

    s = escape_unicode(_CONTROL.sub(" ", str(text)).strip())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def redact_url(url: str) -> str:
    """A URL fit to show and store: no user or password, the query (a console token) elided."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return one_line(url.split("?", 1)[0].split("@")[-1], 200)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    return one_line(urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", "")), 200)


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target string: `aws:us-east-1/i-0123`, `gce:proj/zone/name`, `file:PATH`, ..."""

    kind: str
    """"aws", "gce", "do", "vnc", "openstack", "file", "qemu"."""
    address: str
    """The part after the scheme, as given (instance id, PROJECT/ZONE/NAME, path, host:port)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Command-line options that apply to this target (ports, intervals, console URL, ...)."""

    def __str__(self) -> str:
        """The target's name (shown, stored, alerted on): valid text even for a file name that
        is not UTF-8."""
        from consolewatch.safetext import utf8_text

        if "://" in self.address:  # vnc://, vnc+ws://: the URL is the name (never its password or token)
            return utf8_text(redact_url(self.address))
        return utf8_text(f"{self.kind}:{self.address}")


class Fetcher(abc.ABC):
    """Follows one target and yields what its console shows."""

    kind: ClassVar[str]
    """The target scheme this fetcher serves ("aws", "gce", "file", ...)."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @abc.abstractmethod
    def stream(
        self, *, cursors: Mapping[str, Any] | None = None, follow: bool = True
    ) -> AsyncIterator[SourceEvent]:
        """Yield events until the source ends (or forever when `follow`).

        `cursors` maps source name -> the cursor of the last chunk already stored, so a resumed
        tail neither loses nor repeats bytes. With `follow=False` fetch what exists and stop.
        """
