"""The OpenStack fetcher (`openstack:SERVER`, a name or an id): Nova's console log, its VNC console.

Configuration is openstacksdk's: `--os-cloud NAME` (target option `os_cloud`) picks a
`clouds.yaml` entry, else `OS_CLOUD`, else the `OS_*` variables. What `stream()` yields:

1. `MachineContext` (cloud "openstack") from the server show: status, vm/task/power state,
   flavor, image, addresses (and the fixed IPv4 ones with the addressing consolewatch.netcfg
   derives: ipv4_address, ...), config drive (and so where the guest's network configuration comes
   from), availability zone, and the server's `fault` (message, code, created; details for
   admins). Admin-only fields (`OS-EXT-SRV-ATTR:hypervisor_hostname`, `root_device_name`) are
   used when the policy shows them: the hypervisor type then comes from `os-hypervisors`
   (QEMU/KVM -> kvm, xen -> xen), else from the root device name, else it stays "unknown" and
   the console's own lines ("Hypervisor detected: Xen HVM") decide. Sent again when the status
   or the fault changes.
2. `Chunk("console")`: the bytes new in each `os-getConsoleOutput` answer. Nova has no offset:
   each call returns the last `length` lines of what it keeps (libvirt: the last 100 KiB), so
   windows are stitched (`normalize.stitch`) like EC2's. A poll asks for `length` lines (200);
   when that window no longer overlaps what was seen, the whole log Nova keeps is asked for at
   once, and only when even that does not overlap is a `Gap("console", lost_bytes=None)`
   reported. Nova removes control characters (ESC, CR) and every byte above 0x7f becomes
   U+FFFD on its way out: colour codes arrive as `[1;32m`. `cursor` = {"v": 1, "tail": base64
   of the last 1 KB}; a resumed tail emits nothing twice.
3. The remote console (`screen`): a noVNC URL from the remote-consoles API (microversion 2.6+,
   else the older os-getVNCConsole action), followed by the VNC fetcher (frames for the OCR). A
   console URL carries a token that expires (Nova: 10 minutes by default): each reconnection
   asks for a new one. `SourceUnavailable("screen")` when the cloud has no VNC console (400),
   the policy refuses it (403), or it keeps failing. `--screenshots off` turns it off.
4. `SourceStatus`: starting, streaming, idle, backoff, ended.

Options: os_cloud, poll (2 s), poll_max (30 s), length (lines per poll, 200), state_poll (15 s),
screenshots (None/off: no remote console), since ("now": skip what is already on the console),
wait_restart (keep following a SHUTOFF server), max_errors (10), backoff (1 s), backoff_max (60).

The follow ends when the server is deleted, in ERROR, or SHUTOFF (unless wait_restart), after
a last read of its console. Errors the user must fix raise `FetchError` (one line, no secret):
no configuration, bad credentials, unreachable Keystone, no compute endpoint, unknown server.
Throttling, 5xx and broken answers (not JSON, over 8 MB) are retried with backoff.
Not verified against a real cloud: Xen (XenAPI) drivers' console window size, and whether a
proxy in front of noVNC needs more than the token in the websocket URL.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from consolewatch.fetchers import openstack_api as api
from consolewatch.fetchers.base import FetchError, Target, one_line
from consolewatch.fetchers.queued import END, QueuedFetcher
from consolewatch.fetchers.ratelimit import throttle
from consolewatch.model import Chunk, Gap, SourceStatus, SourceUnavailable
from consolewatch.normalize.stitch import SnapshotStitcher

CURSOR_TAIL = 1024
ENDED = frozenset({"DELETED", "SOFT_DELETED", "ERROR", "SHELVED_OFFLOADED"})


def _num(value: Any, default: float) -> float:
    try:
        return max(0.0, float(value)) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise FetchError(f"openstack option: {value!r} is not a number") from None


class OpenStackFetcher(QueuedFetcher):
    kind = "openstack"
    label = "OpenStack"
    unsupported = api.Unsupported

    def __init__(self, target: Target, *, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        super().__init__(target)
        o = dict(target.options)
        self.ref = target.address
        self.cloud = o.get("os_cloud") or None
        self.poll_min = max(0.01, _num(o.get("poll"), 2.0))
        self.poll_top = max(self.poll_min, _num(o.get("poll_max"), 30.0))
        self.length = int(_num(o.get("length"), 200)) or None
        self.state_poll = _num(o.get("state_poll"), 15.0) or 15.0
        self.screen = not ("screenshots" in o and o["screenshots"] in (None, "off"))
        self.since_now = o.get("since") == "now"
        self.wait_restart = bool(o.get("wait_restart"))
        self.max_errors = int(_num(o.get("max_errors"), 10)) or 10
        self.backoff_base = _num(o.get("backoff"), 1.0) or 1.0
        self.backoff_max = _num(o.get("backoff_max"), 60.0) or 60.0
        self.options = o
        self._sleep = sleep or asyncio.sleep
        self.conn: Any = None
        self.auth_url = "(unknown)"
        self._micro = "unknown"
        self.server_id = ""
        self.status = "UNKNOWN"
        self.fault = ""
        self.stitcher = SnapshotStitcher(window=api.MAX_CONSOLE_TEXT, reset_ratio=0.5)
        self.lock = asyncio.Lock()
        self.ending = False
        self.console_unavailable = False
        self.api_calls = 0

    def _seed(self, cursor: Any) -> None:
        if isinstance(cursor, Mapping) and isinstance(cursor.get("tail"), str):
            try:
                tail = base64.b64decode(cursor["tail"], validate=True)
            except ValueError:
                tail = b""
            self.stitcher = SnapshotStitcher(window=api.MAX_CONSOLE_TEXT, seed=tail, reset_ratio=0.5)

    def cursor(self) -> dict[str, Any]:
        return {"v": 1, "tail": base64.b64encode(self.stitcher.tail(CURSOR_TAIL)).decode()}

    async def _run(self, follow: bool) -> None:
        await self._connect()
        server = await self.call("console", "looking up the server", api.find_server, self.conn, self.ref,
                                 attempts=3, fatal={"gone"})
        self.server_id = str(server.id)
        await self.emit(await self._context(server))
        await self.emit(SourceStatus("console", "starting", f"Nova console log of {one_line(server.name, 80)} "
                                     f"({self.status}; os-getConsoleOutput, {self.length or 'all'} lines a poll; "
                                     f"compute API {self._micro})", self.poll_min, time.time()))
        if self.since_now and not self.stitcher.reference and follow:
            self.stitcher.feed(await self._output(None))  # what is there now counts as seen
        if not follow or self._down(self.status):
            await self.poll_console(attempts=3)
            await self.emit(SourceStatus("console", "ended", f"server is {self.status}" if follow else
                                         "fetched the console log once", None, time.time()))
            await self.emit(END)
            return
        self.spawn(self._state_loop)
        if self.screen:
            from consolewatch.fetchers.openstack_screen import screen_loop

            self.spawn(lambda: screen_loop(self))
        await self._console_loop()

    def _down(self, status: str) -> bool:
        return status in ENDED or (status == "SHUTOFF" and not self.wait_restart)

    # -- API calls ------------------------------------------------------------------------

    async def _connect(self) -> None:
        where = "authenticating"
        try:
            self.conn, self.auth_url = await asyncio.to_thread(api.open_connection, self.cloud)
            await asyncio.to_thread(self.conn.authorize)  # bad credentials, unreachable Keystone: here
            where = "discovering the compute API"
            self._micro = await asyncio.to_thread(api.microversion, self.conn)
        except Exception as exc:
            raise FetchError(api.classify(exc, what=where, server=self.ref, cloud=self.cloud,
                                          auth_url=self.auth_url).message) from None

    async def call(self, source: str, what: str, fn: Callable[..., Any], *args: Any, attempts: int | None = None,
                   fatal: frozenset[str] | set[str] = frozenset()) -> Any:
        """One blocking SDK call in a thread, retried with backoff and jitter while transient;
        FetchError when the user must act; `Unsupported` for what this cloud cannot do."""
        failures = 0
        while True:
            try:
                self.api_calls += 1
                await throttle(self.target)
                return await asyncio.to_thread(fn, *args)
            except Exception as exc:
                problem = api.classify(exc, what=what, server=self.ref, cloud=self.cloud, auth_url=self.auth_url)
            if problem.kind == "fatal" or problem.kind in fatal:
                raise FetchError(problem.message)
            if problem.kind in ("unsupported", "not-ready", "gone"):
                raise api.Unsupported(problem)
            failures += 1
            if failures >= (attempts or self.max_errors):
                raise FetchError(f"{problem.message} (gave up after {failures} attempts)")
            await self.backoff(source, problem.message, failures)

    async def _context(self, server: Any) -> Any:
        hv_raw = None
        host = api.attr(server, "hypervisor_hostname")
        if host:  # the policy shows the host: ask os-hypervisors for its type (admin-only as well)
            try:
                hv_raw = await self.call("console", "reading the hypervisor type", api.hypervisor_type, self.conn,
                                         str(host), attempts=2)
            except (FetchError, api.Unsupported):
                hv_raw = None
        ctx = api.machine_context(server, hv_raw=hv_raw, micro=self._micro, cloud=self.cloud)
        self.status = ctx.fields.get("status", "UNKNOWN")
        self.fault = ctx.fields.get("fault", "")
        return ctx

    # -- console log ----------------------------------------------------------------------

    async def _output(self, length: int | None, attempts: int | None = None) -> bytes:
        return await self.call("console", "reading the console log", api.console_output, self.conn, self.server_id,
                               length, attempts=attempts)

    async def poll_console(self, attempts: int | None = None) -> bool:
        """One os-getConsoleOutput (two when the short window leaves a gap), stitched and
        emitted; True when it held new bytes."""
        async with self.lock:
            # `length` lines while keeping up; all Nova keeps at first and when they would leave a gap
            length = self.length if self.stitcher.reference else None
            try:
                data = await self._output(length, attempts)
                if length is not None and self.stitcher.peek(data, whole=False)[1] is not None:
                    data, length = await self._output(None, attempts), None
            except api.Unsupported as exc:
                if exc.problem.kind == "not-ready":
                    return False  # BUILD: no console yet
                if exc.problem.kind == "gone":
                    raise FetchError(exc.problem.message) from None
                self.console_unavailable = True  # a driver without a console log (501), a policy (403)
                await self.emit(SourceUnavailable("console", f"no console log: {exc.problem.message}",
                                                  "the remote console (screen) is still followed where the cloud "
                                                  "has one"))
                return False
            new, gap = self.stitcher.feed(data, whole=length is None)
            now = time.time()
            if gap is not None:
                await self.emit(Gap("console", None, now, gap.message))
            if new:
                await self.emit(Chunk("console", new, self.cursor(), now, "stream"))
            return bool(new)

    async def _console_loop(self) -> None:
        interval, shown = self.poll_min, None
        while True:
            ending = self.ending
            changed = await self.poll_console()
            if self.console_unavailable:  # only the screen (if any) is left to follow
                await asyncio.gather(*self._tasks[1:], return_exceptions=True)
                await self.emit(SourceStatus("console", "ended", "no console log on this cloud", None, time.time()))
                await self.emit(END)
                return
            if ending:
                await self.emit(SourceStatus("console", "ended", f"server is {self.status}: last console log read",
                                             None, time.time()))
                await self.emit(END)
                return
            interval = self.poll_min if changed else min(interval * 2, self.poll_top)
            state = "streaming" if changed else "idle"
            if (state, interval) != shown:
                detail = ("new output" if changed else "no new output") + f"; polling every {interval:g} s"
                await self.emit(SourceStatus("console", state, detail, interval, time.time()))
                shown = (state, interval)
            await self._sleep(interval)

    # -- server state ---------------------------------------------------------------------

    async def _state_loop(self) -> None:
        while not self.ending:
            await self._sleep(self.state_poll)
            try:
                server = await self.call("console", "reading the server", self.conn.compute.get_server, self.server_id)
            except api.Unsupported as exc:
                if exc.problem.kind != "gone":
                    continue
                self.status, self.ending = "DELETED", True
                continue
            before = (self.status, self.fault)
            ctx = await self._context(server)
            if (self.status, self.fault) != before:
                await self.emit(ctx)
            if self._down(self.status):
                self.ending = True
