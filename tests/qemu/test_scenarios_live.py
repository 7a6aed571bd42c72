"""Every scenario boots for real and prints the evidence its expected.yaml promises.

consolewatch's own assertions on these boots reuse the `scenario_capture` fixture, so each
scenario boots once per session."""

from __future__ import annotations

import capture
import pytest
from scenarios import SCENARIOS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_scenario_prints_its_evidence(scenario_capture, name):
    cap = scenario_capture(name)
    capture.check(cap)                 # stopped by its rule, boots, ready marker iff success
    evidence = capture.resolve_evidence(cap)
    assert set(evidence) == set(cap.scenario.evidence)
    if cap.scenario.screen:
        assert cap.result.screen and cap.screen_rows
        assert capture.resolve_screen_evidence(cap)
        # The serial port really is (nearly) silent: no kernel line at all.
        assert not any("Linux version" in line for line in cap.lines)
    assert cap.result.duration < cap.scenario.timeout
