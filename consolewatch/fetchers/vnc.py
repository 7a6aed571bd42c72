"""Follow any VNC console: QEMU/libvirt, Proxmox, OpenStack's noVNC proxy, a DigitalOcean droplet.

    VncFetcher(Target("vnc", "vnc+ws://HOST:PORT/PATH?token=...", options)).stream(follow=True)

is the whole interface; another fetcher that learns a console URL from its cloud's API (the
OpenStack remote-console API, DigitalOcean's `--console-url`) builds a `Target("vnc", url,
options)` the same way and yields from it. URLs: `vnc://HOST[:PORT]` (RFB over TCP, port 5900
by default, RFC 7869), `vnc+ws://HOST[:PORT]/PATH` and `vnc+wss://...` (RFB in binary websocket
messages, as noVNC and websockify carry it), and plain `ws://`/`wss://` console URLs. A URL with
a user or password is refused: the VNC password comes from the file named by the
`vnc_password_file` option (`--vnc-password-file`) or from `CONSOLEWATCH_VNC_PASSWORD`, is sent
only as the DES answer to the server's challenge, and is never printed, logged or stored. The
URL's query (often a console token) is never shown either (`redact_url`).

Yields, all with source "screen" (the `source` option changes it):

* `SourceStatus("streaming")` once connected (RFB version, security, size, desktop name);
* `Frame(media_type="image/png")` each time the screen changed and then settled: no update for
  `settle` seconds, or `max_wait` seconds after the first unsettled change while it keeps
  changing (a scrolling console is photographed at least that often); the same picture again
  once, `confirm` seconds later, if nothing new came (the OCR then knows the bottom line is
  complete); never a picture taken halfway through an update, never one equal to any of the last
  four sent (a blinking cursor);
* `Gap(lost_bytes=None)` when a connection that was streaming ends (closed, reset, stalled, a
  protocol violation): what the screen showed until the next connection is not known;
* `SourceStatus("backoff")` before each reconnection (exponential, with jitter, capped), and
  after `max_failures` attempts in a row that brought no picture, `SourceUnavailable` with the
  last error and `SourceStatus("ended")` -- a dead console is reported, never waited on forever.

A wrong or missing password and unsupported security types raise `FetchError` (the user must
act). With `follow=False` the first settled picture is yielded and the connection closed.

Options (target.options): `settle` 0.25, `max_wait` 0.5, `confirm` 1.0, `min_interval` 0.05
(seconds between update requests), `connect_timeout` 10, `handshake_timeout` 10,
`stall_timeout` 15, `keepalive` 20, `backoff` (initial, cap) = (1, 30), `max_failures` 6,
`retries` 3 (without follow), `encodings` (names, e.g. ["raw"]).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import deque
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from consolewatch.fetchers.base import Fetcher, FetchError, Target, one_line, redact_url
from consolewatch.fetchers.rfb import protocol as p
from consolewatch.fetchers.rfb.framebuffer import scrolled
from consolewatch.fetchers.rfb.protocol import AuthError, Limits, RfbError
from consolewatch.model import Frame, Gap, SourceEvent, SourceStatus, SourceUnavailable

__all__ = ["VncFetcher", "Endpoint", "parse_url", "read_password", "watch_screen"]

PASSWORD_ENV = "CONSOLEWATCH_VNC_PASSWORD"
MAX_PASSWORD_FILE = 4096
_SCHEMES = {"vnc": "tcp", "vnc+ws": "ws", "vnc+wss": "wss", "ws": "ws", "wss": "wss"}
_ENCODINGS = {"zrle": p.ENC_ZRLE, "copyrect": p.ENC_COPYRECT, "raw": p.ENC_RAW, "desktopsize": p.ENC_DESKTOP_SIZE}


@dataclass(frozen=True, slots=True)
class Endpoint:
    transport: str
    """"tcp", "ws" or "wss"."""
    host: str
    port: int
    url: str
    """What to connect to: the websocket URL (query included) or vnc://host:port."""

    @property
    def name(self) -> str:
        return redact_url(self.url)


def parse_url(url: str) -> Endpoint:
    """A console URL -> where to connect; FetchError (one line) when it is not one."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"{shown}: not a console URL ({one_line(exc, 80)})") from None
    kind = _SCHEMES.get(parts.scheme.lower())
    if kind is None or not parts.hostname:
        raise FetchError(f"{shown}: a VNC console is vnc://HOST:PORT, vnc+ws://HOST:PORT/PATH, vnc+wss://... "
                         "or a ws:// / wss:// console URL")
    if parts.username or parts.password:
        raise FetchError(f"{shown}: put the VNC password in a file named by --vnc-password-file or in "
                         f"{PASSWORD_ENV}, not in the URL (a URL is shown and stored)")
    host = parts.hostname
    if kind == "tcp":
        if parts.path not in ("", "/") or parts.query:
            raise FetchError(f"{shown}: a vnc:// URL is only vnc://HOST:PORT (for a websocket use vnc+ws://)")
        port = 5900 if port is None else port
        return Endpoint("tcp", host, port, f"vnc://{_host(host)}:{port}")
    port = port if port is not None else (443 if kind == "wss" else 80)
    ws_url = urlunsplit((kind, f"{_host(host)}:{port}", parts.path or "/", parts.query, ""))
    return Endpoint(kind, host, port, ws_url)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def read_password(options: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The VNC password: the file named by the `vnc_password_file` option, else the environment."""
    path = options.get("vnc_password_file")
    if path:
        try:
            with open(Path(path), "rb") as f:
                raw = f.read(MAX_PASSWORD_FILE + 1)
        except OSError as exc:
            raise FetchError(f"cannot read the VNC password file {one_line(path, 120)}: "
                             f"{exc.strerror or type(exc).__name__}") from None
        if len(raw) > MAX_PASSWORD_FILE:
            raise FetchError(f"the VNC password file {one_line(path, 120)} is over {MAX_PASSWORD_FILE} bytes: "
                             "it should hold the password alone")
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            raise FetchError(f"the VNC password file {one_line(path, 120)} is empty")
        return text
    return env.get(PASSWORD_ENV) or None


@dataclass(frozen=True, slots=True)
class VncOptions:
    settle: float = 0.25
    max_wait: float = 0.5
    confirm: float = 1.0
    min_interval: float = 0.05
    connect_timeout: float = 10.0
    backoff_initial: float = 1.0
    backoff_cap: float = 30.0
    max_failures: int = 6
    retries: int = 3
    encodings: tuple[int, ...] = p.DEFAULT_ENCODINGS
    limits: Limits = Limits()
    source: str = "screen"
    """The source name of the events (one screen per target)."""


def _seconds(opts: Mapping[str, Any], name: str, default: float) -> float:
    value = opts.get(name, default)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise FetchError(f"vnc option {name}: {one_line(value, 40)!r} is not a number of seconds") from None
    if not 0 < f < float("inf"):
        raise FetchError(f"vnc option {name}: {one_line(value, 40)!r} must be a positive number of seconds")
    return f


def parse_options(opts: Mapping[str, Any]) -> VncOptions:
    backoff = opts.get("backoff") or (1.0, 30.0)
    if not isinstance(backoff, (list, tuple)) or len(backoff) != 2:
        backoff = (backoff, 30.0)
    names = opts.get("encodings")
    if names:
        unknown = [n for n in names if str(n).lower() not in _ENCODINGS]
        if unknown:
            raise FetchError(f"vnc option encodings: {one_line(unknown[0], 40)!r} is not one of "
                             f"{', '.join(_ENCODINGS)}")
        encodings = tuple(dict.fromkeys(_ENCODINGS[str(n).lower()] for n in names))
    else:
        encodings = p.DEFAULT_ENCODINGS
    limits = Limits(handshake_timeout=_seconds(opts, "handshake_timeout", 10.0),
                    stall_timeout=_seconds(opts, "stall_timeout", 15.0), keepalive=_seconds(opts, "keepalive", 20.0))
    return VncOptions(
        settle=_seconds(opts, "settle", 0.25), max_wait=_seconds(opts, "max_wait", 0.5),
        confirm=_seconds(opts, "confirm", 1.0), min_interval=_seconds(opts, "min_interval", 0.05),
        connect_timeout=_seconds(opts, "connect_timeout", 10.0),
        backoff_initial=_seconds({"b": backoff[0]}, "b", 1.0), backoff_cap=_seconds({"b": backoff[1]}, "b", 30.0),
        max_failures=max(1, int(opts.get("max_failures", 6))), retries=max(1, int(opts.get("retries", 3))),
        encodings=encodings, limits=limits,
    )


class VncFetcher(Fetcher):
    kind = "vnc"

    def __init__(self, target: Target, *, env: Mapping[str, str] | None = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(target)
        self.env = os.environ if env is None else env
        self.rng = rng or random.Random()

    async def stream(self, *, cursors: Mapping[str, Any] | None = None,
                     follow: bool = True) -> AsyncGenerator[SourceEvent, None]:
        endpoint = parse_url(self.target.address)
        opts = parse_options(self.target.options)
        password = read_password(self.target.options, self.env)
        async for event in watch_screen(endpoint, password, opts, follow=follow, rng=self.rng):
            yield event


async def watch_screen(endpoint: Endpoint, password: str | None, opts: VncOptions, *, follow: bool = True,
                       rng: random.Random | None = None) -> AsyncGenerator[SourceEvent, None]:
    """Connect, follow, reconnect with backoff (see the module docstring)."""
    from consolewatch.fetchers.rfb.client import connect_session

    rng = rng or random.Random()
    src = opts.source
    pictures = _Pictures(opts)
    failures = 0
    while True:
        streaming = False
        try:
            async with connect_session(endpoint, password, limits=opts.limits, encodings=opts.encodings,
                                       min_interval=opts.min_interval,
                                       connect_timeout=opts.connect_timeout) as (session, info, pump):
                streaming = True
                yield SourceStatus(src, "streaming", f"{endpoint.name}: {info}", None, time.time())
                async with contextlib.aclosing(pictures.follow(session, pump)) as frames:
                    async for frame in frames:
                        failures = 0
                        yield frame
                        if not follow:
                            return
        except AuthError as exc:
            raise FetchError(f"{endpoint.name}: {exc}") from None
        except RfbError as exc:
            error = str(exc)
        failures += 1
        if streaming:
            yield Gap(src, None, time.time(), f"{error}; the screen is not watched until the connection is back")
        if failures >= (opts.max_failures if follow else opts.retries):
            yield SourceUnavailable(src, f"{endpoint.name}: {error} ({failures} attempt{'s' * (failures > 1)} "
                                         "in a row)", "check that the console URL is current and the server up")
            yield SourceStatus(src, "ended", error, None, time.time())
            return
        ceiling = min(opts.backoff_cap, opts.backoff_initial * 2 ** (failures - 1))
        delay = rng.uniform(ceiling / 2, ceiling)
        yield SourceStatus(src, "backoff", f"{error}; reconnecting in {delay:.1f} s", delay, time.time())
        await asyncio.sleep(delay)


class _Pictures:
    """When to take a picture of the framebuffer (state kept across reconnections)."""

    def __init__(self, opts: VncOptions) -> None:
        self.o = opts
        self.recent: deque[bytes] = deque(maxlen=4)
        self.last_png: bytes | None = None
        self.last_rows: list[int] | None = None
        self.sent = 0

    def _scrolled_far(self, session) -> bool:
        """True when the screen scrolled by half its height or more since the last picture: take
        one now, before lines scroll out of sight unread."""
        if self.last_rows is None:
            return False
        moved = scrolled(self.last_rows, session.fb.row_hashes())
        return moved is not None and moved * 2 >= session.fb.height

    async def follow(self, session, pump: asyncio.Task) -> AsyncGenerator[Frame, None]:
        o, src = self.o, self.o.source
        handled, checked, first_dirty, confirm_at, urgent = 0, 0, None, None, False
        while True:
            if pump.done():
                pump.result()  # raises what ended the connection
                raise RfbError("the connection ended")
            now = time.monotonic()
            timeout = None
            if confirm_at is not None:
                if now >= confirm_at and self.last_png is not None:
                    confirm_at = None
                    yield Frame(src, self.last_png, "image/png", None, time.time())
                    continue
                timeout = confirm_at - now
            if session.updates > handled and not session.in_update:
                first_dirty = first_dirty or now
                if session.updates > checked:
                    checked = session.updates
                    urgent = urgent or self._scrolled_far(session)
                due = min(session.last_update_at + o.settle, first_dirty + o.max_wait)
                if urgent or now >= due:
                    handled, first_dirty, urgent = session.updates, None, False
                    frame = await self._picture(session)
                    if frame is not None:
                        confirm_at = time.monotonic() + o.confirm
                        yield frame
                    continue
                timeout = min(due - now, timeout if timeout is not None else due - now)
            session.changed.clear()
            waiter = asyncio.ensure_future(session.changed.wait())
            try:
                await asyncio.wait({waiter, pump}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()

    async def _picture(self, session) -> Frame | None:
        """The framebuffer as a PNG Frame, or None when it shows one of the last few pictures."""
        from consolewatch.fetchers.rfb.framebuffer import encode_png

        digest = session.fb.digest()
        self.last_rows = session.fb.row_hashes()
        if digest in self.recent:
            return None
        self.recent.append(digest)
        self.last_png = await asyncio.to_thread(encode_png, *session.fb.snapshot())
        self.sent += 1
        return Frame(self.o.source, self.last_png, "image/png", None, time.time())
