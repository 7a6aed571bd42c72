"""Follow a DigitalOcean droplet: what API v2 says about it, and its screen over VNC.

`DigitalOceanFetcher(Target("do", "DROPLET_ID", options)).stream(follow=...)` yields

1. `MachineContext("droplet", cloud="do", hypervisor="kvm")` from `GET /v2/droplets/{id}`
   (digitalocean_api: name, status, region, size, image, the addresses with netmask and gateway,
   the `/etc/network/interfaces` stanza detectors quote). Without `DIGITALOCEAN_ACCESS_TOKEN` a
   `SourceUnavailable("droplet")` says so and the console is still followed.
2. `SourceUnavailable("serial")`: DigitalOcean gives a droplet no serial console and no API for
   its console output; the screen is the only view of a boot.
3. The screen (source "screen"), through `VncFetcher` on the console URL: the `console_url`
   option (`--console-url`), else `CONSOLEWATCH_DO_CONSOLE_URL`, else the config file
   (`[digitalocean] console_url`, or per droplet `[digitalocean.console_urls] "ID" = URL`).
   Without one, a `SourceUnavailable("screen")` says how to give it, and a `FetchError` ends the
   follow: there is nothing to watch.

What is known about the Recovery Console's wire protocol, and what is not: the control panel's
"Launch Recovery Console" opens a KVM console in the browser. DigitalOcean's public API
(OpenAPI spec, godo, doctl) has no endpoint that hands out a console URL or token for a droplet,
and no documentation describes how the browser reaches it. A browser console of this kind is
usually noVNC speaking RFB over a websocket, which is what `--console-url` expects, but that is
an inference, not something verified against DigitalOcean. consolewatch does not reproduce the
control panel's private calls (unversioned, tied to a logged-in browser session, and possibly
against the terms of service): the user hands it a console URL, or points it at any RFB
websocket or TCP endpoint that shows the droplet's screen.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import Any

from consolewatch.fetchers.base import Fetcher, FetchError, Target
from consolewatch.fetchers.digitalocean_api import ApiFailure, api_base, droplet_id, get_droplet, machine_context
from consolewatch.fetchers.ratelimit import throttle
from consolewatch.model import SourceEvent, SourceStatus, SourceUnavailable

__all__ = ["DigitalOceanFetcher", "console_url"]

TOKEN_ENV = "DIGITALOCEAN_ACCESS_TOKEN"
URL_ENV = "CONSOLEWATCH_DO_CONSOLE_URL"
#: Options passed on to the VNC fetcher of the console.
_VNC_OPTIONS = ("vnc_password_file", "settle", "max_wait", "confirm", "min_interval", "connect_timeout",
                "handshake_timeout", "stall_timeout", "keepalive", "backoff", "max_failures", "retries",
                "encodings")


def console_url(options: Mapping[str, Any], env: Mapping[str, str], ident: str) -> str | None:
    """The console URL from the option, the environment or the config file (in that order)."""
    url = options.get("console_url") or env.get(URL_ENV)
    if url:
        return str(url)
    from consolewatch import config

    where = env.get("CONSOLEWATCH_CONFIG_DIR")
    try:
        cfg = config.load(Path(where) / "config.toml" if where else None)
    except config.ConfigError as exc:
        raise FetchError(str(exc)) from None
    return cfg.do_console_urls.get(ident) or cfg.do_console_url


class DigitalOceanFetcher(Fetcher):
    kind = "do"

    def __init__(self, target: Target, *, env: Mapping[str, str] | None = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(target)
        self.env = os.environ if env is None else env
        self.rng = rng or random.Random()

    async def stream(self, *, cursors: Mapping[str, Any] | None = None,
                     follow: bool = True) -> AsyncGenerator[SourceEvent, None]:
        ident = droplet_id(self.target.address)
        token = self.env.get(TOKEN_ENV)
        if token:
            async for event in self._droplet(api_base(self.env), token, ident, follow):
                yield event
        else:
            yield SourceUnavailable("droplet", f"{TOKEN_ENV} is not set: the droplet's networks are unknown",
                                    "create a read-only token at cloud.digitalocean.com/account/api/tokens")
        yield SourceUnavailable("serial", "DigitalOcean has no serial output: a droplet's boot is only shown on "
                                          "its screen (the Recovery Console)",
                                "consolewatch follows the screen through the console URL instead")
        url = console_url(self.target.options, self.env, ident)
        if not url:
            yield SourceUnavailable("screen", "no console URL: DigitalOcean's API does not give one out",
                                    f"pass --console-url (or set {URL_ENV}) to the RFB websocket URL of the "
                                    "droplet's Recovery Console, or any vnc:// / vnc+ws:// endpoint showing it")
            raise FetchError(f"do:{ident}: nothing to watch without the droplet's console: give --console-url "
                             f"or set {URL_ENV}")
        from consolewatch.fetchers.vnc import VncFetcher

        options = {k: v for k, v in self.target.options.items() if k in _VNC_OPTIONS}
        async for event in VncFetcher(Target("vnc", url, options), env=self.env, rng=self.rng).stream(follow=follow):
            yield event

    async def _droplet(self, base: str, token: str, ident: str, follow: bool) -> AsyncGenerator[SourceEvent, None]:
        from consolewatch.fetchers.vnc import parse_options

        backoff = parse_options(self.target.options)  # the same `backoff` option as the console's
        attempt = 0
        while True:
            await throttle(self.target)
            try:
                droplet = await asyncio.to_thread(get_droplet, base, token, ident, 30.0)
            except ApiFailure as failure:
                if failure.kind == "denied":
                    raise FetchError(f"do:{ident}: {failure.message}") from None
                if failure.kind == "not-found":
                    raise FetchError(f"do:{ident}: {failure.message}: check the droplet id "
                                     "(doctl compute droplet list)") from None
                attempt += 1
                if attempt >= (8 if follow else 3):
                    yield SourceUnavailable("droplet", f"DigitalOcean API: {failure.message} ({attempt} attempts)")
                    return
                ceiling = min(backoff.backoff_cap, backoff.backoff_initial * 2 ** (attempt - 1))
                delay = max(self.rng.uniform(ceiling / 2, ceiling), min(failure.retry_after or 0.0, 60.0))
                yield SourceStatus("droplet", "backoff", f"{failure.message}; retry {attempt} in {delay:.1f} s",
                                   delay, time.time())
                await asyncio.sleep(delay)
                continue
            yield machine_context(droplet, ident)
            return
