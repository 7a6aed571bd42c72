"""The pure-Python cpio newc writer (consolewatch.cpio) and the kit's reader."""

from __future__ import annotations

import gzip
import shutil
import stat
import subprocess

import pytest

from consolewatch.cpio import HEADER_SIZE, MAGIC, NewcWriter
from guestkit.cpio import CpioError, read_newc


def sample() -> NewcWriter:
    w = NewcWriter()
    w.add_dir("bin")
    w.add_file("bin/busybox", b"\x7fELF" + bytes(range(256)) * 3, 0o755)
    w.add_symlink("bin/sh", "busybox")
    w.add_chardev("dev/console", 5, 1)
    w.add_file("init", b"#!/bin/sh\necho hi\n", 0o755)
    w.add_file("etc/deep/nested/empty", b"")
    w.add_file("odd", b"x")  # 1 byte: forces data padding
    return w


def test_round_trip_preserves_entries():
    w = sample()
    entries = read_newc(w.to_bytes())
    by_name = {e.name: e for e in entries}
    assert [e.name for e in entries] == [e.name for e in w.entries]
    assert by_name["bin/busybox"].data == b"\x7fELF" + bytes(range(256)) * 3
    assert stat.S_IMODE(by_name["bin/busybox"].mode) == 0o755
    assert by_name["bin/busybox"].kind == "file"
    assert by_name["bin/sh"].kind == "symlink" and by_name["bin/sh"].data == b"busybox"
    con = by_name["dev/console"]
    assert con.kind == "chardev" and (con.rdevmajor, con.rdevminor) == (5, 1)
    assert by_name["init"].data == b"#!/bin/sh\necho hi\n"
    assert by_name["odd"].data == b"x"
    assert by_name["etc/deep/nested/empty"].data == b""


def test_parents_are_created_before_children():
    names = [e.name for e in sample().entries]
    for i, name in enumerate(names):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            assert parent in names[:i], f"{parent} must precede {name}"
    kinds = {e.name: e.kind for e in sample().entries}
    assert kinds["dev"] == kinds["etc/deep/nested"] == "dir"


def test_layout_is_newc_with_4_byte_alignment_and_trailer():
    data = sample().to_bytes()
    assert data.startswith(MAGIC)
    assert len(data) % 4 == 0
    # Walk the headers by hand: every one starts on a 4-byte boundary.
    pos, names = 0, []
    while True:
        assert pos % 4 == 0 and data[pos:pos + 6] == MAGIC
        namesize = int(data[pos + 94:pos + 102], 16)
        filesize = int(data[pos + 54:pos + 62], 16)
        name = data[pos + HEADER_SIZE:pos + HEADER_SIZE + namesize - 1].decode()
        names.append(name)
        pos += HEADER_SIZE + namesize
        pos += (-pos) % 4
        pos += filesize + (-filesize) % 4
        if name == "TRAILER!!!":
            break
    assert pos == len(data)
    assert names[-1] == "TRAILER!!!"


def test_output_is_reproducible_and_gzip_round_trips():
    a, b = sample().to_gzip(), sample().to_gzip()
    assert a == b
    assert gzip.decompress(a) == sample().to_bytes()
    assert [e.name for e in read_newc(a)] == [e.name for e in sample().entries]


def test_rejects_duplicates_and_bad_paths():
    w = NewcWriter()
    w.add_file("a", b"1")
    with pytest.raises(ValueError):
        w.add_file("a", b"2")
    for bad in ("", "/", "a/../b", "./x", "a//b"):
        with pytest.raises(ValueError):
            NewcWriter().add_file(bad, b"")


@pytest.mark.parametrize("cut", [0, 5, 60, 111, 130])
def test_truncated_archive_is_an_error(cut):
    data = sample().to_bytes()[:cut]
    with pytest.raises(CpioError):
        read_newc(data)


def test_garbage_is_an_error():
    with pytest.raises(CpioError):
        read_newc(b"not a cpio archive at all, no sir" * 5)
    bad_hex = bytearray(sample().to_bytes())
    bad_hex[10:14] = b"zzzz"
    with pytest.raises(CpioError):
        read_newc(bytes(bad_hex))


def test_gnu_cpio_lists_the_same_entries(tmp_path, gnu_cpio):
    w = sample()
    out = subprocess.run(["cpio", "-i", "-t", "--quiet"], input=w.to_bytes(),
                         capture_output=True, check=True).stdout.decode().split()
    assert out == [e.name for e in w.entries]
