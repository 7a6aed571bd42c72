"""DigitalOcean API v2 for the droplet fetcher: one call, `GET /v2/droplets/{id}`, and what it says.

* Base URL: `CONSOLEWATCH_DO_API` (default https://api.digitalocean.com); token:
  `DIGITALOCEAN_ACCESS_TOKEN`, sent as `Authorization: Bearer ...` and nowhere else (never in an
  error, a status line or the store).
* Errors (DigitalOcean answers `{"id": "...", "message": "..."}`): 401/403 and 404 are the
  user's to fix (`FetchError`); 429 (rate limit: 250 requests a minute, 5,000 an hour; the
  `ratelimit-reset` header says when) and 5xx, timeouts and resets are retried with backoff.
  An answer over `MAX_RESPONSE` bytes is refused before it is read whole.
* The droplet becomes a `MachineContext(cloud="do", hypervisor="kvm")` whose fields detectors
  quote: name, status, region, size, image, the public and private IPv4 addresses with netmask
  and gateway, the public IPv6 address with prefix and gateway, plus what consolewatch.netcfg
  derives from them (`ipv4_address`, ..., and `interfaces_stanza`: the Debian
  `/etc/network/interfaces` text that configures them, public on eth0, private on eth1, the
  interface names DigitalOcean's own images use). Addresses that do not parse as addresses
  are left out: API text never reaches a remediation unchecked.

From the OpenAPI spec (`specification/resources/droplets/models/droplet.yml`, `network_v4.yml`,
`network_v6.yml` of github.com/digitalocean/openapi): v4 netmask is a dotted quad, v6 netmask
an integer prefix, a private v4 network has no gateway ("nil"), IPv6 is public only. Not
verified against the live API (no account was available): whether every field is always
present, and what the 404 body says exactly.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

from consolewatch.fetchers.base import FetchError, one_line
from consolewatch.model import MachineContext
from consolewatch.netcfg import with_assigned

DEFAULT_API = "https://api.digitalocean.com"
MAX_RESPONSE = 4 << 20
_ID = re.compile(r"^[0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class ApiFailure(Exception):
    kind: str
    """"transient" (retry), "denied", "not-found" or "invalid"."""
    message: str
    retry_after: float | None = None


def droplet_id(address: str) -> str:
    if not _ID.match(address):
        raise FetchError(f"do:{one_line(address, 60)}: a DigitalOcean target is do:DROPLET_ID (a number)")
    return address


def api_base(env: Mapping[str, str]) -> str:
    base = (env.get("CONSOLEWATCH_DO_API") or DEFAULT_API).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base):
        raise FetchError(f"CONSOLEWATCH_DO_API: {one_line(base, 120)!r} is not an http(s) base URL")
    return base


def get_droplet(base: str, token: str, ident: str, timeout: float) -> dict[str, Any]:
    """The droplet object (blocking; run it in a thread). Raises ApiFailure."""
    request = urllib.request.Request(f"{base}/v2/droplets/{ident}", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "consolewatch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = resp.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        raise _http_failure(exc) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiFailure("transient", f"cannot reach the DigitalOcean API: {one_line(reason, 120)}") from None
    return parse_droplet(body)


def parse_droplet(body: bytes) -> dict[str, Any]:
    """The droplet object of a `GET /v2/droplets/{id}` answer; ApiFailure("invalid") otherwise."""
    if len(body) > MAX_RESPONSE:
        raise ApiFailure("invalid", f"the DigitalOcean API answered more than {MAX_RESPONSE:,} bytes")
    try:
        droplet = json.loads(body)["droplet"]
        if not isinstance(droplet, dict):
            raise TypeError("droplet is not an object")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ApiFailure("invalid", f"unreadable answer from the DigitalOcean API: {one_line(exc, 80)}") from None
    return droplet


def _http_failure(exc: urllib.error.HTTPError) -> ApiFailure:
    try:
        doc = json.loads(exc.read(64 << 10))
        said = one_line(f"{doc.get('id', '')}: {doc.get('message', '')}".strip(": "), 160)
    except (ValueError, AttributeError, OSError, RecursionError):
        said = ""
    said = said or one_line(exc.reason or "", 160) or f"HTTP {exc.code}"  # the reason phrase is the server's too
    if exc.code in (401, 403):
        return ApiFailure("denied", f"DIGITALOCEAN_ACCESS_TOKEN was refused ({exc.code}: {said})")
    if exc.code == 404:
        return ApiFailure("not-found", f"no such droplet ({said})")
    if exc.code == 429 or exc.code >= 500:
        return ApiFailure("transient", f"the DigitalOcean API answered {exc.code} ({said})", _retry_after(exc))
    return ApiFailure("invalid", f"the DigitalOcean API answered {exc.code} ({said})")


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    import time

    headers = exc.headers or {}
    for name, relative in (("Retry-After", True), ("ratelimit-reset", False)):
        try:
            value = float(headers.get(name) or "")
        except ValueError:
            continue
        return max(0.0, value if relative else value - time.time())
    return None


# -- the droplet as context ------------------------------------------------------------------

def _text(value: Any, limit: int = 80) -> str:
    return one_line(value, limit) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _network(items: Any, family: int, kind: str) -> dict[str, str] | None:
    """The first network of `kind` (public/private) with a valid address, netmask and gateway."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("type") != kind:
            continue
        try:
            addr = ipaddress.ip_address(str(item.get("ip_address")))
            if addr.version != family:
                continue
            mask = str(item.get("netmask"))
            net = ipaddress.ip_network(f"{addr}/{mask}", strict=False)
        except ValueError:
            continue
        gateway = ""
        if item.get("gateway") not in (None, "", "nil"):
            try:
                gateway = str(ipaddress.ip_address(str(item["gateway"])))
            except ValueError:
                gateway = ""
        netmask = str(net.netmask) if family == 4 else str(net.prefixlen)
        return {"address": str(addr), "netmask": netmask, "prefix": str(net.prefixlen), "gateway": gateway}
    return None


def machine_context(droplet: Mapping[str, Any], ident: str) -> MachineContext:
    nets = droplet.get("networks") if isinstance(droplet.get("networks"), dict) else {}
    public4 = _network(nets.get("v4"), 4, "public")
    private4 = _network(nets.get("v4"), 4, "private")
    public6 = _network(nets.get("v6"), 6, "public")
    image = droplet.get("image") if isinstance(droplet.get("image"), dict) else {}
    region = droplet.get("region") if isinstance(droplet.get("region"), dict) else {}
    fields = {
        "droplet_id": ident, "name": _text(droplet.get("name")), "status": _text(droplet.get("status")),
        "region": _text(region.get("slug")), "size": _text(droplet.get("size_slug")),
        "image": _text(" ".join(str(image.get(k) or "") for k in ("distribution", "name")
                                if image.get(k) != "Unknown").strip()),
        "memory_mb": _text(droplet.get("memory")), "vcpus": _text(droplet.get("vcpus")),
    }
    for prefix, net in (("public_ipv4", public4), ("private_ipv4", private4), ("public_ipv6", public6)):
        if net is not None:
            fields[prefix] = net["address"]
            fields[f"{prefix}_netmask"] = net["netmask"]
            fields[f"{prefix}_prefix"] = net["prefix"]
            if net["gateway"]:
                fields[f"{prefix}_gateway"] = net["gateway"]
    ctx = MachineContext("droplet", cloud="do", hypervisor="kvm", fields={k: v for k, v in fields.items() if v})
    return with_assigned(ctx)
