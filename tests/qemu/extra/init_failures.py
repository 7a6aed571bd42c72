#!/usr/bin/env python3
"""Capture real consoles and VGA screens of kernels that mount their root and cannot start init.

Not part of the test run: writes samples/<name>/ the way tests/qemu/extra/poweroff.py does,
and for qemu-init-missing-library JPEG copies of the screen at quality 90, 70 and 50 (what a
cloud's screenshot API and a pasted photo of the screen give). No initramfs: the Debian cloud kernel (NVMe and ext4 built
in) mounts root=/dev/nvme0n1p1 itself and runs init from it (init/main.c, kernel_init()), so
every line about init is the kernel's or the dynamic loader's. The kernel writes to both
consoles; init's own output goes to the last console= only (/dev/console). The screen holds
its last 25 rows: the end of the panic, whose first lines have scrolled away.

- qemu-init-missing-library: /sbin/init is Debian 12's systemd 252 with its libraries except
  libsystemd-shared-252.so: the loader says "error while loading shared libraries", init
  exits 127 and the kernel panics ("Attempted to kill init! exitcode=0x00007f00").
- qemu-init-requested-missing: init=/sbin/myinit, which the root does not hold: "Requested
  init /sbin/myinit failed (error -2)." (the kernel panics at once, no fallbacks).
- qemu-init-wrong-arch: /sbin/init is an ELF header for AArch64 (e_machine 183) and there is
  no /etc/init, /bin/init or /bin/sh: "Starting init: /sbin/init exists but couldn't execute
  it (error -8)", "No working init found.".

    python tests/qemu/extra/init_failures.py [NAME...] [--show]
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import capture  # noqa: E402
from guestkit import boot  # noqa: E402
from guestkit.hostfiles import program_files  # noqa: E402
from guestkit.runner import StopRule  # noqa: E402
from scenarios import DiskSpec, Scenario  # noqa: E402

APPEND = "console=ttyS0 console=tty0 root=/dev/nvme0n1p1"
APPEND_SERIAL_LAST = "console=tty0 console=ttyS0 root=/dev/nvme0n1p1"  # /dev/console is the last one
PANIC_END = [StopRule(r"---\[ end Kernel panic", settle=1.5)]
SOURCE = ("produced by tests/qemu/extra/init_failures.py: a real Debian cloud kernel that mounts its "
          "NVMe root itself and cannot start init, booted under QEMU with the guest kit")
NOTE = ("No initramfs: the kernel mounts the root and runs init itself; every init line is the "
        "kernel's (init/main.c) or the dynamic loader's.")


def aarch64_elf_header() -> bytes:
    """The 64-byte ELF header of an AArch64 executable (ELFCLASS64, little endian, ET_EXEC,
    e_machine 183): an x86 kernel's binfmt_elf rejects it with -ENOEXEC."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, 0x400000, 64, 0, 0, 64, 56, 0, 64, 0, 0)


def systemd_without(lib: str) -> dict[str, tuple[bytes | str, int]]:
    files: dict[str, tuple[bytes | str, int]] = dict(program_files(Path("/usr/lib/systemd/systemd"), "/sbin/init"))
    return {k: v for k, v in files.items() if not k.endswith("/" + lib)}


ROOTFS_FILES = boot._rootfs_files


def rootfs(init_files: dict[str, tuple[bytes | str, int]], drop: tuple[str, ...] = ()):
    def files(bb, init: str) -> dict[str, tuple[bytes | str, int]]:
        out = {k: v for k, v in ROOTFS_FILES(bb, init).items() if k not in drop}
        out.update(init_files)
        return out
    return files


def scenarios() -> list[tuple[Scenario, object]]:
    common = dict(disk=DiskSpec("nvme", size_mb=64), screen=True, stop=PANIC_END, timeout=55, outcome="failure",
                  categories=["init.not-found", "kernel.panic"],
                  screen_categories=["init.not-found", "kernel.panic"])
    return [
        (Scenario(name="qemu-init-missing-library",
                  title="The root's init (systemd) cannot load a shared library; PID 1 exits 127 and the kernel panics",
                  injected="/sbin/init is Debian 12's /usr/lib/systemd/systemd with its libraries except "
                           "libsystemd-shared-252.so; console=tty0 console=ttyS0 (the serial port is "
                           "/dev/console: the loader's message is on the serial log, the screen has "
                           "the kernel's lines only)",
                  append=APPEND_SERIAL_LAST, notes=NOTE,
                  evidence={"init.not-found": [r"error while loading shared libraries"],
                            "kernel.panic": [r"(?<!end )Kernel panic - not syncing: Attempted to kill init"]},
                  **common),
         rootfs(systemd_without("libsystemd-shared-252.so"), drop=("/sbin/init",))),
        (Scenario(name="qemu-init-requested-missing",
                  title="init= names a program the root does not hold; the kernel panics",
                  injected="init=/sbin/myinit; the root holds the kit's /sbin/init only",
                  append=APPEND + " init=/sbin/myinit", notes=NOTE,
                  evidence={"init.not-found": [r"(?<!end )Kernel panic - not syncing: Requested init"],
                            "kernel.panic": [r"(?<!end )Kernel panic - not syncing: Requested init"]},
                  **common),
         None),
        (Scenario(name="qemu-init-wrong-arch",
                  title="The root's /sbin/init is built for another architecture and no fallback exists",
                  injected="/sbin/init is an AArch64 ELF header (e_machine 183); no /etc/init, /bin/init or /bin/sh",
                  append=APPEND, notes=NOTE,
                  evidence={"init.not-found": [r"Starting init: /sbin/init exists but couldn't execute it"],
                            "kernel.panic": [r"(?<!end )Kernel panic - not syncing: No working init found"]},
                  **common),
         rootfs({"/sbin/init": (aarch64_elf_header(), 0o755)}, drop=("/sbin/init",))),
    ]


#: the boots whose screen is also kept as JPEG q90/q70/q50: the one whose screen shows only the end
#: of the panic (the others' screens still show the panic line)
JPEG_COPIES = {"qemu-init-missing-library"}


def write_jpegs(folder: Path) -> list[str]:
    """JPEG copies of screen.png at quality 90, 70 and 50."""
    from PIL import Image

    img = Image.open(folder / "screen.png").convert("RGB")
    for q in (90, 70, 50):
        img.save(folder / f"screen-q{q}.jpg", "JPEG", quality=q)
    return [f"screen-q{q}.jpg" for q in (90, 70, 50)]


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--")]
    for sc, files in scenarios():
        if names and sc.name not in names:
            continue
        if files is not None:
            boot._rootfs_files = files
        try:
            cap = boot.run(sc)
        finally:
            boot._rootfs_files = ROOTFS_FILES
        if "--show" in argv:
            print("\n".join(cap.lines[-40:]))
            print("--- screen ---")
            print("\n".join(cap.screen_rows or []))
            continue
        folder = capture.write_extra_sample(cap, SOURCE)
        if sc.name in JPEG_COPIES:
            copies = write_jpegs(folder)
            meta = folder / "meta.yaml"
            meta.write_text(meta.read_text() + "jpeg_copies: [" + ", ".join(copies) + "]\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
