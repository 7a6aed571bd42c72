"""A real failed boot followed by `watch` (file: target, growing as the VM prints) produces ONE
grouped message; the following good boot of the same target produces ONE resolved message.
Restarts and re-polls of the same console send nothing again; routes filter what goes where."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import FAIL_THEN_SUCCESS, PANIC, WRONG_ROOT, env_for, grow, write_config

BOOT1_LINES = 382  # samples/qemu-fail-then-success: boot 1 (init exits, panic) is lines 1-382


def test_failed_boot_then_good_boot_through_watch(tmp_path, receivers, consoles):
    write_config(tmp_path / "config", group_wait=1)
    hook, slack = receivers(), receivers()
    target, path = consoles("vm.log", FAIL_THEN_SUCCESS, upto=BOOT1_LINES)
    proc = subprocess.Popen([sys.executable, "-m", "consolewatch", "watch", target, "--json", "--until", "success",
                             "--timeout", "60", "--alert", hook.url("json"),
                             "--alert", slack.url("slack+http", "/services/T0/B0/secret")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env_for(tmp_path))
    try:
        [fired] = hook.wait_for(1)
        assert len(slack.wait_for(1)) == 1
        time.sleep(1.5)  # nothing else comes for this boot: one message for the failed boot
        assert len(hook.accepted) == 1 and len(slack.accepted) == 1
        grow(path, FAIL_THEN_SUCCESS)
        hook.wait_for(2)
        slack.wait_for(2)
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    doc = fired["doc"]
    cw = doc["consolewatch"]
    assert doc["title"] == f"FAILED BOOT: {target} (unknown) kernel.panic: Kernel panic - init (PID 1) exited"
    assert (cw["status"], cw["boot"], cw["verdict"]) == ("firing", 1, "failure")
    assert [c["rule"] for c in cw["causes"]] == ["kernel-panic-init-killed"]  # the generic panic is muted
    assert cw["causes"][0]["evidence"] == [
        {"line": 348, "text": "[    2.246879] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"}]
    assert "Muted symptoms of the root cause: kernel.panic" in doc["message"]
    assert "Full report: consolewatch report capture:1" in doc["message"]
    assert "Fix: Init exited" in doc["message"]
    resolved = [a["doc"] for a in hook.accepted[1:]]
    assert len(resolved) == 1 and resolved[0]["consolewatch"]["status"] == "resolved"
    assert resolved[0]["consolewatch"]["boot"] == 2 and resolved[0]["title"] == f"RESOLVED: {target} booted (boot 2)"
    texts = [a["doc"]["text"] for a in slack.accepted]
    assert texts[0].startswith("FAILED BOOT") and texts[1].startswith("RESOLVED") and len(texts) == 2


def test_restarts_and_repolls_send_nothing_again(cli, tmp_path, receivers, consoles):
    write_config(tmp_path / "config")
    hook = receivers()
    target, _ = consoles("nvme.log", WRONG_ROOT)
    for extra in ([], [], ["--new"]):  # the same console read again, then into a new capture
        r = cli("tail", target, "--no-follow", "--json", "--alert", hook.url("json"), *extra)
        assert r.returncode == 1
    assert len(hook.accepted) == 1
    assert [c["rule"] for c in hook.accepted[0]["doc"]["consolewatch"]["causes"]] == [
        "root-device-missing-other-disks-present"]


def test_repeat_interval_reminds_while_still_failing(cli, tmp_path, receivers, consoles):
    write_config(tmp_path / "config", repeat_interval=1)
    hook = receivers()
    target, _ = consoles("nvme.log", WRONG_ROOT)
    assert cli("tail", target, "--no-follow", "--json", "--alert", hook.url("json")).returncode == 1
    time.sleep(1.2)
    assert cli("tail", target, "--no-follow", "--json", "--alert", hook.url("json")).returncode == 1
    docs = [a["doc"]["consolewatch"] for a in hook.accepted]
    assert [d["repeat"] for d in docs] == [0, 1] and docs[0]["id"] != docs[1]["id"]
    assert "Still failing (reminder 1)" in hook.accepted[1]["doc"]["message"]


def test_routes_choose_destinations_by_severity_category_and_target(cli, tmp_path, receivers, consoles):
    disks, panics, nothing = receivers(), receivers(), receivers()
    routes = f"""
[[alerts.routes]]
name = "disks"
to = ["{disks.url('json')}"]
categories = ["disk.*"]

[[alerts.routes]]
name = "panics"
to = ["{panics.url('json')}"]
categories = ["kernel.panic"]
targets = ["file:*panic.log"]

[[alerts.routes]]
name = "critical-elsewhere"
to = ["{nothing.url('json')}"]
min_severity = "critical"
targets = ["gce:*"]
"""
    write_config(tmp_path / "config", routes)
    nvme, _ = consoles("nvme.log", WRONG_ROOT)
    panic, _ = consoles("panic.log", PANIC)
    flaky, _ = consoles("flaky.log", FAIL_THEN_SUCCESS)
    r = cli("watch", nvme, panic, flaky, "--no-follow", "--json")
    assert r.returncode == 1, r.stderr
    assert [a["doc"]["consolewatch"]["target"] for a in disks.accepted] == [nvme]
    # flaky.log's kernel panic is not routed to "panics" (its target does not match), nor its resolution
    assert [(a["doc"]["consolewatch"]["target"], a["doc"]["consolewatch"]["status"]) for a in panics.accepted] == [
        (panic, "firing")]
    assert nothing.accepted == [] and nothing.requests == []
    box = json.loads(cli("alerts", "outbox", "--json").stdout)
    assert sorted({d["route"] for d in box["deliveries"]}) == ["disks", "panics"]
