"""When a failure to get an address decides a boot, whichever client reported it.

A DHCP client giving up (udhcpc's "no lease, failing", dhclient's "No DHCPOFFERS received.",
dhcpcd's "timed out", NetworkManager's "request timed out", the kernel's "IP-Config:
Auto-configuration of network failed", a network service failing) or a missing NIC is a report:
the client exits or goes to the background and the boot carries on without an address. Two
principles, the same for every client, say when such a report is not the boot's verdict (it is
kept, at most as a warning that decides nothing):

- The boot got an address anyway (a `network-up` milestone: a lease on another interface, an
  earlier client or stage that configured it). A lease *after* the failure already makes it moot
  (the rules' `superseded_by`); one before it means the failure concerns another interface or a
  second attempt, and the machine has its address.
- The boot died of something else after it: a fatal (critical) failure of another kind that the
  DHCP failure does not explain (init not found, a root device missing, an oops; not a bare
  panic, which may be an init that exited because DHCP failed). The report was
  context; the fatal failure is the verdict. A failure the network one explains (one its rule
  `inhibits`; a root on NFS that cannot be mounted) keeps it as the root cause.

A third holds for a log that shows nothing of the boot: a syslog or journal excerpt (the
client's lines stamped with a date, a host and the program, no milestone, no kernel line with a
printk time stamp), such as a running machine's DHCP client failing to renew. A log file cannot
show the boot stopping there, so the report decides nothing (the people who debugged such
excerpts left the outcome unknown). The client's own output pasted from a console (udhcpc
sending discovers until the capture ends, giving up) is judged as it stands: people who paste a
console stopped at its DHCP client mean the boot stopped there.

A fourth holds for a console that shows the boot carrying on after the report: lines of the
boot follow the failure (`WENT_ON_LINES` or more after its last line and its latest repeat: an
init script "running rc.d services...", units starting) and no other failure or stall after it.
The client gave up and the boot went
on without an address; a capture that then ends, in a program's line, with nothing that stopped
the boot ends before the boot does (unknown, as the people who debugged such consoles left it).
A console cut off at the client's report, or in the kernel's own later messages, is judged as it
stands; so is a boot that came up (a login prompt does not undo the failure).

A login prompt does not undo a network or provisioning failure (`NOT_UNDONE_BY_READY`): a
console's prompt shows the machine up, not reachable. A failure whose rule stops the boot stays
a failure. An error the boot went on past (its rule decides no outcome: OpenRC's net.eth0
failing, the NIC's driver missing, cloud-init's user scripts failing) or a wait still going on
(a stall) leaves a machine that came up neither failed nor a success: **unknown**, up but not
as it was asked to be (`up_unmet`), whichever network category and client reported it, unless
a later line made the failure moot (its rule's `superseded_by`: a lease, the network shown
working) or, for a failure to get an address, the boot got one anyway (the first principle).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from consolewatch.detect import views
from consolewatch.model import severity_rank
from consolewatch.normalize.stamps import split_stamps

if TYPE_CHECKING:
    from consolewatch.detect.bootstate import BootState
    from consolewatch.model import Finding

#: Categories whose failure a ready line does not undo: a login prompt on the console does not
#: prove a cloud machine reachable (its network down, or provisioning without its SSH keys).
NOT_UNDONE_BY_READY = ("network.", "cloudinit.")
#: Failures to get an address or to find a NIC: a report the boot carries on after.
ADDRESS_FAILURES = ("network.dhcp.no-lease", "network.static-config-missing", "network.no-device")
#: Categories whose fatal failure a missing address may have caused, or that say the same thing:
#: a panic alone ("Attempted to kill init!") may be an init that exited because DHCP failed.
_NETWORK_SIDE = ("network.", "cloudinit.", "boot.stall", "console.", "kernel.panic")
#: A root on NFS the kernel could not mount ("VFS: Unable to mount root fs via NFS", the root
#: device 0:255 that stands for NFS in init/do_mounts.c): the network failing, told by the kernel.
_NFS_ROOT = re.compile(r"via NFS|unknown-block\(0,255\)|Root-NFS|\bnfsroot\b")


#: Lines of the boot after a failure to get an address (and after its latest repeat) that show
#: the boot carrying on without one: more than the client's own closing words ("No working leases
#: in persistent database - sleeping.", ifupdown's "Failed to bring up eth0.").
WENT_ON_LINES = 3


def _last_seq(f: Finding) -> int:
    return max((e.seq for e in f.evidence), default=0)


def _went_on(state: BootState, f: Finding, repeats: dict[tuple[str, int], int]) -> bool:
    """Did the boot go on after `f`: `WENT_ON_LINES` lines or more after its last line and latest
    repeat, the last of them a program's (no printk time stamp: the kernel's own messages, a
    clocksource switching, go on whether or not user space does)?"""
    last = max(_last_seq(f), repeats.get((f.rule, f.first_seq), 0))
    return (state.last is not None and state.last.seq - last >= WENT_ON_LINES
            and split_stamps(state.last.text).guest_time is None)


def _fatal_after(f: Finding, findings: list[Finding]) -> bool:
    """Did the boot die of something else after `f`: a critical failure of another kind, seen
    after `f`'s last line, that `f` does not explain (is not muted by `f`'s rule, is not a root
    on NFS that could not be mounted without the network)?"""
    last = _last_seq(f)
    return any(
        g.verdict == "failure" and g.severity == "critical" and not g.category.startswith(_NETWORK_SIDE)
        and g.suppressed_by != f.rule and _last_seq(g) > last
        and not any(_NFS_ROOT.search(e.text) for e in g.evidence)
        for g in findings)


def _decided_after(f: Finding, findings: list[Finding]) -> bool:
    """Does another failure or stall quote a line after `f`'s last one (the boot did not simply go
    on: what followed stopped it, and `f` may be its cause)?"""
    last = _last_seq(f)
    return any(g is not f and g.verdict in ("failure", "stall") and _last_seq(g) > last for g in findings)


def not_the_verdict(state: BootState, findings: list[Finding]) -> list[int]:
    """Indexes in `findings` of the deciding failures to get an address that are not the boot's
    verdict (to be reported as warnings): the boot got an address anyway, or died of something
    else after it, or a syslog excerpt shows nothing of the boot."""
    if not any(f.category in ADDRESS_FAILURES for f in findings):
        return []
    addressed = "network-up" in state.milestones
    bare = views.log_excerpt(state)  # nothing of the boot in view
    return [i for i, f in enumerate(findings)
            if f.category in ADDRESS_FAILURES and f.verdict in ("failure", "stall")
            and (addressed or (bare and views.logged(f)) or _fatal_after(f, findings))]


def went_on(state: BootState, findings: list[Finding]) -> list[int]:
    """Indexes in `findings` of the failures to get an address (a client that gave up, a NIC not
    found) that the boot went on after (`WENT_ON_LINES` lines of the boot after it): they decide
    nothing, at their severity (a boot that then came up is up but not reachable: `up_unmet`).
    Not a stall: a client still retrying prints between other lines, and a wait the boot went on
    past is judged by its progress (sieves.gone_past). Said of a boot the capture closed: while a
    follow is live (`judge(live=True)`) the capture has not ended, and a gate ends on the failure."""
    if state.ready or not any(f.category in ADDRESS_FAILURES for f in findings):
        return []  # a boot that came up: a login prompt does not undo the failure (NOT_UNDONE_BY_READY)
    again = {(state.findings[i].rule, state.findings[i].first_seq): seq for i, seq in state.repeated_at.items()}
    return [i for i, f in enumerate(findings)
            if f.category in ADDRESS_FAILURES and f.verdict == "failure" and _went_on(state, f, again)
            and not _decided_after(f, findings)]


def up_unmet(state: BootState, findings: list[Finding]) -> Finding | None:
    """The network or provisioning error that leaves a boot that came up unknown, if any: one of
    a category a login prompt does not undo, at error severity or above, that decides nothing
    (its rule's verdict is none, or the boot went on past it) or still waits (a stall), and was
    not demoted (a warning). Not a failure to get an address in a boot that got one anyway (a
    `network-up` milestone: another interface, an earlier stage). What a later lease or the
    network working made moot was dropped before (sieves.superseded)."""
    addressed = "network-up" in state.milestones
    error = severity_rank("error")
    for f in findings:
        if (f.category.startswith(NOT_UNDONE_BY_READY) and f.verdict in ("none", "stall") and f.demoted_from is None
                and severity_rank(f.severity) >= error and not (addressed and f.category in ADDRESS_FAILURES)):
            return f
    return None
