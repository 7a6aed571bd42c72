"""Against a real Alertmanager (Debian's prometheus-alertmanager, on loopback): a failed boot is
one alert group, and it resolves when the next boot of the same target succeeds. Alertmanager
is configured to notify a local webhook receiver, so its own notifications are checked too."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import FAIL_THEN_SUCCESS, env_for, grow, write_config

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
BOOT1_LINES = 382  # samples/qemu-fail-then-success: boot 1 (init exits, panic) is lines 1-382


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


def wait(cond, timeout: float = 30.0, what: str = ""):
    end = time.time() + timeout
    while time.time() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def alertmanager(tmp_path, receivers):
    if not os.path.exists(BINARY):
        pytest.fail("prometheus-alertmanager is not installed (tests/run.sh installs it)")
    hook = receivers()
    port = free_port()
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(f"""
route:
  receiver: hook
  group_by: [target]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{hook.port}/alertmanager
        send_resolved: true
""")
    proc = subprocess.Popen([BINARY, f"--config.file={cfg}", f"--storage.path={tmp_path / 'am-data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return proc.poll() is not None and pytest.fail(proc.stderr.read().decode()[-2000:])

    try:
        wait(ready, 30, "Alertmanager to be ready")
        yield base, port, hook
    finally:
        proc.terminate()
        proc.wait(10)


def test_failed_boot_is_one_group_and_resolves_on_the_next_good_boot(tmp_path, alertmanager, consoles):
    base, port, hook = alertmanager
    write_config(tmp_path / "config")
    target, path = consoles("vm.log", FAIL_THEN_SUCCESS, upto=BOOT1_LINES)
    env = env_for(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "consolewatch", "tail", target, "--json", "--until", "success",
                             "--timeout", "60", "--alert", f"alertmanager://127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        groups = wait(lambda: [g for g in get(base + "/api/v2/alerts/groups") if g["alerts"]], 30, "an alert group")
        assert len(groups) == 1 and groups[0]["labels"] == {"target": target}
        [alert] = groups[0]["alerts"]
        assert alert["labels"] == {"alertname": "ConsoleWatchBootFailure", "target": target, "cloud": "unknown",
                                   "category": "kernel.panic", "rule": "kernel-panic-init-killed",
                                   "severity": "critical"}
        assert "Attempted to kill init!" in alert["annotations"]["evidence"]
        assert alert["annotations"]["fix"].startswith("Init exited") and alert["status"]["state"] == "active"
        firing = wait(lambda: [d for d in (a["doc"] for a in hook.accepted) if d["status"] == "firing"], 30,
                      "Alertmanager's firing notification")
        assert len(firing) == 1 and len(firing[0]["alerts"]) == 1  # one group, one notification

        grow(path, FAIL_THEN_SUCCESS)  # the next boot comes up
        resolved = wait(lambda: [d for d in (a["doc"] for a in hook.accepted) if d["status"] == "resolved"], 30,
                        "Alertmanager's resolved notification")
        assert resolved[0]["alerts"][0]["labels"]["rule"] == "kernel-panic-init-killed"
        assert resolved[0]["alerts"][0]["endsAt"] > resolved[0]["alerts"][0]["startsAt"]
        assert get(base + "/api/v2/alerts?active=true") == []
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()
    assert [d["status"] for d in (a["doc"] for a in hook.accepted)] == ["firing", "resolved"]
