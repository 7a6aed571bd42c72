"""`consolewatch watch`: several machines in one process, every event naming its target."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_watch_reports_each_target_and_exits_1_when_one_failed(cli, tmp_path):
    cases = {"panic": "samples/aws-nixos-reboot-kill-init-panic/console.log",
             "good": "samples/qemu/healthy/serial.log",
             "silent": "samples/gce-nanos-silent-after-seabios/console.log"}
    targets = []
    for name, rel in cases.items():
        path = tmp_path / f"{name}.log"
        path.write_bytes((ROOT / rel).read_bytes())
        targets.append(f"file:{path}")
    listing = tmp_path / "targets.txt"
    listing.write_text("# one per line\n" + "\n".join(targets[1:]) + "\n")
    r = cli("watch", targets[0], "--targets-file", str(listing), "--json", "--no-follow", "--concurrency", "2")
    assert r.returncode == 1, r.stderr
    events = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert {e["target"] for e in events} == set(targets)
    outcome = {e["target"]: e["outcome"] for e in events if e["type"] == "outcome"}
    assert outcome == dict(zip(targets, ["failure", "success", "stall"]))
    lines = [e for e in events if e["type"] == "line" and e["target"] == targets[1]]
    assert [e["text"] for e in lines][-1] == "debian login: "


def test_watch_table_in_the_terminal(cli, tmp_path):
    path = tmp_path / "vm.log"
    path.write_bytes((ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log").read_bytes())
    r = cli("watch", f"file:{path}", "--no-follow", env={"COLUMNS": "160"})
    out = r.stdout.decode()
    assert "1 targets" in out and "failure" in out and "kernel.panic: Kernel panic" in out


def test_unknown_target_kind_is_a_usage_error(cli):
    r = cli("watch", "nope:thing")
    assert r.returncode == 2 and b"unknown target kind" in r.stderr
