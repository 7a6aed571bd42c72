"""Debian kernel and busybox packages, downloaded and extracted into a cache outside the repo.

`apt-get download` fetches the `.deb` (no install, nothing touches the system), `dpkg-deb -x`
unpacks it. The cache is `$CONSOLEWATCH_QEMU_CACHE`, default `~/.cache/consolewatch-qemu`.
Which concrete kernel package is used follows the meta package (`linux-image-cloud-amd64`
depends on `linux-image-6.1.0-NN-cloud-amd64`) unless pinned with
`CONSOLEWATCH_QEMU_KERNEL_CLOUD` / `CONSOLEWATCH_QEMU_KERNEL_GENERIC`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

META_PACKAGES = {"cloud": "linux-image-cloud-amd64", "generic": "linux-image-amd64"}
PIN_ENV = {"cloud": "CONSOLEWATCH_QEMU_KERNEL_CLOUD", "generic": "CONSOLEWATCH_QEMU_KERNEL_GENERIC"}
BUSYBOX_PACKAGE = "busybox-static"


class FetchError(RuntimeError):
    pass


def cache_dir() -> Path:
    env = os.environ.get("CONSOLEWATCH_QEMU_CACHE")
    path = Path(env) if env else Path.home() / ".cache" / "consolewatch-qemu"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One process at a time downloads/extracts (pytest-xdist, parallel captures)."""
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], **kw) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise FetchError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _candidate_version(package: str) -> str:
    out = _run(["apt-cache", "show", "--no-all-versions", package])
    m = re.search(r"^Version: (\S+)", out, re.M)
    if not m:
        raise FetchError(f"apt-cache knows no version of {package} (run apt-get update?)")
    return m.group(1)


def resolve_kernel_package(flavour: str) -> str:
    """The concrete linux-image-<release> package for 'cloud' or 'generic'."""
    pinned = os.environ.get(PIN_ENV[flavour])
    if pinned:
        return pinned
    meta = META_PACKAGES[flavour]
    out = _run(["apt-cache", "depends", "--no-recommends", "--no-suggests", meta])
    suffix = "-cloud-amd64" if flavour == "cloud" else "-amd64"
    for m in re.finditer(r"Depends: (linux-image-\S+)", out):
        name = m.group(1)
        if name.endswith(suffix) and (flavour == "cloud" or "-cloud-" not in name):
            return name.removesuffix("-unsigned")
    raise FetchError(f"cannot resolve {meta} to a kernel package: {out!r}")


def _download_and_extract(package: str) -> tuple[Path, str]:
    """Extracted tree of `package` at its candidate version; reuses the cache."""
    root = cache_dir()
    with _locked(root):
        index_file = root / "index.json"
        index = json.loads(index_file.read_text()) if index_file.exists() else {}
        try:
            version = _candidate_version(package)
        except FetchError:
            # Offline or no apt lists: fall back to whatever the cache holds.
            if package in index and (root / index[package]["dir"]).is_dir():
                return root / index[package]["dir"], index[package]["version"]
            raise
        safe = re.sub(r"[^A-Za-z0-9.+-]", "_", f"{package}_{version}")
        dest = root / "extract" / safe
        if not (dest / ".complete").exists():
            debs = root / "debs"
            debs.mkdir(exist_ok=True)
            _run(["apt-get", "download", "-o", "APT::Sandbox::User=root",
                  f"{package}={version}"], cwd=debs)
            matches = sorted(debs.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
            if not matches:
                raise FetchError(f"apt-get download {package} left no .deb in {debs}")
            deb = matches[-1]
            (root / "extract").mkdir(exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".x-", dir=root / "extract"))
            try:
                _run(["dpkg-deb", "-x", str(deb), str(tmp)])
                if dest.exists():
                    shutil.rmtree(dest)
                tmp.rename(dest)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
            (dest / ".complete").write_text(f"{package} {version}\n")
            # The .deb is not needed once extracted; drop it to keep the cache small.
            for old in debs.glob(f"{package}_*.deb"):
                old.unlink()
        index[package] = {"version": version, "dir": str(dest.relative_to(root))}
        index_file.write_text(json.dumps(index, indent=1, sort_keys=True))
        return dest, version


@dataclass(frozen=True)
class Kernel:
    flavour: str          # "cloud" or "generic"
    package: str          # linux-image-6.1.0-NN-cloud-amd64
    version: str          # Debian package version, e.g. 6.1.192-2
    release: str          # uname -r, e.g. 6.1.0-56-cloud-amd64
    vmlinuz: Path
    modules_dir: Path
    config_path: Path

    def config(self, option: str) -> str | None:
        """Value of CONFIG_<option> ('y', 'm', a string) or None when unset."""
        key = f"CONFIG_{option}="
        for line in self.config_path.read_text().splitlines():
            if line.startswith(key):
                return line[len(key):]
        return None


@dataclass(frozen=True)
class Busybox:
    package: str
    version: str
    path: Path


_kernels: dict[str, Kernel] = {}
_busybox: list[Busybox] = []


def kernel(flavour: str = "cloud") -> Kernel:
    if flavour not in META_PACKAGES:
        raise ValueError(f"unknown kernel flavour {flavour!r}")
    if flavour not in _kernels:
        package = resolve_kernel_package(flavour)
        tree, version = _download_and_extract(package)
        boot = tree / "boot"
        vmlinuz = sorted(boot.glob("vmlinuz-*"))
        if not vmlinuz:
            raise FetchError(f"{package} has no boot/vmlinuz-*")
        release = vmlinuz[0].name.removeprefix("vmlinuz-")
        _kernels[flavour] = Kernel(
            flavour=flavour, package=package, version=version, release=release,
            vmlinuz=vmlinuz[0], modules_dir=tree / "lib" / "modules" / release,
            config_path=boot / f"config-{release}",
        )
    return _kernels[flavour]


def busybox() -> Busybox:
    if not _busybox:
        tree, version = _download_and_extract(BUSYBOX_PACKAGE)
        path = tree / "bin" / "busybox"
        if not path.exists():
            raise FetchError(f"{BUSYBOX_PACKAGE} has no bin/busybox")
        _busybox.append(Busybox(BUSYBOX_PACKAGE, version, path))
    return _busybox[0]


def package(name: str) -> tuple[Path, str]:
    """Extracted tree and version of any Debian package (programs a guest runs, such as a
    DHCP client), fetched the same way as the kernels."""
    return _download_and_extract(name)
