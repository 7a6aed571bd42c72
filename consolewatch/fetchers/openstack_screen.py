"""The OpenStack fetcher's `screen`: the server's noVNC console, followed by the VNC fetcher.

Nova hands out a console URL with a token that expires (`[consoleauth] token_ttl`, 10 minutes by
default), so the URL is asked for again whenever the VNC connection gives up; after `ROUNDS`
URLs in a row that brought no picture the screen is reported unavailable. A cloud without a VNC
console (400 "Unavailable console type"), a policy that refuses it (403) or a server that is not
running (409) is a `SourceUnavailable("screen")` with a hint, never an error of the follow.
"""

from __future__ import annotations

import os
import time
from typing import Any

from consolewatch.fetchers import openstack_api as api
from consolewatch.fetchers.base import FetchError, one_line
from consolewatch.model import Frame, SourceStatus, SourceUnavailable

ROUNDS = 3
VNC_OPTIONS = ("settle", "max_wait", "confirm", "min_interval", "connect_timeout", "handshake_timeout",
               "stall_timeout", "keepalive", "max_failures", "encodings")
HINT = ("openstack console url show --novnc SERVER tells whether this cloud has a noVNC console; "
        "--screenshots off stops asking")


async def screen_loop(f: Any) -> None:
    """Follow the remote console of the fetcher `f` (an OpenStackFetcher) until the follow ends."""
    from consolewatch.fetchers.vnc import parse_options, parse_url, read_password, watch_screen

    opts = parse_options({"max_failures": 2, **{k: v for k, v in f.options.items() if k in VNC_OPTIONS}})
    password = read_password(f.options, os.environ)  # Nova's proxy needs none; a user's VNC server may
    empty_rounds, reason = 0, ""
    while not f.ending:
        try:
            url = await f.call("screen", "asking for the remote console", api.remote_console_url, f.conn,
                               f.server_id, attempts=3)
            endpoint = parse_url(api.novnc_to_vnc(url))
        except api.Unsupported as exc:
            await f.emit(SourceUnavailable("screen", f"no VNC console: {exc.problem.message}", HINT))
            return
        except (FetchError, ValueError) as exc:  # their messages never hold the URL's token
            await f.emit(SourceUnavailable("screen", f"no VNC console: {one_line(exc, 200)}", HINT))
            return
        pictures = False
        async for event in watch_screen(endpoint, password, opts, follow=True):
            if isinstance(event, SourceUnavailable):
                reason = event.reason
                break
            if isinstance(event, SourceStatus) and event.state == "ended":
                continue
            pictures = pictures or isinstance(event, Frame)
            await f.emit(event)
            if f.ending:
                return
        empty_rounds = 0 if pictures else empty_rounds + 1
        if empty_rounds >= ROUNDS:
            await f.emit(SourceUnavailable("screen", f"the VNC console gave no picture with {ROUNDS} console URLs "
                                           f"in a row: {reason}", HINT))
            return
        await f.emit(SourceStatus("screen", "backoff", "asking Nova for a new console URL", None, time.time()))
