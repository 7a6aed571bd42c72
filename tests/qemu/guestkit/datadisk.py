"""Data disks with file-system faults a machine meets after its root is up: an ext4 whose
superblock magic is gone, an ext4 larger than its block device, an ext4 that fsck must repair,
two disks holding the same XFS file system, and one half of a two-device Btrfs RAID1; and disks
the firmware meets (blank, boot sectors that hang or triple-fault, an MBR without its boot
signature, a blank floppy), and an XFS on a whole disk for a root.

Every builder writes raw images (sparse where the tools allow) and returns what it did, for
meta.yaml. Tools: e2fsprogs (mke2fs, debugfs), xfsprogs (mkfs.xfs), btrfs-progs (mkfs.btrfs).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from . import disk

#: Fixed identities, so the kernel lines naming them are the same on every re-recording.
XFS_UUID = "c0501e00-0000-4000-8000-0000000000a1"
BTRFS_UUID = "c0501e00-0000-4000-8000-0000000000b1"
EXT4_MAGIC_OFFSET = 1024 + 0x38   # s_magic in the primary superblock


def _tool(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/sbin/{name}" if Path(f"/sbin/{name}").exists() else None)
    if not path:
        raise disk.DiskError(f"{name} not found (Debian package {package})")
    return path


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise disk.DiskError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")


def _ext4_with_files(image: Path, size_mb: int, files: dict[str, tuple[bytes | str, int]]) -> None:
    with tempfile.TemporaryDirectory(prefix="cw-data-") as tmp:
        root = Path(tmp)
        disk.populate(root, files)
        disk.mkfs_ext4(image, size_mb, root, label="data")


DATA_FILES = {"/app/config": ("listen=0.0.0.0:8080\n", 0o644),
              "/app/state/journal": ("0" * 4096, 0o644)}


def ext4_data(image: Path, size_mb: int = 32) -> dict:
    """A healthy ext4 data file system."""
    _ext4_with_files(image, size_mb, DATA_FILES)
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "data", "corruption": None}


def ext4_bad_magic(image: Path, size_mb: int = 32) -> dict:
    """An ext4 data file system whose primary superblock magic (0xEF53) is zeroed."""
    _ext4_with_files(image, size_mb, DATA_FILES)
    disk.overwrite(image, EXT4_MAGIC_OFFSET, b"\0\0")
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "data",
            "corruption": {"what": "s_magic of the primary superblock zeroed (backup "
                                   "superblocks intact)", "offset": EXT4_MAGIC_OFFSET,
                           "length": 2}}


def ext4_larger_than_device(image: Path, fs_mb: int = 64, device_mb: int = 32) -> dict:
    """An ext4 made for fs_mb, on an image cut to device_mb (a grown-then-shrunk volume)."""
    _ext4_with_files(image, fs_mb, DATA_FILES)
    with open(image, "r+b") as fh:
        fh.truncate(device_mb << 20)
    return {"filesystem": "ext4", "label": "data", "fs_size_mb": fs_mb,
            "device_size_mb": device_mb,
            "corruption": {"what": f"file system made for {fs_mb} MB, block device "
                                   f"truncated to {device_mb} MB"}}


def ext4_needs_fsck(image: Path, size_mb: int = 32) -> dict:
    """An ext4 data file system with the inode of /app/config overwritten and the superblock
    marked as having errors (what the kernel does when it meets one), so fsck -p checks it
    and refuses to repair it alone."""
    _ext4_with_files(image, size_mb, DATA_FILES)
    info = disk.corrupt_inode(image, "/app/config")
    _run([_tool("tune2fs", "e2fsprogs"), "-E", "force_fsck", str(image)])
    info["superblock"] = "state set to 'clean with errors' (tune2fs -E force_fsck)"
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "data", "corruption": info}


def _mkfs_xfs(image: Path, size_mb: int) -> None:
    image.unlink(missing_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(size_mb << 20)
    _run([_tool("mkfs.xfs", "xfsprogs"), "-q", "-f", "-L", "data", "-m", f"uuid={XFS_UUID}",
          str(image)])


def xfs_pair(first: Path, second: Path, size_mb: int = 320) -> dict:
    """Two disks carrying one XFS file system (a cloned volume attached next to its source)."""
    _mkfs_xfs(first, size_mb)
    _run(["cp", "--sparse=always", str(first), str(second)])
    return {"filesystem": "xfs", "size_mb": size_mb, "label": "data", "fs_uuid": XFS_UUID,
            "fault": "the second disk is a block-for-block copy of the first (same UUID)"}


def xfs_whole(image: Path, size_mb: int = 320) -> dict:
    """An XFS file system on the whole disk (no partition table)."""
    _mkfs_xfs(image, size_mb)
    return {"filesystem": "xfs", "size_mb": size_mb, "label": "data", "fs_uuid": XFS_UUID,
            "partitioned": False}


def btrfs_raid1_half(kept: Path, size_mb: int = 160) -> dict:
    """The first device of a two-device Btrfs RAID1 (data and metadata); the second device is
    made, then left out of the machine."""
    with tempfile.TemporaryDirectory(prefix="cw-btrfs-") as tmp:
        other = Path(tmp) / "second.img"
        for img in (kept, other):
            img.unlink(missing_ok=True)
            with open(img, "wb") as fh:
                fh.truncate(size_mb << 20)
        _run([_tool("mkfs.btrfs", "btrfs-progs"), "-q", "-f", "-L", "data", "-U", BTRFS_UUID,
              "-d", "raid1", "-m", "raid1", str(kept), str(other)])
    return {"filesystem": "btrfs", "profile": "raid1 (data and metadata), 2 devices",
            "size_mb_each": size_mb, "fs_uuid": BTRFS_UUID,
            "fault": "only devid 1 is attached; devid 2 is missing"}


def blank(image: Path, size_mb: int = 16) -> dict:
    """A disk of zeros: no partition table, no boot signature."""
    image.unlink(missing_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(size_mb << 20)
    return {"contents": "zeros (no MBR, no boot signature)", "size_mb": size_mb}


#: 16-bit boot-sector code (loaded by the BIOS at 0x7c00):
#: cli; lidt [0x7c07] (a 6-byte descriptor of zeros: IDT limit 0); int3 -> #GP -> triple fault
TRIPLE_FAULT = bytes.fromhex("fa0f011e077ccc") + bytes(6)
#: cli; hlt; jmp back to the hlt: a boot sector that never returns and never prints
HANG = bytes.fromhex("faf4ebfd")


def _boot_sector(image: Path, code: bytes, size_mb: int) -> None:
    image.unlink(missing_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(size_mb << 20)
        fh.write(code.ljust(510, b"\0") + b"\x55\xaa")


def boot_triple_fault(image: Path, size_mb: int = 16) -> dict:
    """A disk whose MBR boot code loads an empty interrupt table and traps: the CPU
    triple-faults and the machine resets (as a corrupt boot loader does)."""
    _boot_sector(image, TRIPLE_FAULT, size_mb)
    return {"contents": "MBR with the boot signature; boot code " + TRIPLE_FAULT[:7].hex()
            + " (cli; lidt of a zero-limit table; int3): a triple fault", "size_mb": size_mb}


def boot_hang(image: Path, size_mb: int = 16) -> dict:
    """A disk whose MBR boot code halts with interrupts off: nothing after the BIOS."""
    _boot_sector(image, HANG, size_mb)
    return {"contents": "MBR with the boot signature; boot code " + HANG.hex()
            + " (cli; hlt; jmp): a boot loader that hangs silently", "size_mb": size_mb}


def mbr_no_signature(image: Path, size_mb: int = 16) -> dict:
    """A disk whose MBR has a partition table (one Linux partition at 1 MiB, marked active)
    and boot code, but whose boot signature (0x55AA at offset 510) is zeroed."""
    _boot_sector(image, HANG, size_mb)
    entry = (b"\x80\xfe\xff\xff\x83\xfe\xff\xff" + (2048).to_bytes(4, "little")
             + ((size_mb << 11) - 4096).to_bytes(4, "little"))
    disk.overwrite(image, 446, entry)
    disk.overwrite(image, 510, b"\0\0")
    return {"contents": "MBR with one active Linux partition and boot code, boot signature "
            "zeroed (bytes 510-511 = 00 00)", "size_mb": size_mb}


def floppy_blank(image: Path) -> dict:
    """A 1.44 MB floppy image of zeros (no boot sector)."""
    image.unlink(missing_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(1474560)
    return {"contents": "zeros (no boot sector)", "size": "1440 KiB floppy"}


EXT4_CSUM_OFFSET = 1024 + 0x3FC   # s_checksum (crc32c of the superblock, metadata_csum)
EXT4_UNKNOWN_INCOMPAT = 0x40000   # an incompat bit Linux 6.1 does not define
BTRFS_SUPER = 64 << 10            # the primary Btrfs superblock
BTRFS_LABEL_OFFSET = BTRFS_SUPER + 0x12B


def ext4_bad_checksum(image: Path, size_mb: int = 32) -> dict:
    """An ext4 data file system (metadata_csum, mke2fs's default) whose primary superblock
    checksum no longer matches (four bytes of s_checksum inverted; backups intact)."""
    _ext4_with_files(image, size_mb, DATA_FILES)
    with open(image, "rb") as fh:
        fh.seek(EXT4_CSUM_OFFSET)
        old = fh.read(4)
    disk.overwrite(image, EXT4_CSUM_OFFSET, bytes(b ^ 0xFF for b in old))
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "data",
            "corruption": {"what": "s_checksum of the primary superblock inverted (the "
                                   "superblock's crc32c no longer matches)",
                           "offset": EXT4_CSUM_OFFSET, "length": 4}}


def ext4_unknown_feature(image: Path, size_mb: int = 32) -> dict:
    """An ext4 data file system whose superblock carries an incompatible-feature bit this
    kernel does not know (as a disk formatted by a newer mke2fs does); debugfs sets it and
    keeps the superblock checksum valid."""
    _ext4_with_files(image, size_mb, DATA_FILES)
    with open(image, "rb") as fh:
        fh.seek(1024 + 0x60)                       # s_feature_incompat
        incompat = int.from_bytes(fh.read(4), "little")
    value = incompat | EXT4_UNKNOWN_INCOMPAT
    _run([_tool("debugfs", "e2fsprogs"), "-w", "-R", f"ssv feature_incompat {value:#x}",
          str(image)])
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "data",
            "fault": f"s_feature_incompat {incompat:#x} -> {value:#x} (bit "
                     f"{EXT4_UNKNOWN_INCOMPAT:#x}, unknown to Linux 6.1, set with debugfs ssv)"}


def btrfs_bad_checksum(image: Path, size_mb: int = 160) -> dict:
    """A single-device Btrfs data file system whose primary superblock has one byte of its
    label changed after mkfs (its checksum no longer matches)."""
    image.unlink(missing_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(size_mb << 20)
    _run([_tool("mkfs.btrfs", "btrfs-progs"), "-q", "-f", "-L", "data", "-U", BTRFS_UUID,
          str(image)])
    disk.overwrite(image, BTRFS_LABEL_OFFSET, b"D")
    return {"filesystem": "btrfs", "size_mb": size_mb, "label": "data", "fs_uuid": BTRFS_UUID,
            "corruption": {"what": "first byte of the label in the primary superblock "
                                   "changed ('d' -> 'D') after mkfs: its checksum no longer "
                                   "matches", "offset": BTRFS_LABEL_OFFSET, "length": 1}}


SEED_FILES = {"/user-data": ("#cloud-config\nhostname: web-1\n", 0o644)}


def nocloud_seed_no_metadata(image: Path, size_mb: int = 8) -> dict:
    """A NoCloud seed disk (file system labelled cidata) holding user-data but no meta-data
    (a seed built with one file left out)."""
    with tempfile.TemporaryDirectory(prefix="cw-seed-") as tmp:
        root = Path(tmp)
        disk.populate(root, SEED_FILES)
        disk.mkfs_ext4(image, size_mb, root, label="cidata")
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "cidata",
            "files": sorted(SEED_FILES), "fault": "no /meta-data on the seed"}


def _seed(image: Path, files: dict, label: str, size_mb: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cw-seed-") as tmp:
        root = Path(tmp)
        disk.populate(root, files)
        disk.mkfs_ext4(image, size_mb, root, label=label)


#: a JSON provisioning config cut off mid-object (a template rendered with a value missing)
BROKEN_CONFIG = '{\n  "hostname": "web-1",\n  "users": [ {"name": "deploy", "groups": ["sudo"] }\n  "runcmd": ["systemctl start app"]\n}\n'


def seed_config_broken_json(image: Path, size_mb: int = 8) -> dict:
    """A seed disk (label cidata) whose JSON user-data lacks a comma between two members."""
    files = {"/meta-data": ("instance-id: i-0c0501e\n", 0o644),
             "/user-data": (BROKEN_CONFIG, 0o644)}
    _seed(image, files, "cidata", size_mb)
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "cidata", "files": sorted(files),
            "fault": "user-data is JSON with a comma missing after the users array"}


def seed_wrong_label(image: Path, size_mb: int = 8) -> dict:
    """A complete NoCloud seed whose file system is labelled config-2 (an OpenStack config
    drive's label), not cidata."""
    files = {"/meta-data": ("instance-id: i-0c0501e\n", 0o644), **SEED_FILES}
    _seed(image, files, "config-2", size_mb)
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "config-2", "files": sorted(files),
            "fault": "labelled config-2 instead of cidata"}


#: a user-data script whose package step fails (apt-get is not on this image)
USER_SCRIPT = "#!/bin/sh\nset -e\napt-get install -y nginx\necho installed\n"


def seed_user_script(image: Path, size_mb: int = 8) -> dict:
    """A NoCloud seed (label cidata) whose user-data is a shell script that fails."""
    files = {"/meta-data": ("instance-id: i-0c0501e\n", 0o644), "/user-data": (USER_SCRIPT, 0o644)}
    _seed(image, files, "cidata", size_mb)
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "cidata", "files": sorted(files),
            "user-data": USER_SCRIPT}


def xfs_root_inode_corrupt(image: Path, size_mb: int = 320) -> dict:
    """An XFS (v5, CRCs) data file system whose root directory inode has its magic zeroed by
    xfs_db without updating its CRC (a torn write)."""
    _mkfs_xfs(image, size_mb)
    _run([_tool("xfs_db", "xfsprogs"), "-x", "-c", "inode 128", "-c", "write -d core.magic 0",
          str(image)])
    return {"filesystem": "xfs", "size_mb": size_mb, "label": "data", "fs_uuid": XFS_UUID,
            "corruption": "root inode (128): di_magic written 0 with xfs_db "
                          "'write -d core.magic 0' (CRC left stale)"}


def ext4_needs_recovery(image: Path, size_mb: int = 32) -> dict:
    """An ext4 data file system flagged as having a journal to replay (needs_recovery), as a
    snapshot of a mounted volume is."""
    _ext4_with_files(image, size_mb, DATA_FILES)
    _run([_tool("debugfs", "e2fsprogs"), "-w", "-R", "feature needs_recovery", str(image)])
    return {"filesystem": "ext4", "size_mb": size_mb, "label": "data",
            "fault": "incompat feature needs_recovery set with debugfs (journal not replayed)"}


BUILDERS = {
    "mbr-no-signature": mbr_no_signature,
    "floppy-blank": floppy_blank,
    "xfs": xfs_whole,
    "boot-triple-fault": boot_triple_fault,
    "boot-hang": boot_hang,
    "ext4-data": ext4_data,
    "ext4-bad-magic": ext4_bad_magic,
    "ext4-larger-than-device": ext4_larger_than_device,
    "ext4-needs-fsck": ext4_needs_fsck,
    "btrfs-raid1-half": btrfs_raid1_half,
    "blank": blank,
    "ext4-bad-checksum": ext4_bad_checksum,
    "ext4-unknown-feature": ext4_unknown_feature,
    "btrfs-bad-checksum": btrfs_bad_checksum,
    "nocloud-seed-no-metadata": nocloud_seed_no_metadata,
    "seed-config-broken-json": seed_config_broken_json,
    "seed-wrong-label": seed_wrong_label,
    "seed-user-script": seed_user_script,
    "xfs-root-inode-corrupt": xfs_root_inode_corrupt,
    "ext4-needs-recovery": ext4_needs_recovery,
}
