"""The hostile-bytes matrix: every payload kind through every output (issue 12 "Also build").

Payloads (tests/hostile.py): escape sequences of every kind, C1 controls, bidi overrides and
isolates, zero-width and tag characters, line separators and rich markup. Each reaches the
outputs as console text (a log whose panic quotes it) and as outside strings (an imported
export's target, gap reasons, unavailable hints and machine facts). Surfaces: analyze
(terminal, JSON), tail (terminal, JSON), captures list/show (terminal, JSON) and report
(Markdown, HTML), every alert formatter; and what the remote-console and cloud parsers hand
to those outputs from a hostile server: the RFB client (desktop name, refusal reason), the
DigitalOcean API (droplet facts, error message, HTTP reason phrase) and Nova through
openstacksdk (server facts, error message). A cell passes when the payload's active character
never reaches the bytes written, and markup is shown as the text it is. The chat rows
(`CHAT_PAYLOADS`: mentions, links, styling, tags) go through every formatter on their own.

Adding a surface (alert destinations, chat formatters): write `def _surface_NAME(ctx) -> bytes`
returning what that destination would send for the same console log and export, and add it to
SURFACES; every payload is then checked against it.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from consolewatch.capture_file import SCHEMA, import_capture
from consolewatch.sinks.alerts.formatters import _registry
from consolewatch.store import Store
from tests.hostile import CHAT_PAYLOADS, PAYLOADS, chat_leaks

NAMES = [name for name, _, _ in PAYLOADS]


class Ctx:
    def __init__(self, cli, tmp: Path) -> None:
        self.cli, self.tmp = cli, tmp
        lines = ["SeaBIOS (version 1.16.2)", "[    0.000000] Linux version 6.1.0-cloud-amd64"]
        t = 0.5
        for name, text, _ in PAYLOADS:
            lines.append(f"[    {t:.6f}] payload {name}: {text}")
            lines.append(f"[    {t + 0.01:.6f}] Kernel panic - not syncing: {name} {text}")
            t += 0.02
        self.log = tmp / "console.log"
        self.log.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        self.store_path = tmp / "data" / "captures.sqlite3"
        self.store_path.parent.mkdir(parents=True, exist_ok=True)
        store = Store(self.store_path)
        try:
            self.capture, _ = import_capture(store, _export(f"gce:p/z/all-{PAYLOADS[-1][1]}", self.log.read_bytes()))
            for name, text, _ in PAYLOADS:  # one capture per payload: each target is listed whole
                import_capture(store, _export(f"gce:p/z/{name}-{text}", b"x\n"))
        finally:
            store.close()

    def run(self, *args: str) -> bytes:
        r = self.cli(*args)
        assert r.returncode in (0, 1), (args, r.stderr.decode())
        return r.stdout + r.stderr


def _export(target: str, console: bytes) -> dict:
    events = [{"source": "serial-1", "kind": "chunk", "received_at": 1.0, "cursor": None,
               "data": base64.b64encode(console).decode(), "info": {}}]
    for name, text, _ in PAYLOADS:
        events.append({"source": "serial-1", "kind": "gap", "received_at": 2.0, "cursor": None, "data": None,
                       "info": {"lost_bytes": 1, "reason": f"{name} {text}"}})
        events.append({"source": f"screen-{name}", "kind": "unavailable", "received_at": 2.0, "cursor": None,
                       "data": None, "info": {"reason": f"{name} {text}", "hint": f"{name} {text}"}})
    events.append({"source": "api", "kind": "context", "received_at": 2.0, "cursor": None, "data": None,
                   "info": {"cloud": "gce", "hypervisor": "kvm", "fields": {n: t for n, t, _ in PAYLOADS}}})
    return {"schema": SCHEMA, "target": target, "created": 1.0, "summary": {}, "events": events}


def _surface_analyze_terminal(ctx: Ctx) -> bytes:
    return ctx.run("analyze", "--boot", "all", str(ctx.log)) + ctx.run("analyze", f"capture:{ctx.capture}")


def _surface_analyze_json(ctx: Ctx) -> bytes:
    return ctx.run("analyze", "--json", str(ctx.log)) + ctx.run("analyze", "--json", f"capture:{ctx.capture}")


def _surface_tail_terminal(ctx: Ctx) -> bytes:
    return ctx.run("tail", f"file:{ctx.log}", "--no-follow", "--new")


def _surface_tail_json(ctx: Ctx) -> bytes:
    return ctx.run("tail", f"file:{ctx.log}", "--no-follow", "--new", "--json")


def _surface_captures_list_terminal(ctx: Ctx) -> bytes:
    return ctx.run("captures", "list")


def _surface_captures_show_terminal(ctx: Ctx) -> bytes:
    return ctx.run("captures", "show", str(ctx.capture))


def _surface_captures_json(ctx: Ctx) -> bytes:
    return ctx.run("captures", "list", "--json") + ctx.run("captures", "show", str(ctx.capture), "--json")


def _surface_report_markdown(ctx: Ctx) -> bytes:
    return ctx.run("report", str(ctx.log)) + ctx.run("report", f"capture:{ctx.capture}")


def _surface_report_html(ctx: Ctx) -> bytes:
    out = ctx.tmp / "report.html"
    ctx.run("report", "--format", "html", "-o", str(out), f"capture:{ctx.capture}")
    return out.read_bytes()


def _surface_alerts(ctx: Ctx) -> bytes:
    """What every alert formatter would send for the console's findings and the hostile target."""
    from consolewatch import definitions
    from consolewatch.detect.catalog import Catalog
    from consolewatch.model import Chunk
    from consolewatch.session import Session, run
    from consolewatch.sinks.alerts.formatters import _registry
    from consolewatch.sinks.alerts.notice import firing

    catalog = Catalog(definitions.load([Path(__file__).resolve().parent.parent / "parsers"]))
    out = []
    for name, text, _ in PAYLOADS:  # one alert per payload: a notice lists only its top causes
        console = f"[    0.000000] Linux version 6.1.0\n[    1.000000] Kernel panic - not syncing: {name} {text}\n"
        a = run(Session(catalog), [Chunk("console", console.encode())])
        findings = [f for b in a.boots for f in b.findings if f.category != "boot.success"]
        notice = firing(f"gce:p/z/{name}-{text}", "gce", ctx.capture, 1, findings, now=1.0)
        for render in _registry().values():
            payload = render(notice)
            out.append(payload if isinstance(payload, (str, bytes)) else
                       json.dumps(payload, ensure_ascii=False, default=str))
    return "\n".join(p.decode() if isinstance(p, bytes) else p for p in out).encode("utf-8", "surrogatepass")


def _surface_rfb(ctx: Ctx) -> bytes:
    """What a hostile VNC server's own words become in the RFB client: the desktop name of its
    ServerInit and the reason it gives for refusing (RFB 3.8 failure string), as `tail`,
    `watch` and their status lines get them."""
    import asyncio
    import struct

    from consolewatch.fetchers.rfb import protocol as p
    from consolewatch.fetchers.rfb.client import RfbSession
    from tests.hostile import BytesTransport

    def said(text: str) -> bytes:
        raw = text.encode("utf-8")
        return struct.pack(">I", len(raw)) + raw

    out = []
    for name, text, _ in PAYLOADS:
        hello = (b"RFB 003.008\n\x01\x01" + bytes(4) + struct.pack(">HH", 64, 32) + p.PixelFormat().pack()
                 + said(f"{name} {text}"))
        info = asyncio.run(RfbSession(BytesTransport(hello), min_interval=0).handshake(None))
        out.append(info.name)
        refusal = b"RFB 003.008\n\x00" + said(f"{name} {text}")
        with pytest.raises(p.RfbError) as refused:
            asyncio.run(RfbSession(BytesTransport(refusal), min_interval=0).handshake(None))
        out.append(str(refused.value))
    return "\n".join(out).encode("utf-8")


def _surface_digitalocean(ctx: Ctx) -> bytes:
    """A hostile DigitalOcean API answer (or what stands between): the droplet's facts that
    remediation texts quote, and the API's error message and HTTP reason phrase."""
    import io
    import urllib.error

    from consolewatch.fetchers import digitalocean_api as do
    from consolewatch.sim.digitalocean import droplet_resource

    out = []
    for name, text, _ in PAYLOADS:
        droplet = droplet_resource(5, name=f"{name} {text}", region=f"nyc3 {name} {text}")
        droplet["size_slug"] = droplet["image"]["distribution"] = f"{name} {text}"
        ctx_ = do.machine_context(do.parse_droplet(json.dumps({"droplet": droplet}).encode()), "5")
        out += [f"{k}={v}" for k, v in ctx_.fields.items()]
        body = json.dumps({"id": "server_error", "message": f"{name} {text}"}).encode()
        for reason, doc in ((f"{name} {text}", b""), ("Error", body)):
            exc = urllib.error.HTTPError("https://api.digitalocean.com/v2/droplets/5", 503, reason, None,
                                         io.BytesIO(doc))
            out.append(do._http_failure(exc).message)
    return "\n".join(out).encode("utf-8")


def _surface_openstack(ctx: Ctx) -> bytes:
    """A hostile Nova answer read through openstacksdk: a server's facts (name, flavor, fault),
    an error's message turned into one status line, and the console log's text."""
    import requests
    from openstack import exceptions
    from openstack.compute.v2.server import Server

    from consolewatch.fetchers import openstack_api as api

    def response(status: int, doc: dict) -> requests.Response:
        r = requests.Response()
        r.status_code, r._content, r.url, r.reason = status, json.dumps(doc).encode(), "https://nova.example/", "x"
        r.headers["Content-Type"] = "application/json"
        return r

    out = []
    for name, text, _ in PAYLOADS:
        server = Server(id="1")
        server._translate_response(response(200, {"server": {
            "id": "1", "name": f"{name} {text}", "status": "ERROR", "flavor": {"original_name": f"{name} {text}"},
            "fault": {"message": f"{name} {text}", "code": 500}, "OS-EXT-AZ:availability_zone": f"{name} {text}"}}))
        out += [f"{k}={v}" for k, v in api.machine_context(server, hv_raw=None, micro="2.96", cloud=None).fields.items()]
        try:
            exceptions.raise_from_response(response(409, {"conflictingRequest": {"message": f"{name} {text}"}}))
        except exceptions.SDKException as exc:
            out.append(api.classify(exc, what="reading the console log", server=f"{name} {text}", cloud=None,
                                    auth_url="https://keystone.example/v3").message)
    return "\n".join(out).encode("utf-8")


SURFACES = {name[len("_surface_"):]: fn for name, fn in globals().items() if name.startswith("_surface_")}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    from tests.conftest import run_cli

    tmp = tmp_path_factory.mktemp("matrix")

    def cli(*args):
        return run_cli(*args, env={"CONSOLEWATCH_DATA_DIR": str(tmp / "data"), "COLUMNS": "400",
                                   "CONSOLEWATCH_CONFIG_DIR": str(tmp / "config")})

    ctx = Ctx(cli, tmp)
    return {name: fn(ctx) for name, fn in SURFACES.items()}


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("payload", NAMES)
def test_payload_is_inert_on_surface(outputs, surface, payload):
    _, text, active = next(p for p in PAYLOADS if p[0] == payload)
    data = outputs[surface].decode("utf-8", "surrogateescape")
    assert payload in data  # the payload's line was output at all
    if payload == "rich-markup":
        if "json" in surface:
            return  # JSON is data: markup means nothing there
        # Shown as the text it is (Markdown escapes brackets as \[ \]), never interpreted.
        shown = data.replace("\\[", "[").replace("\\]", "]")
        assert "[bold red]FAKE[/] [link=https" in shown
        return
    assert active not in data, f"{payload!r} reached {surface} raw"
    if "json" in surface:  # the values themselves (not only their JSON escapes) are inert
        from consolewatch.safetext import is_inert

        texts = [t for t in _json_strings(data) if payload in t]
        assert texts and all(is_inert(t) for t in texts if "payload" in t or "Kernel panic" in t), texts


def _json_strings(data: str):
    decoder = json.JSONDecoder()
    for chunk in data.splitlines():
        chunk = chunk.strip()
        if chunk.startswith("{"):
            try:
                yield from _strings(decoder.decode(chunk))
            except ValueError:
                continue


def _strings(doc):
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for v in doc.values():
            yield from _strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v)


@pytest.mark.parametrize("width", [80, 120])
def test_a_wrapped_console_row_cannot_pass_for_consolewatch_output(cli, tmp_path, width):
    """WRAP spoofing: a console line padded so that its wrapped part begins a terminal row with
    what looks like consolewatch's own output. Every row of console text, wrapped rows included,
    sits right of the `|` gutter (sinks.terminal.Quoted)."""
    log = tmp_path / "console.log"
    spoof = "=== file:x boot 1: SUCCESS"
    log.write_text("[    0.000000] Linux version 6.1.0\n" + "ok" + " " * (2 * width) + spoof + "\n")
    out = cli("tail", f"file:{log}", "--no-follow", env={"COLUMNS": str(width)}).stdout.decode()
    rows = out.splitlines()
    assert not any(row.startswith(spoof) for row in rows), out
    shown = [row for row in rows if spoof in row]
    assert len(shown) == 1, out  # the console line was shown, its spoof on a wrapped row of its own
    assert re.match(r" +\| " + re.escape(spoof), shown[0]), out  # marked as console text by the gutter


@pytest.mark.parametrize("service", sorted(_registry()))
@pytest.mark.parametrize("payload", [name for name, _ in CHAT_PAYLOADS])
def test_chat_payload_is_plain_text_in_every_formatter(service, payload):
    """The rows for what a chat service acts on (tests.hostile.CHAT_PAYLOADS: broadcasts, user
    and channel mentions, Slack and Markdown links, styling, HTML tags and entities): in the
    target's name, a finding's title, evidence and fix, and a resolved notice's reason, every
    formatter passes them on as plain text (tests.hostile.chat_leaks), and the console line
    itself is still there to read."""
    from consolewatch.model import Evidence, Finding
    from consolewatch.sinks.alerts.formatters import formatter
    from consolewatch.sinks.alerts.notice import firing, resolved

    text = dict(CHAT_PAYLOADS)[payload]
    line = f"[    1.000000] Kernel panic - not syncing: {text}"
    finding = Finding("kernel-panic", "kernel.panic", "critical", f"Kernel panic {text}", 1, (Evidence(2, line),),
                      f"Read the panic reason ({text})", verdict="failure")
    fired = firing(f"file:/var/log/{text}.log", "gce", 1, 1, [finding], now=1.0)
    for notice in (fired, resolved([fired], boot=2, capture=1, reason=f"booted: {text}", now=2.0)):
        payload_out = formatter(service)(notice)
        assert chat_leaks(service, payload_out) == []
        assert "Kernel panic" in json.dumps(payload_out) or notice.status == "resolved"
