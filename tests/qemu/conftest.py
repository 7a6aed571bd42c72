"""Fixtures for the QEMU guest kit and the scenarios that boot real kernels.

Outside CI a test whose tools are missing (QEMU, root for network namespaces, apt-get,
e2fsprogs, dnsmasq) is skipped with the reason; under CI (CI=true) it fails instead, since
.ci/run installs them and a silent skip would hide a broken install step.

`scenario_capture(name)` boots a scenario once per test session and hands every test the
same `guestkit.boot.Capture`, so the kit's own checks and consolewatch's assertions on the
live output share the boots (about 90 s for all of them under TCG).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

IN_CI = os.environ.get("CI") == "true"


def need(condition: bool, why: str) -> None:
    """Skip (or, under CI, fail) unless `condition`."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI must provide this: {why}")
        pytest.skip(why)


def _have(tool: str) -> bool:
    return bool(shutil.which(tool) or Path(f"/sbin/{tool}").exists()
                or Path(f"/usr/sbin/{tool}").exists())


@pytest.fixture(scope="session")
def qemu_binary() -> str:
    from guestkit.runner import QEMU

    need(_have(QEMU), f"{QEMU} not installed (Debian package qemu-system-x86)")
    return QEMU


@pytest.fixture(scope="session")
def netns_ok() -> None:
    need(_have("ip"), "ip not installed (Debian package iproute2)")
    need(os.geteuid() == 0, "network namespaces need root")


@pytest.fixture(scope="session")
def dnsmasq_ok() -> None:
    need(_have("dnsmasq"), "dnsmasq not installed (Debian package dnsmasq)")


@pytest.fixture(scope="session")
def gnu_cpio() -> None:
    need(_have("cpio"), "GNU cpio not installed (Debian package cpio)")


@pytest.fixture(scope="session")
def e2fsprogs() -> None:
    for tool in ("mke2fs", "debugfs", "dumpe2fs", "e2fsck"):
        need(_have(tool), f"{tool} not installed (Debian package e2fsprogs)")


@pytest.fixture(scope="session")
def guest_kit(qemu_binary):
    """The fetched cloud kernel and busybox (downloads once into the cache)."""
    need(_have("apt-get") and _have("dpkg-deb"), "apt-get/dpkg-deb needed to fetch kernels")
    from guestkit import fetch

    try:
        return fetch.kernel("cloud"), fetch.busybox()
    except fetch.FetchError as exc:
        need(False, f"cannot fetch the guest kit: {exc}")


@pytest.fixture(scope="session")
def scenario_capture(guest_kit, netns_ok, e2fsprogs, dnsmasq_ok):
    """Factory: scenario name -> Capture of one live boot (cached for the session)."""
    from guestkit import boot
    from scenarios import BY_NAME

    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = boot.run(BY_NAME[name], observe=LiveTail)
        return cache[name]

    return get


class LiveTail:
    """`consolewatch tail qemu:SERIAL --json --until outcome` following a boot as it happens
    (with `--qmp` frames for scenarios whose story is on the screen)."""

    def __init__(self, vm, observer_qmp: Path, sc) -> None:
        import subprocess

        self.scenario = sc
        self.data = vm.workdir / "consolewatch-data"
        args = [sys.executable, "-m", "consolewatch", "tail", f"qemu:{vm.serial_path}", "--json",
                "--stall-after", "0", "--timeout", str(sc.timeout + 30)]
        if sc.boots is None:  # a boot loop is judged over all its boots, not the first outcome
            args += ["--until", "outcome"]
        if sc.screen:
            args += ["--qmp", str(observer_qmp), "--screenshots", "1"]
        env = {**os.environ, "CONSOLEWATCH_DATA_DIR": str(self.data)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.stdout = b""
        self.stderr = b""
        self.returncode: int | None = None
        self.interrupted = False
        """The tail had to be ended with SIGINT (it then exits 130, after its verdict)."""

    def finish(self) -> None:
        """The boot was stopped: give the tail a moment to reach its verdict, then end it."""
        import signal
        import subprocess

        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.interrupted = True
            self.proc.send_signal(signal.SIGINT)  # end the follow, as Ctrl-C would: it still judges
            try:
                self.stdout, self.stderr = self.proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.stdout, self.stderr = self.proc.communicate()
        self.returncode = self.proc.returncode

    def events(self) -> list[dict]:
        import json

        return [json.loads(x) for x in self.stdout.decode().splitlines() if x.strip()]
