"""`consolewatch report` as a user runs it, on real samples: Markdown, HTML (in a real browser), JSON,
a stored capture (`capture:ID`), formats, exit codes and unusable inputs."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SILENT = ROOT / "samples/qemu/console-silent"
LOOP = ROOT / "samples/qemu/boot-loop/serial.log"
NIXOS = ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
SILENT_TITLE = ("FAILURE: The root filesystem could not be mounted, though the kernel lists disks"
                " \u2014 consolewatch post-mortem")


def _report(cli, *args: str, expect: int = 1, **kw) -> str:
    r = cli("report", *args, **kw)
    assert r.returncode == expect, r.stderr.decode()
    return r.stdout.decode("utf-8")


def _written(cli, out: Path, *args: str, expect: int = 1) -> str:
    r = cli("report", *args, "-o", str(out))
    assert r.returncode == expect, r.stderr.decode()
    assert r.stdout == b""
    assert f"wrote {out}" in r.stderr.decode()
    return out.read_text(encoding="utf-8")


def _fenced(md: str) -> list[str]:
    """The bodies of the fenced code blocks of a Markdown document."""
    blocks, body, fence = [], [], None
    for line in md.splitlines():
        if fence is None:
            m = re.match(r"^(`{3,})", line)
            if m:
                fence, body = m[1], []
        elif line == fence:
            blocks.append("\n".join(body))
            fence = None
        else:
            body.append(line)
    return blocks


def test_markdown_of_a_silent_console_with_its_screenshot(cli):
    md = _report(cli, str(SILENT / "serial.log"), str(SILENT / "screen.png"))
    lines = md.splitlines()
    assert lines[0] == "# FAILURE: The root filesystem could not be mounted, though the kernel lists disks"
    assert "unknown cloud, hypervisor unknown" in md and "23 console lines" in md
    what = md.split("## What happened", 1)[1].split("##", 1)[0]
    assert "The boot failed: The root filesystem could not be mounted" in what
    assert "**Fix:** The machine has nvme0n1p1" in what  # the fix, with the disk the console named
    assert "## Boot 1 of 1: FAILURE" in md and "### Milestones" in md
    blocks = _fenced(md)
    assert any(re.search(r"^\s+1\s+firmware\s+SeaBIOS \(version 1\.16\.2", b, re.M) for b in blocks)
    # evidence with its line numbers, context before it, OCR lines marked
    ev = next(b for b in blocks if "nvme0n1p1 c0501e01-01" in b)
    assert re.search(r"^>\* 8 \| \[    1\.910290\] Kernel panic - not syncing: VFS: Unable to mount root fs", ev, re.M)
    assert re.search(r"^ \* 5 \| \[    1\.909825\]  \(driver\?\)$", ev, re.M)
    assert "#### ERROR \u00b7 The console went silent after the firmware handed over" in md
    assert "rule `root-fs-unmountable-disks-present` \u00b7 **the verdict of this boot**" in md
    assert "- <https://github.com/nanovms/ops/issues/945>" in md
    assert "a symptom of `root-fs-unmountable-disks-present`" in md
    assert "## Notes" in md and "screen\\.png is embedded in the HTML report" in md


def test_html_of_a_silent_console_in_a_browser(cli, tmp_path, browser, parse_dom):
    from PIL import Image

    page = tmp_path / "silent.html"
    html = _written(cli, page, str(SILENT / "serial.log"), str(SILENT / "screen.png"))
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html.split("<body", 1)[0])  # nothing fetched
    dom = parse_dom(browser.dump_dom(page))
    assert dom.title == SILENT_TITLE
    [csp] = [m for m in dom.all("meta") if m.attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp.attrs["content"].startswith(CSP)
    assert not dom.all("script") and not dom.all("link") and not dom.all("iframe")
    [banner] = dom.with_class("banner")
    assert "outcome-failure" in banner.classes and "FAILURE" in banner.text
    # the last screen, embedded as a re-encoded PNG of the same size
    [img] = dom.all("img")
    assert img.attrs["src"].startswith("data:image/png;base64,")
    shot = Image.open(io.BytesIO(base64.b64decode(img.attrs["src"].split(",", 1)[1])))
    assert shot.format == "PNG" and shot.size == (720, 400) and not shot.info.get("text")
    # evidence lines as text, highlighted among their context
    rows = dom.with_class("row")
    evidence = [r.text for r in rows if "ev" in r.classes]
    assert any("8[    1.910290] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"
               in t for t in evidence)
    assert any(r.text.startswith("5[    1.909825]  (driver?)") for r in rows if "ctx" in r.classes)
    assert [e.text for e in dom.with_class("ms-name")][:2] == ["firmware", "bootloader"]
    assert any("The machine has nvme0n1p1" in f.text for f in dom.with_class("fix"))
    links = [a.attrs["href"] for a in dom.all("a")]
    assert "https://github.com/nanovms/ops/issues/945" in links and all(h.startswith("https://") for h in links)
    # a real page: the failure banner's red across the top, console blocks and the screenshot below
    png = browser.screenshot(page, tmp_path / "silent.png")
    with Image.open(png) as im:
        assert im.size == (1280, 2000)
        rgb = im.convert("RGB")
        assert rgb.getpixel((10, 10)) == (180, 35, 24)
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200  # text, cards, the screenshot: not blank


def test_boot_loop_with_every_boot(cli, tmp_path, browser, parse_dom):
    md = _report(cli, "--boot", "all", str(LOOP))
    assert md.startswith("# FAILURE: The kernel found no disk at all (the disk driver is missing)\n")
    for i in (1, 2, 3):
        assert f"## Boot {i} of 3: FAILURE" in md
    assert "## Across boots" in md and "### CRITICAL \u00b7 The machine keeps rebooting (boot loop)" in md
    assert "Across boots: The machine rebooted after a failed boot and failed again; The machine keeps" in md
    assert "The 2 boot(s) before it failed the same way." in md
    assert re.search(r"^>  1061 \| \[    2\.109002\] Rebooting in 1 seconds\.\.$", md, re.M)
    # evidence lines far apart are not glued together: each boot's panic and its restart line, 335 lines between boots
    assert "\u22ee 16 line(s) not shown" in md and "\u22ee 335 line(s) not shown" in md
    page = tmp_path / "loop.html"
    _written(cli, page, "--boot", "all", str(LOOP))
    dom = parse_dom(browser.dump_dom(page))
    boots = dom.with_class("boot")
    assert [b.attrs["id"] for b in boots] == ["boot-1", "boot-2", "boot-3"]
    assert "Console lines 707\u20131061." in boots[2].text
    [across] = [s for s in dom.all("section") if s.attrs.get("id") == "across-boots"]
    assert "The machine keeps rebooting (boot loop)" in across.text
    # the last boot only, by default, and the report says so
    last = _report(cli, str(LOOP))
    assert "## Boot 3 of 3: FAILURE" in last and "## Boot 1 of 3" not in last
    assert "this report details the last one (--boot all details every one)" in last


def test_aws_sample_markdown_json_and_fix_for_its_cloud(cli, tmp_path):
    md = _report(cli, str(NIXOS))
    assert md.startswith("# FAILURE: Kernel panic - init (PID 1) exited\n")
    assert "AWS EC2, hypervisor xen" in md
    blocks = _fenced(md)
    assert any(re.search(r"^   4\s+(?:[\d.]+s\s+)?initramfs\s+<<< NixOS Stage 1 >>>$", b, re.M) for b in blocks)
    assert any(re.search(r"^  18\s+(?:[\d.]+s\s+)?network-up\s+Lease of 172\.31\.21\.0 obtained", b, re.M) for b in blocks)
    assert any(">  22 | [    0.880011] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100" in b
               for b in blocks)
    # The console says AWS/Xen (line 25), so the fix is written for AWS, not for every cloud.
    assert "**Fix:** Read the whole system log" in md and "On GCE" not in md
    assert "Not seen on the console: ready." in md
    assert "- Also reported by rule `kernel-panic` (critical): Kernel panic" in md
    # JSON is the analyze document, byte for byte
    doc = json.loads(_report(cli, "--format", "json", str(NIXOS)))
    assert doc == json.loads(cli("analyze", "--json", str(NIXOS)).stdout)
    assert doc["schema"] == "consolewatch.analysis/1"
    # --cloud picks that cloud's fix
    gce = _report(cli, "--cloud", "gce", str(NIXOS))
    assert "Google Compute Engine" in gce and "gcloud compute instances attach-disk" in gce
    assert "On AWS" not in gce


def test_stored_capture_by_id(cli, tmp_path, browser, parse_dom):
    r = cli("tail", f"file:{NIXOS}", "--no-follow")
    assert r.returncode in (0, 1), r.stderr.decode()
    [capture] = json.loads(cli("captures", "list", "--json").stdout)["captures"]
    ident = capture["id"]
    md = _report(cli, f"capture:{ident}")
    assert md.startswith("# FAILURE: Kernel panic - init (PID 1) exited\n")
    assert f"`capture:{ident} (file:{NIXOS}, taken " in md
    assert ">  22 | [    0.880011] Kernel panic - not syncing: Attempted to kill init!" in md
    page = tmp_path / "capture.html"
    _written(cli, page, f"capture:{ident}")
    dom = parse_dom(browser.dump_dom(page))
    assert dom.title == "FAILURE: Kernel panic - init (PID 1) exited \u2014 consolewatch post-mortem"
    assert any("Attempted to kill init! exitcode=0x00000100" in r.text for r in dom.with_class("ev"))
    # the same verdict as the file itself
    assert json.loads(_report(cli, "--format", "json", f"capture:{ident}"))["findings"] == \
        json.loads(_report(cli, "--format", "json", str(NIXOS)))["findings"]


def test_unknown_or_malformed_capture_is_a_usage_error(cli, tmp_path):
    r = cli("report", "capture:7")
    assert r.returncode == 2 and b"no capture 7" in r.stderr
    assert not (tmp_path / "data" / "captures.sqlite3").exists()  # asking created no store
    cli("tail", f"file:{NIXOS}", "--no-follow")
    r = cli("report", "capture:7")
    assert r.returncode == 2 and b"capture:7: no capture 7" in r.stderr
    r = cli("report", "capture:latest")
    assert r.returncode == 2 and b"a capture id is a number" in r.stderr
    r = cli("analyze", "capture:1")  # analyze takes it too
    assert r.returncode == 1 and b"Kernel panic" in r.stdout


def test_format_follows_the_output_extension_and_exit_status_fail_on(cli, tmp_path):
    assert json.loads(_written(cli, tmp_path / "r.json", str(NIXOS)))["outcome"] == "failure"
    assert _written(cli, tmp_path / "r.htm", str(NIXOS)).startswith("<!DOCTYPE html>")
    assert _written(cli, tmp_path / "r.txt", str(NIXOS)).startswith("# FAILURE")
    assert _written(cli, tmp_path / "r.md", "--format", "html", str(NIXOS)).startswith("<!DOCTYPE html>")
    assert list(tmp_path.glob(".r.*")) == []  # no temporary file left behind
    _report(cli, "--fail-on", "never", str(NIXOS), expect=0)
    _report(cli, "--fail-on", "critical", str(NIXOS), expect=1)
    _report(cli, "--fail-on", "critical", str(SILENT / "serial.log"), expect=1)  # stalled, whatever the severities


def test_unusable_input_and_output(cli, tmp_path):
    r = cli("report", str(tmp_path / "missing.log"))
    assert r.returncode == 2 and b"no such file" in r.stderr and r.stdout == b""
    r = cli("report", str(NIXOS), "-o", str(tmp_path / "no" / "dir" / "r.html"))
    assert r.returncode == 2 and b"cannot write" in r.stderr
    r = cli("report", "--format", "pdf", str(NIXOS))
    assert r.returncode == 2


def test_empty_capture_still_reports(cli, tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    md = _report(cli, str(empty), expect=1)  # an empty console is a console.silent finding
    assert md.startswith("# UNKNOWN: No console output\n")
    assert "found no boot in them" in md and "The console printed nothing at all" in md
    html = _report(cli, "--format", "html", str(empty), expect=1)
    assert 'class="banner outcome-unknown"' in html


def test_inputs_are_named_without_secrets():
    from consolewatch.safetext import redact

    assert redact("vnc+ws://console.example:443/websockify?token=s3cret") == "vnc+ws://console.example:443/websockify?\u2026"
    assert redact("https://user:pw@h.example/x#t") == "https://h.example/x?\u2026"
    assert redact("vnc://[::1]:5900") == "vnc://[::1]:5900"
    assert redact("gce:proj/zone/vm") == "gce:proj/zone/vm" and redact("a/b.log") == "a/b.log"
