"""The timeline picture in the HTML report (inline SVG, read back from headless Chromium): phases
with their durations, findings, gaps, each source's lines; hostile text inert; the fix once."""

from __future__ import annotations

import json
from pathlib import Path

from consolewatch.model import Chunk, Frame, Gap
from consolewatch.session import Session
from consolewatch.sim.screen import render_screen
from consolewatch.sinks.report import Report
from consolewatch.sinks.report_html import render_html

ROOT = Path(__file__).resolve().parents[2]
SILENT = ROOT / "samples/qemu/console-silent"
NVME = (ROOT / "samples/qemu/wrong-root-nvme/serial.log").read_bytes()


def _titles(dom, cls: str) -> list[str]:
    return [e.text for e in dom.with_class(cls)]


def _svg_children(dom) -> list:
    """Elements inside the page's SVG pictures (by document order between <svg> and the figcaption)."""
    out, inside = [], False
    for e in dom.elements:
        if e.tag == "svg":
            inside = True
        elif e.tag == "figcaption":
            inside = False
        elif inside:
            out.append(e)
    return out


def test_a_real_capture_with_serial_and_screen(cli, tmp_path, browser, parse_dom):
    page = tmp_path / "r.html"
    r = cli("report", str(SILENT / "serial.log"), str(SILENT / "screen.png"), "-o", str(page))
    assert r.returncode == 1, r.stderr.decode()
    doc = json.loads(cli("analyze", "--json", str(SILENT / "serial.log"), str(SILENT / "screen.png")).stdout)
    dom = parse_dom(browser.dump_dom(page))
    [svg] = dom.all("svg")
    assert "boot-timeline" in svg.classes and svg.attrs["role"] == "img"
    phases = _titles(dom, "tl-phase")
    # SeaBIOS, then the kernel's setup code ("Probing EDD", the boot loader's stage) and the screen
    assert phases[0].startswith("firmware: lines 1-2") and phases[1].startswith("bootloader: lines 3-23")
    assert [t.split(":")[0] for t in _titles(dom, "tl-missing")] == ["kernel", "initramfs", "root-mounted"]
    findings = _titles(dom, "tl-finding")
    assert len(findings) == len(doc["boots"][0]["findings"]) == 3
    assert any("(line 8) (read off the screen): [    1.910290] Kernel panic" in t for t in findings)
    lanes = [e.text for e in dom.with_class("tl-lane")]
    assert lanes[:2] == ["findings", "gaps"]
    assert lanes[2].endswith("serial.log \u00b7 serial") and lanes[3].endswith("screen.png \u00b7 screen")
    rects = [e.text for e in _svg_children(dom) if e.tag == "rect" and e.text]
    assert "serial.log printed lines 1-4" in rects and "screen.png printed lines 5-23" in rects
    assert not [e for e in _svg_children(dom) if e.tag in ("image", "foreignobject", "script", "a", "use")]


def test_gaps_and_lines_a_screen_showed_first(catalog, tmp_path, browser, parse_dom):
    """A real boot log cut in two by a gap (lost bytes, as EC2 windows that do not overlap report),
    with the screen read before the serial console printed the same lines."""
    lines = NVME.decode().split("\n")
    cut = len(lines) // 2
    first, second = "\n".join(lines[:cut]) + "\n", "\n".join(lines[cut + 20:])
    session = Session(catalog)
    session.expect_frames()
    for event in [Chunk("console", first.encode()), Gap("console", 2048, reason="windows did not overlap"),
                  Frame("screen", render_screen(lines[:-1])), Chunk("console", second.encode())]:
        session.feed(event)
    session.finish()
    a = session.result()
    page = tmp_path / "gap.html"
    page.write_text(render_html(Report(a)), encoding="utf-8")
    dom = parse_dom(browser.dump_dom(page))
    [gap] = _titles(dom, "tl-gap")
    assert gap == f"gap in console before line {cut + 1}: 2048 bytes lost (windows did not overlap)"
    rects = [e.text for e in _svg_children(dom) if e.tag == "rect" and e.text]
    assert any(t.startswith("screen printed lines ") for t in rects)
    assert any(t.startswith("console showed again lines ") for t in rects)  # the text came after the screen
    assert [s.also for s in a.spans if s.source == "console"].count(True) >= 1


def test_hostile_text_stays_text_inside_the_picture(catalog, tmp_path, browser, parse_dom):
    hostile = "<script>alert(1)</script></svg><img src=x onerror=alert(2)>\"'&amp; \u202eevil\u202c"
    shown = hostile.replace("\u202e", "\\u202e").replace("\u202c", "\\u202c")  # bidi controls shown as escapes
    source = f'con"sole</svg>{hostile}'
    log = (f"SeaBIOS (version 1.16 {hostile})\n[    0.000000] Linux version 6.1.0 {hostile}\n"
           f"[    0.500000] Kernel panic - not syncing: {hostile}\n")
    session = Session(catalog)
    for event in [Chunk(source, log.encode()), Gap(source, None, reason=hostile), Chunk(source, b"[    0.6] x\n")]:
        session.feed(event)
    session.finish()
    page = tmp_path / "hostile.html"
    html = render_html(Report(session.result()))
    assert "\u202e" not in html and "<script>" not in html
    page.write_text(html, encoding="utf-8")
    dom = parse_dom(browser.dump_dom(page))
    assert len(dom.all("svg")) == 1 and not dom.all("script") and not dom.all("img")
    inside = _svg_children(dom)
    assert {e.tag for e in inside} <= {"title", "g", "rect", "text", "path"}
    assert not any(k.startswith("on") or k in ("href", "xlink:href", "src") for e in inside for k in e.attrs)
    # every hostile string is shown as the text it is
    assert any(t.startswith("CRITICAL Kernel panic (line 3)") and t.endswith(f"not syncing: {shown}")
               for t in _titles(dom, "tl-finding"))
    assert any(shown in t for t in _titles(dom, "tl-gap"))
    lanes = [e for e in inside if "tl-lane" in e.classes and "\u00b7" in e.text]
    assert lanes and lanes[0].text.startswith(f'con"sole</svg>{shown} (serial)')
    assert dom.all("footer")  # the page went on after the picture: nothing closed it early


def test_the_fix_is_shown_once_per_finding(cli, tmp_path):
    fix = "This QEMU machine has nvme0n1; boot with root=/dev/nvme0n1"
    log = str(ROOT / "samples/qemu/wrong-root-nvme/serial.log")
    page = tmp_path / "r.html"
    assert cli("report", log, "-o", str(page)).returncode == 1
    html = page.read_text(encoding="utf-8")
    assert html.count(fix) == 1 and html.count('class="fix-ref"') == 1
    md = cli("report", log).stdout.decode()
    assert md.count(fix) == 1 and "**Fix:** under What happened, above." in md
