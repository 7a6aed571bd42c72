"""Fetchers: one module per source, registered by target scheme.

Built-ins are registered the same way third-party fetchers are (entry point group
`consolewatch.fetchers`, value `module:Class`), and imported only when a target of that kind is
followed: the Google client alone takes about 2 s to import.
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points
from typing import Any, Mapping

from consolewatch.fetchers.base import Fetcher, FetchError, Target

__all__ = ["BUILTIN", "Fetcher", "FetchError", "Target", "fetcher_class", "parse_target"]

#: scheme -> "module:Class"
BUILTIN: dict[str, str] = {
    "aws": "consolewatch.fetchers.ec2:Ec2Fetcher",
    "gce": "consolewatch.fetchers.gce:GceFetcher",
    "do": "consolewatch.fetchers.digitalocean:DigitalOceanFetcher",
    "vnc": "consolewatch.fetchers.vnc:VncFetcher",
    "openstack": "consolewatch.fetchers.openstack:OpenStackFetcher",
    "file": "consolewatch.fetchers.local:FileFetcher",
    "qemu": "consolewatch.fetchers.local:QemuFetcher",
}

_INSTANCE = re.compile(r"^i-[0-9a-f]{8,17}$")


def parse_target(text: str, options: Mapping[str, Any] | None = None) -> Target:
    """Parse a target string (design.md "Targets"); ValueError with a readable message if wrong."""
    opts = dict(options or {})
    try:
        return _parse(text, opts)
    except ValueError as exc:  # the message quotes the target: never its credentials
        from consolewatch.safetext import redact, redact_urls

        raise ValueError(redact_urls(str(exc)).replace(text, redact(text))) from None


def _parse(text: str, opts: dict[str, Any]) -> Target:
    if _INSTANCE.match(text):
        return Target("aws", text, opts)
    if text.startswith(("vnc://", "vnc+ws://", "vnc+wss://")):
        return Target("vnc", text, opts)
    kind, sep, rest = text.partition(":")
    if not sep or not rest:
        raise ValueError(
            f"{text!r} is not a target: use aws:[REGION/]i-..., gce:PROJECT/ZONE/NAME, do:DROPLET_ID, "
            "vnc://HOST:PORT, vnc+ws://HOST:PORT/PATH, openstack:SERVER, file:PATH or qemu:SOCKET_OR_PTY")
    if kind not in BUILTIN and kind not in _plugins():
        raise ValueError(f"unknown target kind {kind!r} in {text!r} (known: {', '.join(sorted(BUILTIN))})")
    if kind == "aws":
        region, _, instance = rest.rpartition("/")
        if not _INSTANCE.match(instance):
            raise ValueError(f"{text!r}: an AWS target is aws:[REGION/]i-0123456789abcdef0")
        if region:
            opts.setdefault("region", region)
        return Target("aws", instance, opts)
    return Target(kind, rest, opts)


def _plugins() -> dict[str, str]:
    try:
        return {ep.name: ep.value for ep in entry_points(group="consolewatch.fetchers")}
    except Exception:  # a broken third-party distribution must not break the built-ins
        return {}


def fetcher_class(kind: str) -> type[Fetcher]:
    spec = _plugins().get(kind) or BUILTIN.get(kind)
    if spec is None:
        raise FetchError(f"no fetcher for target kind {kind!r}")
    module, _, name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise FetchError(f"{kind}: targets are not supported by this version of consolewatch yet") from None
        raise FetchError(f"the {kind} fetcher needs {exc.name}, which is not installed") from None
    except (ImportError, AttributeError) as exc:
        raise FetchError(f"the {kind} fetcher is not available: {exc}") from None
    return cls
