"""The initramfs that hands a guest its network configuration, and the GRUB entry that passes it.

`archive(files)` is a gzip-compressed newc cpio archive (consolewatch.cpio) of `files`
(archive path -> (bytes, mode)), byte-for-byte reproducible: entries sorted by path (parent
directories first), mtimes 0, uid/gid 0, inode numbers in order, gzip header without time or
name. The kernel unpacks every archive in the initrd it is given, one after another, so this one
rides after an image's own initramfs (GRUB: `initrd /boot/initrd.img /boot/netcfg.cpio.gz`) and
adds `/etc/network/interfaces` to it.

`grub_entry(cfg, ...)` is the `menuentry` with the cloud's disk naming (`root=`) and its serial
console (`console=ttyS0,115200`; on DigitalOcean, which has no serial output, the screen too).
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from consolewatch.cpio import NewcWriter
from consolewatch.netcfg.addressing import NetConfig, NetcfgError

INTERFACES_PATH = "etc/network/interfaces"
#: ifup runs the scripts in these before and after each interface (run-parts); busybox's ifup
#: gives up when one is missing, so the archive brings them (empty) with the file.
HOOK_DIRS = tuple(f"etc/network/if-{stage}.d" for stage in ("pre-up", "up", "down", "post-down"))
_BOOT_PATH = re.compile(r"^/[A-Za-z0-9._+/-]{1,255}$")
_TITLE = re.compile(r"^[\w .,:()+/-]{1,80}$")


def archive(files: Mapping[str, tuple[bytes, int]], dirs: Sequence[str] = HOOK_DIRS) -> bytes:
    """`files` (path -> (data, mode)) and empty `dirs` as one reproducible .cpio.gz (paths
    relative to the root, no `..`)."""
    w = NewcWriter()
    entries = [(path, files.get(path)) for path in {*files, *dirs}]
    for path, item in sorted(entries, key=lambda e: e[0].strip("/").split("/")):
        try:
            if item is None:
                w.add_dir(path)
            else:
                w.add_file(path, item[0], item[1] & 0o7777)
        except ValueError as exc:
            raise NetcfgError(f"{path!r}: {exc}") from None
    return w.to_gzip()


def _boot_path(path: str, what: str) -> str:
    if not _BOOT_PATH.match(path) or "/../" in path + "/" or "//" in path:
        raise NetcfgError(f"{what} {path!r} must be an absolute path of letters, digits and ._+-/")
    return path


def grub_entry(cfg: NetConfig, *, kernel: str, initrds: Sequence[str], title: str) -> str:
    """A GRUB menuentry (with the serial terminal set up) that boots `kernel` with `initrds`."""
    if not _TITLE.match(title):
        raise NetcfgError(f"menu title {title!r}: use letters, digits, spaces and .,:()+/-")
    paths = [_boot_path(p, "initrd") for p in initrds]
    consoles = "console=ttyS0,115200" + (" console=tty0" if cfg.cloud == "do" else "")
    return "\n".join([
        "serial --unit=0 --speed=115200",
        "terminal_input serial console",
        "terminal_output serial console",
        f"menuentry '{title}' {{",
        f"    linux {_boot_path(kernel, 'kernel')} root={cfg.root_device} ro {consoles}",
        f"    initrd {' '.join(paths)}",
        "}",
    ])
