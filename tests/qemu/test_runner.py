"""The QEMU runner always reaps QEMU: on timeout, on an exception, at interpreter exit and
when its parent is killed. These boot no kernel (the BIOS finds nothing to boot and waits),
so they need only QEMU."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from guestkit.runner import MachineSpec, Qemu, StopRule, live_machines, same_screen

HERE = Path(__file__).resolve().parent


def gone(pid: int) -> bool:
    """True when pid no longer runs (a zombie not yet reaped by init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    # Members may linger as zombies of init: check them.
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return False
    return True


def wait_until(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def idle_spec() -> MachineSpec:
    return MachineSpec(kernel=None, memory_mb=64)


def test_timeout_kills_and_reaps(qemu_binary):
    with Qemu(idle_spec(), accel="tcg") as vm:
        pid = vm.pid
        assert vm.running
        started = time.monotonic()
        res = vm.wait(timeout=2.0, stop=[StopRule("never printed")])
        elapsed = time.monotonic() - started
    assert res.reason == "timeout"
    assert 1.5 < elapsed < 20
    assert res.returncode is not None
    assert gone(pid) and group_gone(pid)
    assert live_machines() == 0


def test_exception_inside_with_block_still_reaps(qemu_binary):
    pid = None
    with pytest.raises(RuntimeError, match="test failure"):
        with Qemu(idle_spec(), accel="tcg") as vm:
            pid = vm.pid
            assert vm.running
            raise RuntimeError("test failure")
    assert pid is not None and gone(pid) and group_gone(pid)
    assert live_machines() == 0


def test_stop_is_idempotent_and_workdir_removed(qemu_binary):
    vm = Qemu(idle_spec(), accel="tcg").start()
    workdir = vm.workdir
    vm.stop()
    vm.stop()
    assert not vm.running
    vm.close()
    assert not workdir.exists()


def test_timeouts_above_60s_are_refused(qemu_binary):
    with Qemu(idle_spec(), accel="tcg") as vm:
        with pytest.raises(ValueError):
            vm.wait(timeout=61)
    assert live_machines() == 0


def test_serial_and_screen_capture(qemu_binary):
    """SeaBIOS mirrors its screen to the serial port; the QMP screendump is a PNG."""
    with Qemu(idle_spec(), accel="tcg") as vm:
        res = vm.wait(timeout=20, stop=[StopRule(r"No bootable device", settle=0.2)],
                      frame_interval=0.5)
    assert res.reason == "stop-rule", res.serial
    assert b"SeaBIOS" in res.serial
    assert res.frames and res.screen.startswith(b"\x89PNG\r\n\x1a\n")
    assert same_screen(res.screen, res.screen)


CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {here!r})
    from guestkit.runner import MachineSpec, Qemu
    vm = Qemu(MachineSpec(kernel=None, memory_mb=64), accel="tcg").start()
    print(vm.pid, vm.workdir, flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)          # no stop(): the atexit hook must reap QEMU
    time.sleep(60)           # parent SIGKILLs us: PR_SET_PDEATHSIG must take QEMU down
""")


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_qemu_dies_with_its_parent(qemu_binary, how):
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(here=str(HERE)), how],
                             stdout=subprocess.PIPE, text=True)
    try:
        pid_text, workdir = child.stdout.readline().split()
        qemu_pid = int(pid_text)
        if how == "sigkill":
            assert not gone(qemu_pid)
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=20)
        assert wait_until(lambda: gone(qemu_pid), 15), f"QEMU {qemu_pid} outlived its parent"
        if how == "exit":
            assert not Path(workdir).exists()   # atexit also removed its files
        else:
            shutil.rmtree(workdir, ignore_errors=True)  # nothing could: the test does
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
