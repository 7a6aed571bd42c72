"""Instance status for the GCE fetcher: stops, restarts and the end of a follow.

instances.get every `status_every` seconds while the instance runs (every `poll_min` while it
starts or stops): a stop reads every port's final output and ends the follow, or with
`wait_restart` waits for the instance to run again; a restart is a new boot read from offset 0
(GCE wipes the serial buffer on a stop), marked by a `Gap`. A vanished instance ends the follow;
transient faults back off.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from consolewatch.fetchers.gce_api import DOWN, GOING_DOWN, classify, machine_context
from consolewatch.model import Gap, MachineContext, SourceEvent, SourceStatus

if TYPE_CHECKING:
    from consolewatch.fetchers.gce import _Run


async def check_status(run: _Run) -> list[SourceEvent]:
    mono = time.monotonic()
    try:
        inst = await run.call("get", project=run.t.project, zone=run.t.zone, instance=run.t.name)
        ctx = machine_context(inst, run.t, run.o.ports, run.subnet)
    except Exception as exc:  # noqa: BLE001 - classified below
        failure = classify(exc)
        if failure.kind == "not-found":
            run.ended = True
            return [SourceStatus(p.source, "ended", f"the instance is gone: {failure.message}", None,
                                 time.time()) for p in run.ports]
        if failure.kind not in ("transient", "invalid"):
            raise run.fatal(failure) from None
        run.status_failures += 1
        delay = run.backoff(run.status_failures, failure.retry_after)
        run.status_due = mono + delay
        return [SourceStatus("instance", "backoff", f"{failure.message}; retry in {delay:.1f} s", delay,
                             time.time())]
    run.status_failures = 0
    status, started = ctx.fields["status"], ctx.fields["last_start"]
    if status == "RUNNING":
        run.status_due = mono + run.o.status_every
        moved = bool(started and run.last_start and started != run.last_start)
        run.last_start = started or run.last_start
        if run.power == "down":
            return restart(run, ctx)
        run.power = "running"
        # Started again without a stop being seen (a reset, or a stop/start between two checks):
        # the positions tell whether the buffer was wiped (they go back), so carry on.
        return [ctx] if moved else []
    if status in GOING_DOWN or status not in DOWN:  # STOPPING, or PROVISIONING/STAGING on the way up
        if status in GOING_DOWN:
            run.power = "stopping"
        run.status_due = mono + run.o.poll_min
        return []
    if run.power == "down":
        run.status_due = mono + run.o.poll_max
        return []
    out: list[SourceEvent] = [ctx]
    run.power = "stopping"
    for p in run.ports:  # final output, if GCE still serves it
        if not p.done:
            out += await run.read_port(p, final=True)
    if not run.o.wait_restart:
        return out + end(run, f"the instance is {status}")
    run.power = "down"
    run.status_due = mono + run.o.poll_max
    return out + [SourceStatus(p.source, "idle", f"the instance is {status}; waiting for it to start again "
                                                 f"(read up to offset {p.cursor})", run.o.poll_max, time.time())
                  for p in run.ports]


def end(run: _Run, why: str) -> list[SourceEvent]:
    run.ended = True
    out: list[SourceEvent] = [SourceStatus("screen", "ended", why, None, time.time())] if run.screen_on else []
    return out + [SourceStatus(p.source, "ended", f"{why}; output read up to offset {p.cursor}", None,
                               time.time()) for p in run.ports]


def restart(run: _Run, ctx: MachineContext) -> list[SourceEvent]:
    """A new boot: GCE's buffers start again at 0; say what may have been lost in between."""
    out: list[SourceEvent] = [ctx]
    now, mono = time.time(), time.monotonic()
    run.power = "running"
    for p in run.ports:
        if p.cursor is None:  # nothing read before the restart: no break to mark
            p.cursor, p.due = 0, mono
            continue
        lost = 0 if p.drained else None
        out.append(Gap(p.source, lost, now, f"the instance was stopped and started again ({ctx.fields['last_start']})"
                                           f": GCE wiped the serial buffer after offset {p.cursor}; "
                                           "the new boot is read from 0"))
        p.cursor, p.due, p.interval, p.drained, p.shown = 0, mono, run.o.poll_min, False, None
        out += run.shown(p, "streaming", "instance restarted: reading the new boot from offset 0")
    run.screen_due = mono
    run.last_image = b""
    return out
