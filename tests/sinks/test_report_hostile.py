"""Hostile console text stays inert in the report: as text in Markdown (rendered by a real
CommonMark parser with raw HTML and linkify on) and in HTML (read back from a real browser's DOM)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "](javascript:alert(1)) [click](javascript:alert(1)) <a href=javascript:alert(1)>x</a>",
    "# heading",
    "```` `` ``` ````` backticks",
    "<!-- ",
    "{{ 7*7 }} {% for x in y %}{# c #}",
    "\u202eevil\u202c and \u2066isolate\u2069 \u200bzero-width",
    "www.evil.example https://evil.example/x mailto:a@evil.example *em* _em_ ~~del~~ $x$ &amp; &#60;b&#62;",
    "<style>body{display:none}</style><base href=https://evil.example/><meta http-equiv=refresh content=0>",
]
LONG = "A" * 5000
_INVISIBLE = str.maketrans({c: "\\u%04x" % ord(c) for c in "\u202e\u202c\u2066\u2069\u200b"})
#: What the report shows for each line: bidi and invisible format characters as visible escapes.
SHOWN = [h.translate(_INVISIBLE).rstrip() for h in HOSTILE]
#: The fix quotes each panic reason: "Read the panic reason (REASON) and ..." (whitespace runs as one).
FIXES = [" ".join(f"Read the panic reason ({h.translate(_INVISIBLE)}) and".split()) for h in HOSTILE]
TITLE = "FAILURE: Kernel panic \u2014 consolewatch post-mortem"


@pytest.fixture(scope="module")
def hostile_log(tmp_path_factory) -> Path:
    """A console whose every hostile line is quoted: each is followed by a panic that names it."""
    lines = ["SeaBIOS (version 1.16 <script>alert(1)</script>)", "Booting from Hard Disk...",
             "[    0.000000] Linux version 6.1.0 <img src=x onerror=alert(1)> (gcc) # heading"]
    t = 0.5
    for h in [*HOSTILE, LONG]:
        lines.append(f"[    {t:.6f}] {h}")
        lines.append(f"[    {t + 0.01:.6f}] Kernel panic - not syncing: {h}")
        t += 0.02
    path = tmp_path_factory.mktemp("hostile") / "console.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _tokens(md: str):
    """Markdown tokens and HTML from markdown-it (raw HTML allowed; linkify, fuzzy, when installed)."""
    from importlib.util import find_spec

    from markdown_it import MarkdownIt

    # linkify-it-py (a test dependency) makes the parser link bare URLs, www. and dotted names too;
    # without it the autolink escapes are still checked in test_markdown_fences_outlast_...
    linkify = find_spec("linkify_it") is not None
    parser = MarkdownIt("commonmark", {"html": True, "linkify": linkify}).enable(["table", "strikethrough"])
    if linkify:
        parser.enable("linkify")
        parser.linkify.set({"fuzzy_link": True, "fuzzy_email": True})

    def walk(ts):
        for t in ts:
            yield t
            if t.children:
                yield from walk(t.children)

    return list(walk(parser.parse(md))), parser.render(md)


def test_markdown_keeps_console_text_inert(cli, hostile_log):
    r = cli("report", str(hostile_log))
    assert r.returncode == 1, r.stderr.decode()
    md = r.stdout.decode("utf-8")
    assert "\u202e" not in md and "\u2066" not in md and "\u200b" not in md
    tokens, html = _tokens(md)
    kinds = {t.type for t in tokens}
    assert "html_block" not in kinds and "html_inline" not in kinds  # no raw HTML got through
    # links: only the rules' references
    hrefs = {t.attrGet("href") for t in tokens if t.type == "link_open"}
    assert hrefs == {"https://docs.kernel.org/admin-guide/bug-hunting.html"}
    # headings: only the report's own
    heads = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert heads[0] == ("h1", "FAILURE: Kernel panic")
    assert {h for h, _ in heads} == {"h1", "h2", "h3", "h4"}
    assert all(c in ("What happened", "Boot 1 of 1: FAILURE", "Milestones", "Findings")
               or c.startswith("CRITICAL \u00b7 ") for h, c in heads[1:])
    assert not any("heading" in c for _, c in heads)
    # emphasis: only the report's own labels
    emph = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type in ("em_open", "strong_open", "s_open")]
    assert set(emph) <= {"consolewatch post-mortem", "Outcome:", "Fix:", "On AWS:", "On GCE:",
                         "the verdict of this boot"}
    # every hostile line is in a fenced block, verbatim, with its line number
    fences = "\n".join(t.content for t in tokens if t.type == "fence")
    for i, shown in enumerate(SHOWN):
        assert re.search(rf"^>  {5 + 2 * i} \| \[    [\d.]+\] Kernel panic - not syncing: {re.escape(shown)}$",
                         fences, re.M), shown
    assert "A" * 4000 in fences and "line cut at 4096 characters" in fences
    # and in prose (the fix quotes the panic reason), escaped text renders back to exactly the text
    prose = "".join(t.content for t in tokens if t.type in ("text", "code_inline"))
    for fix in FIXES:
        assert fix in prose, fix
    assert "<script" not in html.replace("&lt;script", "") and "onerror=alert(1)>" not in html.replace(
        "&lt;img src=x onerror=alert(1)&gt;", "")


def test_markdown_fences_outlast_any_backtick_run(cli, tmp_path):
    from consolewatch.sinks.report_md import fence, md_code, md_text

    block = fence(["``` inner", "`````` six", "plain"])
    assert block[0] == "```````text" and block[-1] == "```````"
    assert md_code("a ``b`` c") == "```a ``b`` c```" and md_code("`x") == "`` `x ``"
    assert md_text("1. not a list") == "1\\. not a list" and md_text("- no") == "\\- no"
    assert md_text("=====") == "\\=====" and md_text("see http://x.example") == "see http\\://x\\.example"


def test_html_keeps_console_text_inert_in_a_browser(cli, tmp_path, hostile_log, browser, parse_dom):
    page = tmp_path / "hostile.html"
    r = cli("report", str(hostile_log), "-o", str(page))
    assert r.returncode == 1, r.stderr.decode()
    source = page.read_text(encoding="utf-8")
    assert "\u202e" not in source and "{{" not in source.replace("{{ 7*7 }}", "")
    dom = parse_dom(browser.dump_dom(page))
    assert dom.title == TITLE
    # nothing injected: no script, no event handler, no javascript: link, no base, no refresh, no fetch
    assert not dom.all("script") and not dom.all("base") and not dom.all("iframe") and not dom.all("img")
    assert len(dom.all("style")) == 1 and len(dom.all("meta")) == 5
    for el in dom.elements:
        assert not any(k.startswith("on") for k in el.attrs), el
        for k in ("href", "src", "action", "formaction"):
            assert not el.attrs.get(k, "").lower().lstrip().startswith(("javascript:", "data:text")), el
    assert {a.attrs["href"] for a in dom.all("a")} == {"https://docs.kernel.org/admin-guide/bug-hunting.html"}
    # every hostile line shows as text, highlighted as evidence, after its line number
    evidence = [e.text.rstrip() for e in dom.with_class("ev")]
    for i, shown in enumerate(SHOWN):
        assert f"{5 + 2 * i}[    {0.51 + 0.02 * i:.6f}] Kernel panic - not syncing: {shown}" in evidence, shown
    context = [e.text for e in dom.with_class("ctx")]
    assert any(("A" * 4000) in t and "line cut at 4096" in t for t in context)
    fixes = " ".join(" ".join(f.text for f in dom.with_class("fix")).split())
    for fix in FIXES:
        assert fix in fixes, fix
    milestones = [e.text for e in dom.with_class("ms-text")]
    assert milestones[0] == "SeaBIOS (version 1.16 <script>alert(1)</script>)"
    assert "{{ 7*7 }}" in " ".join(evidence) and "49" not in " ".join(evidence)


def test_html_stays_readable_with_hostile_text(cli, tmp_path, hostile_log, browser):
    from PIL import Image

    page = tmp_path / "hostile.html"
    assert cli("report", str(hostile_log), "-o", str(page)).returncode == 1
    shot = browser.screenshot(page, tmp_path / "hostile.png", size=(1000, 1400))
    with Image.open(shot) as im:
        rgb = im.convert("RGB")
        # the console's <style>body{display:none}</style> did nothing: the banner and cards are drawn
        assert rgb.getpixel((5, 5)) == (180, 35, 24)
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 100
