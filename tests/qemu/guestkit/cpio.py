"""Reading cpio "newc" archives back (tests of the kit and of `consolewatch netcfg --initrd`).

The writer is the product's own, `consolewatch.cpio` (one writer for the kit and the product);
the reader is only needed by tests.
"""

from __future__ import annotations

import gzip

from consolewatch.cpio import FIELDS, HEADER_SIZE, MAGIC, TRAILER, Entry, pad4

__all__ = ["CpioError", "Entry", "read_newc"]


class CpioError(ValueError):
    """A malformed archive."""


def read_newc(data: bytes) -> list[Entry]:
    """Parse a newc archive (gzip-compressed or not); stops at the trailer.

    Raises CpioError on a truncated or malformed archive.
    """
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    entries: list[Entry] = []
    pos = 0
    while True:
        # The kernel tolerates NUL padding between concatenated archives.
        while pos < len(data) and data[pos] == 0:
            pos += 1
        if pos + HEADER_SIZE > len(data):
            raise CpioError(f"truncated header at offset {pos}")
        if data[pos:pos + 6] != MAGIC:
            raise CpioError(f"bad magic {data[pos:pos + 6]!r} at offset {pos}")
        try:
            fields = {
                f: int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16)
                for i, f in enumerate(FIELDS)
            }
        except ValueError as exc:
            raise CpioError(f"bad header field at offset {pos}") from exc
        pos += HEADER_SIZE
        namesize = fields["namesize"]
        if namesize < 1 or pos + namesize > len(data):
            raise CpioError(f"bad name size {namesize} at offset {pos}")
        raw_name = data[pos:pos + namesize]
        if raw_name[-1:] != b"\0":
            raise CpioError(f"name not NUL-terminated at offset {pos}")
        name = raw_name[:-1].decode("utf-8", "surrogateescape")
        pos += namesize + pad4(HEADER_SIZE + namesize)
        size = fields["filesize"]
        if pos + size > len(data):
            raise CpioError(f"truncated data for {name!r}")
        body = data[pos:pos + size]
        pos += size + pad4(size)
        if name == TRAILER:
            return entries
        entries.append(Entry(
            name=name, mode=fields["mode"], data=body, uid=fields["uid"], gid=fields["gid"],
            nlink=fields["nlink"], mtime=fields["mtime"], rdevmajor=fields["rdevmajor"],
            rdevminor=fields["rdevminor"], ino=fields["ino"],
        ))
