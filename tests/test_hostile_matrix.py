"""The hostile-bytes matrix: every payload kind through every output (issue 12 "Also build").

Payloads (tests/hostile.py): escape sequences of every kind, C1 controls, bidi overrides and
isolates, zero-width and tag characters, line separators and rich markup. Each reaches the
outputs as console text (a log whose panic quotes it) and as outside strings (an imported
export's target, gap reasons, unavailable hints and machine facts). Surfaces: analyze
(terminal, JSON), tail (terminal, JSON), captures list/show (terminal, JSON) and report
(Markdown, HTML). A cell passes when the payload's active character never reaches the bytes
written, and markup is shown as the text it is.

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
from consolewatch.store import Store
from tests.hostile import PAYLOADS

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
