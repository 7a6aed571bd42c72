"""Every case under samples/ gives its expected categories, outcome and evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from consolewatch.detect import checks

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CASES = checks.find_cases(SAMPLES)


def test_there_are_real_cases():
    assert len(CASES) >= 19


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(SAMPLES)) for c in CASES])
def test_case(case, catalog):
    meta = yaml.safe_load((case / "meta.yaml").read_text())
    assert meta.get("source") and "synthetic" in meta, "meta.yaml must name its source and say if it is synthetic"
    r = checks.run_case(case, catalog)
    assert not r.problems, r.problems
    assert r.found == r.expected, f"found {sorted(r.found)}, expected {sorted(r.expected)}"
    assert r.outcome == r.expected_outcome
    assert not r.missing_evidence, r.missing_evidence


def test_no_error_finding_on_a_success_case(catalog):
    for case in CASES:
        r = checks.run_case(case, catalog)
        if r.expected_outcome == "success":
            worst = r.analysis.worst()
            assert worst in (None, "info", "warning"), (case, worst)
