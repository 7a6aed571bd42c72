"""The values that flow between stages: fetchers -> store -> normaliser -> engine -> sinks.

Every type here is a frozen dataclass. Fetchers yield `Chunk`, `Frame`, `Gap` and
`SourceUnavailable`; the normaliser turns chunks into `Line`s; the engine turns lines into
`Finding`s and closes each `Boot` with an outcome. Nothing in this module imports a cloud SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, TypeVar

_T = TypeVar("_T")

#: Finding categories (the contract in design.md; every detector declares exactly one).
CATEGORIES: tuple[str, ...] = (
    "network.dhcp.no-lease",
    "network.dhcp.option121-missing",
    "network.no-device",
    "network.static-config-missing",
    "network.metadata-unreachable",
    "disk.root-not-found",
    "disk.driver-missing",
    "disk.fs-error",
    "kernel.panic",
    "kernel.oops",
    "kernel.oom",
    "init.not-found",
    "init.unit-failed",
    "init.emergency-mode",
    "boot.bootloader-error",
    "boot.loop",
    "boot.stall",
    "console.silent",
    "cloudinit.error",
    "unikernel.crash",
    "boot.success",
)

#: Severities, weakest first.
SEVERITIES: tuple[str, ...] = ("info", "warning", "error", "critical")

#: Boot milestones in the order a healthy boot reaches them.
MILESTONES: tuple[str, ...] = (
    "firmware",
    "bootloader",
    "kernel",
    "initramfs",
    "root-mounted",
    "init",
    "network-up",
    "ready",
)

OUTCOMES: tuple[str, ...] = ("success", "failure", "stall", "unknown")

#: Clouds a capture can come from ("unknown" when nothing says).
CLOUDS: tuple[str, ...] = ("aws", "gce", "do", "openstack", "qemu", "azure", "unknown")

Origin = Literal["text", "ocr"]
Outcome = Literal["success", "failure", "stall", "unknown"]


def severity_rank(severity: str) -> int:
    """Position of `severity` in SEVERITIES (unknown names rank below info)."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return -1


def _stores_slots(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an `__init__` that stores each field through its slot's
    descriptor instead of `object.__setattr__(self, name, value)` per field (what a frozen
    dataclass's generated `__init__` does): half the cost of building one, for the types the
    engine makes thousands to tens of thousands of per 100 MB (evidence, findings, milestones,
    boots). Same parameters, defaults and factories; the class stays frozen, equal, hashable
    and picklable exactly as before."""
    params, body, scope = [], [], {}
    for f in fields(cls):  # type: ignore[arg-type]
        n = f.name
        scope[f"_set_{n}"] = getattr(cls, n).__set__
        if f.default is not MISSING:
            scope[f"_dflt_{n}"] = f.default
            params.append(f"{n}=_dflt_{n}")
        elif f.default_factory is not MISSING:
            scope[f"_make_{n}"] = f.default_factory
            params.append(f"{n}=_MISSING")
            body.append(f" if {n} is _MISSING: {n} = _make_{n}()")
        else:
            params.append(n)
        body.append(f" _set_{n}(self, {n})")
    scope["_MISSING"] = MISSING
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), scope)
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    setattr(cls, "__init__", init)  # noqa: B010
    return cls


@dataclass(frozen=True, slots=True)
class Chunk:
    """Raw console bytes as a fetcher received them."""

    source: str
    """Name of the source within the capture, e.g. "serial-1", "console", "file"."""
    data: bytes
    cursor: Any = None
    """Where the next read resumes (a GCE offset, a file position, ...); opaque to the core."""
    received_at: float = 0.0
    """Wall-clock time (epoch seconds) the bytes arrived."""
    kind: Literal["stream", "snapshot"] = "stream"
    """`snapshot` chunks are whole windows (EC2's last 64 KB) to be stitched, not appended."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A picture of the console screen (screenshot, VNC framebuffer, QMP screendump)."""

    source: str
    image: bytes
    media_type: str = "image/png"
    cursor: Any = None
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Gap:
    """Console data that was lost between two reads (a ring buffer wrapped, windows missed)."""

    source: str
    lost_bytes: int | None = None
    received_at: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SourceUnavailable:
    """A source that cannot deliver: a result to show, not an exception."""

    source: str
    reason: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How a source is doing, for status lines: polling, backing off, idle, ended."""

    source: str
    state: str
    """"starting", "streaming", "idle", "backoff", "ended", "error"."""
    detail: str = ""
    poll_interval: float | None = None
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class MachineContext:
    """What the cloud API says about the machine; detectors use it for scope and remediation."""

    source: str
    cloud: str = "unknown"
    hypervisor: str = "unknown"
    """"xen", "nitro", "kvm", "hyperv", "tcg" or "unknown"."""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Free-form facts: instance_type, state, root_device, nic_type, zone, ..."""


SourceEvent = Chunk | Frame | Gap | SourceUnavailable | SourceStatus | MachineContext


@dataclass(frozen=True, slots=True)
class Line:
    """One console line on the timeline, sanitised and ready for rules and sinks."""

    seq: int
    """1-based position on the capture's timeline (for a single text file: its line number)."""
    text: str
    """The line exactly as the console printed it, after sanitising; nothing prepended."""
    source: str = "console"
    boot: int = 0
    guest_time: float | None = None
    """Seconds since kernel start from a printk stamp (`[   12.345678]`), when the line has one."""
    wall_time: float | None = None
    """Epoch seconds from a timestamp printed in the line (syslog, ISO, cloud-init), if any."""
    observed_at: float | None = None
    """Wall-clock time the bytes were received (live capture) or None (offline file)."""
    origin: Origin = "text"
    confidence: float | None = None
    """OCR confidence 0..1 for `origin == "ocr"`; None for text."""
    t: float | None = None
    """Rule clock: seconds on this boot's timeline, from the line's own stamps (normalize.boots)."""


@_stores_slots
@dataclass(frozen=True, slots=True)
class Milestone:
    """A boot stage reached: firmware, bootloader, kernel, initramfs, root-mounted, init, network-up, ready."""

    name: str
    seq: int
    text: str
    time: float | None = None


@_stores_slots
@dataclass(frozen=True, slots=True)
class Evidence:
    """A console line quoted by a finding."""

    seq: int
    text: str
    source: str = "console"
    origin: Origin = "text"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.seq, "text": self.text}


@_stores_slots
@dataclass(frozen=True, slots=True)
class Finding:
    """A detector that fired: what failed, the lines that prove it, and the fix for this cloud."""

    rule: str
    category: str
    severity: str
    title: str
    boot: int
    evidence: tuple[Evidence, ...]
    remediation: str
    context: tuple[Evidence, ...] = ()
    """Lines just before the first evidence line, for reading the evidence in place."""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Values quoted from the evidence (a lease's address and mask, the root device named)."""
    verdict: Literal["failure", "stall", "success", "none"] = "none"
    """What this finding says about its boot's outcome."""
    suppressed_by: str | None = None
    """Rule id of a root cause found in the same boot; the finding stays listed but is not the verdict."""
    description: str = ""
    references: tuple[str, ...] = ()
    occurrences: int = 1
    """How many times the same evidence (numbers masked) repeated in the boot."""
    demoted_from: str | None = None
    """The severity the rule gives, when the boot reached its target despite the finding (or a
    later boot recovered from it): it is then reported as a warning that decides no outcome."""

    @property
    def first_seq(self) -> int:
        return self.evidence[0].seq if self.evidence else 0

    def as_dict(self) -> dict[str, Any]:
        """The `findings[]` object of the analyze JSON contract (plus extra keys)."""
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "title": self.title,
            "boot": self.boot,
            "evidence": [e.as_dict() for e in self.evidence],
            "remediation": self.remediation,
            "context": [e.as_dict() for e in self.context],
            "fields": dict(self.fields),
            "verdict": self.verdict,
            "suppressed_by": self.suppressed_by,
            "description": self.description,
            "references": list(self.references),
            "occurrences": self.occurrences,
            "demoted_from": self.demoted_from,
        }


@_stores_slots
@dataclass(frozen=True, slots=True)
class Boot:
    """One boot of the machine within a capture, closed with its outcome."""

    index: int
    outcome: Outcome
    milestones: tuple[Milestone, ...]
    findings: tuple[Finding, ...]
    first_seq: int
    last_seq: int
    first_text: str = ""
    last_text: str = ""
    reason: str = ""
    """One line saying why the outcome is what it is."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "outcome": self.outcome,
            "reason": self.reason,
            "first_line": self.first_seq,
            "last_line": self.last_seq,
            "milestones": [
                {"name": m.name, "line": m.seq, "time": m.time, "text": m.text} for m in self.milestones
            ],
            "findings": [f.as_dict() for f in self.findings],
        }
