"""The Python API: `consolewatch.analyze(paths, cloud=None, hypervisor=None) -> Analysis`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NIXOS = ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log"
SILENT = ROOT / "samples/qemu/console-silent"


def test_import_is_cheap():
    code = ("import sys, consolewatch; assert callable(consolewatch.analyze);"
            "print(sorted(m for m in sys.modules if m.startswith('consolewatch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['consolewatch']"


def test_analyze_gives_the_same_verdict_as_the_command(cli):
    import consolewatch
    from consolewatch.sinks.jsonout import analysis_dict

    a = consolewatch.analyze(str(NIXOS))
    assert isinstance(a, consolewatch.Analysis)
    assert a.outcome == "failure" and "kernel.panic" in {f.category for f in a.findings()}
    doc = json.loads(cli("analyze", "--json", str(NIXOS)).stdout)
    assert analysis_dict(a) == doc


def test_several_sources_one_capture_with_the_cloud_given():
    import consolewatch

    a = consolewatch.analyze([SILENT / "serial.log", SILENT / "screen.png"], cloud="gce")
    assert a.cloud == "gce" and a.outcome == "failure"
    assert {"disk.root-not-found", "console.silent"} <= {f.category for f in a.findings()}
    assert [f.source for f in a.screens] == ["screen.png"]
    silent = next(f for f in a.findings() if f.category == "console.silent")
    assert "GCE" in silent.remediation and "- On AWS" not in silent.remediation


def test_errors_are_exceptions_with_one_line(tmp_path):
    import consolewatch
    from consolewatch.analysis import DefinitionsError, InputError

    with pytest.raises(InputError, match="no such file"):
        consolewatch.analyze(tmp_path / "missing.log")
    with pytest.raises(ValueError, match="unknown cloud"):
        consolewatch.analyze(str(NIXOS), cloud="mars")
    bad = tmp_path / "defs" / "detectors"
    bad.mkdir(parents=True)
    (bad / "x.yaml").write_text("rules: [\n")
    with pytest.raises(DefinitionsError, match="x.yaml:2"):
        consolewatch.analyze(str(NIXOS), parsers=[tmp_path / "defs"])
