"""Compute Engine plumbing for the GCE fetcher: target, options, client, errors, context.

Nothing here imports google-cloud-compute at module level (it takes about 2 s): `make_client`
imports it when a GCE target is actually followed.

* Target: `PROJECT/ZONE/NAME`, `ZONE/NAME` or `NAME`, or a resource path
  `projects/P/zones/Z/instances/N`; missing parts come from the options ("project", "zone"),
  then CLOUDSDK_CORE_PROJECT / CLOUDSDK_COMPUTE_ZONE, then the project of the Application
  Default Credentials.
* Endpoint: option "endpoint" or CONSOLEWATCH_GCE_ENDPOINT (a base URL such as
  `http://127.0.0.1:8080`); loopback endpoints get anonymous credentials, anything else ADC.
* Every call is made with `retry=None` (the fetcher backs off itself, with jitter, and the
  library would not retry 429 anyway) and an explicit `timeout` (the library default is 600 s).
* Responses larger than `max_response` bytes are refused before they are read into memory.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from consolewatch.fetchers.base import FetchError, one_line
from consolewatch.model import MachineContext
from consolewatch.netcfg import with_assigned

#: Serial output of a TERMINATED/STOPPED instance cannot be read; these mean "it is down".
DOWN = frozenset({"TERMINATED", "STOPPED", "SUSPENDED"})
GOING_DOWN = frozenset({"STOPPING", "SUSPENDING"})
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_PATH = re.compile(r"^(?:.*/)?projects/([^/]+)/zones/([^/]+)/instances/([^/]+)$")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"BM", "image/bmp"))
SOURCES = ("serial-1", "serial-2", "serial-3", "serial-4", "screen")


class ResponseTooLarge(ValueError):
    """The API sent more than the fetcher is willing to hold in memory."""


@dataclass(frozen=True, slots=True)
class GceTarget:
    project: str
    zone: str
    name: str

    def __str__(self) -> str:
        return f"gce:{self.project}/{self.zone}/{self.name}"


@dataclass(frozen=True, slots=True)
class GceOptions:
    """The options a GCE target understands (target.options), with their defaults."""

    ports: tuple[int, ...] = (1,)
    since: str = "start"
    """"start": the oldest byte GCE still holds; "now": only what is printed from now on."""
    screenshots: float | None = 10.0
    """Seconds between screenshots (when the instance has a display device), None = off."""
    wait_restart: bool = False
    poll_min: float = 1.0
    poll_max: float = 10.0
    backoff_initial: float = 1.0
    backoff_cap: float = 30.0
    status_every: float = 15.0
    """Seconds between instances.get calls that notice a stop (sooner after a failed read)."""
    timeout: float = 30.0
    retries: int = 5
    """Attempts per read when not following (a follow retries for as long as it runs)."""
    max_response: int = 16 << 20
    max_invalid: int = 5
    """Consecutive unreadable answers after which a source is given up (SourceUnavailable)."""
    endpoint: str | None = None


def _seconds(value: Any, name: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise FetchError(f"gce option {name}: {value!r} is not a number of seconds") from None
    if not f > 0 or f != f or f == float("inf"):
        raise FetchError(f"gce option {name}: {value!r} must be a positive number of seconds")
    return f


def _pair(value: Any, name: str, default: tuple[float, float]) -> tuple[float, float]:
    if value is None:
        return default
    if isinstance(value, Mapping):
        lo = _seconds(value.get("min", default[0]), name)
        hi = _seconds(value.get("max", max(lo, default[1])), name)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = _seconds(value[0], name), _seconds(value[1], name)
    else:
        lo = _seconds(value, name)
        hi = max(lo, default[1])
    if hi < lo:
        raise FetchError(f"gce option {name}: the maximum {hi:g} s is below the minimum {lo:g} s")
    return lo, hi


def parse_options(opts: Mapping[str, Any]) -> GceOptions:
    """Validate target.options; FetchError (one line) on a bad value."""
    raw_ports = opts.get("ports", opts.get("port")) or ()
    if isinstance(raw_ports, (int, str)):
        raw_ports = [p for p in str(raw_ports).split(",") if p.strip()]
    try:
        ports = tuple(sorted({int(p) for p in raw_ports}))
    except (TypeError, ValueError):
        raise FetchError(f"gce option ports: {raw_ports!r} is not a list of port numbers 1..4") from None
    if any(not 1 <= p <= 4 for p in ports):
        raise FetchError(f"gce option ports: {list(ports)} — GCE serial ports are 1, 2, 3 and 4")
    sources = opts.get("sources") or ()
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise FetchError(f"gce: no source {one_line(unknown[0])!r}; a GCE target has {', '.join(SOURCES)}")
    if sources:  # --source picks serial ports and the screen; --port adds ports
        ports = tuple(sorted(set(ports) | {int(s[-1]) for s in sources if s.startswith("serial-")}))
    elif not ports:
        ports = (1,)
    since = str(opts.get("since") or "start").lower()
    if since not in ("start", "now"):
        raise FetchError(f"gce option since: {since!r} — use 'start' (the whole buffer) or 'now'")
    shots = opts.get("screenshots", 10.0)
    if sources and "screen" not in sources:
        shots = None
    screenshots = None if shots in (None, False, 0, "off", "no", "none") else _seconds(shots, "screenshots")
    if not ports and screenshots is None:
        raise FetchError("gce: nothing to follow: no serial port and screenshots are off")
    poll = _pair(opts.get("poll"), "poll", (1.0, 10.0))
    backoff = _pair(opts.get("backoff"), "backoff", (1.0, 30.0))
    return GceOptions(
        ports=ports, since=since, screenshots=screenshots, wait_restart=bool(opts.get("wait_restart", False)),
        poll_min=poll[0], poll_max=poll[1], backoff_initial=backoff[0], backoff_cap=backoff[1],
        status_every=_seconds(opts.get("status_every", 15.0), "status_every"),
        timeout=_seconds(opts.get("timeout", 30.0), "timeout"),
        retries=max(1, int(opts.get("retries", 5))), max_response=int(opts.get("max_response", 16 << 20)),
        max_invalid=max(1, int(opts.get("max_invalid", 5))), endpoint=opts.get("endpoint"),
    )


def decode_screenshot(contents: str) -> tuple[bytes, str]:
    """(image bytes, media type) of a Screenshot's base64 `contents`; ValueError if it is not one."""
    try:
        image = base64.b64decode(contents, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the contents are not base64") from None
    media = next((m for magic, m in _MAGIC if image.startswith(magic)), None)
    if media is None:
        raise ValueError(f"not a PNG or JPEG image (starts with {image[:8]!r})")
    return image, media


def endpoint_of(opts: GceOptions, env: Mapping[str, str]) -> str | None:
    raw = opts.endpoint or env.get("CONSOLEWATCH_GCE_ENDPOINT") or None
    if raw is None:
        return None
    raw = raw.strip().rstrip("/")
    if "://" not in raw:
        raw = ("http://" if is_loopback(raw) else "https://") + raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"CONSOLEWATCH_GCE_ENDPOINT: {one_line(raw)!r} is not an http(s) base URL")
    return raw


def is_loopback(url: str) -> bool:
    host = urlsplit(url if "://" in url else "//" + url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_target(address: str, opts: Mapping[str, Any], env: Mapping[str, str],
                   adc_project: str | None = None) -> GceTarget:
    """PROJECT/ZONE/NAME with the documented defaults; FetchError names what is missing."""
    m = _PATH.match(address)
    parts = list(m.groups()) if m else address.split("/")
    if len(parts) > 3 or not all(parts):
        raise FetchError(f"gce:{one_line(address)}: use gce:PROJECT/ZONE/NAME (or ZONE/NAME, NAME)")
    name = parts[-1]
    zone = parts[-2] if len(parts) >= 2 else opts.get("zone") or env.get("CLOUDSDK_COMPUTE_ZONE")
    project = parts[0] if len(parts) == 3 else (opts.get("project") or env.get("CLOUDSDK_CORE_PROJECT")
                                                 or adc_project)
    if not zone:
        raise FetchError(f"gce:{one_line(address)}: no zone — give gce:PROJECT/ZONE/NAME or set "
                         "CLOUDSDK_COMPUTE_ZONE (gcloud config set compute/zone ZONE)")
    if not project:
        raise FetchError(f"gce:{one_line(address)}: no project — give gce:PROJECT/ZONE/NAME or set "
                         "CLOUDSDK_CORE_PROJECT (gcloud config set project PROJECT)")
    for what, value in (("project", project), ("zone", zone), ("instance", name)):
        if not _NAME.match(str(value)):
            raise FetchError(f"gce:{one_line(address)}: {one_line(value)!r} is not a valid {what} name")
    return GceTarget(str(project), str(zone), name)


def credentials_for(endpoint: str | None) -> tuple[Any, str | None]:
    """(credentials, ADC project): anonymous for a loopback endpoint, else Application Default."""
    if endpoint is not None and is_loopback(endpoint):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        return google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as exc:
        raise FetchError("no Google credentials: run `gcloud auth application-default login` or set "
                         f"GOOGLE_APPLICATION_CREDENTIALS ({one_line(exc, 160)})") from None


def make_client(endpoint: str | None, credentials: Any, max_response: int, kind: str = "InstancesClient") -> Any:
    """A compute_v1 client (InstancesClient, SubnetworksClient) on the REST transport, with
    responses capped at `max_response` bytes."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import compute_v1

    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    client = getattr(compute_v1, kind)(credentials=credentials, client_options=options, transport="rest")
    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is not None and hasattr(session, "hooks"):
        session.hooks.setdefault("response", []).append(_cap_hook(max_response))
    return client


def _cap_hook(limit: int) -> Any:
    """A requests response hook: read at most `limit` bytes of the body (before requests does)."""

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            response.close()
            raise ResponseTooLarge(f"the API sent {int(length):,} bytes (more than the {limit:,} accepted)")
        data = response.raw.read(limit + 1, decode_content=True)
        if len(data) > limit:
            response.close()
            raise ResponseTooLarge(f"the API sent more than {limit:,} bytes")
        response._content = data
        response._content_consumed = True
        return response

    return hook


@dataclass(frozen=True, slots=True)
class Failure:
    """What an exception from a client call means for the fetcher."""

    kind: str
    """"transient" (back off, re-ask), "not-ready" (instance down), "invalid" (unreadable answer),
    "not-found", "denied", "bad-request" or "fatal"."""
    message: str
    retry_after: float | None = None


def classify(exc: BaseException) -> Failure:
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc
    from google.protobuf import json_format
    import requests

    if isinstance(exc, ResponseTooLarge):
        return Failure("invalid", str(exc))
    if isinstance(exc, gexc.GoogleAPICallError):
        msg = _api_message(exc)
        code = exc.code or 0
        if isinstance(exc, (gexc.TooManyRequests, gexc.ServerError, gexc.DeadlineExceeded)) or code >= 500:
            return Failure("transient", f"HTTP {code} {msg}", _retry_after(exc))
        if code == 404:
            return Failure("not-found", msg)
        if code in (401, 403):
            return Failure("denied", msg)
        reasons = {str(e.get("reason", "")) for e in (exc.errors or []) if isinstance(e, dict)}
        if "resourceNotReady" in reasons or "not ready" in msg or code == 412:
            return Failure("not-ready", msg)
        return Failure("bad-request", f"HTTP {code} {msg}")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        aexc.TransportError, ConnectionError, TimeoutError)):
        return Failure("transient", f"connection problem: {one_line(_root(exc), 160)}")
    if isinstance(exc, (json_format.Error, UnicodeError, ValueError, TypeError, OverflowError)):
        return Failure("invalid", f"unreadable answer from the API: {one_line(exc, 160)}")
    if isinstance(exc, aexc.GoogleAuthError):
        return Failure("denied", f"credentials problem: {one_line(exc, 160)}")
    return Failure("fatal", f"{type(exc).__name__}: {one_line(exc, 160)}")


def fatal_error(target: GceTarget, failure: Failure) -> FetchError:
    """The one line a user reads when the fetcher cannot go on."""
    if failure.kind == "not-found":
        return FetchError(f"{target}: not found: {failure.message} (check the project, zone and instance name)")
    if failure.kind == "denied":
        return FetchError(f"{target}: permission denied: {failure.message} (the account needs "
                          "compute.instances.get and compute.instances.getSerialPortOutput, e.g. "
                          "roles/compute.viewer; or run `gcloud auth application-default login`)")
    return FetchError(f"{target}: {failure.message}")


def cursor_of(value: Any) -> int | None:
    """A stored serial cursor (the API's `next`) as a byte offset."""
    if value is None:
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise FetchError(f"gce: stored cursor {one_line(value, 60)!r} is not a byte offset") from None


def _root(exc: BaseException) -> BaseException:
    seen = 0
    while seen < 8 and (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, BaseException):
            return arg
    return exc


def _api_message(exc: Any) -> str:
    for err in exc.errors or []:
        if isinstance(err, dict) and err.get("message"):
            return one_line(err["message"])
    text = str(exc.message or "")
    text = re.sub(r"^[A-Z]+ \S+: ", "", text)  # "GET https://...: message"
    return one_line(text or type(exc).__name__)


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


_SUBNETWORK = re.compile(r"(?:^|/)projects/([^/]+)/regions/([^/]+)/subnetworks/([^/]+)$")


def subnetwork_of(inst: Any) -> tuple[str, str, str] | None:
    """(project, region, name) of nic0's subnetwork, from its URL in instances.get."""
    nics = list(inst.network_interfaces)
    m = _SUBNETWORK.search(nics[0].subnetwork or "") if nics else None
    return m.groups() if m else None  # type: ignore[return-value]


def machine_context(inst: Any, target: GceTarget, ports: tuple[int, ...], subnet: Any = None) -> MachineContext:
    """The facts detectors use: machine type, NIC type (gVNIC vs virtio-net), boot disk, flags,
    nic0's address and (with `subnet`, subnetworks.get of nic0's subnetwork) its subnet's range
    and gateway, and the addressing consolewatch.netcfg derives from them (ipv4_address, ...).

    Field names shared with the other clouds: state, instance_type, root_device (the device a
    Linux guest sees: /dev/sda for SCSI, /dev/nvme0n1 for NVMe), nic_type, zone. GCE's own names
    (status, machine_type) are kept as well. An unset nicType is reported as VIRTIO_NET, GCE's
    default."""
    nics = [n.nic_type if "nic_type" in n else "VIRTIO_NET" for n in inst.network_interfaces]
    boot = next((d for d in inst.disks if d.boot), inst.disks[0] if inst.disks else None)
    interface = (boot.interface if boot is not None and "interface" in boot else "SCSI") or "SCSI"
    features = sorted({f.type_ for d in ([boot] if boot is not None else []) for f in d.guest_os_features})
    meta = {item.key: item.value for item in inst.metadata.items} if "metadata" in inst else {}
    display = bool(inst.display_device.enable_display) if "display_device" in inst else False
    fields = {
        "project": target.project, "zone": target.zone, "instance": target.name,
        "instance_id": str(inst.id) if "id" in inst else "",
        "status": inst.status or "UNKNOWN",
        "state": inst.status or "UNKNOWN",
        "machine_type": (inst.machine_type or "").rsplit("/", 1)[-1],
        "instance_type": (inst.machine_type or "").rsplit("/", 1)[-1],
        "cpu_platform": inst.cpu_platform or "",
        "nic_type": nics[0] if nics else "none",
        "nic_types": ",".join(nics),
        "network_ip": inst.network_interfaces[0].network_i_p if nics else "",
        "network_ips": ",".join(n.network_i_p for n in inst.network_interfaces),
        "subnet_cidr": subnet.ip_cidr_range if subnet is not None else "",
        "gateway_ipv4": subnet.gateway_address if subnet is not None else "",
        "boot_disk_interface": interface,
        "root_device": "/dev/nvme0n1" if interface == "NVME" else "/dev/sda",
        "disks": "; ".join(f"{d.device_name} {d.interface or 'SCSI'}{' boot' if d.boot else ''}"
                           for d in inst.disks),
        "guest_os_features": ",".join(features),
        "gvnic_in_image": "true" if "GVNIC" in features else "false",
        "serial_port_enable": meta.get("serial-port-enable", "unset"),
        "serial_port_logging_enable": meta.get("serial-port-logging-enable", "unset"),
        "display_device": "true" if display else "false",
        "last_start": inst.last_start_timestamp or "",
        "serial_ports": ",".join(map(str, ports)),
        "dhcp_lease": "/32 (255.255.255.255) with option 121 routes to the gateway",
        "metadata_server": "169.254.169.254",
    }
    clean = {k: one_line(v) for k, v in fields.items() if v or k not in ("subnet_cidr", "gateway_ipv4")}
    return with_assigned(MachineContext("instance", cloud="gce", hypervisor="kvm", fields=clean))
