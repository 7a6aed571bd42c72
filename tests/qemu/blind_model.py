"""The model of the blind-set QEMU scenarios (blind_scenarios.py): what a scenario injects, how
its boot ends, and its annotation."""

from __future__ import annotations

from dataclasses import dataclass, field

from guestkit.initramfs import InitramfsSpec
from guestkit.runner import StopRule
from scenarios import GETTY, READY, DiskSpec

THREAD = "local QEMU boot by consolewatch developers"
VIRTIO_DISK = ["virtio_blk", "virtio_pci"]


@dataclass(frozen=True)
class Action:
    """A monitor command sent once the serial console matches `after` (+ `delay` s):
    `qmp` names a QMP command without arguments, else `hmp` is a human-monitor line."""

    after: str
    hmp: str = ""
    qmp: str = ""
    delay: float = 0.0


@dataclass
class BlindScenario:
    name: str
    title: str
    family: str
    injected: str
    append: str
    kernel: str = "cloud"                     # cloud | generic
    initramfs: InitramfsSpec | None = None
    host_programs: dict[str, str] = field(default_factory=dict)  # this machine's -> guest path
    package_files: dict[str, list[str]] = field(default_factory=dict)  # package -> paths
    initrd_drop: list[str] = field(default_factory=list)  # guest paths left out (a library)
    loose_modules: list[str] = field(default_factory=list)  # at /lib/extra/NAME.ko, not loaded
    initrd_padding_mb: int = 0                # an archive of zeros before the image
    initrd_overwrite: int = 0                 # the image's first N bytes overwritten (0x5a)
    root_disk: DiskSpec | None = None
    root_links: dict[str, str] = field(default_factory=dict)  # symlinks replacing root files
    data: str | None = None                   # a guestkit.datadisk builder, or "xfs-pair"
    data_interface: str = "virtio"
    extra_disks: list[tuple[str, str]] = field(default_factory=list)  # (builder, interface)
    root_hotplug: bool = False                # root disk only as -drive if=none,id=late:
                                              # an Action's device_add attaches it later
    no_kernel: bool = False                   # no -kernel: SeaBIOS boots the disks
    network: str = "none"   # none | user | isolated | gce (| gce-no-router | gce-no-121)
    dnsmasq_args: list[str] = field(default_factory=list)  # more dnsmasq options (gce*)
    metadata: str = "up"    # gce*: up | down (nothing listens) | hang (accepts, never answers)
                            # | error | forbidden | garbage | slow (netns.FAULTY_HTTP_MODES)
    data_blkdebug: str = ""  # a QEMU blkdebug config: the data disk's I/O errors
    data_options: str = ""   # more -drive options for the data disk (throttling.*)
    nic_rom: bool = False                     # keep the NIC's iPXE option ROM (QEMU's own)
    qemu_args: list[str] = field(default_factory=list)  # e.g. -bios OVMF.fd, a watchdog
    # files made in the boot's work directory before QEMU starts (a TFTP root, an EFI system
    # partition for QEMU's fat: driver, a copy of a UEFI variable store): relative path ->
    # text/bytes, a Path to copy, or a function returning either; "$WORK" in qemu_args names
    # that directory
    work_files: dict[str, object] = field(default_factory=dict)
    memory_mb: int = 256
    actions: list[Action] = field(default_factory=list)
    stop: list[StopRule] = field(default_factory=list)
    ends: tuple[str, ...] = ("stop-rule",)    # acceptable ways for the boot to end
    timeout: float = 40.0
    screen: bool = False                      # also write samples/blind/qemu-screens cases
    excerpt: int = 0                          # also write a partial-views case: last N lines
    excerpt_head: bool = False                # ... the FIRST N lines instead (a capture cut short)
    excerpt_outcome: str = ""                 # the excerpt's outcome, if not `outcome`
    # the annotation (from the fault injected)
    outcome: str = "failure"
    categories: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    screen_evidence: dict[str, list[str]] = field(default_factory=dict)
    screen_outcome: str = ""                  # the last screen's outcome, if not `outcome`
    excerpt_evidence: dict[str, list[str]] = field(default_factory=dict)
    notes: str = ""
    half: str = "holdout"                     # study | holdout, for a scenario not yet recorded


def panic_stop(settle: float = 1.0) -> list[StopRule]:
    return [StopRule(r"---\[ end Kernel panic", settle=settle)]


LOGIN = [StopRule(r"login: ", settle=1.0)]
READY_THEN_GETTY = f"echo {READY}; {GETTY}\n"
