"""Disk images: MBR layout, ext4 built from a directory, deterministic corruption."""

from __future__ import annotations

import hashlib
import struct
import subprocess

from guestkit import disk


def fsck(image) -> int:
    """e2fsck -fn exit status: 0 clean; bit 4: errors left uncorrected (8: it gave up)."""
    return subprocess.run([disk._tool("e2fsck"), "-fn", str(image)],
                          capture_output=True, text=True).returncode


def build_fs(tmp_path, name="fs.img"):
    root = tmp_path / f"root-{name}"
    root.mkdir()
    disk.populate(root, {"/sbin/init": ("#!/bin/sh\n", 0o755), "/etc/hostname": ("h\n", 0o644)},
                  {"/bin/sh": "busybox"})
    image = tmp_path / name
    disk.mkfs_ext4(image, 8, root)
    return image


def test_ext4_image_is_clean_and_holds_the_files(tmp_path, e2fsprogs):
    image = build_fs(tmp_path)
    assert fsck(image) == 0
    assert "init" in disk.debugfs(image, "ls -l /sbin")
    assert disk.debugfs(image, "cat /etc/hostname").strip() == "h"
    assert disk.block_size(image) == 4096


def test_images_are_reproducible(tmp_path, e2fsprogs):
    a = build_fs(tmp_path, "a.img")
    b = build_fs(tmp_path, "b.img")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_mbr_wraps_the_filesystem_at_1MiB(tmp_path, e2fsprogs):
    fs = build_fs(tmp_path)
    out = tmp_path / "disk.img"
    disk.mbr_disk(out, fs)
    data = out.read_bytes()
    assert data[510:512] == b"\x55\xaa"
    status, ptype, start, count = (data[446], data[450],
                                   *struct.unpack_from("<II", data, 454))
    assert (status, ptype, start) == (0, 0x83, 2048)
    assert count * 512 == fs.stat().st_size
    assert data[2048 * 512:2048 * 512 + fs.stat().st_size] == fs.read_bytes()


def test_directory_corruption_is_deterministic_and_detected(tmp_path, e2fsprogs):
    images = []
    for name in ("x.img", "y.img"):
        fs = build_fs(tmp_path, name)
        info = disk.corrupt_directory(fs, "/")
        assert info["block_size"] == 4096 and info["offset"] == info["block"] * 4096
        images.append(fs.read_bytes())
        assert fsck(fs) & 4
    assert images[0] == images[1]


def test_inode_corruption_is_detected(tmp_path, e2fsprogs):
    fs = build_fs(tmp_path)
    before = disk.inode_location(fs, "/sbin/init")
    info = disk.corrupt_inode(fs, "/sbin/init")
    assert info["offset"] == before and info["inode"] > 2
    assert fsck(fs) & 4


def test_make_root_disk_describes_itself(tmp_path, e2fsprogs):
    out = tmp_path / "root.img"
    info = disk.make_root_disk(out, {"/sbin/init": ("#!/bin/sh\n", 0o755)}, size_mb=8,
                               corrupt=lambda fs: disk.corrupt_directory(fs, "/"))
    assert info["partitioned"] and info["partition"]["start_lba"] == 2048
    assert info["corruption"]["what"].startswith("first data block of directory /")
    assert out.stat().st_size == (1 + 8 + 1) * 1024 * 1024
