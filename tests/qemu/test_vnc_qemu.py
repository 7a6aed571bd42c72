"""The RFB client against an independent, real server: QEMU's own VNC server, showing a real
Debian kernel booting on its VGA text console (and panicking: no root filesystem).

One short boot serves every test: QEMU starts paused (-S) with two VNC displays -- "open" (no
password) and "locked" (password=on, the password set over QMP with set_password) -- each on
TCP and on a websocket. Four `consolewatch tail` processes connect (TCP and websocket, each
display), a fifth tries a wrong password; then QEMU is continued, and every tail follows the
same boot to its verdict. The serial port (console=ttyS0 as well as tty0) is the ground truth
for what the screen showed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PASSWORD = "qemu-Vnc7"
PANIC = "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(target: str, data: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONSOLEWATCH_")}
    base.update({"CONSOLEWATCH_DATA_DIR": str(data), "CONSOLEWATCH_CONFIG_DIR": str(data / "config")}, **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "consolewatch", "tail", target, "--json", "--until", "outcome",
                             "--timeout", "150", "--stall-after", "0", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base)


def _clients(vm) -> dict[str, int]:
    return {srv["id"]: len(srv["clients"]) for srv in vm.qmp().execute("query-vnc-servers")}


@pytest.fixture(scope="module")
def qemu_vnc_boot(guest_kit, tmp_path_factory):
    """{name: (returncode, events, stderr)} of each tail, and the boot's serial lines."""
    from guestkit.boot import sanitize_lines
    from guestkit.runner import MachineSpec, Qemu

    kernel, _ = guest_kit
    work = tmp_path_factory.mktemp("vnc")
    ports = {name: _free_port() for name in ("open-tcp", "open-ws", "locked-tcp", "locked-ws")}
    vnc = [
        "-vnc", f"127.0.0.1:{ports['open-tcp'] - 5900},websocket=127.0.0.1:{ports['open-ws']},id=open",
        "-vnc", f"127.0.0.1:{ports['locked-tcp'] - 5900},websocket=127.0.0.1:{ports['locked-ws']},"
                "password=on,id=locked",
    ]
    spec = MachineSpec(kernel=kernel.vmlinuz, append="console=ttyS0 console=tty0", memory_mb=256,
                       extra_args=["-S", *vnc])
    password_file = work / "vnc-password"
    password_file.write_text(PASSWORD + "\n")
    (work / "vm").mkdir()
    with Qemu(spec, workdir=work / "vm") as vm:
        vm.qmp().execute("set_password", protocol="vnc", password=PASSWORD, display="locked")
        tails = {
            "open-tcp": _tail(f"vnc://127.0.0.1:{ports['open-tcp']}", work / "a"),
            "open-ws": _tail(f"vnc+ws://127.0.0.1:{ports['open-ws']}/", work / "b"),
            "locked-tcp": _tail(f"vnc://127.0.0.1:{ports['locked-tcp']}", work / "c",
                                env={"CONSOLEWATCH_VNC_PASSWORD": PASSWORD}),
            "locked-ws": _tail(f"vnc+ws://127.0.0.1:{ports['locked-ws']}/", work / "d",
                               "--vnc-password-file", str(password_file)),
        }
        wrong = _tail(f"vnc://127.0.0.1:{ports['locked-tcp']}", work / "e",
                      env={"CONSOLEWATCH_VNC_PASSWORD": "not-" + PASSWORD})
        deadline = time.monotonic() + 60
        while _clients(vm) != {"open": 2, "locked": 2} and time.monotonic() < deadline:
            time.sleep(0.2)  # every watcher connected before the machine runs: all see the whole boot
        wrong_out, wrong_err = wrong.communicate(timeout=60)
        assert _clients(vm) == {"open": 2, "locked": 2}
        vm.qmp().execute("cont")
        results = {}
        for name, proc in tails.items():
            try:
                out, err = proc.communicate(timeout=170)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            results[name] = (proc.returncode, [json.loads(x) for x in out.decode().splitlines() if x.strip()],
                             err.decode())
        serial = vm.serial()
    results["wrong"] = (wrong.returncode, wrong_out, wrong_err.decode())
    lines = [line.rstrip() for line in sanitize_lines(serial) if line.strip()]
    return results, lines


@pytest.mark.parametrize("name", ["open-tcp", "open-ws", "locked-tcp", "locked-ws"])
def test_a_real_boot_is_followed_on_qemus_vnc_server(qemu_vnc_boot, name):
    results, serial = qemu_vnc_boot
    code, events, err = results[name]
    assert code == 1, err[-2000:]
    streaming = [e for e in events if e["type"] == "status" and e["state"] == "streaming"]
    # ServerInit says 640x480 (the VGA is not set up before the guest runs); SeaBIOS's text mode
    # then arrives as a DesktopSize change to 720x400, and the screen is read from that.
    assert streaming and "RFB 3.8" in streaming[0]["detail"] and "640x480 'QEMU'" in streaming[0]["detail"]
    assert ("VNC Authentication" in streaming[0]["detail"]) == name.startswith("locked")
    lines = [e["text"] for e in events if e["type"] == "line"]
    assert all(e["origin"] == "ocr" and e["source"] == "screen" for e in events if e["type"] == "line")
    panic = next(x for x in serial if PANIC in x)
    assert panic in lines  # the screen's panic line reads exactly as the serial port printed it
    found = {e["category"] for e in events if e["type"] == "finding"}
    assert "kernel.panic" in found
    assert [e["outcome"] for e in events if e["type"] == "outcome"][-1] == "failure"
    exact = sum(1 for x in lines if x in serial)
    print(f"\n{name}: {len(lines)} screen lines, {exact} exactly as on the serial port "
          f"({len(serial)} serial lines)")
    assert exact >= 0.8 * len(lines)


def test_a_wrong_password_is_refused_by_qemu_and_never_shown(qemu_vnc_boot):
    results, _ = qemu_vnc_boot
    code, out, err = results["wrong"]
    assert code == 2 and "VNC authentication failed: Authentication failed" in err
    assert PASSWORD not in err and PASSWORD.encode() not in out and len(err.strip().splitlines()) == 1
