"""The README's Quick start, run as written in a fresh clone: install + diagnose a real sample.

(The second command is the test suite itself, which CI runs through .ci/run.) This also
proves the wheel: `pip install .` builds it, and the installed command must find the
definitions inside it, not in the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_exactly_two_quick_start_commands():
    cmds = quickstart_commands()
    assert len(cmds) == 2
    assert "consolewatch analyze" in cmds[0] and cmds[1] == "sh tests/run.sh"
    assert (ROOT / ".ci/run").read_text().count("tests/run.sh") == 1


@pytest.mark.slow
def test_first_command_installs_and_diagnoses_in_a_fresh_clone(tmp_path):
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run from a git checkout")
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "CONSOLEWATCH_"))}
    env["CONSOLEWATCH_CONFIG_DIR"] = str(tmp_path / "config")
    r = subprocess.run(quickstart_commands()[0], shell=True, cwd=clone, env=env, capture_output=True, timeout=1200)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert "STALL" in out and "console.silent" in out and "Booting from Hard Disk 0..." in out
    # The installed command reads the definitions shipped in its wheel, from anywhere.
    listed = subprocess.run([str(clone / ".venv/bin/consolewatch"), "rules", "list", "--json"],
                            cwd=tmp_path, env=env, capture_output=True, check=True)
    doc = json.loads(listed.stdout)
    assert doc["rules"] and "site-packages/consolewatch/_builtin/parsers" in doc["search_path"][0]
