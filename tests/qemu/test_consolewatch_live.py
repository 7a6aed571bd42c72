"""consolewatch on real boots: `tail qemu:SERIAL --json --until outcome` while QEMU runs, and
`analyze` of what the same boot printed, give the scenario's categories and outcome — the
same findings live and offline."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from scenarios import SCENARIOS

pytestmark = pytest.mark.slow


def offline(cap, tmp_path) -> dict:
    serial = tmp_path / "serial.log"
    serial.write_bytes(cap.result.serial)
    paths = [str(serial)]
    if cap.scenario.screen and cap.result.screen:
        screen = tmp_path / "screen.png"
        screen.write_bytes(cap.result.screen)
        paths.append(str(screen))
    r = subprocess.run([sys.executable, "-m", "consolewatch", "analyze", "--json", *paths],
                       capture_output=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_live_and_offline_agree_with_the_scenario(scenario_capture, name, tmp_path):
    cap = scenario_capture(name)
    sc, live = cap.scenario, cap.live
    events = live.events()
    verdict = 0 if sc.outcome == "success" else 1
    assert live.returncode == (130 if live.interrupted else verdict), live.stderr.decode()[-2000:]
    live_categories = {e["category"] for e in events if e["type"] == "finding"}
    outcomes = [e["outcome"] for e in events if e["type"] == "outcome"]
    assert set(sc.categories) == live_categories
    assert outcomes and outcomes[-1] == sc.outcome
    doc = offline(cap, tmp_path)
    assert doc["outcome"] == sc.outcome
    assert {f["category"] for f in doc["findings"]} == live_categories
    # Every line the serial port printed reached the live output, once and in order.
    lines = [e for e in events if e["type"] == "line" and e["source"] == "serial"]
    assert [e["seq"] for e in lines] == sorted({e["seq"] for e in lines})
    if sc.screen:
        assert any(e["origin"] == "ocr" for e in events if e["type"] == "line")
