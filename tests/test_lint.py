"""Lint and types are checked mechanically (issue 19): `.ci/lint` (ruff, then mypy; tests/run.sh
and so CI run it before the tests) passes on the repository and fails on a copy of it with one
lint or type error put in. mypy is strict on the core (detect/, normalize/, ocr/, model.py,
session.py) and in normal mode elsewhere: an unannotated function fails only in the core."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = ROOT / ".ci" / "lint"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINT_PYTHON": sys.executable}
    return subprocess.run(["sh", str(tree / ".ci" / "lint")], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def on_repo() -> subprocess.CompletedProcess[str]:
    return _lint(ROOT)  # also warms mypy's cache, which the copies below start from


def test_lint_and_types_pass_on_the_repository(on_repo):
    assert on_repo.returncode == 0, on_repo.stdout + on_repo.stderr
    assert "All checks passed" in on_repo.stdout and "Success: no issues found" in on_repo.stdout


def _copy_with(tmp_path: Path, module: str, appended: str) -> Path:
    tree = tmp_path / "checkout"
    shutil.copytree(ROOT / "consolewatch", tree / "consolewatch", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    (tree / ".ci").mkdir()
    shutil.copy(LINT, tree / ".ci" / "lint")
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", tree / ".mypy_cache")
    path = tree / "consolewatch" / module
    path.write_text(path.read_text() + appended)
    return tree


BROKEN = [
    # a lint error alone (an unused import), the types are fine
    ("session.py", "\n\ndef _unused_import() -> None:\n    import json\n", "F401", "session.py"),
    # a type error alone, in normal mode
    ("cli/common.py", "\n\ndef _wrong() -> int:\n    return 'seven'\n", "[return-value]", "cli/common.py"),
    # strict mode on the core: a function without annotations
    ("detect/checks.py", "\n\ndef _untyped(x):\n    return x\n", "[no-untyped-def]", "detect/checks.py"),
]


@pytest.mark.parametrize(("module", "appended", "code", "where"), BROKEN, ids=["lint", "types", "strict-core"])
def test_a_lint_or_type_error_fails_the_check(on_repo, tmp_path, module, appended, code, where):
    r = _lint(_copy_with(tmp_path, module, appended))
    assert r.returncode != 0
    assert code in r.stdout and f"consolewatch/{where}" in r.stdout, r.stdout + r.stderr


def test_outside_the_core_an_unannotated_function_passes(on_repo, tmp_path):
    r = _lint(_copy_with(tmp_path, "cli/common.py", "\n\ndef _untyped(x):\n    return x\n"))
    assert r.returncode == 0, r.stdout + r.stderr
