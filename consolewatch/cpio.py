"""The cpio "newc" format (SVR4 without CRC) writer, as the Linux kernel unpacks an initramfs.

Written from the format description in the kernel's
Documentation/driver-api/early-userspace/buffer-format.rst: each entry is a 110-byte ASCII
header ("070701" and thirteen 8-digit hex fields), the NUL-terminated name padded to a
multiple of 4, then the data padded to a multiple of 4. The archive ends with an entry
named "TRAILER!!!". No external tool is needed: `consolewatch netcfg --initrd` and the QEMU
guest kit (tests/qemu/guestkit, which also reads archives back) both write with it.

Archives are reproducible: every mtime is 0 (or what the caller gives), inode numbers are
assigned in order, uid/gid are 0, and the gzip header carries no time or name.
"""

from __future__ import annotations

import gzip
import io
import stat
from dataclasses import dataclass

MAGIC = b"070701"
TRAILER = "TRAILER!!!"
FIELDS = (
    "ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
    "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
)
HEADER_SIZE = 6 + 8 * len(FIELDS)  # 110


def pad4(n: int) -> int:
    return (4 - n % 4) % 4


@dataclass(frozen=True)
class Entry:
    name: str
    mode: int
    data: bytes = b""
    uid: int = 0
    gid: int = 0
    nlink: int = 1
    mtime: int = 0
    rdevmajor: int = 0
    rdevminor: int = 0
    ino: int = 0

    @property
    def kind(self) -> str:
        m = self.mode
        if stat.S_ISDIR(m):
            return "dir"
        if stat.S_ISREG(m):
            return "file"
        if stat.S_ISLNK(m):
            return "symlink"
        if stat.S_ISCHR(m):
            return "chardev"
        if stat.S_ISBLK(m):
            return "blockdev"
        return "other"


class NewcWriter:
    """Collects entries and serialises them as one newc archive.

    Parent directories are created implicitly (mode 0755) so the kernel never meets a path
    whose directory does not exist yet; entries keep the order they were added in.
    """

    def __init__(self, mtime: int = 0) -> None:
        self._entries: list[Entry] = []
        self._names: set[str] = set()
        self._mtime = mtime

    # -- adding -------------------------------------------------------------------------
    @staticmethod
    def _norm(name: str) -> str:
        name = name.strip("/")
        if not name or any(part in ("", ".", "..") for part in name.split("/")) or not name.isprintable():
            raise ValueError(f"bad archive path: {name!r}")
        return name

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in self._names:
                self._add(Entry(parent, stat.S_IFDIR | 0o755, nlink=2, mtime=self._mtime))

    def _add(self, entry: Entry) -> None:
        if entry.name in self._names:
            raise ValueError(f"duplicate archive path: {entry.name!r}")
        self._names.add(entry.name)
        self._entries.append(entry)

    def add_dir(self, name: str, mode: int = 0o755) -> None:
        name = self._norm(name)
        self._parents(name)
        if name not in self._names:
            self._add(Entry(name, stat.S_IFDIR | mode, nlink=2, mtime=self._mtime))

    def add_file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        name = self._norm(name)
        self._parents(name)
        self._add(Entry(name, stat.S_IFREG | mode, bytes(data), mtime=self._mtime))

    def add_symlink(self, name: str, target: str) -> None:
        name = self._norm(name)
        self._parents(name)
        self._add(Entry(name, stat.S_IFLNK | 0o777, target.encode(), mtime=self._mtime))

    def add_chardev(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        name = self._norm(name)
        self._parents(name)
        self._add(Entry(name, stat.S_IFCHR | mode, mtime=self._mtime,
                        rdevmajor=major, rdevminor=minor))

    def __contains__(self, name: str) -> bool:
        return name.strip("/") in self._names

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    # -- output -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        for ino, e in enumerate(self._entries, start=1):
            _write_entry(out, e, ino)
        _write_entry(out, Entry(TRAILER, 0, nlink=1), 0)
        return out.getvalue()

    def to_gzip(self) -> bytes:
        return gzip.compress(self.to_bytes(), compresslevel=6, mtime=0)


def _write_entry(out: io.BytesIO, e: Entry, ino: int) -> None:
    name = e.name.encode() + b"\0"
    values = {
        "ino": ino, "mode": e.mode, "uid": e.uid, "gid": e.gid, "nlink": e.nlink,
        "mtime": e.mtime, "filesize": len(e.data), "devmajor": 0, "devminor": 0,
        "rdevmajor": e.rdevmajor, "rdevminor": e.rdevminor, "namesize": len(name),
        "check": 0,
    }
    header = MAGIC + b"".join(b"%08X" % (values[f] & 0xFFFFFFFF) for f in FIELDS)
    assert len(header) == HEADER_SIZE
    out.write(header)
    out.write(name)
    out.write(b"\0" * pad4(HEADER_SIZE + len(name)))
    out.write(e.data)
    out.write(b"\0" * pad4(len(e.data)))
