"""`consolewatch tail` on local files: live lines, gates, stalls, and resume after kill -9."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
PANIC = (ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log").read_bytes()
GOOD = (ROOT / "samples/gce-windows-guest-agent-started/console.log").read_bytes()
SILENT = (ROOT / "samples/gce-nanos-silent-after-seabios/console.log").read_bytes()


def events(stdout: bytes) -> list[dict]:
    return [json.loads(x) for x in stdout.decode().splitlines() if x.strip()]


def test_no_follow_prints_every_line_once_in_the_contract_shape(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(PANIC)
    r = cli("tail", f"file:{log}", "--json", "--no-follow")
    evs = events(r.stdout)
    lines = [e for e in evs if e["type"] == "line"]
    assert [e["text"] for e in lines] == PANIC.decode().splitlines()
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    for e in evs:
        assert {"type", "target", "source"} <= set(e) and e["target"] == f"file:{log}"
    panics = [e for e in evs if e["type"] == "finding" and e["category"] == "kernel.panic"]
    assert panics and panics[0]["evidence"][0]["line"] == 22
    assert [e["outcome"] for e in evs if e["type"] == "outcome"] == ["failure"]
    assert r.returncode == 1


def test_a_file_name_that_is_not_utf8_is_followed_named_with_its_bytes_escaped(cli, tmp_path):
    """`file:` + a name with a byte UTF-8 cannot decode (Python hands it over as a lone
    surrogate) ended in "internal error": the store cannot hold the name as it was."""
    log = tmp_path / os.fsdecode(b"console-\xff.log")
    log.write_bytes(PANIC)
    r = cli("tail", f"file:{log}", "--json", "--no-follow")
    assert r.returncode == 1, r.stderr.decode()
    evs = events(r.stdout)
    assert {e["target"] for e in evs} == {f"file:{tmp_path}/console-\\xff.log"}
    assert [e["outcome"] for e in evs if e["type"] == "outcome"] == ["failure"]
    listed = cli("captures", "list", "--json")
    assert json.loads(listed.stdout)["captures"][0]["target"] == f"file:{tmp_path}/console-\\xff.log"


def test_until_outcome_gates_on_a_growing_file(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(b"")
    proc = subprocess.Popen(
        [sys.executable, "-m", "consolewatch", "tail", f"file:{log}", "--json", "--until", "outcome", "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "CONSOLEWATCH_DATA_DIR": str(tmp_path / "data")})
    try:
        for chunk in (GOOD[:200], GOOD[200:]):
            time.sleep(0.5)
            with log.open("ab") as f:
                f.write(chunk)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    evs = events(out)
    assert [e["outcome"] for e in evs if e["type"] == "outcome"] == ["success"]
    assert [e["category"] for e in evs if e["type"] == "finding"] == ["boot.success"]


def test_a_login_prompt_without_newline_is_seen_while_it_waits(cli, tmp_path):
    log = tmp_path / "console.log"
    healthy = (ROOT / "samples/qemu/healthy/serial.log").read_bytes()
    assert healthy.endswith(b"debian login: ")
    log.write_bytes(healthy)
    r = cli("tail", f"file:{log}", "--json", "--until", "outcome", "--timeout", "20")
    evs = events(r.stdout)
    assert r.returncode == 0
    assert [e["text"] for e in evs if e["type"] == "line"][-1] == "debian login: "
    [ok] = [e for e in evs if e["type"] == "finding"]
    assert ok["category"] == "boot.success" and ok["evidence"][-1]["text"] == "debian login: "


def test_a_printk_stamp_waiting_for_its_message_is_not_taken_for_a_prompt(tmp_path):
    """The kernel printed `[    0.3...] ` and the rest of the line came 2 s later (a slow poll
    splits lines anywhere): one line, not a prompt line and a headless message."""
    healthy = (ROOT / "samples/qemu/healthy/serial.log").read_bytes()
    cut = healthy.index(b"] ", healthy.index(b"\n[    0.3")) + 2
    log = tmp_path / "console.log"
    log.write_bytes(healthy[:cut])
    proc = subprocess.Popen(
        [sys.executable, "-m", "consolewatch", "tail", f"file:{log}", "--json", "--until", "outcome", "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CONSOLEWATCH_DATA_DIR": str(tmp_path / "d")})
    try:
        time.sleep(2.5)  # past --prompt-after (1 s)
        with log.open("ab") as f:
            f.write(healthy[cut:])
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    texts = [e["text"] for e in events(out) if e["type"] == "line"]
    whole = healthy[healthy.rindex(b"\n", 0, cut) + 1: healthy.index(b"\n", cut)].decode().rstrip("\r")
    assert whole in texts and whole[:15] not in texts, [t for t in texts if t.startswith(whole[:15])]


def test_timeout_exits_3(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(b"SeaBIOS (version 1.8.2-google)\n")
    r = cli("tail", f"file:{log}", "--json", "--until", "outcome", "--timeout", "1.5", "--stall-after", "0")
    assert r.returncode == 3 and b"timed out" in r.stderr


def test_a_quiet_console_is_a_stall(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(SILENT)
    r = cli("tail", f"file:{log}", "--json", "--until", "outcome", "--stall-after", "1", "--timeout", "20")
    assert r.returncode == 1
    evs = events(r.stdout)
    stall = [e for e in evs if e["type"] == "finding" and e["category"] == "boot.stall"]
    assert stall and stall[0]["evidence"][0]["text"] == "Booting from Hard Disk 0..."
    assert "after firmware" in stall[0]["remediation"]
    assert [e["outcome"] for e in evs if e["type"] == "outcome"] == ["stall"]


def test_terminal_view_is_inert(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(b"\x1b]0;title\x07\x1b]52;c;ZXZpbA==\x07[bold]x[/bold] \x1b[2J\x1b[10;10H"
                    b"Kernel panic - not syncing: [link=http://e]y[/link]\n")
    r = cli("tail", f"file:{log}", "--no-follow", env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    out = r.stdout.decode()
    assert "[bold]x[/bold]" in out and "[link=http://e]y[/link]" in out
    assert "\x1b]" not in out and "\x07" not in out and "ZXZpbA" not in out
    assert "\x1b[2J" not in out and "\x1b[10;10H" not in out  # the guest's screen clear and cursor move
    # rich's live status area erases its own line ("\r\x1b[2K") before printing above it
    rows = [x.replace("\r\x1b[2K", "") for x in out.split("\n") if "Kernel panic" in x and "[link=" in x]
    assert rows and all(seq.endswith("m") for row in rows for seq in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]", row))


# -- crash and resume ---------------------------------------------------------------------------

SOURCE = (ROOT / "samples/openstack-ttylinux-no-lease-metadata-unreachable/console.log").read_bytes() + PANIC


def _start(log: Path, data: Path, *mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "consolewatch", "tail", f"file:{log}", *mode, "--stall-after", "0",
         "--prompt-after", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={**os.environ, "CONSOLEWATCH_DATA_DIR": str(data)})


_ROW = re.compile(r"^ {0,5}(\d{1,6}) \|(?: |$)(.*)$")


def printed_lines(out: bytes, mode: tuple[str, ...]) -> list[tuple[int, str]]:
    """(seq, text) of every console line a tail printed: JSON line events, or the terminal
    view's rows that begin with a right-aligned line number and the `|` gutter (wrapped rows
    and panels do not)."""
    complete = out[: out.rfind(b"\n") + 1]  # a row cut by the kill was not printed
    if mode:
        return [(e["seq"], e["text"]) for e in events(complete) if e["type"] == "line"]
    rows = [_ROW.match(r) for r in complete.decode().splitlines()]
    return [(int(m[1]), m[2]) for m in rows if m and len(r := m.group(0)) >= 7 and r[6] == " "]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, len(SOURCE) - 1), min_size=1, max_size=4, unique=True),
       kills=st.lists(st.floats(0.0, 1.2), min_size=1, max_size=3),
       mode=st.sampled_from([("--json",), ()]))
def test_lines_survive_kill_9_each_once_in_order(tmp_path_factory, cuts, kills, mode):
    """Writes arrive in pieces while the tail is killed with SIGKILL at random moments (while
    importing, storing or printing) and restarted; a last --no-follow run drains the rest.
    Both outputs: JSON Lines, and the plain terminal view (issue 12 item 4: it printed each line
    as it went but saved the printed mark after the batch, so a kill repeated lines)."""
    tmp = tmp_path_factory.mktemp("crash")
    log, data = tmp / "console.log", tmp / "data"
    log.write_bytes(b"")
    pieces = [SOURCE[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(SOURCE)])]
    printed: list[tuple[int, str]] = []
    for i, delay in enumerate(kills):
        proc = _start(log, data, *mode)
        if i < len(pieces):
            with log.open("ab") as f:
                f.write(pieces[i])
        time.sleep(0.3 + delay)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        printed += printed_lines(out, mode)
    with log.open("ab") as f:
        f.write(b"".join(pieces[len(kills):]))
    r = subprocess.run([sys.executable, "-m", "consolewatch", "tail", f"file:{log}", *mode, "--no-follow"],
                       capture_output=True, env={**os.environ, "CONSOLEWATCH_DATA_DIR": str(data)})
    printed += printed_lines(r.stdout, mode)
    expected = SOURCE.decode().splitlines()
    assert [seq for seq, _ in printed] == list(range(1, len(expected) + 1))
    if mode:
        assert [text for _, text in printed] == expected
    else:  # the terminal cuts rows at its width: each row begins the line it shows
        assert all(line.startswith(text.rstrip()) for (_, text), line in zip(printed, expected))


@pytest.mark.parametrize("mode", [(), ("--json",)], ids=["terminal", "json"])
def test_a_kill_9_while_printing_repeats_nothing(tmp_path, mode):
    """Thousands of lines to print; each run is killed in the middle of printing them, blocked
    on its full output pipe (a slow terminal). Issue 12 item 4: the terminal view printed line
    by line but saved its printed mark after the batch, so 1,869 of 13,718 lines were printed
    again in 35 kills. Every line must be printed exactly once overall. (What remains: a kill
    landing in the microseconds between writing a 4 KB piece and saving its mark repeats that
    piece; the random kills of the test above cover it.)"""
    log, data = tmp_path / "console.log", tmp_path / "data"
    big = SOURCE * 60
    log.write_bytes(big)
    printed: list[tuple[int, str]] = []
    for pause in (0.5, 0.8, 1.1):
        proc = _start(log, data, *mode)
        first = proc.stdout.read(200)  # printing has begun; from now on nobody reads the pipe,
        # which fills (64 KB) and blocks the writer mid-batch until the kill
        time.sleep(pause)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        printed += printed_lines(first + out, mode)
    r = subprocess.run([sys.executable, "-m", "consolewatch", "tail", f"file:{log}", *mode, "--no-follow"],
                       capture_output=True, env={**os.environ, "CONSOLEWATCH_DATA_DIR": str(data)})
    printed += printed_lines(r.stdout, mode)
    seqs = [seq for seq, _ in printed]
    assert len(seqs) == len(set(seqs)), f"{len(seqs) - len(set(seqs))} lines printed twice"
    assert seqs == list(range(1, len(big.splitlines()) + 1))


def test_source_selects_what_is_followed(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(PANIC)
    only = events(cli("tail", f"file:{log}", "--json", "--no-follow", "--source", "console").stdout)
    assert sum(e["type"] == "line" for e in only) == len(PANIC.splitlines())
    none = events(cli("tail", f"file:{log}", "--json", "--no-follow", "--new", "--source", "screen").stdout)
    assert not [e for e in none if e["type"] == "line"]
    assert {e["category"] for e in none if e["type"] == "finding"} <= {"console.silent"}  # nothing was shown


def test_retention_from_the_config_file_removes_old_captures(cli, tmp_path):
    from consolewatch.store import Store

    log = tmp_path / "console.log"
    log.write_bytes(PANIC)
    assert cli("tail", f"file:{log}", "--no-follow").returncode == 1
    store = Store(tmp_path / "data" / "captures.sqlite3")
    [old] = store.list()
    store.db.execute("UPDATE captures SET updated=0")
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config.toml").write_text("[store]\nretention_days = 7\n")
    cli("tail", f"file:{log}", "--no-follow")
    assert old.id not in [c.id for c in store.list()] and len(store.list()) == 1
    (tmp_path / "config" / "config.toml").write_text("[store]\nretention = 'forever'\n")
    r = cli("tail", f"file:{log}", "--no-follow")
    assert r.returncode == 2 and b"unknown key(s) in [store]: retention" in r.stderr
