"""Capture real VGA text-mode screendumps from QEMU (how the fixtures in this folder were made).

Usage:
    python tests/ocr/frames/capture_qemu.py seabios OUT_DIR
    python tests/ocr/frames/capture_qemu.py kernel OUT_DIR VMLINUZ [--every SECONDS] [--count N] [--extra ARGS]
        [--slice SECONDS]

`seabios`: no disk, SeaBIOS prints "No bootable device." after ~4 s; one frame is saved.
`kernel`: boots VMLINUZ with `console=tty0 console=ttyS0 root=/dev/xvda1 panic=0` and no
disk (the kernel panics: VFS cannot mount root), saving a screendump every SECONDS and the
serial log (the same kernel messages, the ground truth for the screen text).
With `--slice`, the guest runs SECONDS at a time and is paused (QMP stop/cont) for each
screendump, so consecutive frames overlap even though TCG boots in ~2 s.
Frames are taken with QMP `screendump` (PNG on QEMU >= 7.1, else PPM converted to PNG).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class Qmp:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(100):
            try:
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self) -> dict:
        while True:
            msg = json.loads(self.file.readline())
            if "event" not in msg:
                return msg

    def cmd(self, name: str, **args) -> dict:
        self.file.write(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        self.file.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"{name}: {reply['error']}")
        return reply


def screendump(qmp: Qmp, out: Path) -> None:
    try:
        qmp.cmd("screendump", filename=str(out), format="png")
    except RuntimeError:
        from PIL import Image

        ppm = out.with_suffix(".ppm")
        qmp.cmd("screendump", filename=str(ppm))
        Image.open(ppm).save(out)
        ppm.unlink()


def start(extra: list[str], serial: Path | None) -> tuple[subprocess.Popen, Qmp]:
    tmp = tempfile.mkdtemp(prefix="cwqmp")
    sock = os.path.join(tmp, "qmp.sock")
    cmd = [
        "qemu-system-x86_64", "-nodefaults", "-vga", "std", "-display", "none", "-m", "256",
        "-machine", "pc,accel=tcg", "-cpu", "max",
        "-qmp", f"unix:{sock},server=on,wait=off",
        "-serial", f"file:{serial}" if serial else "none",
        *extra,
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    return proc, Qmp(sock)


def main(argv: list[str]) -> int:
    mode, out_dir = argv[0], Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    if mode == "seabios":
        proc, qmp = start([], None)
        try:
            time.sleep(7)
            screendump(qmp, out_dir / "qemu-seabios-no-bootable-device.png")
        finally:
            proc.kill()
            proc.wait()
        return 0
    vmlinuz = argv[2]
    every = float(argv[argv.index("--every") + 1]) if "--every" in argv else 1.0
    count = int(argv[argv.index("--count") + 1]) if "--count" in argv else 40
    serial = out_dir / "serial.log"
    append = "console=tty0 console=ttyS0 root=/dev/xvda1 panic=0"
    if "--extra" in argv:  # e.g. "boot_delay=30": each printk waits 30 ms, so the screen scrolls slowly
        append += " " + argv[argv.index("--extra") + 1]
    slice_s = float(argv[argv.index("--slice") + 1]) if "--slice" in argv else 0.0
    proc, qmp = start(["-kernel", vmlinuz, "-append", append] + (["-S"] if slice_s else []), serial)
    try:
        for i in range(count):
            if slice_s:  # run the guest in short slices, paused while the screen is dumped
                qmp.cmd("cont")
                time.sleep(slice_s)
                qmp.cmd("stop")
            else:
                time.sleep(every)
            screendump(qmp, out_dir / f"frame-{i:03d}.png")
    finally:
        proc.kill()
        proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
