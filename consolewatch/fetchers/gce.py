"""Follow a Compute Engine VM: serial ports 1-4, screenshots and what instances.get says.

`GceFetcher(Target("gce", "PROJECT/ZONE/NAME", options)).stream(cursors=..., follow=...)` yields

1. `MachineContext("instance", cloud="gce", hypervisor="kvm", fields=...)` first: status,
   machine type, NIC type (GVNIC / VIRTIO_NET), boot disk interface and root device name, the boot
   disk's guest OS features, metadata flags (serial-port-enable, ...), display device, nic0's
   address and its subnetwork's range and gateway (one subnetworks.get; when it is refused the
   gateway is just unknown). Again after a restart.
2. Per serial port (source "serial-N"): `Chunk(kind="stream", cursor=next)` with the bytes
   `getSerialPortOutput` returned, `Gap(lost_bytes=start - requested)` when GCE's 1 MB ring
   wrapped before the bytes were read, and `SourceStatus` on changes (starting, streaming,
   idle, backoff, error, ended), each with the poll interval.
3. Source "screen": `Frame(media_type="image/png")` from `getScreenshot` every
   `screenshots` seconds (unchanged images are skipped) when the instance has a display
   device; otherwise one `SourceUnavailable` saying how to enable it.

Cursors: a port's cursor is the byte offset `next` returned by the API (an int). `cursors=
{"serial-1": N}` resumes at N: nothing before N is repeated, and if GCE no longer holds N the
`Gap` says how many bytes are gone. Without a cursor a port starts at the oldest byte GCE still
holds (since="start") or at the current end (since="now": one read with a negative start, the
API's "most recent bytes", positions the cursor). Offsets count bytes of the serial stream, as
the API documents; `contents` is a string, so a chunk's data is `contents` encoded as UTF-8, and
positions are always taken from `start`/`next`, never from the length of `contents` (they
differ when the guest printed bytes that are not UTF-8).

Polling is adaptive: every `poll_min` seconds while output flows (at once when a read came
back near-full), stretching by 1.5x per empty read to `poll_max`. 429, 5xx, timeouts and
connection resets back off with jitter (up to `backoff_cap`) and the same `start` is asked
again, so nothing is lost to a fault. Permission denied, unknown project/zone/instance and
bad requests raise `FetchError` with one line. A stop ends the follow after the final output
(`SourceStatus("ended")`); with `wait_restart` the fetcher waits for the instance to run again
and follows the new boot from offset 0 (a stop wipes the buffer), marking the break with a
`Gap`. See `gce_api` for the options, the endpoint and credentials.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from consolewatch.fetchers.base import Fetcher, FetchError, Target
from consolewatch.fetchers.gce_api import (
    DOWN,
    GOING_DOWN,
    Failure,
    GceOptions,
    GceTarget,
    classify,
    credentials_for,
    cursor_of,
    endpoint_of,
    fatal_error,
    machine_context,
    make_client,
    parse_options,
    resolve_target,
    subnetwork_of,
)
from consolewatch.fetchers.gce_screen import screenshot
from consolewatch.fetchers.gce_status import check_status
from consolewatch.fetchers.ratelimit import throttle
from consolewatch.model import Chunk, Gap, SourceEvent, SourceStatus, SourceUnavailable

__all__ = ["GceFetcher"]

#: A read that returned at least this much may have more waiting: read again at once.
HURRY_BYTES = 512 << 10


class GceFetcher(Fetcher):
    kind = "gce"

    def __init__(self, target: Target, *, env: Mapping[str, str] | None = None, credentials: Any = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(target)
        self.env = os.environ if env is None else env
        self.credentials = credentials
        self.rng = rng or random.Random()
        self.calls: Counter[str] = Counter()
        """API calls made, per client method (for status lines and the benchmark)."""

    async def stream(self, *, cursors: Mapping[str, Any] | None = None,
                     follow: bool = True) -> AsyncGenerator[SourceEvent, None]:
        opts = parse_options(self.target.options)
        endpoint = endpoint_of(opts, self.env)
        # the target's form first: a malformed one is said before credentials are looked for
        resolve_target(self.target.address, self.target.options, self.env, "adc-project")
        creds, adc_project = ((self.credentials, None) if self.credentials is not None
                              else await asyncio.to_thread(credentials_for, endpoint))
        target = resolve_target(self.target.address, self.target.options, self.env, adc_project)
        client = await asyncio.to_thread(make_client, endpoint, creds, opts.max_response)
        subnets = functools.partial(make_client, endpoint, creds, opts.max_response, "SubnetworksClient")
        run = _Run(self, client, target, opts, cursors or {}, follow, subnets)
        try:
            async for event in run.events():
                yield event
        finally:
            for c in (client, run.subnets):
                close = getattr(getattr(c, "transport", None), "close", None)
                if close is not None:
                    close()


@dataclass(eq=False)
class _Port:
    """Polling state of one serial port (internal, mutable)."""

    number: int
    cursor: int | None
    interval: float
    due: float = 0.0
    failures: int = 0
    invalid: int = 0
    shown: tuple[str, float] | None = None
    done: bool = False
    read_ok: bool = False
    drained: bool = False
    """The last read after the instance began to stop came back empty: nothing was left."""

    @property
    def source(self) -> str:
        return f"serial-{self.number}"


class _Run:
    """One `stream()` call: the schedule of port reads, screenshots and status checks."""

    def __init__(self, fetcher: GceFetcher, client: Any, target: GceTarget, opts: GceOptions,
                 cursors: Mapping[str, Any], follow: bool, make_subnets: Any = None) -> None:
        self.f, self.client, self.t, self.o, self.follow = fetcher, client, target, opts, follow
        self.make_subnets = make_subnets
        self.subnets: Any = None
        self.subnet: Any = None
        """subnetworks.get of nic0's subnetwork (its range and gateway), once; None if refused."""
        self.ports = [_Port(n, cursor_of(cursors.get(f"serial-{n}")), opts.poll_min) for n in opts.ports]
        self.power = "running"
        self.last_start = ""
        self.screen_on = False
        self.screen_due = 0.0
        self.screen_failures = 0
        self.last_image = b""
        self.status_due = 0.0
        self.status_failures = 0
        self.ended = False

    # -- plumbing ----------------------------------------------------------------------------

    async def call(self, method: str, **kw: Any) -> Any:
        self.f.calls[method] += 1
        await throttle(self.f.target)  # the per-provider limit shared by a whole `watch`
        return await asyncio.to_thread(getattr(self.client, method), retry=None, timeout=self.o.timeout, **kw)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter (half to all of the ceiling), at least Retry-After."""
        ceiling = min(self.o.backoff_cap, self.o.backoff_initial * 2 ** max(0, attempt - 1))
        delay = self.f.rng.uniform(ceiling / 2, ceiling)
        return max(delay, min(retry_after, self.o.backoff_cap)) if retry_after else delay

    def fatal(self, failure: Failure) -> FetchError:
        return fatal_error(self.t, failure)

    async def subnetwork(self, inst: Any) -> Any:
        """nic0's subnetwork (for its gateway), asked once; a failure only leaves it unknown."""
        where = subnetwork_of(inst)
        if where is None or self.make_subnets is None:
            return None
        try:
            self.subnets = self.subnets or await asyncio.to_thread(self.make_subnets)
            self.f.calls["subnetworks.get"] += 1
            await throttle(self.f.target)
            project, region, name = where
            return await asyncio.to_thread(self.subnets.get, project=project, region=region, subnetwork=name,
                                           retry=None, timeout=self.o.timeout)
        except Exception:  # noqa: BLE001 - the gateway stays unknown; the console is what matters
            return None

    async def instance(self) -> AsyncIterator[Any]:
        """instances.get, retried on transient faults (yields status events, then the Instance)."""
        attempt = 0
        while True:
            try:
                inst = await self.call("get", project=self.t.project, zone=self.t.zone, instance=self.t.name)
            except Exception as exc:  # noqa: BLE001 - classified below
                failure = classify(exc)
                attempt += 1
                if (failure.kind not in ("transient", "invalid") or (not self.follow and attempt >= self.o.retries)
                        or (failure.kind == "invalid" and attempt >= self.o.max_invalid)):
                    raise self.fatal(failure) from None
                delay = self.backoff(attempt, failure.retry_after)
                yield SourceStatus("instance", "backoff", f"{failure.message}; retry {attempt} in {delay:.1f} s",
                                   delay, time.time())
                await asyncio.sleep(delay)
                continue
            yield inst
            return

    # -- the schedule ------------------------------------------------------------------------

    async def events(self) -> AsyncGenerator[SourceEvent, None]:
        inst = None
        async for item in self.instance():
            if isinstance(item, SourceStatus):
                yield item
            else:
                inst = item
        self.subnet = await self.subnetwork(inst)
        ctx = machine_context(inst, self.t, self.o.ports, self.subnet)
        yield ctx
        self.last_start = ctx.fields["last_start"]
        status = ctx.fields["status"]
        for p in self.ports:
            where = f"offset {p.cursor}" if p.cursor is not None else (
                "the current end" if self.o.since == "now" else "the oldest byte GCE holds")
            yield SourceStatus(p.source, "starting", f"serial port {p.number} of {self.t} from {where}",
                               self.o.poll_min, time.time())
        if self.o.screenshots is not None:
            if ctx.fields["display_device"] == "true":
                self.screen_on = True
            else:
                yield SourceUnavailable(
                    "screen", "the instance has no display device, so GCE cannot take screenshots",
                    f"gcloud compute instances update {self.t.name} --zone {self.t.zone} --enable-display-device "
                    "(the instance must be stopped first)")
        if status not in ("RUNNING", *GOING_DOWN):
            # Stopped: wait only when asked to. On its way up (PROVISIONING, STAGING): a follow waits.
            if not self.follow or (status in DOWN and not self.o.wait_restart):
                for p in self.ports:
                    yield SourceUnavailable(
                        p.source, f"the instance is {status}: GCE serves serial output only while it runs",
                        "start it, follow with --wait-restart, or set metadata serial-port-logging-enable=true "
                        "to keep serial output in Cloud Logging")
                return
            self.power = "down"
            for p in self.ports:
                yield SourceStatus(p.source, "idle", f"the instance is {status}; waiting for it to run",
                                   self.o.poll_max, time.time())
        elif status in GOING_DOWN:
            self.power = "stopping"
        if not self.follow:
            async for event in self.once():
                yield event
            return
        self.status_due = time.monotonic() + {"down": 0.0, "stopping": self.o.poll_min}.get(self.power, self.o.status_every)
        while not self.ended:
            jobs: list[tuple[float, str, Any]] = [(self.status_due, "status", None)]
            if self.power != "down":
                jobs += [(p.due, "port", p) for p in self.ports if not p.done]
                if self.screen_on:
                    jobs.append((self.screen_due, "screen", None))
            if all(p.done for p in self.ports) and not self.screen_on:
                return
            due, kind, port = min(jobs, key=lambda j: j[0])
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            batch = (await self.read_port(port) if kind == "port" else
                     await screenshot(self) if kind == "screen" else await check_status(self))
            for event in batch:
                yield event

    async def once(self) -> AsyncGenerator[SourceEvent, None]:
        """follow=False: read every port once (retrying transient faults a few times), one screenshot."""
        if self.power == "down":
            return
        for p in self.ports:
            while not (p.read_ok or p.done):
                for event in await self.read_port(p):
                    yield event
                if p.failures >= self.o.retries:
                    raise FetchError(f"{self.t}: serial port {p.number}: gave up after {p.failures} attempts")
                if not (p.read_ok or p.done):
                    await asyncio.sleep(max(0.0, p.due - time.monotonic()))
        if self.screen_on:
            for event in await screenshot(self):
                yield event

    # -- serial ports --------------------------------------------------------------------------

    async def read_port(self, p: _Port, *, final: bool = False) -> list[SourceEvent]:
        positioning = p.cursor is None and self.o.since == "now"
        start = -1 if positioning else (p.cursor or 0)
        request = {"project": self.t.project, "zone": self.t.zone, "instance": self.t.name,
                   "port": p.number, "start": start}
        try:
            resp = await self.call("get_serial_port_output", request=request)
            first, nxt = int(resp.start), int(resp.next_)
            if first < 0 or nxt < first:
                raise ValueError(f"impossible positions in the answer: start={first} next={nxt}")
            data = resp.contents.encode("utf-8", "replace")
        except Exception as exc:  # noqa: BLE001 - classified below
            return [] if final else self.port_failed(p, classify(exc))
        now, mono = time.time(), time.monotonic()
        p.failures = p.invalid = 0
        p.read_ok = True
        out: list[SourceEvent] = []
        if positioning:
            p.cursor, data = nxt, b""
        elif first > start:
            why = ("GCE's 1 MB serial buffer had wrapped before following began" if start == 0 else
                   "GCE's 1 MB serial buffer wrapped between two reads")
            out.append(Gap(p.source, first - start, now, f"{why}: bytes {start}..{first - 1} were overwritten"))
        elif first < start:
            if nxt < start:
                out.append(Gap(p.source, None, now, f"the serial position went back from {start} to {nxt}: "
                                                    "the buffer was wiped (instance restarted); reading it from 0"))
                p.cursor, p.due = 0, mono
                return out
            data = data[start - first:]  # bytes this fetcher already has
        p.cursor = nxt
        if self.power != "running":
            p.drained = not data
        if data:
            out.append(Chunk(p.source, data, cursor=nxt, received_at=now))
            p.interval = self.o.poll_min
            p.due = mono if nxt - max(first, start) >= HURRY_BYTES else mono + p.interval
            state = "streaming"
        else:
            p.interval = min(self.o.poll_max, p.interval * 1.5) if p.shown and p.shown[0] == "idle" else p.interval
            p.due = mono + p.interval
            state = "idle"
        out += self.shown(p, state, f"read up to offset {nxt}" if data else f"no new output after offset {nxt}")
        return out

    def shown(self, p: _Port, state: str, detail: str) -> list[SourceEvent]:
        """A SourceStatus when the port's state or poll interval changed."""
        key = (state, round(p.interval, 2))
        if p.shown == key:
            return []
        p.shown = key
        return [SourceStatus(p.source, state, detail, p.interval, time.time())]

    def port_failed(self, p: _Port, failure: Failure) -> list[SourceEvent]:
        mono = time.monotonic()
        if failure.kind in ("not-ready", "not-found"):
            # The instance stopped (or went away): the status check decides what follows.
            p.failures += 1
            if not self.follow:
                p.done = True
                return [SourceUnavailable(p.source, f"serial port {p.number}: {failure.message}",
                                          "GCE serves serial output only while the instance runs")]
            self.status_due = min(self.status_due, mono)
            p.due = mono + p.interval
            return []
        if failure.kind == "invalid":
            p.invalid += 1
            if p.invalid >= self.o.max_invalid:
                p.done = True
                return [SourceUnavailable(p.source, f"GCE sent {p.invalid} unreadable answers in a row for serial "
                                                    f"port {p.number}: {failure.message}",
                                          "check CONSOLEWATCH_GCE_ENDPOINT; retry later"),
                        SourceStatus(p.source, "ended", failure.message, None, time.time())]
        elif failure.kind != "transient":
            raise self.fatal(failure)
        p.failures += 1
        delay = self.backoff(p.failures + p.invalid, failure.retry_after)
        p.due = mono + delay
        p.shown = ("backoff", round(delay, 2))
        state = "error" if failure.kind == "invalid" else "backoff"
        return [SourceStatus(p.source, state, f"{failure.message}; retry {p.failures} in {delay:.1f} s",
                             delay, time.time())]

