#!/usr/bin/env python3
"""Record the VGA screen at the end of real kernel panics (how the qemu-panic-*.png frames in
this folder were made): the Debian kernel with console=tty0 only, a busybox /init from the
guest kit (tests/qemu/guestkit), one fault per recipe; the frame is taken once
"---[ end Kernel panic" is in video memory, and the VGA text buffer (80x25, read from guest
memory at the same moment) is the ground truth.

    python tests/ocr/frames/capture_panics.py OUT_DIR [RECIPE ...]

Recipes (the panic's own dump fills the screen; its header line has scrolled away on some):
  kill-init   /init exits with status 1: "Attempted to kill init!", user registers in the dump
  nmi-panic   unknown_nmi_panic=1 and QMP inject-nmi: "NMI: Not continuing", kernel registers
  oom-init    96 MB, /init is busybox awk doubling a string: OOM with no killable process,
              "System is deadlocked on memory"
  mce-fatal   generic kernel, HMP `mce` with processor context corrupt: "Fatal local machine check"
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "qemu"))

from guestkit import fetch, initramfs
from guestkit.runner import MachineSpec, Qemu, StopRule

READY = "consolewatch-guest: ready"
WAIT = f"echo {READY}; sleep 30"
RECIPES = {
    "kill-init": dict(init="exit 1", append="console=tty0"),
    "nmi-panic": dict(init=WAIT, append="console=tty0 unknown_nmi_panic=1", action="nmi"),
    "oom-init": dict(init="exec awk 'BEGIN { s = \"consolewatch\"; while (1) s = s s }'",
                     append="console=tty0", memory_mb=96),
    "mce-fatal": dict(init=WAIT, append="console=tty0", flavour="generic",
                      action="mce 0 1 0xb200000000000000 0x5 0x1234000 0x86"),
}


def record(name: str, out: Path) -> None:
    r = RECIPES[name]
    kernel = fetch.kernel(r.get("flavour", "cloud"))
    work = Path(tempfile.mkdtemp(prefix=f"cw-panic-{name}-"))
    try:
        initrd = work / "initrd.img"
        initrd.write_bytes(initramfs.build(initramfs.InitramfsSpec(r["init"]), fetch.busybox(), kernel))
        spec = MachineSpec(kernel=kernel.vmlinuz, initrd=initrd, append=r["append"],
                           memory_mb=r.get("memory_mb", 256))
        (work / "qemu").mkdir()
        with Qemu(spec, workdir=work / "qemu") as vm:
            if r.get("action"):
                def act() -> None:
                    time.sleep(12)  # /init has printed its ready line by then, under TCG
                    if r["action"] == "nmi":
                        vm.qmp().execute("inject-nmi")
                    else:
                        vm._hmp(r["action"])
                threading.Thread(target=act, daemon=True).start()
            res = vm.wait(55, frame_interval=0.5, min_time=4.0, screen_text=True,
                          screen_stop=StopRule(r"---\[ end Kernel panic", settle=1.5))
        if res.screen is None or not res.frames[-1].text:
            raise RuntimeError(f"{name}: no text-mode frame")
        (out / f"qemu-panic-{name}.png").write_bytes(res.screen)
        (out / f"qemu-panic-{name}.txt").write_text("\n".join(res.frames[-1].text))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    dest = Path(sys.argv[1])
    for recipe in sys.argv[2:] or list(RECIPES):
        record(recipe, dest)
