"""Exit status a CI gate can trust (issue 11, points 1-3): signals, failed/stalled boots,
input that is not a console, empty and non-text consoles."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEALTHY = (ROOT / "samples/qemu/healthy/serial.log").read_bytes()
DRACUT = ROOT / "samples/aws-centos7-nvme-dracut-initqueue-timeout/console.log"
NANOS = ROOT / "samples/gce-nanos-silent-after-seabios/console.log"


def _read_until(proc: subprocess.Popen, marker: bytes, timeout: float) -> bytes:
    """What `proc` printed on stdout until `marker` (it has shown the whole file: a loaded
    machine may take seconds to start it), or all it printed within `timeout` seconds."""
    out, deadline = b"", time.monotonic() + timeout
    assert proc.stdout is not None
    while marker not in out and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    return out


def _events(out: bytes) -> list[dict]:
    return [json.loads(x) for x in out.decode().splitlines() if x.strip()]


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("as_json", [True, False])
def test_a_gate_stopped_by_a_signal_exits_130_or_143_after_saying_what_it_saw(tmp_path, sig, status, as_json):
    log = tmp_path / "console.log"
    half = HEALTHY[: len(HEALTHY) // 2]
    log.write_bytes(half[: half.rfind(b"\n") + 1])
    env = {**os.environ, "CONSOLEWATCH_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    cmd = [sys.executable, "-m", "consolewatch", "tail", str(log), "--until", "outcome", "--stall-after", "0"]
    proc = subprocess.Popen(cmd + (["--json"] if as_json else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    try:
        seen = _read_until(proc, b"PCI: Using configuration type 1 for base access", 90)  # the file's last line
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=30)
        out = seen + rest
    finally:
        proc.kill()
    assert proc.returncode == status, err.decode()
    lines = json.loads(subprocess.run([sys.executable, "-m", "consolewatch", "analyze", "--json", str(log)],
                                      capture_output=True, env=env).stdout)["lines"]
    assert lines > 100
    if as_json:
        shown = [e for e in _events(out) if e["type"] == "line"]
        assert len(shown) == lines
    else:
        assert f"interrupted by {signal.Signals(sig).name} after {lines} lines" in err.decode()
        assert b"Linux version" in out
    # the store kept it all: the capture replays every line
    again = subprocess.run([sys.executable, "-m", "consolewatch", "captures", "show", "1", "--json"],
                           capture_output=True, env=env, timeout=60)
    assert len([e for e in _events(again.stdout) if e["type"] == "line"]) == lines


def test_a_stalled_boot_exits_1_whatever_the_severities(cli):
    r = cli("analyze", str(DRACUT))
    assert r.returncode == 1 and b"STALL" in r.stdout  # its only finding is a warning
    assert cli("analyze", "--fail-on", "critical", str(NANOS)).returncode == 1  # stalled: errors only
    assert cli("analyze", "--fail-on", "never", str(NANOS)).returncode == 0
    assert cli("report", "--fail-on", "critical", str(DRACUT)).returncode == 1


def test_a_gate_whose_console_ends_before_an_outcome_does_not_pass(cli, tmp_path):
    # the first half of a real healthy boot: the console ends while the boot is undecided
    half = HEALTHY[: len(HEALTHY) // 2]
    log = tmp_path / "cut.log"
    log.write_bytes(half[: half.rfind(b"\n") + 1])
    for until, awaited in (("success", "success"), ("outcome", "an outcome")):
        r = cli("tail", "--no-follow", "--until", until, f"file:{log}", "--new")
        assert r.returncode == 1, (until, r.stderr)
        assert f"ended before the boot reached {awaited}".encode() in r.stderr
    # a gate that waits for a failure, and a plain tail, keep the outcome's status: nothing failed
    assert cli("tail", "--no-follow", "--until", "failure", f"file:{log}", "--new").returncode == 0
    assert cli("tail", "--no-follow", f"file:{log}", "--new").returncode == 0
    # the whole boot comes up: the gate passes
    whole = tmp_path / "whole.log"
    whole.write_bytes(HEALTHY)
    assert cli("tail", "--no-follow", "--until", "success", f"file:{whole}").returncode == 0
    # watch says which target fell short
    r = cli("watch", "--no-follow", "--until", "outcome", f"file:{log}", f"file:{whole}", "--new")
    assert r.returncode == 1 and f"file:{log}: the console ended before".encode() in r.stderr
