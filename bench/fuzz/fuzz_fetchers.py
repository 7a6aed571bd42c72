"""Fuzz targets for what remote consoles and cloud APIs send: the RFB client, DigitalOcean's and
OpenStack's answers. Registered in targets.py (`TARGETS`); each raises `Misbehaved` only when
consolewatch does something hostile input must never make it do.

- `rfb`: server bytes through the real RfbSession (handshake, security negotiation, ServerInit,
  then the message loop: FramebufferUpdate with Raw, CopyRect, ZRLE and DesktopSize,
  SetColourMapEntries, Bell, ServerCutText), over a transport that reads them from memory.
  The first byte picks the mode: 0/1 the whole exchange from the first byte (without / with a
  password), 2 a valid ServerInit then fuzzed server messages, 3 a valid ServerInit then one
  update whose ZRLE rectangles carry fuzzed tiles (zlib-compressed here, one stream as a
  server keeps it, so the tile parser sees the fuzzed bytes). Invariants: every end is an
  RfbError whose message is one inert line without the password; the password is never sent;
  the framebuffer is always width x height x 4 bytes within `Limits.max_pixels`.
- `digitalocean`: a `GET /v2/droplets/{id}` answer (first byte: the HTTP status; for an error,
  the next bytes are its Retry-After, ratelimit-reset and reason phrase) -> the droplet as
  MachineContext or an ApiFailure. Invariants: every field one inert line of at most 81
  characters, addresses that parse, an interfaces stanza made of nothing but valid addresses.
- `openstack`: Nova answers parsed the way openstacksdk and consolewatch read them (first byte:
  which call): a server show -> MachineContext, os-getConsoleOutput -> console bytes, a remote
  console -> the websocket endpoint, an error answer -> classify()'s one line. Invariants: one
  inert line per field and per message, bounded, the console URL's token never shown.
"""

from __future__ import annotations

import asyncio
import ipaddress
import io
import json
import re
import struct
import zlib
from functools import lru_cache

from tests.hostile import Misbehaved

PASSWORD = "pw-S3CRET"
TOKEN = "tok-S3CRET"


def _one_line(text: str) -> bool:
    from consolewatch.safetext import is_inert

    return is_inert(text, one_row=True)


# -- RFB ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


def _hello(width: int, height: int) -> bytes:
    from consolewatch.fetchers.rfb import protocol as p

    name = b"fuzz"
    return (b"RFB 003.008\n" + b"\x01\x01" + bytes(4) + struct.pack(">HH", width, height)
            + p.PixelFormat().pack() + struct.pack(">I", len(name)) + name)


def _zrle_update(body: bytes) -> bytes:
    """A ServerInit of a size from the first bytes, then one FramebufferUpdate of ZRLE
    rectangles (geometry from each segment's first 4 bytes, tiles from the rest)."""
    from consolewatch.fetchers.rfb import protocol as p

    w, h = (1 + body[0] % 200, 1 + body[1] % 200) if len(body) >= 2 else (64, 32)
    z = zlib.compressobj()
    rects = []
    for seg in body[2:].split(b"\xfe\xfd")[:16]:
        g = seg[:4].ljust(4, b"\0")
        x, y, rw, rh = g[0] % (w + 4), g[1] % (h + 4), 1 + g[2] % (w + 4), 1 + g[3] % (h + 4)
        data = z.compress(seg[4:]) + z.flush(zlib.Z_SYNC_FLUSH)
        rects.append(struct.pack(">HHHHiI", x, y, rw, rh, p.ENC_ZRLE, len(data)) + data)
    return _hello(w, h) + struct.pack(">BxH", 0, len(rects)) + b"".join(rects)


def fuzz_rfb(data: bytes) -> None:
    from consolewatch.fetchers.rfb.client import RfbSession
    from consolewatch.fetchers.rfb.protocol import Limits, RfbError
    from tests.hostile import BytesTransport

    mode, body = (data[0] % 4, data[1:]) if data else (0, b"")
    stream = {0: body, 1: body, 2: _hello(1 + (body[:1] or b"\0")[0] % 128, 32) + body[1:],
              3: _zrle_update(body) if mode == 3 else b""}[mode]
    transport = BytesTransport(stream)
    limits = Limits()
    session = RfbSession(transport, limits=limits, min_interval=0)

    async def run() -> None:
        info = await session.handshake(PASSWORD if mode == 1 else None)
        if not _one_line(info.name) or len(info.name) > 201:
            raise Misbehaved(f"desktop name shown as {info.name!r}")
        before = session.fb.row_hashes() if session.fb.height <= 256 else None
        try:
            await session.pump()
        finally:
            _check_framebuffer(session, limits, before)
        raise Misbehaved("the message loop ended without an error")

    try:
        _loop().run_until_complete(run())
    except RfbError as exc:
        message = str(exc)
        if not _one_line(message) or len(message) > 301 or PASSWORD in message:
            raise Misbehaved(f"error message {message!r}") from None
    if PASSWORD.encode() in transport.written:
        raise Misbehaved("the VNC password was sent in clear")


def _check_framebuffer(session, limits, before) -> None:
    from consolewatch.fetchers.rfb.framebuffer import scrolled

    fb = session.fb
    if len(fb.data) != fb.width * fb.height * 4 or fb.width * fb.height > limits.max_pixels:
        raise Misbehaved(f"framebuffer of {len(fb.data)} bytes for {fb.width}x{fb.height}")
    if before is not None and fb.height <= 256:
        shift = scrolled(before, fb.row_hashes())
        if shift is not None and not 0 <= shift < fb.height:
            raise Misbehaved(f"scrolled by {shift} rows on a {fb.height}-row screen")


# -- DigitalOcean ----------------------------------------------------------------------------

_DO_STATUS = (200, 200, 200, 200, 401, 403, 404, 429, 500, 503, 400, 422)
_STANZA_VALUE = re.compile(r"\s+(address|netmask|gateway) (\S+)")


def _check_stanza(value: str) -> None:
    """`interfaces_stanza` (consolewatch.netcfg): rows of inert text, every address a real one."""
    for row in value.split("\n"):
        if not _one_line(row) or len(row) > 200:
            raise Misbehaved(f"interfaces stanza row {row!r}")
        m = _STANZA_VALUE.fullmatch(row)
        if m and not (m.group(1) == "netmask" and m.group(2).isdigit()):
            ipaddress.ip_address(m.group(2))  # ValueError: an unchecked address got through


def fuzz_digitalocean(data: bytes) -> None:
    import urllib.error
    from email.message import Message

    from consolewatch.fetchers import digitalocean_api as do

    status, body = (_DO_STATUS[data[0] % len(_DO_STATUS)], data[1:]) if data else (200, b"")
    if status != 200:
        headers = Message()
        headers["Retry-After"] = body[:12].decode("latin-1").replace("\n", " ").replace("\r", " ")
        headers["ratelimit-reset"] = body[12:24].decode("latin-1").replace("\n", " ").replace("\r", " ")
        reason = body[24:40].decode("latin-1").replace("\n", " ").replace("\r", " ")  # the status line's
        exc = urllib.error.HTTPError("https://api.digitalocean.com/v2/droplets/1", status, reason, headers,
                                     io.BytesIO(body))
        _check_failure(do._http_failure(exc))
        return
    try:
        droplet = do.parse_droplet(body)
    except do.ApiFailure as failure:
        _check_failure(failure)
        return
    ctx = do.machine_context(droplet, "1")
    for key, value in ctx.fields.items():
        if key == "interfaces_stanza":
            _check_stanza(value)
        elif not isinstance(value, str) or not _one_line(value) or len(value) > 81:
            raise Misbehaved(f"droplet field {key}={value!r}")
    for key in ("public_ipv4", "private_ipv4", "public_ipv6", "public_ipv4_gateway", "private_ipv4_gateway",
                "public_ipv6_gateway", "public_ipv4_netmask", "private_ipv4_netmask"):
        if key in ctx.fields:
            ipaddress.ip_address(ctx.fields[key])  # ValueError: an unchecked address got through


def _check_failure(failure) -> None:
    if failure.kind not in ("transient", "denied", "not-found", "invalid"):
        raise Misbehaved(f"failure kind {failure.kind!r}")
    if not _one_line(failure.message) or len(failure.message) > 300:
        raise Misbehaved(f"failure message {failure.message!r}")
    wait = failure.retry_after
    if wait is not None and not wait >= 0:
        raise Misbehaved(f"retry after {wait!r}")


# -- OpenStack -------------------------------------------------------------------------------

_OS_ERRORS = (400, 401, 403, 404, 409, 413, 429, 500, 501, 503)
_NOVA = f"https://nova.example:8774/v2.1/servers/1/action?token={TOKEN}"


def _response(status: int, body: bytes, content_type: str = "application/json"):
    import requests

    r = requests.Response()
    r.status_code, r._content, r.url, r.reason = status, body, _NOVA, "Reason"
    r.headers["Content-Type"] = content_type
    return r


def fuzz_openstack(data: bytes) -> None:
    call, body = (data[0] % 4, data[1:]) if data else (0, b"")
    if call == 0:
        _server_show(body)
    elif call == 1:
        _console_output(body)
    elif call == 2:
        _remote_console(body)
    else:
        status = _OS_ERRORS[(body[:1] or b"\0")[0] % len(_OS_ERRORS)]
        kind = ("application/json", "text/html", "text/plain")[(body[1:2] or b"\0")[0] % 3]
        _sdk_call(lambda: _raise_from(_response(status, body[2:], kind)))


def _raise_from(response) -> None:
    from openstack import exceptions

    exceptions.raise_from_response(response)


def _sdk_call(fn):
    """fn() as the fetcher calls the SDK: any exception becomes classify()'s one line."""
    from consolewatch.fetchers import openstack_api as api

    try:
        return fn(), None
    except Exception as exc:  # what the fetcher's call() catches
        problem = api.classify(exc, what="reading the console log", server="vm-1", cloud=None,
                               auth_url="https://keystone.example:5000/v3")
        if problem.kind not in ("fatal", "transient", "unsupported", "not-ready", "gone"):
            raise Misbehaved(f"problem kind {problem.kind!r}") from None
        if not _one_line(problem.message) or len(problem.message) > 400 or TOKEN in problem.message:
            raise Misbehaved(f"problem message {problem.message!r}") from None
        return None, problem


def _server_show(body: bytes) -> None:
    from openstack.compute.v2.server import Server

    from consolewatch.fetchers import openstack_api as api

    def fetch():
        server = Server(id="1")
        server._translate_response(_response(200, body))
        return server

    server, problem = _sdk_call(fetch)
    if server is None:
        return
    hv_raw = api.attr(server, "hypervisor_hostname")
    ctx = api.machine_context(server, hv_raw=hv_raw if isinstance(hv_raw, str) else None, micro="2.96", cloud=None)
    for key, value in ctx.fields.items():
        if key == "interfaces_stanza":
            _check_stanza(value)
        elif not isinstance(value, str) or not _one_line(value) or len(value) > 401:
            raise Misbehaved(f"server field {key}={value!r}")
    if ctx.hypervisor not in ("kvm", "xen", "hyperv", "unknown"):
        raise Misbehaved(f"hypervisor {ctx.hypervisor!r}")


def _console_output(body: bytes) -> None:
    from consolewatch.fetchers import openstack_api as api

    out, problem = _sdk_call(lambda: api.console_bytes(_response(200, body).json()))
    if out is not None and (not isinstance(out, bytes) or len(out) > 4 * api.MAX_CONSOLE_TEXT):
        raise Misbehaved(f"console output of {type(out).__name__} {len(out)}")


def _remote_console(body: bytes) -> None:
    from consolewatch.fetchers import openstack_api as api
    from consolewatch.fetchers.base import FetchError
    from consolewatch.fetchers.vnc import parse_url

    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return
    url = doc.get("url") if isinstance(doc, dict) else doc
    if not isinstance(url, str):
        return
    # The secret where Nova puts it: the page URL's query, or the websocket query inside `path`.
    url = re.sub(r"([?&]token=|%3[Ff]token%3[Dd])TOKEN", rf"\g<1>{TOKEN}", url)
    try:
        endpoint = parse_url(api.novnc_to_vnc(url))
    except (ValueError, FetchError) as exc:
        if TOKEN in str(exc) or not _one_line(str(exc)):
            raise Misbehaved(f"console URL error {str(exc)!r}") from None
        return
    if TOKEN in endpoint.name or endpoint.transport not in ("tcp", "ws", "wss") or not 0 <= endpoint.port < 65536:
        raise Misbehaved(f"endpoint {endpoint!r}")


TARGETS = {"rfb": fuzz_rfb, "digitalocean": fuzz_digitalocean, "openstack": fuzz_openstack}
#: Modules atheris instruments for these targets (imported before the fuzzing starts).
INSTRUMENT = ("consolewatch.fetchers.rfb.client", "consolewatch.fetchers.rfb.framebuffer",
              "consolewatch.fetchers.rfb.zrle", "consolewatch.fetchers.rfb.protocol",
              "consolewatch.fetchers.digitalocean_api", "consolewatch.fetchers.openstack_api",
              "consolewatch.fetchers.vnc", "consolewatch.fetchers.base", "consolewatch.safetext")
