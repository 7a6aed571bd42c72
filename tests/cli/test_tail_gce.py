"""`consolewatch tail gce:...` end to end: the CLI process, the real google-cloud-compute client,
and the simulated Compute API (consolewatch.sim.gce) on 127.0.0.1 via CONSOLEWATCH_GCE_ENDPOINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from consolewatch.sim.gce import RING_SIZE, SimInstance, sample_log, start_gce_sim

pytest.importorskip("google.cloud.compute_v1")

TARGET = "gce:proj/us-central1-a/vm1"
OPTION121 = sample_log("qemu/gce-option121-ignored")


def events(stdout: bytes) -> list[dict]:
    return [json.loads(x) for x in stdout.decode().splitlines() if x.strip()]


def test_until_outcome_names_the_ignored_option_121(cli):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=20_000))
    with sim:
        r = cli("tail", TARGET, "--json", "--until", "outcome", "--poll", "0.2", "--timeout", "90",
                env={"CONSOLEWATCH_GCE_ENDPOINT": url})
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    assert evs[0]["type"] == "context" and evs[0]["cloud"] == "gce"
    found = {e["category"] for e in evs if e["type"] == "finding"}
    assert "network.dhcp.option121-missing" in found
    assert [e["outcome"] for e in evs if e["type"] == "outcome"][-1] == "failure"
    assert not [e for e in evs if e["type"] == "gap"]
    assert all(e["target"] == TARGET for e in evs)


def test_a_wrapped_ring_is_a_gap_with_the_lost_byte_count(cli):
    log = (sample_log("qemu/healthy") * 200)[: 3 << 20]  # real boots, repeated to 3 MB
    url, sim = start_gce_sim(SimInstance.playing(log, rate=0))
    with sim:
        r = cli("tail", TARGET, "--json", "--no-follow", "--screenshots", "off",
                env={"CONSOLEWATCH_GCE_ENDPOINT": url})
    assert r.returncode in (0, 1), r.stderr
    (gap,) = [e for e in events(r.stdout) if e["type"] == "gap"]
    assert gap["source"] == "serial-1" and gap["lost_bytes"] == len(log) - RING_SIZE


@pytest.mark.parametrize("instance, denied, words", [
    ("nope", False, "not found"),
    ("vm1", True, "permission denied"),
])
def test_errors_are_one_line_and_exit_2(cli, instance, denied, words):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0, denied=denied))
    with sim:
        r = cli("tail", f"gce:proj/us-central1-a/{instance}", "--no-follow",
                env={"CONSOLEWATCH_GCE_ENDPOINT": url})
    err = r.stderr.decode()
    assert r.returncode == 2 and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_stopped_instance_says_why_there_is_no_output(cli):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0, status="TERMINATED", display_device=False))
    with sim:
        r = cli("tail", TARGET, "--json", "--no-follow", env={"CONSOLEWATCH_GCE_ENDPOINT": url})
    unavailable = {e["source"]: e for e in events(r.stdout) if e["type"] == "unavailable"}
    assert "TERMINATED" in unavailable["serial-1"]["reason"]
    assert "--enable-display-device" in unavailable["screen"]["hint"]


class _Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_tail_killed_mid_follow_resumes_from_the_stored_cursor(cli, tmp_path):
    clock = _Clock()
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=1.0, clock=clock))
    env = {"CONSOLEWATCH_GCE_ENDPOINT": url, "CONSOLEWATCH_DATA_DIR": str(tmp_path / "data"),
           "CONSOLEWATCH_CONFIG_DIR": str(tmp_path / "config")}
    with sim:
        clock.t = 10_000
        proc = subprocess.Popen([sys.executable, "-m", "consolewatch", "tail", TARGET, "--json", "--poll", "0.05"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        try:
            first = []
            for raw in proc.stdout:
                first.append(json.loads(raw))
                if first[-1]["type"] == "status" and first[-1]["state"] == "idle":
                    break  # everything printed so far was read
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        clock.t = 1e9
        before = len(sim.log)
        second = events(cli("tail", TARGET, "--json", "--no-follow", env=env).stdout)
        starts = [start for method, _, start, _ in list(sim.log)[before:] if method == "serialPort"]
    assert starts == [10_000]  # the second run asked for exactly the bytes it lacked
    seqs = [e["seq"] for e in first + second if e["type"] == "line"]
    assert seqs == list(range(1, len(seqs) + 1))  # nothing repeated, nothing skipped
    whole = json.loads(cli("analyze", "--json", "--cloud", "gce", "-", input=OPTION121).stdout)
    assert not [e for e in second if e["type"] == "gap"]
    # The tail also has the API's facts: the fix that quotes vm1's own gateway is added beside
    # the log-only finding of the same category (assigned-lease-without-route, netcfg.yaml).
    tail_rules = {e["rule"] for e in second if e["type"] == "finding"}
    assert tail_rules - {f["rule"] for f in whole["findings"]} == {"assigned-lease-without-route"}
    assert {e["category"] for e in second if e["type"] == "finding"} == {f["category"] for f in whole["findings"]}
