"""Conventions people already have in their fingers (issue 11, points 8-11), through the command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OOM = ROOT / "samples/qemu/oom/serial.log"
LOOP = ROOT / "samples/qemu-fail-then-success/serial.log"
HEALTHY = ROOT / "samples/qemu/healthy/serial.log"


# -- 8: rules show and rules check ------------------------------------------------------------

def test_rules_show_prints_the_definition_as_yaml_with_its_file_and_line(cli):
    r = cli("rules", "show", "oom-kill")
    assert r.returncode == 0
    head, _, body = r.stdout.decode().partition("\n")
    assert re.fullmatch(r"# .*parsers/detectors/kernel\.yaml:\d+", head)
    [rule] = yaml.safe_load(body)
    assert rule["id"] == "oom-kill" and rule["category"] == "kernel.oom" and "any" in rule["match"]
    assert "Cond(" not in body and "re.compile" not in body
    miss = cli("rules", "show", "oom-kil")
    assert miss.returncode == 2 and b"did you mean 'oom-kill'?" in miss.stderr


def test_rules_show_escapes_what_a_rules_file_could_spoof_with(cli, tmp_path):
    """A rules file comes from someone else: a bidi override or zero-width space in it (YAML
    allows both raw) is shown as a visible escape, like console text."""
    folder = tmp_path / "parsers" / "detectors"
    folder.mkdir(parents=True)
    (folder / "user.yaml").write_text(
        "rules:\n  - id: spoof-rule\n    title: \"ok \u202eLIAF\u200b\"\n    category: kernel.panic\n"
        "    severity: error\n    description: synthetic\n    match:\n      line: {regex: 'Kernel spoof'}\n"
        "    remediation:\n      default: none\n    samples:\n      match:\n        - line: 'Kernel spoof'\n"
        "          source: synthetic\n      no_match:\n        - line: 'unrelated'\n          source: synthetic\n",
        encoding="utf-8")
    r = cli("rules", "show", "spoof-rule", "--parsers", str(tmp_path / "parsers"))
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert "\u202e" not in out and "\u200b" not in out
    assert "ok \\u202eLIAF\\u200b" in out


def test_rules_check_shows_progress_and_says_at_once_where_samples_are_looked_for(cli, tmp_path):
    r = cli("rules", "check", "--samples")
    err = r.stderr.decode()
    assert r.returncode == 0, r.stdout.decode()[-2000:]
    assert re.search(r"checking \d+ rule samples of \d+ rules", err)
    from consolewatch.detect.checks import find_cases

    assert f"replaying {len(find_cases(ROOT / 'samples'))} cases from {ROOT / 'samples'}" in err
    outside = cli("rules", "check", "--samples", cwd=tmp_path)
    err = outside.stderr.decode()
    assert outside.returncode == 2 and f"no case folders (with expected.yaml) under {tmp_path / 'samples'}" in err
    assert "checking" not in err  # said before any sample ran


def test_rules_check_fails_a_pattern_hyperscan_cannot_take(cli, tmp_path):
    """A pattern Hyperscan cannot compile (a \\u escape) would be scanned by Python's `re` over
    every block, ~10 % of analyze's CPU (round 18 shipped one): `rules check` names its rule, and
    the shipped catalog has none (the run above exits 0)."""
    from consolewatch.normalize.scanner import hyperscan_available

    if not hyperscan_available():
        pytest.skip("no Hyperscan on this machine: every pattern is scanned by re by design")
    folder = tmp_path / "parsers" / "detectors"
    folder.mkdir(parents=True)
    (folder / "user.yaml").write_text(
        "rules:\n  - id: quoted-init-rule\n    title: quoted\n    category: init.not-found\n"
        "    severity: error\n    description: synthetic\n    match:\n"
        "      line: {regex: 'cannot run [''\\u2018\"](?P<init>/\\S+)[''\\u2019\"]'}\n"
        "    remediation:\n      default: none\n    samples:\n      match:\n"
        "        - line: 'cannot run \u2018/sbin/init\u2019'\n          source: synthetic\n"
        "      no_match:\n        - line: 'unrelated'\n          source: synthetic\n", encoding="utf-8")
    r = cli("rules", "check", "--parsers", str(tmp_path / "parsers"))
    out = r.stdout.decode()
    assert r.returncode == 1, out[-2000:]
    [fail] = [line for line in out.splitlines() if line.startswith("FAIL ")]  # one whole line, path and all
    assert f"{folder / 'user.yaml'}:" in fail and "quoted-init-rule" in fail and "Hyperscan cannot compile" in fail
    assert ": 1 failure(s)" in out


# -- 9: plain paths, waiting, failing at once ------------------------------------------------

def test_watch_and_report_take_a_plain_path(cli, tmp_path):
    r = cli("watch", str(OOM), str(HEALTHY), "--no-follow", "--json")
    targets = {json.loads(x)["target"] for x in r.stdout.splitlines()}
    assert targets == {f"file:{OOM}", f"file:{HEALTHY}"} and r.returncode == 1
    assert cli("report", str(OOM)).stdout.startswith(b"# FAILURE")


def test_tail_of_a_file_not_there_yet_says_it_waits(cli, tmp_path):
    r = cli("tail", str(tmp_path / "not-yet.log"), "--timeout", "1.5", env={"COLUMNS": "120"})
    assert r.returncode == 3
    assert f"--- console: waiting for {tmp_path / 'not-yet.log'} to appear" in r.stdout.decode()
    j = cli("tail", f"file:{tmp_path / 'not-yet.log'}", "--json", "--timeout", "1")
    assert any(e["type"] == "status" and e["state"] == "waiting" for e in map(json.loads, j.stdout.splitlines()))


def test_a_missing_qemu_socket_and_a_short_gce_target_fail_at_once(cli, tmp_path):
    start = time.monotonic()
    r = cli("tail", f"qemu:{tmp_path / 'missing.sock'}")
    assert r.returncode == 2 and time.monotonic() - start < 8
    assert len(r.stderr.decode().strip().splitlines()) == 1 and b"no such socket, pty or file" in r.stderr
    g = cli("tail", "gce:my-vm", "--no-follow", env={"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json")})
    err = g.stderr.decode()
    assert g.returncode == 2 and "give gce:PROJECT/ZONE/NAME" in err and "credentials" not in err.lower()


# -- 10: options --------------------------------------------------------------------------------

def test_no_color_quiet_and_output_file(cli, tmp_path):
    colour = cli("analyze", str(OOM), env={"FORCE_COLOR": "1"})
    assert b"\x1b[" in colour.stdout
    for args in (["--no-color", "analyze", str(OOM)], ["analyze", str(OOM), "--no-color"]):
        plain = cli(*args, env={"FORCE_COLOR": "1"})
        assert b"\x1b[" not in plain.stdout and b"Out of memory" in plain.stdout and plain.returncode == 1
    quiet = cli("analyze", "-q", str(OOM))
    assert quiet.returncode == 1 and quiet.stdout == b"" and quiet.stderr == b""
    assert cli("tail", "-q", str(OOM), "--no-follow").stdout == b""
    out = tmp_path / "verdict.json"
    r = cli("analyze", str(OOM), "-o", str(out))
    assert r.returncode == 1 and r.stdout == b"" and json.loads(out.read_text())["outcome"] == "failure"
    text = tmp_path / "verdict.txt"
    cli("analyze", "-q", str(OOM), "-o", str(text))
    assert "Out of memory" in text.read_text() and "\x1b" not in text.read_text()


def test_boot_n_counts_as_journalctl_does(cli):
    def boots(n: str) -> tuple[list[int], str]:
        doc = json.loads(cli("analyze", "--json", "--boot", n, str(LOOP)).stdout)
        return [b["index"] for b in doc["boots"]], doc["outcome"]

    assert boots("1") == ([1], "failure") and boots("2") == ([2], "success")
    assert boots("0") == ([2], "success") and boots("-1") == ([1], "failure")
    assert cli("analyze", "--boot", "1", str(LOOP)).returncode == 1
    bad = cli("analyze", "--boot", "3", str(LOOP))
    assert bad.returncode == 2 and b"no boot 3 (the capture has 2" in bad.stderr


def test_did_you_mean(cli):
    r = cli("anlyze", str(OOM))
    assert r.returncode == 2 and b"did you mean 'analyze'?" in r.stderr
    assert b"did you mean 'show'?" in cli("rules", "shw").stderr


def test_debug_shows_the_traceback_of_an_internal_error(tmp_path, monkeypatch, capsys):
    from consolewatch import analysis, cli

    def bug(*a, **kw):
        raise RuntimeError("a bug")

    monkeypatch.setattr(analysis, "analyze", bug)  # a fault injected to reach the handler
    monkeypatch.setenv("CONSOLEWATCH_CONFIG_DIR", str(tmp_path))
    assert cli.main(["analyze", str(OOM)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: a bug" in err and "--debug" in err
    assert cli.main(["analyze", "--debug", str(OOM)]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: a bug" in err


def test_shell_completion(tmp_path):
    venv_bin = Path(os.__file__).parents[2] / "bin"
    bindir = Path(__import__("sys").executable).parent
    env = {**os.environ, "PATH": f"{bindir}:{venv_bin}:{os.environ['PATH']}"}
    script = ('eval "$(consolewatch completion bash)"; COMP_WORDS=(consolewatch ana); COMP_CWORD=1; '
              'COMP_LINE="consolewatch ana"; COMP_POINT=16; _python_argcomplete consolewatch ana consolewatch; '
              'echo "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["analyze"], r.stderr
    zsh = subprocess.run(["consolewatch", "completion", "zsh"], env=env, capture_output=True, text=True)
    assert zsh.stdout.startswith("#compdef consolewatch")


# -- 11: captures ---------------------------------------------------------------------------------

def test_captures_never_started_imported_twice_removed_and_listed(cli, tmp_path):
    cli("tail", f"qemu:{tmp_path / 'missing.sock'}")
    cli("tail", str(tmp_path / "never.log"), "--timeout", "1")
    assert json.loads(cli("captures", "list", "--json").stdout)["captures"] == []  # nothing started
    deep = tmp_path / ("long-folder-name-" * 5) / "vm-17" / "serial.log"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(OOM.read_bytes())
    cli("tail", str(deep), "--no-follow")
    [tailed] = json.loads(cli("captures", "list", "--json").stdout)["captures"]
    export = tmp_path / "export.json"
    cli("captures", "export", str(tailed["id"]), "-o", str(export))
    first, again = cli("captures", "import", str(export)), cli("captures", "import", str(export))
    new = int(first.stdout)
    assert again.stdout == first.stdout and f"imported before: capture {new}".encode() in again.stderr
    assert len(json.loads(cli("captures", "list", "--json").stdout)["captures"]) == 2
    for width in (80, 120):
        listed = cli("captures", "list", env={"COLUMNS": str(width)}).stdout.decode()
        assert "vm-17/serial.log" in listed and max(map(len, listed.splitlines())) <= width
        table = cli("watch", str(deep), "--no-follow", "--new", env={"COLUMNS": str(width)}).stdout.decode()
        assert "vm-17/serial.log" in table
    rm = cli("captures", "rm", str(new))
    assert rm.returncode == 0 and f"removed capture {new}: file:{deep}".encode() in rm.stderr
