#!/usr/bin/env python3
"""Capture real VGA screens of kernels whose initramfs /init cannot run (OCR fixtures).

Not part of the test run. Each boot is the Debian cloud kernel under QEMU (guestkit) with an
initramfs whose /init is broken; the kernel panics "No working init found" (or, with
rdinit=/init given, "Requested init /init failed") and the screen holds the last 25 rows: the
init lines, the panic, its own call trace and its "---[ end Kernel panic" footer. Each screen is
written as PNG and JPEG at quality 90, 70 and 50 to OUT/<name>/ (default /tmp/init-screens),
with the VGA text buffer (screen.txt: what the screen really says) and the serial log.

- no-shell:    /init is a shell script and the image holds no shell ("Failed to execute /init
               (error -2)"); /sbin/init is an AArch64 ELF header ("Starting init: /sbin/init
               exists but couldn't execute it (error -8)")
- wrong-arch:  /init is an AArch64 ELF header (error -8)
- crlf:        /init is a shell script with CRLF line ends ("#!/bin/sh\\r": error -2)
- no-loader:   /init is a dynamically linked program whose loader is missing (error -2)
- requested:   /init cannot run and init=/sbin/myinit names a program the image does not hold
               ("Requested init /sbin/myinit failed (error -2).")

    python tests/qemu/extra/init_screens.py [NAME...] [--out DIR]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from guestkit import boot  # noqa: E402
from guestkit.initramfs import InitramfsSpec  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from init_failures import aarch64_elf_header  # noqa: E402
from scenarios import Scenario  # noqa: E402

APPEND = "console=ttyS0 console=tty0"
PANIC_END = [StopRule(r"---\[ end Kernel panic", settle=1.5)]
ARM = (aarch64_elf_header(), 0o755)


def _spec(files: dict, **kw) -> InitramfsSpec:
    return InitramfsSpec("", files=files, **kw)


def cases() -> dict[str, tuple[str, InitramfsSpec]]:
    """name -> (kernel command line, initramfs)"""
    sh = "#!/bin/sh\necho hello\n"
    return {
        "no-shell": (APPEND, _spec({"/init": (sh, 0o755), "/sbin/init": ARM}, busybox=False)),
        "wrong-arch": (APPEND, _spec({"/init": ARM}, busybox=False)),
        "crlf": (APPEND, _spec({"/init": (sh.replace("\n", "\r\n"), 0o755)}, busybox=False)),
        "no-loader": (APPEND, _spec({"/init": (Path("/bin/true").read_bytes(), 0o755)}, busybox=False)),
        "requested": (APPEND + " init=/sbin/myinit", _spec({"/init": (sh, 0o755)}, busybox=False)),
        "crlf-busybox": (APPEND, _spec({"/init": (sh.replace("\n", "\r\n"), 0o755)}, raw_init=True)),
        "no-loader-busybox": (APPEND, _spec({"/init": (Path("/bin/true").read_bytes(), 0o755)})),
        "wrong-arch-busybox": (APPEND, _spec({"/init": ARM})),
        "exec-missing": (APPEND, InitramfsSpec("echo consolewatch-guest: starting the service; exec /opt/svc/bin/svcd")),
        "exec-not-executable": (APPEND, InitramfsSpec("mkdir -p /opt/svc; printf '#!/bin/sh\\necho svc\\n' > /opt/svc/start; "
                                                     "chmod 644 /opt/svc/start; exec /opt/svc/start")),
        "fb-no-shell": (APPEND + " vga=0x318", _spec({"/init": (sh, 0o755), "/sbin/init": ARM}, busybox=False)),
        "fb-requested": (APPEND + " vga=0x318 init=/sbin/myinit", _spec({"/init": (sh, 0o755)}, busybox=False)),
    }


def main(argv: list[str]) -> int:
    out = Path("/tmp/init-screens")
    if "--out" in argv:
        out = Path(argv[argv.index("--out") + 1])
    names = [a for a in argv if not a.startswith("--") and a != str(out)]
    from PIL import Image

    for name, (append, spec) in cases().items():
        if names and name not in names:
            continue
        kernel = "generic" if name.startswith("fb-") else "cloud"   # a framebuffer console (vesafb, simpledrm)
        sc = Scenario(name=f"init-screen-{name}", title=name, injected=name, append=append, kernel=kernel,
                      initramfs=spec, screen=True, stop=PANIC_END, timeout=60)
        cap = boot.run(sc)
        folder = out / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "serial.log").write_bytes(cap.result.serial)
        (folder / "screen.png").write_bytes(cap.result.screen)
        (folder / "screen.txt").write_text("\n".join(cap.screen_rows or []) + "\n")
        img = Image.open(folder / "screen.png").convert("RGB")
        for q in (90, 70, 50):
            img.save(folder / f"screen-q{q}.jpg", "JPEG", quality=q)
        print(f"ok {name}: {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
