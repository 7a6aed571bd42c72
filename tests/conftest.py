"""Fixtures shared by the whole suite: the repository's definitions, a catalog, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARSERS = ROOT / "parsers"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def defs():
    """The repository's parsers/ (passed explicitly: tests never rely on the built-in lookup)."""
    from consolewatch import definitions

    loaded = definitions.load([PARSERS])
    assert not loaded.problems, "\n".join(map(str, loaded.problems))
    return loaded


@pytest.fixture(scope="session")
def catalog(defs):
    from consolewatch.detect.catalog import Catalog

    return Catalog(defs)


def run_cli(*args: str, input: bytes | None = None, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m consolewatch` as a user would, with isolated config and data dirs."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONSOLEWATCH_")}
    base.setdefault("CONSOLEWATCH_CONFIG_DIR", str(cwd or ROOT) + "/.no-such-config")
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "consolewatch", *args], input=input, capture_output=True,
        env=base, cwd=cwd or ROOT, timeout=timeout,
    )


@pytest.fixture
def cli(tmp_path):
    def call(*args: str, **kw) -> subprocess.CompletedProcess:
        env = {"CONSOLEWATCH_CONFIG_DIR": str(tmp_path / "config"), "CONSOLEWATCH_DATA_DIR": str(tmp_path / "data"),
               **kw.pop("env", {})}
        return run_cli(*args, env=env, **kw)

    return call


@pytest.fixture(scope="session")
def api_context():
    """fetcher -> the MachineContext it yields first: what the cloud's API said, as a tail gets it."""
    import asyncio

    def first(fetcher):
        async def run():
            stream = fetcher.stream(follow=False)
            try:
                return await anext(stream)
            finally:
                await stream.aclose()

        return asyncio.run(run())

    return first
