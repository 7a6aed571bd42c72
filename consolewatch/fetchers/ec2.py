"""The EC2 fetcher (`aws:[REGION/]i-...`): console output, screenshots, the serial console.

What `Ec2Fetcher.stream()` yields, in order:

1. `MachineContext` (cloud "aws"): DescribeInstances + DescribeInstanceTypes. The hypervisor
   comes from DescribeInstanceTypes' `Hypervisor` ("nitro"/"xen"; bare metal counts as
   nitro) because DescribeInstances says "xen" for Nitro too; without permission for that
   call, from the instance family. Fields: instance_type, state, root_device (and
   root_device_name), block_devices, image_id, zone/availability_zone, region, platform,
   platform_details, virtualization_type, architecture, launch_time, nic_type,
   hypervisor_source, private_ipv4, subnet_id and subnet_cidr (DescribeSubnets, once; unknown
   when refused) with the addressing consolewatch.netcfg derives (ipv4_address, ...). Sent
   again when the state changes.
2. `SourceStatus("console", ...)`: starting, streaming, idle, backoff, ended; `poll_interval`;
   for Xen the detail says the output is posted only around state changes.
3. `Chunk("console", kind="stream")`: the bytes new in each GetConsoleOutput window
   (stitched, `normalize.stitch`), exact bytes (boto3's lossy UTF-8 decoding is switched off
   for this client). `cursor` = {"v": 1, "tail": base64 of the last 1 KB of the stream,
   "timestamp": EC2's Timestamp (ISO) or null, "via": "output"|"serial"}; pass it back in
   `cursors={"console": ...}` and a restarted fetcher emits nothing twice.
   `Gap("console", lost_bytes=None)` when two windows did not overlap or the buffer was cleared.
4. `Frame("screen", media_type="image/jpeg")` from GetConsoleScreenshot every `screenshots`
   seconds (doubling up to 6x while the picture stays the same), and soon after the console
   output or the state changes; identical pictures are not repeated.
5. With `serial_console`: the EC2 serial console (SSH, port 0) is spliced into the same
   "console" stream while it is connected (see `ec2_serial`).
6. `SourceUnavailable` ("screen" or "serial") when a source cannot work, with a hint.

Options (`target.options`, strings accepted): region, profile, poll (min seconds between
polls: 2 Nitro, 5 Xen), poll_max (30 Nitro, 60 Xen), screenshots (seconds, 0/off/None to
disable; default 10), wakeup (GetConsoleScreenshot WakeUp), latest (force Latest on/off),
since ("start": everything EC2 keeps; "now": skip what is already on the console),
wait_restart (keep following a stopped instance until it runs again; else a stop ends the
follow like a termination), final_wait (posted output: seconds to wait after a stop or
termination for EC2 to post the final output, default 30),
state_poll (DescribeInstances every N s, default 15), serial_console (opt-in), serial_endpoint
(host:port, or CONSOLEWATCH_EC2_SERIAL_ENDPOINT), serial_known_hosts (a known_hosts file, or
"none"; CONSOLEWATCH_EC2_SERIAL_KNOWN_HOSTS), retries (botocore attempts per call, default 3),
backoff (first delay, 1 s), backoff_max (60), max_errors (consecutive failed calls before
giving up, default 10).

`follow=False` (report on a machine that already failed): one DescribeInstances, one
GetConsoleOutput, one screenshot, then `SourceStatus("ended")`. A terminated instance (or a
stopped one without wait_restart) gives its final output and ends the follow.

Errors the user must fix raise `FetchError` (one line): no or expired credentials, unknown
instance or wrong region, no permission, unreachable endpoint at start. Throttling and 5xx
back off exponentially with jitter and say so in a `SourceStatus("backoff")`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from consolewatch.fetchers.base import FetchError, Target
from consolewatch.fetchers.ec2_api import Problem, Unsupported, classify, console_bytes, hypervisor_for_type
from consolewatch.fetchers.queued import END, QueuedFetcher
from consolewatch.fetchers.ratelimit import throttle
from consolewatch.model import Chunk, Gap, MachineContext, SourceStatus
from consolewatch.netcfg import with_assigned
from consolewatch.normalize.stitch import SnapshotStitcher

CURSOR_TAIL = 1024
XEN_DETAIL = ("Xen: EC2 posts console output only around state changes (start, stop, reboot), "
              "so it can lag minutes behind the machine")
_LATEST_REFUSED = {"UnsupportedOperation", "InvalidParameterCombination", "InvalidParameterValue",
                   "InvalidParameter", "UnsupportedInstanceType"}


def _opt_float(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return default if value else 0.0
    if str(value).lower() in ("off", "no", "false", "none"):
        return 0.0
    if str(value).lower() in ("on", "yes", "true"):
        return default
    return max(0.0, float(value))


def _opt_bool(value: Any, default: bool | None) -> bool | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "on", "yes", "true")


class Ec2Fetcher(QueuedFetcher):
    kind = "aws"
    label = "EC2"
    unsupported = Unsupported

    def __init__(self, target: Target, *, sleep: Callable[[float], Awaitable[None]] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(target)
        o = dict(target.options)
        self.instance_id = target.address.rpartition("/")[2]
        self.region = o.get("region") or os.environ.get("AWS_REGION") or None
        self.profile = o.get("profile") or None
        self.poll = o.get("poll")
        self.poll_max = o.get("poll_max")
        self.screenshots = 0.0 if "screenshots" in o and o["screenshots"] is None else \
            _opt_float(o.get("screenshots"), 10.0)
        self.wakeup = bool(_opt_bool(o.get("wakeup"), False))
        self.latest_opt = _opt_bool(o.get("latest"), None)
        self.state_poll = _opt_float(o.get("state_poll"), 15.0) or 15.0
        self.serial_console = bool(_opt_bool(o.get("serial_console"), False))
        self.wait_restart = bool(_opt_bool(o.get("wait_restart"), False))
        self.since_now = o.get("since") == "now"
        self.final_wait = _opt_float(o.get("final_wait"), 30.0)
        self.options = o
        self.retries = int(o.get("retries") or 3)
        self.backoff_max = _opt_float(o.get("backoff_max"), 60.0) or 60.0
        self.max_errors = int(o.get("max_errors") or 10)
        self.backoff_base = _opt_float(o.get("backoff"), 1.0) or 1.0
        self._sleep = sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self.ec2: Any = None
        self.connect_client: Callable[[], Any] | None = None
        self._instance_connect: Any = None
        self.endpoint: str | None = None
        self.hypervisor = "unknown"
        self.state = "unknown"
        self.latest = False
        self.stitcher = SnapshotStitcher()
        self.lock = asyncio.Lock()
        """Held while a console window or the serial splice is stitched and emitted."""
        self.serial_live = False
        self.changed = asyncio.Event()
        """Set when the console output changed (screenshots follow) or the state changed."""
        self.wake = asyncio.Event()
        self.ended = False
        self.ending: float | None = None
        """Wall time the follow was told to end (terminated, or stopped without wait_restart)."""
        self._posted_at: float | None = None
        self.api_calls = 0
        self.last_image: bytes | None = None
        self.bad_images = 0
        self._timestamp: str | None = None
        self.subnet_cidr = ""
        """The CIDR block of the instance's subnet (DescribeSubnets, once), for its addressing."""

    def _seed(self, cursor: Any) -> None:
        if isinstance(cursor, Mapping) and isinstance(cursor.get("tail"), str):
            try:
                tail = base64.b64decode(cursor["tail"], validate=True)
            except ValueError:
                tail = b""
            self.stitcher = SnapshotStitcher(seed=tail)
            self._timestamp = cursor.get("timestamp") if isinstance(cursor.get("timestamp"), str) else None

    def cursor(self, via: str = "output") -> dict[str, Any]:
        tail = base64.b64encode(self.stitcher.tail(CURSOR_TAIL)).decode()
        return {"v": 1, "tail": tail, "timestamp": self._timestamp, "via": via}

    async def _run(self, follow: bool) -> None:
        await self._connect()
        inst = await self.call("console", "describe_instances", attempts=3, fatal_first=True,
                               InstanceIds=[self.instance_id])
        await self.emit(await self._context(inst))
        nitro = self.hypervisor == "nitro"
        self.latest = self.latest_opt if self.latest_opt is not None else nitro
        self.poll_min = max(0.001, _opt_float(self.poll, 2.0 if nitro else 5.0))
        self.poll_top = max(self.poll_min, _opt_float(self.poll_max, 30.0 if nitro else 60.0))
        detail = f"{self.itype} ({self.hypervisor}) in {self.zone}, {self.state}; " + (
            "GetConsoleOutput Latest=true" if self.latest else XEN_DETAIL)
        await self.emit(SourceStatus("console", "starting", detail, self.poll_min, time.time()))
        if self.since_now and not self.stitcher.reference and follow and not self._down(self.state):
            await self._skip_existing()
        if not follow or self._down(self.state):
            await self.poll_console(attempts=3)
            if self.screenshots and self.state == "running":
                from consolewatch.fetchers.ec2_screen import screenshot_once

                await screenshot_once(self, attempts=2)
            await self.emit(SourceStatus("console", "ended", f"instance is {self.state}" if follow else
                                         "fetched the console output once", None, time.time()))
            await self.emit(END)
            return
        self.spawn(self._state_loop)
        if self.screenshots:
            from consolewatch.fetchers.ec2_screen import screen_loop

            self.spawn(lambda: screen_loop(self))
        if self.serial_console:
            from consolewatch.fetchers.ec2_serial import serial_loop

            self.spawn(lambda: serial_loop(self))
        await self._console_loop()

    async def problem_backoff(self, source: str, problem: Problem, failures: int) -> None:
        await self.backoff(source, problem.message, failures,
                           waiting="backing off" if problem.kind == "throttle" else "retrying in")

    def _down(self, state: str) -> bool:
        """A state that ends the follow: terminated, or stopped unless waiting for a restart."""
        return state in ("terminated", "shutting-down") or (state == "stopped" and not self.wait_restart)

    async def _skip_existing(self) -> None:
        """since=now: take the current window as already seen."""
        resp = await self.call("console", "get_console_output", attempts=3, InstanceId=self.instance_id,
                               **({"Latest": True} if self.latest else {}))
        data, _ = console_bytes(resp)
        self.stitcher.feed(data)
        await self.emit(SourceStatus("console", "streaming", f"following from now: skipped the {len(data)} bytes "
                                     "already on the console", self.poll_min, time.time()))

    # -- AWS calls ------------------------------------------------------------------------

    async def _connect(self) -> None:
        from consolewatch.fetchers.ec2_api import make_clients

        try:
            self.ec2, self.connect_client, _ = await asyncio.to_thread(
                make_clients, self.region, profile=self.profile, retries=self.retries)
            self.region = self.ec2.meta.region_name
            self.endpoint = self.ec2.meta.endpoint_url
        except Exception as exc:
            raise FetchError(classify(exc, instance_id=self.instance_id, region=self.region, endpoint=None,
                                      action="DescribeInstances").message) from None

    async def instance_connect(self) -> Any:
        """The EC2 Instance Connect client (serial console keys): made on first use, then kept."""
        if self._instance_connect is None:
            if self.connect_client is None:
                raise FetchError(f"{self.instance_id}: EC2 Instance Connect asked for before connecting")
            self._instance_connect = await asyncio.to_thread(self.connect_client)
        return self._instance_connect

    async def call(self, source: str, method: str, *, attempts: int | None = None, fatal_first: bool = False,
                   **kw: Any) -> dict[str, Any]:
        """One API call, retried with exponential backoff and jitter on throttling and
        transient errors (reported as SourceStatus backoff); FetchError when it must stop;
        `Unsupported` with the problem for errors the caller handles ("unsupported")."""
        action = "".join(p.title() for p in method.split("_"))
        limit = attempts or self.max_errors
        failures = 0
        while True:
            try:
                self.api_calls += 1
                await throttle(self.target)  # the per-provider limit shared by a whole `watch`
                return await asyncio.to_thread(getattr(self.ec2, method), **kw)
            except Exception as exc:
                problem = classify(exc, instance_id=self.instance_id, region=self.region,
                                   endpoint=self.endpoint, action=action)
            if fatal_first and problem.kind == "transient" and "cannot reach" in problem.message:
                raise FetchError(problem.message)
            if problem.kind == "fatal":
                raise FetchError(problem.message)
            if problem.kind == "unsupported":
                raise Unsupported(problem)
            failures += 1
            if failures >= limit:
                raise FetchError(f"{problem.message} (gave up after {failures} attempts)")
            await self.problem_backoff(source, problem, failures)

    async def _context(self, resp: dict[str, Any]) -> MachineContext:
        try:
            inst = resp["Reservations"][0]["Instances"][0]
        except (KeyError, IndexError, TypeError):
            raise FetchError(f"instance {self.instance_id} was not found in region {self.region}: check the "
                             "instance id and the region (aws:REGION/i-..., AWS_REGION)") from None
        self.itype = str(inst.get("InstanceType", "unknown"))
        source = "DescribeInstanceTypes"
        try:
            info = (await self.call("console", "describe_instance_types", attempts=2,
                                    InstanceTypes=[self.itype]))["InstanceTypes"][0]
            hv = info.get("Hypervisor") or ("nitro" if info.get("BareMetal") else None)
        except (FetchError, Unsupported, KeyError, IndexError, TypeError):
            hv, source = None, "instance family"
        if hv is None:
            hv = hypervisor_for_type(self.itype) or "nitro"
            source = "instance family" if source != "DescribeInstanceTypes" else "bare metal"
        self.hypervisor = hv if hv in ("xen", "nitro") else "unknown"
        self.subnet_cidr = await self._subnet_cidr(inst)
        return self._describe(inst, source)

    async def _subnet_cidr(self, inst: dict[str, Any]) -> str:
        """The CIDR block of the instance's subnet (DescribeSubnets), "" when refused or absent."""
        if not inst.get("SubnetId"):
            return ""
        try:
            resp = await self.call("console", "describe_subnets", attempts=2, SubnetIds=[str(inst["SubnetId"])])
            return str(resp["Subnets"][0].get("CidrBlock") or "")
        except (FetchError, Unsupported, KeyError, IndexError, TypeError):
            return ""

    def _describe(self, inst: dict[str, Any], source: str) -> MachineContext:
        self.state = str((inst.get("State") or {}).get("Name", "unknown"))
        self.zone = str((inst.get("Placement") or {}).get("AvailabilityZone", ""))
        self._instance = inst
        devices = [str(b.get("DeviceName", "")) for b in inst.get("BlockDeviceMappings") or []]
        launch = inst.get("LaunchTime")
        fields = {
            "instance_id": self.instance_id, "instance_type": self.itype, "state": self.state,
            "root_device": str(inst.get("RootDeviceName", "")), "root_device_name": str(inst.get("RootDeviceName", "")),
            "block_devices": ",".join(devices), "image_id": str(inst.get("ImageId", "")),
            "zone": self.zone, "availability_zone": self.zone, "region": str(self.region or ""),
            "platform": str(inst.get("Platform") or "linux"), "platform_details": str(inst.get("PlatformDetails", "")),
            "virtualization_type": str(inst.get("VirtualizationType", "")),
            "architecture": str(inst.get("Architecture", "")),
            "launch_time": launch.isoformat() if isinstance(launch, datetime) else str(launch or ""),
            "nic_type": "ena" if inst.get("EnaSupport") else "",
            "hypervisor_source": source,
            "private_ipv4": str(inst.get("PrivateIpAddress") or ""), "subnet_id": str(inst.get("SubnetId") or ""),
            "subnet_cidr": self.subnet_cidr,
        }
        self._hv_source = source
        return with_assigned(MachineContext("console", cloud="aws", hypervisor=self.hypervisor, fields=fields))

    # -- console output -------------------------------------------------------------------

    async def poll_console(self, attempts: int | None = None) -> bool:
        """One GetConsoleOutput, stitched and emitted; True when it held new bytes."""
        async with self.lock:
            if self.serial_live:
                return False
            return await self.poll_console_locked(attempts)

    async def poll_console_locked(self, attempts: int | None = None) -> bool:
        kw: dict[str, Any] = {"InstanceId": self.instance_id}
        if self.latest:
            kw["Latest"] = True
        failures = 0
        while True:
            try:
                resp = await self.call("console", "get_console_output", attempts=attempts, **kw)
            except Unsupported as exc:
                if self.latest and exc.problem.code in _LATEST_REFUSED:
                    self.latest = False
                    kw.pop("Latest", None)
                    await self.emit(SourceStatus("console", "streaming", "EC2 refused Latest=true for this "
                                                 "instance: using the posted console output", self.poll_min,
                                                 time.time()))
                    continue
                raise FetchError(exc.problem.message) from None
            data, note = console_bytes(resp)
            if note and not data:  # not base64: a broken response, retried like a 5xx
                failures += 1
                if failures >= (attempts or self.max_errors):
                    raise FetchError(f"{note} (gave up after {failures} attempts)")
                await self.backoff("console", note, failures)
                continue
            break
        ts = resp.get("Timestamp")
        if isinstance(ts, datetime):
            self._timestamp, self._posted_at = ts.isoformat(), ts.timestamp()
        if note:
            await self.emit(SourceStatus("console", "error", note, None, time.time()))
        new, gap = self.stitcher.feed(data)
        now = time.time()
        if gap is not None:
            await self.emit(Gap("console", gap.lost_bytes, now, gap.message))
        if new:
            await self.emit(Chunk("console", new, self.cursor("output"), now, "stream"))
            self.changed.set()
        return bool(new)

    async def _console_loop(self) -> None:
        interval, shown = self.poll_min, None
        while True:
            if self.serial_live and self.ending is None:
                await self._wait(self.wake, self.poll_top)
                interval = self.poll_min
                continue
            ending = self.ending
            changed = await self.poll_console()
            if ending is not None and (self.latest or self.final_wait <= 0 or time.time() - ending >= self.final_wait
                                       or (self._posted_at or 0) >= ending - 1):
                self.ended = True
                await self.emit(SourceStatus("console", "ended", f"instance is {self.state}: final output read",
                                             None, time.time()))
                await self.emit(END)
                return
            if ending is not None:  # posted output: wait for the post that follows the state change
                await self._sleep(self.poll_min)
                continue
            interval = self.poll_min if changed else min(interval * 2, self.poll_top)
            state = "streaming" if changed else "idle"
            if (state, interval) != shown:
                detail = ("new output" if changed else "no new output") + f"; polling every {interval:g} s"
                if self.hypervisor == "xen" and not self.latest:
                    detail += "; " + XEN_DETAIL
                await self.emit(SourceStatus("console", state, detail, interval, time.time()))
                shown = (state, interval)
            if await self._wait(self.wake, interval):
                interval = self.poll_min

    async def _wait(self, event: asyncio.Event, timeout: float) -> bool:
        """Sleep `timeout` (through the injectable sleep) or until `event`; True if woken."""
        if event.is_set():
            event.clear()
            return True
        waiter = asyncio.create_task(event.wait())
        sleeper = asyncio.ensure_future(self._sleep(timeout))  # any awaitable, not only a coroutine
        done, pending = await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        woken = waiter in done
        if woken:
            event.clear()
        return woken

    # -- instance state -------------------------------------------------------------------

    async def _state_loop(self) -> None:
        while not self.ended:
            await self._sleep(self.state_poll)
            resp = await self.call("console", "describe_instances", InstanceIds=[self.instance_id])
            try:
                inst = resp["Reservations"][0]["Instances"][0]
            except (KeyError, IndexError, TypeError):
                continue
            new_state = str((inst.get("State") or {}).get("Name", "unknown"))
            if new_state == self.state:
                continue
            await self.emit(self._describe(inst, self._hv_source))
            if self._down(new_state) and new_state != "shutting-down" and self.ending is None:
                self.ending = time.time()
            self.wake.set()  # Xen posts output after a state change: look now
            self.changed.set()
