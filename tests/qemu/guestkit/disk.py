"""Small raw disk images: an ext4 root filesystem (mke2fs -d), an MBR around it, and
deterministic corruption of ext4 metadata (located with debugfs, both from e2fsprogs)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

SECTOR = 512
PART_START_LBA = 2048  # 1 MiB, as fdisk/parted align it

#: Fixed identities so images (and the kernel lines naming them) are reproducible.
FS_UUID = "c0501e00-0000-4000-8000-000000000001"
HASH_SEED = "c0501e00-0000-4000-8000-000000000002"
FIXED_TIME = "20231114221320"  # E2FSPROGS_FAKE_TIME 1700000000, as debugfs writes a date
DISK_SIGNATURE = 0xC0501E01


class DiskError(RuntimeError):
    pass


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/sbin/{name}" if Path(f"/sbin/{name}").exists() else None)
    if not path:
        raise DiskError(f"{name} not found (Debian package e2fsprogs)")
    return path


def _run(cmd: list[str]) -> str:
    env = dict(os.environ, E2FSPROGS_FAKE_TIME="1700000000", LC_ALL="C")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise DiskError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def populate(root: Path, files: dict[str, tuple[bytes | str, int]],
             symlinks: dict[str, str] | None = None) -> None:
    """Write `files` (path -> (content, mode)) and `symlinks` (path -> target) under root."""
    for rel, (content, mode) in files.items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        p.chmod(mode)
    for rel, target in (symlinks or {}).items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.symlink_to(target)


def mkfs_ext4(image: Path, size_mb: int, source_dir: Path | None = None,
              label: str = "root") -> None:
    """A fresh ext4 filesystem image of size_mb, filled from source_dir."""
    image.unlink(missing_ok=True)
    cmd = [_tool("mke2fs"), "-q", "-F", "-t", "ext4", "-b", "4096", "-L", label, "-U", FS_UUID,
           "-E", f"root_owner=0:0,hash_seed={HASH_SEED},nodiscard", "-m", "0"]
    if source_dir is not None:
        cmd += ["-d", str(source_dir)]
    cmd += [str(image), f"{size_mb}M"]
    _run(cmd)
    if source_dir is not None:
        _fix_times(image, source_dir)


def _fix_times(image: Path, source_dir: Path) -> None:
    """Every copied inode's times set to FIXED_TIME: mke2fs -d copies them from the source tree,
    and reading a file moves its atime (and writing the tree sets ctime), so two trees with the
    same files, or one tree read twice, a second apart gave different bytes."""
    paths = ["/"] + sorted("/" + p.relative_to(source_dir).as_posix() for p in source_dir.rglob("*"))
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs") as script:
        for path in paths:
            for field in ("atime", "mtime", "ctime", "crtime"):
                script.write(f'set_inode_field "{path}" {field} {FIXED_TIME}\n')
        script.flush()
        _run([_tool("debugfs"), "-w", "-f", script.name, str(image)])


def mbr_disk(out: Path, fs_image: Path, part_type: int = 0x83) -> None:
    """A raw disk: an MBR with one bootable-less partition at 1 MiB holding fs_image."""
    fs_size = fs_image.stat().st_size
    if fs_size % SECTOR:
        raise DiskError("filesystem image size is not a multiple of 512")
    sectors = fs_size // SECTOR
    mbr = bytearray(SECTOR)
    struct.pack_into("<I", mbr, 440, DISK_SIGNATURE)
    # status, CHS first (unused: 0xFE 0xFF 0xFF), type, CHS last, LBA first, sector count
    entry = struct.pack("<B3sB3sII", 0x00, b"\xfe\xff\xff", part_type, b"\xfe\xff\xff",
                        PART_START_LBA, sectors)
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    with open(out, "wb") as fh:
        fh.write(mbr)
        fh.write(b"\0" * (PART_START_LBA * SECTOR - SECTOR))
        with open(fs_image, "rb") as src:
            shutil.copyfileobj(src, fh, 1 << 20)
        # a little slack after the partition, as real disks have
        fh.write(b"\0" * (1 << 20))


def debugfs(image: Path, request: str) -> str:
    return _run([_tool("debugfs"), "-R", request, str(image)])


def block_size(image: Path) -> int:
    out = _run([_tool("dumpe2fs"), "-h", str(image)])
    m = re.search(r"^Block size:\s+(\d+)", out, re.M)
    if not m:
        raise DiskError("dumpe2fs printed no block size")
    return int(m.group(1))


def inode_number(image: Path, path: str) -> int:
    out = debugfs(image, f"stat {path}")
    m = re.search(r"Inode:\s+(\d+)", out)
    if not m:
        raise DiskError(f"debugfs found no inode for {path}: {out!r}")
    return int(m.group(1))


def data_blocks(image: Path, path: str) -> list[int]:
    out = debugfs(image, f"blocks {path}").split()
    if not out:
        raise DiskError(f"{path} has no data blocks")
    return [int(b) for b in out]


def inode_location(image: Path, path: str) -> int:
    """Byte offset of the on-disk inode of `path` within the filesystem image."""
    ino = inode_number(image, path)
    out = debugfs(image, f"imap <{ino}>")
    m = re.search(r"located at block (\d+), offset (0x[0-9a-fA-F]+)", out)
    if not m:
        raise DiskError(f"debugfs imap gave {out!r}")
    return int(m.group(1)) * block_size(image) + int(m.group(2), 16)


def overwrite(image: Path, offset: int, data: bytes) -> None:
    with open(image, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def corrupt_pattern(length: int, seed: int = 0xC0) -> bytes:
    """Deterministic garbage: a repeating non-zero byte pattern."""
    return bytes(((seed + 37 * i) & 0xFF) or 0x5A for i in range(length))


def corrupt_directory(image: Path, path: str) -> dict:
    """Overwrite the first data block of directory `path` with garbage.

    Returns what was done (for meta.yaml)."""
    bs = block_size(image)
    blocks = data_blocks(image, path)
    overwrite(image, blocks[0] * bs, corrupt_pattern(bs))
    return {"what": f"first data block of directory {path} overwritten with a fixed byte pattern",
            "block": blocks[0], "block_size": bs, "offset": blocks[0] * bs}


def corrupt_inode(image: Path, path: str, length: int = 128) -> dict:
    """Overwrite the first `length` bytes of the on-disk inode of `path`."""
    ino = inode_number(image, path)
    off = inode_location(image, path)
    overwrite(image, off, corrupt_pattern(length))
    return {"what": f"inode of {path} overwritten with a fixed byte pattern",
            "inode": ino, "offset": off, "length": length}


def make_root_disk(out: Path, files: dict[str, tuple[bytes | str, int]],
                   symlinks: dict[str, str] | None = None, size_mb: int = 16,
                   partitioned: bool = True, corrupt=None) -> dict:
    """Build a disk image with an ext4 root; `corrupt(fs_image) -> dict` runs on the bare
    filesystem before it is wrapped in an MBR. Returns a description for meta.yaml."""
    info: dict = {"filesystem": "ext4", "size_mb": size_mb, "partitioned": partitioned,
                  "fs_uuid": FS_UUID}
    with tempfile.TemporaryDirectory(prefix="cw-disk-") as tmp:
        tmpd = Path(tmp)
        root = tmpd / "root"
        root.mkdir()
        populate(root, files, symlinks)
        fs = tmpd / "fs.img"
        mkfs_ext4(fs, size_mb, root)
        if corrupt is not None:
            info["corruption"] = corrupt(fs)
        if partitioned:
            mbr_disk(out, fs)
            info["partition"] = {"table": "mbr", "start_lba": PART_START_LBA, "type": "0x83"}
        else:
            shutil.copyfile(fs, out)
    return info
