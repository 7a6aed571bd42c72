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
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from consolewatch.detect import views

if TYPE_CHECKING:
    from consolewatch.detect.bootstate import BootState
    from consolewatch.model import Finding

#: Failures to get an address or to find a NIC: a report the boot carries on after.
ADDRESS_FAILURES = ("network.dhcp.no-lease", "network.static-config-missing", "network.no-device")
#: Categories whose fatal failure a missing address may have caused, or that say the same thing:
#: a panic alone ("Attempted to kill init!") may be an init that exited because DHCP failed.
_NETWORK_SIDE = ("network.", "cloudinit.", "boot.stall", "console.", "kernel.panic")
#: A root on NFS the kernel could not mount ("VFS: Unable to mount root fs via NFS", the root
#: device 0:255 that stands for NFS in init/do_mounts.c): the network failing, told by the kernel.
_NFS_ROOT = re.compile(r"via NFS|unknown-block\(0,255\)|Root-NFS|\bnfsroot\b")


def _last_seq(f: Finding) -> int:
    return max((e.seq for e in f.evidence), default=0)


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

