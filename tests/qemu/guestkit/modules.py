"""Kernel modules from an extracted Debian kernel package, with their load order.

A `.deb` has no modules.dep (depmod runs at install time), so dependencies are read from
each module's own `.modinfo` ELF section (`depends=a,b`), the same field depmod reads.
"""

from __future__ import annotations

import lzma
import struct
from pathlib import Path


class ModuleError(LookupError):
    pass


def _elf_section(data: bytes, wanted: str) -> bytes | None:
    """Contents of the named section of a 64-bit little-endian ELF file, or None."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ModuleError("not a 64-bit little-endian ELF file")
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def shdr(i: int) -> tuple[int, int, int]:
        off = e_shoff + i * e_shentsize
        sh_name, = struct.unpack_from("<I", data, off)
        sh_offset, sh_size = struct.unpack_from("<QQ", data, off + 0x18)
        return sh_name, sh_offset, sh_size

    _, str_off, str_size = shdr(e_shstrndx)
    names = data[str_off:str_off + str_size]
    for i in range(e_shnum):
        name_off, off, size = shdr(i)
        end = names.find(b"\0", name_off)
        if names[name_off:end].decode() == wanted:
            return data[off:off + size]
    return None


def read_ko(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        data = lzma.decompress(data)
    return data


def modinfo(path: Path) -> dict[str, list[str]]:
    """The key=value pairs of a module's .modinfo section (values as lists)."""
    section = _elf_section(read_ko(path), ".modinfo") or b""
    info: dict[str, list[str]] = {}
    for item in section.split(b"\0"):
        if b"=" in item:
            k, v = item.decode("utf-8", "replace").split("=", 1)
            info.setdefault(k, []).append(v)
    return info


def _canon(name: str) -> str:
    return name.replace("-", "_")


class ModuleTree:
    """Index of `lib/modules/<release>/kernel/**.ko` by module name."""

    def __init__(self, modules_dir: Path) -> None:
        self.root = Path(modules_dir)
        self._index: dict[str, Path] = {}
        for p in sorted(self.root.rglob("*.ko*")):
            if p.name.endswith((".ko", ".ko.xz")):
                self._index[_canon(p.name.split(".ko")[0])] = p

    def path(self, name: str) -> Path:
        try:
            return self._index[_canon(name)]
        except KeyError:
            raise ModuleError(f"module {name!r} not in {self.root}") from None

    def __contains__(self, name: str) -> bool:
        return _canon(name) in self._index

    def load_order(self, names: list[str]) -> list[str]:
        """`names` and everything they depend on, dependencies first, each once."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str, stack: tuple[str, ...]) -> None:
            name = _canon(name)
            if name in seen:
                return
            if name in stack:
                raise ModuleError(f"dependency cycle: {' -> '.join(stack + (name,))}")
            deps = modinfo(self.path(name)).get("depends", [""])[0]
            for dep in filter(None, deps.split(",")):
                visit(dep, stack + (name,))
            seen.add(name)
            order.append(name)

        for n in names:
            visit(n, ())
        return order
