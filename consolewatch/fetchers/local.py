"""Local consoles: a growing file (`file:PATH`) and a QEMU guest (`qemu:PATH`).

`file:PATH` follows any console log being written (libvirt, Firecracker, `-serial file:`),
resuming at a byte offset and noticing truncation or replacement. `qemu:PATH` also accepts
the unix socket of `-serial unix:PATH,server=on` / `-chardev socket,...,server=on` and a pty;
with the `qmp` option (`--qmp SOCKET`) it adds `screendump` frames of the VGA screen.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

from consolewatch.fetchers.base import Fetcher, FetchError
from consolewatch.model import Chunk, Frame, Gap, SourceEvent, SourceStatus, SourceUnavailable

READ_MAX = 1 << 20
POLL = 0.1


async def follow_file(path: Path, source: str, start: int, follow: bool, poll: float = POLL) -> AsyncIterator[SourceEvent]:
    """Bytes appended to `path` from offset `start`; truncation or replacement reads it anew."""
    pos, ident, announced = start, None, False
    while True:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not follow:
                raise FetchError(f"{path}: no such file") from None
            if not announced:
                announced = True
                yield SourceStatus(source, "waiting", f"waiting for {path} to appear", poll, time.time())
            await asyncio.sleep(poll)
            continue
        except OSError as exc:
            raise FetchError(f"{path}: cannot read: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            raise FetchError(f"{path}: is a directory")
        now_ident = (st.st_dev, st.st_ino)
        if ident is not None and (now_ident != ident or st.st_size < pos):
            yield Gap(source, None, time.time(), "the file was truncated or replaced; reading it from the start")
            pos = 0
        ident = now_ident
        if st.st_size > pos:
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read(min(st.st_size - pos, READ_MAX))
            if data:
                pos += len(data)
                yield Chunk(source, data, pos, time.time())
                continue
        if not follow:
            return
        await asyncio.sleep(poll)


class FileFetcher(Fetcher):
    kind = "file"

    def stream(self, *, cursors: Mapping[str, Any] | None = None, follow: bool = True) -> AsyncIterator[SourceEvent]:
        start = int((cursors or {}).get("console", 0) or 0)
        return follow_file(Path(self.target.address), "console", start, follow,
                           float(self.target.options.get("poll", POLL)))


async def _socket(path: Path, source: str, follow: bool, wait: float) -> AsyncIterator[SourceEvent]:
    deadline = time.monotonic() + wait
    while True:
        try:
            reader, writer = await asyncio.open_unix_connection(str(path), limit=READ_MAX)
            break
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            if time.monotonic() > deadline:
                raise FetchError(f"{path}: cannot connect to the console socket: {exc.strerror}") from None
            await asyncio.sleep(POLL)
    yield SourceStatus(source, "streaming", f"connected to {path}", None, time.time())
    total = 0
    try:
        while True:
            try:
                timeout = None if follow else 1.0
                data = await asyncio.wait_for(reader.read(READ_MAX), timeout)
            except asyncio.TimeoutError:
                return
            if not data:
                yield SourceStatus(source, "ended", "the guest closed the console socket", None, time.time())
                return
            total += len(data)
            yield Chunk(source, data, total, time.time())
    finally:
        writer.close()


async def _pty(path: Path, source: str, follow: bool) -> AsyncIterator[SourceEvent]:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    total = 0
    quiet = 0.0
    try:
        while True:
            try:
                data = os.read(fd, READ_MAX)
            except BlockingIOError:
                data = None
            except OSError:  # EIO: the other side (QEMU) closed the pty
                yield SourceStatus(source, "ended", "the pty was closed", None, time.time())
                return
            if data:
                total += len(data)
                quiet = 0.0
                yield Chunk(source, data, total, time.time())
                continue
            if data == b"":
                return
            if not follow and quiet >= 1.0:
                return
            await asyncio.sleep(POLL)
            quiet += POLL
    finally:
        os.close(fd)


class QmpClient:
    """Just enough QMP for `screendump` (JSON lines over a unix socket)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rw: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def _command(self, execute: str, arguments: dict[str, Any] | None = None) -> Any:
        if self._rw is None:
            reader, writer = await asyncio.open_unix_connection(str(self.path), limit=READ_MAX)
            self._rw = (reader, writer)
            await self._reply()  # greeting
            await self._send("qmp_capabilities")
        await self._send(execute, arguments)
        return await self._reply()

    async def _send(self, execute: str, arguments: dict[str, Any] | None = None) -> None:
        assert self._rw is not None
        msg = {"execute": execute, **({"arguments": arguments} if arguments else {})}
        self._rw[1].write(json.dumps(msg).encode() + b"\n")
        await self._rw[1].drain()
        if execute == "qmp_capabilities":
            await self._reply()

    async def _reply(self) -> Any:
        assert self._rw is not None
        while True:
            raw = await asyncio.wait_for(self._rw[0].readline(), 10)
            if not raw:
                raise ConnectionError("QMP socket closed")
            msg = json.loads(raw)
            if "event" in msg:
                continue
            if "error" in msg:
                raise RuntimeError(msg["error"].get("desc", "QMP error"))
            return msg.get("return", msg)

    async def screendump(self) -> bytes:
        fd, name = tempfile.mkstemp(prefix="cw-screen-", suffix=".ppm")
        os.close(fd)
        try:
            await self._command("screendump", {"filename": name})
            return Path(name).read_bytes()
        finally:
            os.unlink(name)

    def close(self) -> None:
        if self._rw is not None:
            self._rw[1].close()
            self._rw = None


async def _frames(qmp: Path, interval: float, follow: bool, wait: float = 10.0) -> AsyncIterator[SourceEvent]:
    client = QmpClient(qmp)
    seq = 0
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                image = await client.screendump()
            except (OSError, ConnectionError, RuntimeError, ValueError, asyncio.TimeoutError) as exc:
                client.close()
                if seq == 0 and follow and time.monotonic() < deadline:
                    await asyncio.sleep(POLL)  # QEMU may not have created the socket yet
                    continue
                if seq == 0:
                    yield SourceUnavailable("screen", f"QMP screendump failed: {exc}",
                                            "start QEMU with -qmp unix:PATH,server=on,wait=off and a display (-vga std)")
                else:
                    yield SourceStatus("screen", "ended", f"QMP: {exc}", None, time.time())
                return
            seq += 1
            yield Frame("screen", image, "image/x-portable-pixmap", seq, time.time())
            if not follow:
                return
            await asyncio.sleep(interval)
    finally:
        client.close()


async def merge(*streams: AsyncIterator[SourceEvent]) -> AsyncIterator[SourceEvent]:
    """Events of several async iterators as they come; errors propagate."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=64)
    done = object()

    async def pump(it: AsyncIterator[SourceEvent]) -> None:
        try:
            async for ev in it:
                await queue.put(ev)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            await queue.put(exc)
        finally:
            await queue.put(done)

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    left = len(tasks)
    try:
        while left:
            item = await queue.get()
            if item is done:
                left -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for t in tasks:
            t.cancel()


class QemuFetcher(Fetcher):
    """qemu:PATH — a serial file, unix socket or pty; option `qmp` adds screendump frames."""

    kind = "qemu"

    def stream(self, *, cursors: Mapping[str, Any] | None = None, follow: bool = True) -> AsyncIterator[SourceEvent]:
        path = Path(self.target.address)
        opts = self.target.options
        streams = [self._serial(path, cursors or {}, follow, float(opts.get("connect_wait", 10.0)))]
        if opts.get("qmp"):
            streams.append(_frames(Path(opts["qmp"]), float(opts.get("screen_interval", 2.0)), follow,
                                   float(opts.get("connect_wait", 10.0))))
        return merge(*streams)

    async def _serial(self, path: Path, cursors: Mapping[str, Any], follow: bool, wait: float) -> AsyncIterator[SourceEvent]:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:  # QEMU makes its console before the guest runs: nothing to wait for
            raise FetchError(f"{path}: no such socket, pty or file (QEMU creates it with -serial "
                             "unix:PATH,server=on,wait=off, -serial pty or -serial file:PATH)") from None
        if stat.S_ISSOCK(mode):
            stream = _socket(path, "serial", follow, wait)
        elif stat.S_ISCHR(mode):
            stream = _pty(path, "serial", follow)
        else:
            stream = follow_file(path, "serial", int(cursors.get("serial", 0) or 0), follow)
        async for ev in stream:
            yield ev
