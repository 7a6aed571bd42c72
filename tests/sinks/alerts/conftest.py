"""Fixtures for alert tests: local HTTP receivers, fast alert settings, the sample consoles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from receiver import Receiver

ROOT = Path(__file__).resolve().parents[3]
FAIL_THEN_SUCCESS = ROOT / "samples/qemu-fail-then-success/serial.log"
WRONG_ROOT = ROOT / "samples/qemu/wrong-root-nvme/serial.log"
PANIC = ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log"

#: Short waits so tests take seconds; the code paths are the production ones.
FAST = {"group_wait": 0.2, "timeout": 0.5, "backoff_min": 0.2, "backoff_max": 1.0, "drain_timeout": 30}


def write_config(config_dir: Path, routes: str = "", **values) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    body = "[alerts]\n" + "".join(f"{k} = {v}\n" for k, v in {**FAST, **values}.items())
    (config_dir / "config.toml").write_text(body + routes)


def env_for(tmp_path: Path) -> dict:
    """The environment of a consolewatch process started by a test (as the `cli` fixture sets it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSOLEWATCH_")}
    env.update(CONSOLEWATCH_CONFIG_DIR=str(tmp_path / "config"), CONSOLEWATCH_DATA_DIR=str(tmp_path / "data"))
    return env


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**kw) -> Receiver:
        r = Receiver(**kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.down()


def grow(path: Path, src: Path) -> None:
    """Append what `src` holds beyond `path`'s copy of its first lines, as a console goes on (never
    truncate and rewrite: a follower may read the file empty in between, as a rotated log)."""
    have = path.stat().st_size
    with path.open("ab") as f:
        f.write(src.read_bytes()[have:])


@pytest.fixture
def consoles(tmp_path):
    """Copies of real consoles as file: targets (a target is named by its path)."""
    def copy(name: str, src: Path, upto: int | None = None) -> tuple[str, Path]:
        path = tmp_path / "targets" / name
        path.parent.mkdir(exist_ok=True)
        data = src.read_bytes()
        path.write_bytes(data if upto is None else b"".join(data.splitlines(keepends=True)[:upto]))
        return f"file:{path}", path

    return copy
