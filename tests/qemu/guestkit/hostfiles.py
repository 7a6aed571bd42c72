"""Dynamically linked Debian programs for a busybox initramfs: the program plus every shared
library `ldd` names (and the dynamic loader), read from this machine (Debian 12, the same
release as the guest kernels) or from a package extracted into the kit's cache.

The result is an `InitramfsSpec.files` map (guest path -> (bytes, mode)), so a guest can run
e2fsck, dhcpcd or dhclient next to busybox without a root filesystem.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


class HostFileError(RuntimeError):
    pass


def shared_libraries(program: Path) -> list[Path]:
    """Absolute paths of the libraries (and loader) `program` needs, as `ldd` resolves them."""
    proc = subprocess.run(["ldd", str(program)], capture_output=True, text=True)
    if proc.returncode != 0:
        if "not a dynamic executable" in proc.stdout + proc.stderr:
            return []
        raise HostFileError(f"ldd {program}: {proc.stderr.strip() or proc.stdout.strip()}")
    libs = []
    for line in proc.stdout.splitlines():
        if "not found" in line:
            raise HostFileError(f"ldd {program}: {line.strip()}")
        m = _LDD_PATH.search(line)
        if m:
            libs.append(Path(m.group(1)))
    return libs


def program_files(program: Path, guest_path: str | None = None,
                  extra_libs: list[Path] = ()) -> dict[str, tuple[bytes, int]]:
    """`program` at `guest_path` (default: its own path) with its libraries at theirs."""
    if not program.is_file():
        raise HostFileError(f"{program} not found (install its Debian package)")
    files = {guest_path or str(program): (program.read_bytes(), 0o755)}
    for lib in [*shared_libraries(program), *extra_libs]:
        files[str(lib)] = (lib.resolve().read_bytes(), 0o755)
    return files


def tree_files(tree: Path, path: str) -> dict[str, tuple[bytes, int]]:
    """`path` of an extracted package tree (a file, or a folder taken whole) at the same
    guest path; ELF programs come with their libraries."""
    src = tree / path.lstrip("/")
    if src.is_dir():
        out: dict[str, tuple[bytes, int]] = {}
        for f in sorted(src.rglob("*")):
            if f.is_file():
                out.update(tree_files(tree, "/" + str(f.relative_to(tree))))
        return out
    if not src.is_file():
        raise HostFileError(f"{path} is not in {tree.name}")
    data = src.read_bytes()
    if data[:4] == b"\x7fELF" and src.stat().st_mode & 0o111:
        return program_files(src, path)
    return {path: (data, src.stat().st_mode & 0o777)}
