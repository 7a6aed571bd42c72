"""OpenStack plumbing for the `openstack:` fetcher: the connection, the calls, errors as one line.

openstacksdk (and keystoneauth) are imported only inside functions: the `openstack` target's
first use. The configuration is the standard one: `clouds.yaml` (`--os-cloud NAME`, or
`OS_CLOUD`), else the `OS_*` variables (`OS_AUTH_URL`, `OS_USERNAME`, `OS_PASSWORD`,
`OS_PROJECT_NAME`, `OS_USER_DOMAIN_NAME`, ..., application credentials, tokens: whatever
keystoneauth's plugins read). Every HTTP answer is read through `BoundedAdapter`: more than
`MAX_RESPONSE` bytes is refused (`ResponseTooLarge`) instead of held in memory.

Nothing here prints a secret: messages name the auth URL (without query or user info), the
cloud entry and the server, never a password, token or console URL token.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from consolewatch.fetchers.base import one_line, redact_url
from consolewatch.model import MachineContext
from consolewatch.netcfg import with_assigned
from consolewatch.safetext import to_bytes

__all__ = ["Problem", "Unsupported", "ResponseTooLarge", "open_connection", "classify", "find_server", "console_output",
           "console_bytes", "remote_console_url", "hypervisor_type", "machine_context", "novnc_to_vnc", "MAX_RESPONSE"]

MAX_RESPONSE = 8 << 20
"""Largest API answer read (a console log of 100 KiB is at most ~600 KB of escaped JSON)."""
MAX_CONSOLE_TEXT = 1 << 20
"""Console text beyond this (Nova's libvirt driver sends at most 100 KiB) is cut to its tail."""
MAX_SERVERS = 1000
"""Servers looked at when a name is matched (a listing that never ends is not followed further)."""
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_HYPERVISORS = {"qemu": "kvm", "kvm": "kvm", "xen": "xen", "xenserver": "xen", "xcp": "xen", "hyperv": "hyperv",
                "hyper-v": "hyperv"}
_QUIET = ("keystoneauth", "openstack", "stevedore", "urllib3")


class ResponseTooLarge(Exception):
    """An API answer larger than MAX_RESPONSE."""


@dataclass(frozen=True)
class Problem:
    kind: str
    """"fatal" (the user must act), "transient" (retry), "unsupported" (this cloud cannot),
    "not-ready" (the server cannot answer yet: 409), "gone" (the server no longer exists)."""
    message: str
    status: int | None = None


class Unsupported(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _bounded_adapter_class() -> type:
    from keystoneauth1.session import TCPKeepAliveAdapter

    class BoundedAdapter(TCPKeepAliveAdapter):
        """Reads each answer itself, refusing more than MAX_RESPONSE bytes."""

        def send(self, request: Any, stream: bool = False, **kw: Any) -> Any:
            resp = super().send(request, stream=True, **kw)
            if stream:
                return resp
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE:
                resp.close()
                raise ResponseTooLarge(f"an answer of {int(declared)} bytes")
            data = bytearray()
            for chunk in resp.iter_content(1 << 16):
                data += chunk
                if len(data) > MAX_RESPONSE:
                    resp.close()
                    raise ResponseTooLarge(f"an answer of more than {MAX_RESPONSE} bytes")
            resp._content = bytes(data)
            resp._content_consumed = True
            return resp

    return BoundedAdapter


def open_connection(cloud: str | None, *, timeout: float = 30.0) -> tuple[Any, str]:
    """(connection, its auth URL fit to show) from clouds.yaml / OS_*; nothing is sent yet.

    Raises what openstacksdk/keystoneauth raise; `classify` turns it into one line."""
    import openstack

    for name in _QUIET:  # their warnings ("Failed to discover ...") would be a second line
        logging.getLogger(name).setLevel(logging.CRITICAL)
    conn = openstack.connect(cloud=cloud, api_timeout=timeout)
    auth_url = str((conn.config.config.get("auth") or {}).get("auth_url") or "")
    adapter = _bounded_adapter_class()()
    conn.session.session.mount("http://", adapter)
    conn.session.session.mount("https://", adapter)
    return conn, redact_url(auth_url) if auth_url else "(no auth URL)"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 10:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]


def _status(exc: BaseException) -> int | None:
    for e in _chain(exc):
        for name in ("status_code", "http_status"):
            value = getattr(e, name, None)
            if isinstance(value, int):
                return value
    return None


def classify(exc: BaseException, *, what: str, server: str, cloud: str | None, auth_url: str) -> Problem:
    """One line for any failure of an OpenStack call, and what it means for a poll loop."""
    from keystoneauth1 import exceptions as ka

    where = f"the clouds.yaml entry {one_line(cloud, 60)!r}" if cloud else "the OS_* environment"
    names = {type(e).__name__ for e in _chain(exc)}
    status = _status(exc)
    if isinstance(exc, ResponseTooLarge) or "ResponseTooLarge" in names:
        return Problem("transient", f"{what}: the API sent {exc} (over {MAX_RESPONSE >> 20} MB); not read")
    if any(isinstance(e, ka.MissingRequiredOptions) for e in _chain(exc)) or "ConfigException" in names:
        return Problem("fatal", f"no usable OpenStack configuration ({one_line(exc, 120)}): use --os-cloud NAME "
                                "(clouds.yaml), OS_CLOUD, or OS_AUTH_URL/OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME")
    if any(isinstance(e, (ka.DiscoveryFailure, ka.ConnectFailure, ka.ConnectTimeout)) for e in _chain(exc)) \
            and what == "authenticating" or (what == "authenticating" and "Could not find versioned identity" in
                                             str(exc)):
        return Problem("fatal", f"cannot reach Keystone at {auth_url} (from {where}): check OS_AUTH_URL / auth_url "
                                "and the network")
    if status == 401 and what == "authenticating" or (status == 401 and "Unauthorized" in names):
        return Problem("fatal", f"Keystone at {auth_url} refused the credentials of {where} (401): check the user, "
                                "password (or application credential), project and domains")
    if any(isinstance(e, ka.EndpointNotFound) for e in _chain(exc)):
        return Problem("fatal", f"the service catalog from {auth_url} has no compute (Nova) endpoint for this "
                                "region and interface (OS_REGION_NAME, OS_INTERFACE)")
    if status == 404 or "NotFoundException" in names:
        return Problem("gone", f"server {one_line(server, 80)!r} was not found in this project ({where}): check the "
                               "name or id, the project and the region", 404)
    if "DuplicateResource" in names:
        return Problem("fatal", f"more than one server is named {one_line(server, 80)!r}: use its id")
    if status == 403:
        return Problem("unsupported", f"{what}: not allowed by this cloud's policy (403)", 403)
    if status == 409:
        return Problem("not-ready", f"{what}: the server is not ready (409)", 409)
    if status in (400, 501):
        return Problem("unsupported", f"{what}: {_api_message(exc)} ({status})", status)
    if status == 429 or (status is not None and status >= 500):
        return Problem("transient", f"{what}: the API answered {status} ({_api_message(exc)})", status)
    if any(isinstance(e, (ka.ConnectFailure, ka.ConnectTimeout, ka.ConnectionError)) for e in _chain(exc)):
        return Problem("transient", f"{what}: the connection failed ({type(exc).__name__})")
    if any(isinstance(e, ValueError) for e in _chain(exc)):
        return Problem("transient", f"{what}: the API sent an answer that is not the JSON expected")
    if status is not None:
        return Problem("unsupported", f"{what}: the API answered {status} ({_api_message(exc)})", status)
    return Problem("transient", f"{what}: {type(exc).__name__}: {one_line(exc, 160)}")


def _api_message(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    text = details if isinstance(details, str) and details else str(getattr(exc, "message", "") or exc)
    text = re.sub(r"^\w+: \d{3}: .*? for url: \S+, ", "", text)  # "HttpException: 503: ... for url: URL, msg"
    return one_line(re.sub(r"https?://\S+", "(url)", text), 160)


# -- calls (blocking: run them in a thread) ---------------------------------------------------

def find_server(conn: Any, ref: str) -> Any:
    """The server whose id is `ref`, else the one named `ref` exactly (Nova's `name` filter is
    a regular expression: anchored and escaped here). NotFoundException when there is none."""
    from openstack import exceptions

    if _UUID.match(ref):
        try:
            return conn.compute.get_server(ref)
        except exceptions.NotFoundException:
            pass
    matches = []
    for i, server in enumerate(conn.compute.servers(details=True, name=f"^{re.escape(ref)}$")):
        if i >= MAX_SERVERS:
            break
        if server.name == ref or server.id == ref:
            matches.append(server)
    if len(matches) > 1:
        raise exceptions.DuplicateResource(f"{len(matches)} servers named {ref}")
    if not matches:
        raise exceptions.NotFoundException(f"no server {ref}")
    return matches[0]


def console_output(conn: Any, server_id: str, length: int | None) -> bytes:
    """os-getConsoleOutput: the last `length` lines Nova keeps (None: all it keeps)."""
    from openstack.compute.v2.server import Server

    return console_bytes(Server(id=server_id).get_console_output(conn.compute, length=length))


def console_bytes(doc: Any) -> bytes:
    """The console text of an os-getConsoleOutput answer as UTF-8 (its last MAX_CONSOLE_TEXT
    characters; a lone surrogate, which JSON may carry and UTF-8 cannot, as a visible escape);
    ValueError when the answer holds none."""
    text = doc.get("output") if isinstance(doc, dict) else None
    if text is None and isinstance(doc, dict) and "output" in doc:
        return b""
    if not isinstance(text, str):
        raise ValueError("no output string in the console output answer")
    return to_bytes(text[-MAX_CONSOLE_TEXT:])


def remote_console_url(conn: Any, server_id: str) -> str:
    """The noVNC URL: the remote-consoles API (microversion 2.6+), else os-getVNCConsole."""
    from openstack import utils
    from openstack.compute.v2.server import Server

    if utils.supports_microversion(conn.compute, "2.6"):
        console = conn.compute.create_server_remote_console(server_id, protocol="vnc", type="novnc")
        url = console.url
    else:
        url = (Server(id=server_id).get_console_url(conn.compute, "novnc") or {}).get("url")
    if not isinstance(url, str) or not url:
        raise ValueError("no console URL in the answer")
    return url


def hypervisor_type(conn: Any, hostname: str) -> str | None:
    """os-hypervisors' hypervisor_type for a host (admin-only by default policy)."""
    for i, hv in enumerate(conn.compute.hypervisors(details=True, hypervisor_hostname_pattern=hostname)):
        if i >= 100:
            break
        if getattr(hv, "name", None) == hostname:
            return str(getattr(hv, "hypervisor_type", "") or "") or None
    return None


def microversion(conn: Any) -> str:
    try:
        data = conn.compute.get_endpoint_data()
        top = data.max_microversion
        return f"{top[0]}.{top[1]}" if top else "2.1"
    except Exception:  # discovery failed: the calls will say why
        return "unknown"


# -- what the server says -----------------------------------------------------------------------

def novnc_to_vnc(url: str) -> str:
    """Nova's noVNC page URL -> the websocket the VNC fetcher connects to.

    `http(s)://H:P/vnc_lite.html?path=%3Ftoken%3DT` (the page loads the websocket at `/` +
    `path`) gives `vnc+ws(s)://H:P/?token=T`; the older `vnc_auto.html?token=T` gives
    `vnc+ws(s)://H:P/websockify?token=T`; a ws:// or wss:// URL is used as it is."""
    parts = urlsplit(url.strip())
    scheme = {"http": "vnc+ws", "https": "vnc+wss", "ws": "vnc+ws", "wss": "vnc+wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"not a noVNC console URL: {redact_url(url)}")
    if parts.scheme.lower() in ("ws", "wss"):
        return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))
    query = parse_qs(parts.query)
    base = parts.path.rsplit("/", 1)[0]
    if "path" in query:
        ws_path, _, ws_query = unquote(query["path"][0]).partition("?")
        return urlunsplit((scheme, parts.netloc, "/" + ws_path.lstrip("/"), ws_query, ""))
    return urlunsplit((scheme, parts.netloc, base + "/websockify", parts.query, ""))


def attr(obj: Any, name: str, default: Any = None) -> Any:
    """A field of an SDK resource, or `default` when it is missing, None or malformed."""
    try:
        value = getattr(obj, name)
    except Exception:  # a malformed field the SDK cannot convert
        return default
    return default if value is None else value


def _addresses(addresses: Any) -> str:
    if not isinstance(addresses, dict):
        return ""
    out = []
    for net, entries in list(addresses.items())[:16]:
        for e in (entries if isinstance(entries, list) else [])[:16]:
            if isinstance(e, dict):
                kind = e.get("OS-EXT-IPS:type", "")
                out.append(f"{net}: {e.get('addr', '?')}" + (f" ({kind})" if kind else ""))
    return ", ".join(out)


def _fixed_ipv4s(addresses: Any) -> str:
    """The server's fixed IPv4 addresses (what Neutron's DHCP hands out), network by network."""
    out = []
    for entries in list(addresses.values())[:16] if isinstance(addresses, dict) else []:
        for e in (entries if isinstance(entries, list) else [])[:16]:
            if isinstance(e, dict) and e.get("OS-EXT-IPS:type", "fixed") == "fixed":
                try:
                    addr = ipaddress.ip_address(str(e.get("addr", "")))
                except ValueError:
                    continue
                if addr.version == 4:
                    out.append(str(addr))
    return ",".join(out)


def hypervisor_name(raw: str | None, root_device: str = "") -> tuple[str, str]:
    """(consolewatch's hypervisor name, how it was known) from os-hypervisors' type, else from
    the root device name Nova reports (/dev/xvda: Xen, /dev/vda or /dev/sda: KVM)."""
    if raw:
        return _HYPERVISORS.get(raw.strip().lower(), "unknown"), f"os-hypervisors ({one_line(raw, 40)})"
    if root_device.startswith("/dev/xvd"):
        return "xen", "root device name"
    if root_device.startswith(("/dev/vd", "/dev/sd")):
        return "kvm", "root device name"
    return "unknown", "not exposed to this account (hypervisor fields are admin-only by default policy)"


def machine_context(server: Any, *, hv_raw: str | None, micro: str, cloud: str | None) -> MachineContext:
    """The facts detectors and remediation texts use (field names shared with other clouds:
    state, instance_type, root_device, zone), every value one bounded line."""
    flavor = attr(server, "flavor")
    flavor_name = attr(flavor, "original_name") or attr(flavor, "name") or attr(flavor, "id") or ""
    image = attr(server, "image")
    image_id = attr(image, "id") if image else ""
    fault = attr(server, "fault")
    fault = fault if isinstance(fault, dict) else ({"message": fault} if fault else {})
    root = str(attr(server, "root_device_name", "") or "")
    hv, hv_source = hypervisor_name(hv_raw, root)
    drive = str(attr(server, "config_drive", "") or "").lower() in ("true", "1", "yes")
    status = str(attr(server, "status", "UNKNOWN"))
    fields = {
        "server_id": attr(server, "id", ""), "server_name": attr(server, "name", ""),
        "status": status, "state": status, "vm_state": attr(server, "vm_state", ""),
        "task_state": attr(server, "task_state", ""), "power_state": attr(server, "power_state", ""),
        "flavor": flavor_name, "instance_type": flavor_name, "vcpus": attr(flavor, "vcpus", ""),
        "ram_mb": attr(flavor, "ram", ""), "disk_gb": attr(flavor, "disk", ""),
        "image_id": image_id or "(booted from a volume)", "addresses": _addresses(attr(server, "addresses")),
        "fixed_ipv4s": _fixed_ipv4s(attr(server, "addresses")),
        "config_drive": "true" if drive else "false",
        "network_config_source": "the config drive (network_data.json on the drive labelled config-2)" if drive
        else "the metadata service (http://169.254.169.254/openstack/latest/network_data.json); this server has "
             "no config drive",
        "zone": attr(server, "availability_zone", ""), "availability_zone": attr(server, "availability_zone", ""),
        "disk_config": attr(server, "disk_config", ""), "compute_api_microversion": micro,
        "hypervisor_source": hv_source, "cloud_config": cloud or "OS_* environment",
    }
    if root:
        fields["root_device"] = fields["root_device_name"] = root
    for key in ("hypervisor_hostname", "compute_host"):  # admin-only by default policy
        if attr(server, key):
            fields[key] = attr(server, key)
    if hv_raw:
        fields["hypervisor_type"] = hv_raw
    if fault:
        fields["fault"] = fault.get("message", "")
        for k in ("code", "created", "details"):
            if fault.get(k) not in (None, ""):
                fields[f"fault_{k}"] = fault[k]
    clean = {k: one_line(v, 400 if k == "fault_details" else 240) for k, v in fields.items() if v not in (None, "")}
    return with_assigned(MachineContext("console", cloud="openstack", hypervisor=hv, fields=clean))


