"""`kill -9` of consolewatch while a message is being delivered: a restart delivers the rest and
never sends a confirmed message again (the outbox row became `delivered` only on the 2xx)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import FAIL_THEN_SUCCESS, PANIC, WRONG_ROOT, env_for, write_config


def test_kill_9_mid_delivery_then_restart(cli, tmp_path, receivers, consoles):
    write_config(tmp_path / "config", timeout=1)
    hook = receivers(hang=20)
    hook.faults = [200, "hang"]  # the first message is confirmed, the second hangs: kill -9 then
    targets = [consoles("flaky.log", FAIL_THEN_SUCCESS)[0], consoles("nvme.log", WRONG_ROOT)[0],
               consoles("panic.log", PANIC)[0]]
    env = env_for(tmp_path)
    args = ["watch", *targets, "--json", "--alert", hook.url("json")]
    proc = subprocess.Popen([sys.executable, "-m", "consolewatch", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        end = time.time() + 30
        while time.time() < end and len(hook.requests) < 2:
            time.sleep(0.05)
        assert len(hook.requests) == 2 and len(hook.accepted) == 1
        os.kill(proc.pid, signal.SIGKILL)  # mid-delivery of the second message
        proc.wait(10)
    finally:
        proc.kill()
    first = hook.accepted[0]["doc"]["consolewatch"]["id"]
    box = json.loads(cli("alerts", "outbox", "--json").stdout)
    assert box["counts"]["delivered"] == 1 and box["counts"]["pending"] >= 1

    # The restart (the same watch, which resumes its captures and replays them) sends the rest.
    r = cli(*args, "--no-follow", timeout=90)
    assert r.returncode == 1, r.stderr
    ids = [a["doc"]["consolewatch"]["id"] for a in hook.accepted]
    heads = [a["doc"]["title"] for a in hook.accepted]
    assert ids.count(first) == 1  # the confirmed one was not sent again
    assert len(ids) == len(set(ids)) == 4, heads  # three failed boots, one resolved: each once
    assert sorted(h.split(":")[0] for h in heads) == ["FAILED BOOT"] * 3 + ["RESOLVED"]
    box = json.loads(cli("alerts", "outbox", "--json").stdout)
    assert box["counts"] == {"pending": 0, "delivered": 4, "failed": 0}
