#!/usr/bin/env python3
"""Capture recipes for the kernel's own root-mount messages (no initramfs): real Debian kernel
lines for rule samples and tests of the root-device rules.

The Debian cloud kernel has the NVMe driver and ext4 built in, so with no initramfs it mounts
root= itself and prints init/do_mounts.c's messages. Rule samples and tests quote these lines
with `source: qemu boot: <recipe> (tests/qemu/root_faults.py)`.

    python tests/qemu/root_faults.py RECIPE      # without RECIPE: the list
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guestkit import fetch
from guestkit.boot import sanitize_lines, write_lines
from guestkit.runner import Drive, MachineSpec, Qemu, StopRule
from kernel_faults import ext4_image


@dataclass
class RootRecipe:
    name: str
    how: str
    append: str
    disk: bool = True


RECIPES = {r.name: r for r in [
    RootRecipe("rootfstype-ext2-on-ext4", "an ext4 NVMe root mounted with rootfstype=ext2: the kernel tries "
               "only ext2, which refuses ext4's features, and panics",
               "console=ttyS0 root=/dev/nvme0n1 rootfstype=ext2"),
    RootRecipe("rootfstype-xfs-on-ext4", "the same root with rootfstype=xfs, a file system the cloud kernel has "
               "only as a module: nothing is tried that could mount it", "console=ttyS0 root=/dev/nvme0n1 "
               "rootfstype=xfs"),
    RootRecipe("no-root-no-initramfs", "no initramfs and no root= (a boot entry that lost its initrd line): the "
               "kernel has no root device to open", "console=ttyS0"),
]}


def boot(name: str, append: str, disk: Callable[[Path], Path] | None) -> list[str]:
    """Boot the cloud kernel with no initramfs and `disk` (made in a scratch folder) as its NVMe
    drive; the serial lines until the kernel's panic (or 40 s)."""
    kernel = fetch.kernel("cloud")
    work = Path(tempfile.mkdtemp(prefix=f"cw-root-{name}-"))
    try:
        drives = [Drive(disk(work), "nvme", "cw0")] if disk else []
        spec = MachineSpec(kernel=kernel.vmlinuz, initrd=None, append=append, drives=drives)
        (work / "qemu").mkdir()
        with Qemu(spec, workdir=work / "qemu") as vm:
            result = vm.wait(40.0, stop=[StopRule(r"end Kernel panic", count=1, settle=1.0)])
        return sanitize_lines(result.serial)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def capture(recipe: RootRecipe) -> list[str]:
    return boot(recipe.name, recipe.append, ext4_image(16) if recipe.disk else None)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RECIPES:
        sys.exit("usage: root_faults.py RECIPE\n" + "\n".join(f"  {r.name:26} {r.how}" for r in RECIPES.values()))
    write_lines(capture(RECIPES[sys.argv[1]]))
