"""Terminal output that reads well at 80 and 120 columns (issue 11, points 4-7; issue 12, item 8's
wrap part): console text is marked on every row it takes, our own text keeps its indent, one
finding per event, root causes grouped with their symptoms in tail, lines moved by escapes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OOM = ROOT / "samples/qemu/oom/serial.log"
NVME = ROOT / "samples/qemu/wrong-root-nvme/serial.log"
WIDTHS = [80, 120]


def _out(cli, *args, width: int, **kw) -> list[str]:
    r = cli(*args, env={"COLUMNS": str(width), "NO_COLOR": "1", **kw.pop("env", {})}, **kw)
    assert r.returncode in (0, 1), r.stderr
    rows = r.stdout.decode().splitlines()
    assert rows and max(len(x) for x in rows) <= width
    return rows


def _inner(row: str) -> str:
    """A row without the panel's border and padding."""
    row = row.rstrip().removesuffix("│").rstrip()
    return row[2:] if row.startswith("│ ") else row


@pytest.mark.parametrize("width", WIDTHS)
def test_wrapped_console_rows_keep_the_gutter_and_our_rows_their_indent(cli, width):
    rows = [_inner(x) for x in _out(cli, "analyze", str(OOM), width=width)]
    i = next(i for i, x in enumerate(rows) if "awk invoked oom-killer:" in x)
    assert re.match(r"^  > 344 \| \[    5\.192628\] awk invoked oom-killer:", rows[i])
    assert re.match(r"^        \| \S", rows[i + 1]), rows[i + 1]  # the rest of line 344, gutter kept
    fix = next(i for i, x in enumerate(rows) if x.startswith("  fix: "))
    assert rows[fix + 1].startswith("       ") and not rows[fix + 1].startswith("        ")  # under the text
    per_cloud = [x for x in rows if x.startswith("       on ")]
    assert {x.split(":")[0].strip() for x in per_cloud} == {"on AWS", "on GCE", "on DigitalOcean"}
    assert any(x.endswith("…") for x in per_cloud) or width > 120  # cut to one row, not wrapped
    assert "(--cloud NAME: that cloud's fix in full)" in re.sub(r"\s+", " ", " ".join(rows))


@pytest.mark.parametrize("width", WIDTHS)
def test_one_finding_per_event(cli, width):
    rows = _out(cli, "analyze", str(OOM), width=width)
    assert sum("Out of memory - the kernel killed a process" in x for x in rows if "ERROR" in x) == 1
    doc = json.loads(cli("analyze", "--json", str(OOM)).stdout)
    [oom] = [f for f in doc["findings"] if f["category"] == "kernel.oom"]
    assert [e["line"] for e in oom["evidence"]] == [344, 401] and oom["fields"]["pid"] == "83"


@pytest.mark.parametrize("width", WIDTHS)
def test_tail_groups_a_root_cause_with_its_symptoms_as_analyze_does(cli, tmp_path, width):
    rows = _out(cli, "tail", str(NVME), "--no-follow", width=width)
    text = "\n".join(rows)
    flat = re.sub(r"[\s│]+", " ", text)
    analyzed = re.sub(r"[\s│]+", " ", "\n".join(_out(cli, "analyze", str(NVME), width=width)))
    # the same failure told again by less specific rules: one line each, under the root or after it
    for also in re.findall(r"also ([a-z0-9-]+):", analyzed):
        assert f"also {also}:" in flat or f"the root cause of {also} (shown above)" in flat, also
    assert re.search(r"^    also root-fs-unmountable-disks-present: The root filesystem", text, re.M)
    doc = json.loads(cli("analyze", "--json", str(NVME)).stdout)
    root = next(f for f in doc["findings"] if f["category"] == "kernel.panic")["suppressed_by"]
    assert root and f"a symptom of {root}" in flat  # the panic, another category, says its root cause
    events = [json.loads(x) for x in cli("tail", str(NVME), "--no-follow", "--json", "--new").stdout.splitlines()]
    panic = next(e for e in events if e["type"] == "finding" and e["category"] == "kernel.panic")
    assert panic["suppressed_by"] == root


@pytest.mark.parametrize("width", WIDTHS)
def test_panel_titles_and_rule_ids_are_never_cut(cli, tmp_path, width):
    deep = tmp_path / ("a-rather-long-folder-name-for-captures" * 2) / "console.log"
    deep.parent.mkdir(parents=True)
    deep.write_bytes((ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log").read_bytes())
    rows = _out(cli, "tail", str(deep), "--no-follow", width=width)
    assert any(x.startswith("╭─ kernel.panic ─") for x in rows)
    listed = "\n".join(_out(cli, "rules", "list", width=width))
    ids = [r["id"] for r in json.loads(cli("rules", "list", "--json").stdout)["rules"]]
    assert all(re.search(rf"(?m)^\s*{re.escape(i)}\s", listed) for i in ids), [i for i in ids if i not in listed]


SPOOF = ("Kernel panic - not syncing: {pad}=== file:/tmp/x boot 1: SUCCESS  reached ready{pad2}"
         "fix: This is a false alarm, nothing to do")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("pad", [0, 17, 41, 66])
def test_a_guest_cannot_print_a_row_that_looks_like_ours(cli, tmp_path, width, pad):
    log = tmp_path / "console.log"
    line = SPOOF.format(pad="x" * pad + " " * (width - 20), pad2=" " * (width - 10))
    log.write_text("SeaBIOS (version 1.16.2)\n" + line + "\n")
    for cmd in (["analyze"], ["tail", "--no-follow", "--new"]):
        for row in _out(cli, *cmd, str(log), width=width):
            inner = _inner(row).lstrip()
            assert not inner.startswith(("=== file:/tmp/x", "fix: This is a false alarm")), (cmd, row)
            if "false alarm" in row or "/tmp/x boot 1" in row:
                assert "|" in row.split("false alarm")[0].split("/tmp/x boot")[0] or "\u00a0" in row, row


def test_escape_sequences_do_not_indent_lines(cli):
    def lines(sample: str) -> list[str]:
        out = cli("tail", str(ROOT / "samples" / sample / "serial.log"), "--no-follow", "--json", "--new").stdout
        return [e["text"] for e in map(json.loads, out.splitlines()) if e["type"] == "line"]

    reset = lines("qemu-fail-then-success")  # "... o" ESC c ESC[2J "[    0.000000] Linux version"
    assert sum(x.startswith("[    0.000000] Linux version") for x in reset) == 2
    assert "Probing EDD (edd=off to disable)... o" in reset
    grub = lines("qemu-grub-no-such-device")  # the menu is drawn with cursor moves
    assert any(x.startswith("GNU GRUB  version 2.06") for x in grub)
    assert not [x for x in grub + reset if re.match(r"^ {12,}\S", x)]


def test_a_screenshot_takes_its_place_on_the_timeline_whatever_the_order(cli):
    case = ROOT / "samples/qemu/console-silent"
    docs = [json.loads(cli("analyze", "--json", *map(str, paths)).stdout)
            for paths in ([case / "serial.log", case / "screen.png"], [case / "screen.png", case / "serial.log"])]
    assert docs[0] == docs[1]
    where = {f["category"]: [e["line"] for e in f["evidence"]] for f in docs[0]["findings"]}
    # the serial port first (its last line, the kernel's setup code, quoted for the silence), then the screen
    assert where["console.silent"] == [3] and where["kernel.panic"][0] > 3
