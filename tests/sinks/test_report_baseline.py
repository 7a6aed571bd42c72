"""`report --baseline GOOD` / `analyze --baseline GOOD` on real QEMU boots of the same Debian kernel
(samples/qemu/: a healthy boot, and boots that failed): the failure's new lines come first, in
Markdown, in HTML read back from headless Chromium, and in the JSON `baseline` object."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QEMU = ROOT / "samples/qemu"
GOOD = str(QEMU / "healthy/serial.log")
NO_LEASE = str(QEMU / "dhcp-no-lease/serial.log")
FS_ERROR = str(QEMU / "fs-error/serial.log")


def _section(md: str, title: str) -> str:
    return md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _fence_rows(section: str) -> list[str]:
    body = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    return body.splitlines()


def test_markdown_lists_the_failures_new_lines_first(cli):
    r = cli("report", NO_LEASE, "--baseline", GOOD)
    assert r.returncode == 1, r.stderr.decode()
    md = r.stdout.decode()
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert heads[:2] == ["## What happened", "## Compared with a good boot"]  # right after the verdict
    section = _section(md, "Compared with a good boot")
    assert "It never reached network-up, ready, which the good boot reached." in section
    rows = _fence_rows(section)
    assert rows[0] == "> 354      | udhcpc: no lease, failing"
    # lines the healthy boot printed too (numbers, addresses, times masked) are not listed
    assert not [r for r in rows if "udhcpc: broadcasting discover" in r or "Linux version" in r]
    assert len(rows) <= 5

    r = cli("report", FS_ERROR, "--baseline", GOOD)
    rows = _fence_rows(_section(r.stdout.decode(), "Compared with a good boot"))
    assert "EXT4-fs error (device nvme0n1p1): __ext4_find_entry" in rows[0] and " x4 |" in rows[0]
    assert all(r.startswith((">", "!")) for r in rows[:9])  # the failure's own lines, before the rest
    assert any("Probing EDD" in r for r in rows[9:])  # a harmless difference comes after them


def test_html_in_a_browser_and_json(cli, tmp_path, browser, parse_dom):
    page = tmp_path / "r.html"
    r = cli("report", FS_ERROR, "--baseline", GOOD, "-o", str(page))
    assert r.returncode == 1, r.stderr.decode()
    dom = parse_dom(browser.dump_dom(page))
    sections = [s.attrs.get("id") for s in dom.all("section")]
    assert sections[:2] == ["what-happened", "baseline"]
    [baseline] = [s for s in dom.all("section") if s.attrs.get("id") == "baseline"]
    assert "never reached initramfs, network-up, ready" in " ".join(baseline.text.split())
    new = [e for e in dom.elements if "row" in e.classes and e.attrs.get("title", "").startswith("<TIME>")]
    assert new[0].text.startswith("351[    2.573407] EXT4-fs error (device nvme0n1p1)")
    assert new[0].attrs["title"].startswith("<TIME> EXT4-fs error (device nvme0n1p1): __ext4_find_entry:<NUM>")
    assert "quoted by a finding \u00d74" in new[0].text

    doc = json.loads(cli("analyze", "--json", FS_ERROR, "--baseline", GOOD).stdout)
    report = json.loads(cli("report", "--format", "json", FS_ERROR, "--baseline", GOOD).stdout)
    assert doc["baseline"] == report["baseline"]
    b = doc["baseline"]
    assert b["missing_milestones"] == ["initramfs", "network-up", "ready"]
    first = b["new_lines"][0]
    assert first["line"] == 351 and first["text"].startswith("[    2.573407] EXT4-fs error")
    assert first["template"].startswith("<TIME> EXT4-fs error") and first["count"] == 4
    assert all(set(n) >= {"line", "text", "template"} for n in b["new_lines"])
    assert b["baseline_outcome"] == "success" and b["lines_compared"] == 377
    plain = json.loads(cli("analyze", "--json", FS_ERROR).stdout)
    assert "baseline" not in plain and plain["findings"] == doc["findings"]  # the verdict is unchanged


def test_the_terminal_view_of_analyze(cli):
    r = cli("analyze", NO_LEASE, "--baseline", GOOD, env={"COLUMNS": "120"})
    out = r.stdout.decode()
    assert r.returncode == 1
    tail = out.split("Compared with a good boot", 1)[1]
    assert "354 | udhcpc: no lease, failing" in tail and "quoted by a finding" in tail


def test_a_failure_no_rule_knows_still_stands_out(defs, tmp_path):
    """Definitions with the line formats but no detector: nothing names the failure, yet the
    comparison puts the lines that read like trouble first."""
    from consolewatch import definitions
    from consolewatch.baseline import compare, comparison, learn
    from consolewatch.detect.catalog import Catalog

    shutil.copytree(ROOT / "parsers/formats", tmp_path / "formats")
    (tmp_path / "detectors").mkdir()
    loaded = definitions.load([tmp_path])
    assert not loaded.problems and not loaded.rules
    catalog = Catalog(loaded)
    analysis, matcher = compare(FS_ERROR, learn(GOOD, catalog=catalog), catalog=catalog)
    assert not analysis.findings()
    c = comparison(matcher, analysis.boots[-1])
    assert [n.kind for n in c.new_lines[:9]] == ["error"] * 9
    assert c.new_lines[0].text.startswith("[    2.573014] EXT4-fs warning")
    assert "Kernel panic - not syncing: No working init found." in " ".join(n.text for n in c.new_lines[:9])


def test_a_stored_capture_as_the_baseline_and_unusable_baselines(cli, tmp_path):
    assert cli("tail", f"file:{GOOD}", "--no-follow").returncode == 0
    [capture] = json.loads(cli("captures", "list", "--json").stdout)["captures"]
    doc = json.loads(cli("analyze", "--json", NO_LEASE, "--baseline", f"capture:{capture['id']}").stdout)
    assert doc["baseline"]["new_lines"][0]["text"] == "udhcpc: no lease, failing"
    r = cli("analyze", NO_LEASE, "--baseline", str(tmp_path / "missing.log"))
    assert r.returncode == 2 and r.stderr.decode().startswith("consolewatch: baseline: ") and b"Traceback" not in r.stderr
    elf = tmp_path / "vmlinuz"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(200))
    r = cli("report", NO_LEASE, "--baseline", str(elf))
    assert r.returncode == 2 and len(r.stderr.decode().strip().splitlines()) == 1


def test_late_and_missing_milestones():
    """The milestone comparison alone, on boots described by hand (no console involved)."""
    from consolewatch.baseline import Baseline, _Matcher, comparison
    from consolewatch.model import Boot, Milestone

    def boot(*ms):
        return Boot(1, "failure", tuple(Milestone(n, s, "", t) for n, s, t in ms), (), 1, 100)

    good = Baseline(None, boot(("kernel", 2, 0.0), ("init", 40, 2.1), ("network-up", 60, 4.0)), ("good.log",))
    c = comparison(_Matcher(good), boot(("kernel", 2, 0.0), ("init", 41, 9.5)))
    assert c.missing_milestones == ("network-up",)
    assert [(m.name, m.time, m.baseline_time) for m in c.late_milestones] == [("init", 9.5, 2.1)]
    assert comparison(_Matcher(good), boot(("kernel", 2, 0.0), ("init", 41, 4.0))).late_milestones == ()
