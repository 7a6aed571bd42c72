#!/usr/bin/env python3
"""Capture recipes for ext4's refusals to mount a root (fs/ext4/super.c): real Debian kernel lines
for the samples of fs-mount-refused (parsers/detectors/disk.yaml).

Each recipe makes an ext4 image with mkfs.ext4 and bends one superblock field with debugfs (a
block size the kernel cannot use, a journal that is not there, a journal left to replay), then
boots the cloud kernel with it as an NVMe root and no initramfs, as root_faults.py does. Rule
samples quote these lines with `source: qemu boot: <recipe> (tests/qemu/fs_mount_faults.py)`.

    python tests/qemu/fs_mount_faults.py RECIPE      # without RECIPE: the list
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guestkit.boot import write_lines
from root_faults import boot


@dataclass
class FsRecipe:
    name: str
    how: str
    mkfs: tuple[str, ...]          # extra mkfs.ext4 options
    debugfs: str | None            # one debugfs -w request, or none
    size_mb: int = 20
    append: str = ""


RECIPES = {r.name: r for r in [
    FsRecipe("ext4-block-size-64k", "an ext4 made with 64 KiB blocks, more than the page size of the "
             "x86 kernel: 'bad block size'", ("-b", "65536"), None, size_mb=64),
    FsRecipe("ext4-log-block-size-9", "a superblock whose s_log_block_size is 9: 'Invalid log block "
             "size'", (), "ssv log_block_size 9"),
    FsRecipe("ext4-journal-inum-0", "has_journal with journal inode 0 (and no journal device): the "
             "kernel looks for an external journal", (), "ssv journal_inum 0"),
    FsRecipe("ext4-needs-recovery-noload", "a journal flagged for replay, mounted read-write with "
             "rootflags=noload", (), "feature needs_recovery", append="rootflags=noload"),
]}


def make_image(recipe: FsRecipe, work: Path) -> Path:
    img = work / f"{recipe.name}.img"
    subprocess.run(["truncate", "-s", f"{recipe.size_mb}M", str(img)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", *recipe.mkfs, str(img)], check=True)
    if recipe.debugfs:
        subprocess.run(["debugfs", "-w", "-R", recipe.debugfs, str(img)], check=True,
                       capture_output=True)
    return img


def capture(recipe: FsRecipe) -> list[str]:
    append = f"console=ttyS0 root=/dev/nvme0n1 rw {recipe.append}".strip()
    return boot(recipe.name, append, lambda work: make_image(recipe, work))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RECIPES:
        sys.exit("usage: fs_mount_faults.py RECIPE\n" + "\n".join(f"  {r.name:28} {r.how}" for r in RECIPES.values()))
    write_lines(capture(RECIPES[sys.argv[1]]))
