"""`consolewatch analyze` as a user runs it: the JSON contract, exit codes, inputs, hostile input."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NANOS = ROOT / "samples/gce-nanos-silent-after-seabios/console.log"
WINDOWS = ROOT / "samples/gce-windows-guest-agent-started/console.log"
NIXOS = ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log"


def test_json_document_follows_the_contract(cli):
    r = cli("analyze", "--json", str(NANOS))
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "consolewatch.analysis/1"
    assert doc["cloud"] == "gce" and doc["outcome"] == "stall"
    [boot] = doc["boots"]
    assert set(boot) >= {"index", "outcome", "milestones", "findings"}
    assert {f["category"] for f in doc["findings"]} == {"console.silent", "boot.stall"}
    for f in doc["findings"]:
        assert set(f) >= {"rule", "category", "severity", "title", "boot", "evidence", "remediation"}
        assert f["evidence"] == [{"line": 10, "text": "Booting from Hard Disk 0..."}]
        assert "console=ttyS0" in f["remediation"] or "bootable" in f["remediation"]


def test_exit_status_follows_fail_on(cli):
    assert cli("analyze", str(WINDOWS)).returncode == 0
    assert cli("analyze", str(NIXOS)).returncode == 1
    assert cli("analyze", "--fail-on", "never", str(NIXOS)).returncode == 0
    # the NixOS panic is critical; a finding below --fail-on passes when the boot succeeded
    assert cli("analyze", "--fail-on", "critical", str(NIXOS)).returncode == 1
    assert cli("analyze", "--fail-on", "info", str(WINDOWS)).returncode == 1
    assert cli("analyze", "--fail-on", "warning", str(WINDOWS)).returncode == 0


def test_terminal_view_names_outcome_milestones_finding_and_fix(cli):
    r = cli("analyze", str(NIXOS))
    out = r.stdout.decode()
    assert "FAILURE" in out and "Kernel panic" in out and "kernel.panic" in out
    assert "Attempted to kill init" in out and "fix:" in out
    assert "22 |" in out  # evidence quoted with its line number


def test_stdin_and_aws_console_output_json(cli, tmp_path):
    text = NIXOS.read_bytes()
    r = cli("analyze", "--json", "-", input=text)
    assert json.loads(r.stdout)["outcome"] == "failure"
    aws = tmp_path / "console.json"
    aws.write_text(json.dumps({"InstanceId": "i-0123456789abcdef0", "Timestamp": "2016-03-01T10:00:00.000Z",
                               "Output": text.decode()}))
    doc = json.loads(cli("analyze", "--json", str(aws)).stdout)
    panics = [f for f in doc["findings"] if f["category"] == "kernel.panic"]
    assert panics and panics[0]["evidence"][0]["line"] == 22
    assert doc["outcome"] == "failure" and doc["cloud"] == "aws"


def test_screenshot_is_read_with_ocr(cli):
    frame = ROOT / "tests/ocr/frames/qemu-linux-vfs-panic.png"
    doc = json.loads(cli("analyze", "--json", str(frame)).stdout)
    assert doc["outcome"] == "failure"
    panic = [f for f in doc["findings"] if f["category"] == "kernel.panic"]
    assert panic and "VFS: Unable to mount root fs" in panic[0]["evidence"][0]["text"]


@pytest.mark.parametrize("make, expect", [
    (lambda p: p.write_bytes(os.urandom(200_000)), (0, 1)),
    (lambda p: p.write_bytes(b"\xff\xfe\xc3(\xa0\xa1" * 5000 + b"\nKernel panic - not syncing: \xff\n"), (1,)),
    (lambda p: p.write_bytes(b""), (0, 1)),
])
def test_hostile_files_never_crash(cli, tmp_path, make, expect):
    path = tmp_path / "in.log"
    make(path)
    r = cli("analyze", "--json", str(path))
    assert r.returncode in expect, r.stderr
    assert b"Traceback" not in r.stderr
    json.loads(r.stdout)


def test_a_50_mb_line_without_newline(cli, tmp_path):
    path = tmp_path / "long.log"
    with path.open("wb") as f:
        for _ in range(50):
            f.write(b"A" * (1 << 20))
    r = cli("analyze", "--json", str(path))
    assert r.returncode in (0, 1) and b"Traceback" not in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    assert doc["lines"] == 1
    [boot] = doc["boots"]
    assert boot["last_line"] == 1


@pytest.mark.parametrize("arg, message", [
    ("{tmp}", "is a directory"),
    ("{tmp}/missing.log", "no such file"),
])
def test_unusable_inputs_exit_2_with_one_clear_line(cli, tmp_path, arg, message):
    r = cli("analyze", arg.format(tmp=tmp_path))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_malformed_rule_files_are_reported_together_with_locations(cli, tmp_path):
    d = tmp_path / "defs" / "detectors"
    d.mkdir(parents=True)
    (d / "broken.yaml").write_text("rules:\n  - id: x\n    category: nope\n    match: {line: {regex: '('}}\n")
    (d / "syntax.yaml").write_text("rules: [\n")
    r = cli("analyze", "--parsers", str(tmp_path / "defs"), str(NIXOS))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "broken.yaml:2:" in err and "unknown category 'nope'" in err
    assert "does not compile" in err and "syntax.yaml:2: YAML syntax" in err
    assert "Traceback" not in err


def test_console_escape_sequences_render_inertly(cli, tmp_path):
    hostile = (b"\x1b]0;pwned title\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
               b" [bold red]markup[/bold red] \x1b[2J\x1b[H\x1b[5A\x1b[?1049h\x9b31m"
               b" Kernel panic - not syncing: [link=http://x]y[/link] \x1b[31mred\x1b[0m\n")
    path = tmp_path / "hostile.log"
    path.write_bytes(hostile)
    r = cli("analyze", str(path), env={"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "200"})
    out = r.stdout.decode()
    assert "[bold red]markup[/bold red]" in out and "[link=http://x]y[/link]" in out
    assert "pwned" not in out and "cm0gLXJmIH4=" not in out and "evil.example" not in out
    escapes = re.findall(r"\x1b[^m]*?[A-Za-z]|\x1b\]|\x07|\x9b", out)
    assert all(e.endswith("m") and e.startswith("\x1b[") for e in escapes), escapes  # colour only, rich's own
