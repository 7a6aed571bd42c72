"""Small initramfs images: busybox, a scripted /init, and chosen kernel modules."""

from __future__ import annotations

from dataclasses import dataclass, field

from consolewatch.cpio import NewcWriter

from .fetch import Busybox, Kernel
from .modules import ModuleTree, read_ko

#: Prepended to every generated /init: installs busybox applets, mounts the API
#: filesystems, loads the modules listed in /etc/modules.order (insmod prints nothing on
#: success; a failure prints busybox's own error).
PRELUDE = """\
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules.order); do insmod /lib/modules/$m.ko; done
"""


@dataclass
class InitramfsSpec:
    """What goes into one image.

    `init` is the body of /init (after PRELUDE unless `raw_init`); `files` maps absolute
    paths to (content, mode); `busybox=False` leaves busybox out entirely (then nothing can
    run /init's shebang: the "no working init" case).
    """

    init: str
    modules: list[str] = field(default_factory=list)
    files: dict[str, tuple[str | bytes, int]] = field(default_factory=dict)
    busybox: bool = True
    raw_init: bool = False
    init_mode: int = 0o755
    sh_link: bool = True
    """False: no /bin/sh -> busybox link (`files` brings its own /bin/sh)."""
    appended: tuple[bytes, ...] = ()
    """Archives (e.g. `consolewatch netcfg --initrd`'s) concatenated after this one, as a
    bootloader passes several initrds: the kernel unpacks them one after another."""


def init_text(spec: InitramfsSpec) -> str:
    """The exact /init the image carries."""
    return spec.init if spec.raw_init else PRELUDE + spec.init


def build(spec: InitramfsSpec, busybox: Busybox | None, kernel: Kernel | None) -> bytes:
    """gzip-compressed newc archive for `spec`."""
    w = NewcWriter()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "etc", "root", "run", "lib/modules"):
        w.add_dir(d)
    # The kernel opens /dev/console for init's stdio before anything mounts devtmpfs.
    w.add_chardev("dev/console", 5, 1, 0o600)
    w.add_chardev("dev/null", 1, 3, 0o666)
    if spec.busybox:
        if busybox is None:
            raise ValueError("spec needs busybox")
        w.add_file("bin/busybox", busybox.path.read_bytes(), 0o755)
        if spec.sh_link:
            w.add_symlink("bin/sh", "busybox")
    order: list[str] = []
    if spec.modules:
        if kernel is None:
            raise ValueError("spec loads modules: a kernel is needed")
        tree = ModuleTree(kernel.modules_dir)
        order = tree.load_order(spec.modules)
        for name in order:
            w.add_file(f"lib/modules/{name}.ko", read_ko(tree.path(name)), 0o644)
    w.add_file("etc/modules.order", "".join(f"{m}\n" for m in order).encode(), 0o644)
    if "/init" not in spec.files:   # else `files` brings its own /init (a program)
        w.add_file("init", init_text(spec).encode(), spec.init_mode)
    for path, (content, mode) in sorted(spec.files.items()):
        data = content.encode() if isinstance(content, str) else content
        w.add_file(path, data, mode)
    return w.to_gzip() + b"".join(spec.appended)
