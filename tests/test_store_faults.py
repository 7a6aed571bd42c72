"""The store's environment failing, for real (issue 12 items 3 and 7): a damaged database, a
read-only data directory and a full disk (a small tmpfs mounted in a private mount namespace)
each give one line naming the store and what to do; a read-only store is still read by
`analyze capture:N`, `report` and `captures list`; two `tail`s of one target never write
the same capture twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PANIC = ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log"


def _namespace_ok() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"], capture_output=True)
    return r.returncode == 0


needs_mounts = pytest.mark.skipif(not _namespace_ok() and not os.environ.get("CI"),
                                  reason="needs root and unshare to mount a tmpfs (CI runs as root)")


def in_namespace(script: str, env: dict) -> subprocess.CompletedProcess:
    """Run a shell script in a private mount namespace (its mounts vanish with it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONSOLEWATCH_")}
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, env={**base, "PY": sys.executable, **env}, cwd=ROOT, timeout=300)


def test_a_damaged_database_is_one_line_naming_it(cli, tmp_path):
    store = tmp_path / "data" / "captures.sqlite3"
    store.parent.mkdir()
    store.write_bytes(b"this is not an SQLite database\n" * 200)
    for args in (("captures", "list"), ("tail", f"file:{PANIC}", "--no-follow"), ("analyze", "capture:1")):
        r = cli(*args)
        err = r.stderr.decode()
        assert r.returncode == 2, (args, err)
        assert "internal error" not in err and len(err.strip().splitlines()) == 1, err
        assert str(store) in err and "damaged" in err and "move it aside" in err, err


@needs_mounts
def test_a_read_only_store_is_still_read_and_writers_get_one_line(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    script = """
set -u
mount -t tmpfs -o size=16m tmpfs "$DATA"
"$PY" -m consolewatch tail "file:$LOG" --no-follow > /dev/null 2>&1
mount -o remount,ro "$DATA"
"$PY" -m consolewatch analyze --json capture:1 > "$OUT/analyze.json" 2> "$OUT/analyze.err"; echo $? > "$OUT/analyze.rc"
"$PY" -m consolewatch report capture:1 > "$OUT/report.md" 2> "$OUT/report.err"; echo $? > "$OUT/report.rc"
"$PY" -m consolewatch captures list --json > "$OUT/list.json" 2> "$OUT/list.err"; echo $? > "$OUT/list.rc"
"$PY" -m consolewatch tail "file:$LOG" --no-follow > /dev/null 2> "$OUT/tail.err"; echo $? > "$OUT/tail.rc"
"""
    r = in_namespace(script, {"DATA": str(data), "OUT": str(out), "LOG": str(PANIC),
                              "CONSOLEWATCH_DATA_DIR": str(data), "CONSOLEWATCH_CONFIG_DIR": str(tmp_path / "cfg")})
    assert r.returncode == 0, r.stderr.decode()
    rc = {name: int((out / f"{name}.rc").read_text()) for name in ("analyze", "report", "list", "tail")}
    assert rc["analyze"] == 1, (out / "analyze.err").read_text()  # the panic, read from the read-only store
    doc = json.loads((out / "analyze.json").read_text())
    assert doc["outcome"] == "failure" and doc["lines"] == len(PANIC.read_bytes().splitlines())
    assert rc["report"] == 1 and "Kernel panic" in (out / "report.md").read_text()
    assert rc["list"] == 0 and len(json.loads((out / "list.json").read_text())["captures"]) == 1
    err = (out / "tail.err").read_text()
    assert rc["tail"] == 2 and len(err.strip().splitlines()) == 1, err
    assert str(data) in err and "cannot be written" in err and "CONSOLEWATCH_DATA_DIR" in err
    assert "internal error" not in err


@needs_mounts
def test_a_full_disk_is_one_line_naming_the_store(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    log = tmp_path / "big.log"
    log.write_bytes(PANIC.read_bytes() * 3000)  # about 3 MB of console on a 1 MB disk
    script = """
mount -t tmpfs -o size=1m tmpfs "$DATA"
"$PY" -m consolewatch tail "file:$LOG" --no-follow > /dev/null 2> "$OUT/tail.err"; echo $? > "$OUT/tail.rc"
"$PY" -m consolewatch captures list > /dev/null 2> "$OUT/list.err"; echo $? > "$OUT/list.rc"
"""
    r = in_namespace(script, {"DATA": str(data), "OUT": str(out), "LOG": str(log),
                              "CONSOLEWATCH_DATA_DIR": str(data), "CONSOLEWATCH_CONFIG_DIR": str(tmp_path / "cfg")})
    assert r.returncode == 0, r.stderr.decode()
    err = (out / "tail.err").read_text()
    assert int((out / "tail.rc").read_text()) == 2, err
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err, err
    assert str(data / "captures.sqlite3") in err and "is full" in err and "captures prune" in err
    assert int((out / "list.rc").read_text()) == 0, (out / "list.err").read_text()  # still listed


def test_a_second_tail_of_the_same_target_is_refused_and_nothing_is_stored_twice(cli, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(PANIC.read_bytes())
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CONSOLEWATCH_")},
           "CONSOLEWATCH_DATA_DIR": str(tmp_path / "data"), "CONSOLEWATCH_CONFIG_DIR": str(tmp_path / "config")}
    first = subprocess.Popen([sys.executable, "-m", "consolewatch", "tail", f"file:{log}", "--json",
                              "--stall-after", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert first.stdout.readline()  # following: its first event is out
        second = cli("tail", f"file:{log}", "--no-follow")
        err = second.stderr.decode()
        assert second.returncode == 2, err
        assert "already being followed" in err and f"process {first.pid}" in err and len(err.splitlines()) == 1
        with log.open("ab") as f:
            f.write(b"[   99.000000] one more line\n")
        time.sleep(1.5)
    finally:
        first.send_signal(signal.SIGKILL)  # a killed holder releases the target at once
        first.communicate()
    again = cli("tail", f"file:{log}", "--json", "--no-follow")
    assert again.returncode == 1, again.stderr.decode()
    doc = json.loads(cli("analyze", "--json", "capture:1").stdout)
    assert doc["lines"] == len(PANIC.read_bytes().splitlines()) + 1  # each line stored once
