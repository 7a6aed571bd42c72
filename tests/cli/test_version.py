"""`consolewatch --version` prints the version of the installed distribution (issue 19), which is
pyproject.toml's: one place to change it, and CHANGELOG.md names it too."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import consolewatch

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_the_package_metadata_one():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    r = subprocess.run([sys.executable, "-m", "consolewatch", "--version"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == f"consolewatch {declared}\n" == f"consolewatch {version('consolewatch')}\n"
    assert consolewatch.__version__ == declared
    assert f"## [{declared}]" in (ROOT / "CHANGELOG.md").read_text()
