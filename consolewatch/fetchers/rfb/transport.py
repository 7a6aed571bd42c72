"""Byte streams an RFB session runs over: plain TCP, or a websocket as noVNC and websockify use.

Over a websocket, RFB bytes travel in binary messages whose boundaries have nothing to do with
RFB messages (QEMU split one 1.1 MB update into ~143 of them): `WsTransport` keeps a byte
buffer and reads exact counts from it. The client offers the subprotocol `binary` (old
websockify needs it, QEMU and new servers accept it), refuses text messages and messages over
`Limits.ws_max_message`, and leaves ping/pong keepalive to `websockets`.

`read(n, what)` raises `RfbClosed` naming `what` when the server hangs up in the middle, so a
truncated message is reported as "closed in the middle of a FramebufferUpdate rectangle (got
4,096 of 1,152,000 bytes)" rather than as a bare EOF.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from consolewatch.fetchers.base import one_line, redact_url
from consolewatch.fetchers.rfb.protocol import Limits, RfbClosed, RfbError

CHUNK = 1 << 16


class Transport(Protocol):
    name: str

    async def read(self, n: int, what: str) -> bytes: ...
    async def write(self, data: bytes) -> None: ...
    async def close(self) -> None: ...


def _closed(what: str, got: int, n: int, why: str = "") -> RfbClosed:
    middle = f" in the middle of {what} (got {got:,} of {n:,} bytes)" if got else f" before {what}"
    return RfbClosed(f"the server closed the connection{middle}" + (f": {why}" if why else ""))


class TcpTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str) -> None:
        self.reader, self.writer, self.name = reader, writer, name

    @classmethod
    async def open(cls, host: str, port: int, timeout: float) -> TcpTransport:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, limit=CHUNK)
        except TimeoutError:
            raise RfbClosed(f"no TCP connection to {host}:{port} within {timeout:g} s") from None
        except OSError as exc:
            raise RfbClosed(f"cannot connect to {host}:{port}: {one_line(exc.strerror or exc, 120)}") from None
        return cls(reader, writer, f"vnc://{host}:{port}")

    async def read(self, n: int, what: str) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            raise _closed(what, len(exc.partial), n) from None
        except OSError as exc:
            raise RfbClosed(f"connection lost while reading {what}: {one_line(exc.strerror or exc, 120)}") from None

    async def write(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError as exc:
            raise RfbClosed(f"connection lost while writing: {one_line(exc.strerror or exc, 120)}") from None

    async def close(self) -> None:
        self.writer.close()
        try:
            async with asyncio.timeout(2):
                await self.writer.wait_closed()
        except (OSError, TimeoutError):
            pass


class WsTransport:
    def __init__(self, ws, name: str) -> None:
        self.ws, self.name = ws, name
        self.buf = bytearray()

    @classmethod
    async def open(cls, url: str, timeout: float, limits: Limits) -> WsTransport:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidURI
        from websockets.typing import Subprotocol

        name = redact_url(url)
        try:
            async with asyncio.timeout(timeout):
                ws = await connect(url, subprotocols=[Subprotocol("binary")], max_size=limits.ws_max_message, max_queue=4,
                                   compression=None, open_timeout=None, user_agent_header="consolewatch")
        except TimeoutError:
            raise RfbClosed(f"no websocket connection to {name} within {timeout:g} s") from None
        except InvalidURI:
            raise RfbError(f"{name} is not a websocket URL") from None
        except InvalidHandshake as exc:
            raise RfbClosed(f"{name} refused the websocket: {one_line(exc, 160)}") from None
        except OSError as exc:
            raise RfbClosed(f"cannot connect to {name}: {one_line(exc.strerror or exc, 120)}") from None
        return cls(ws, name)

    async def read(self, n: int, what: str) -> bytes:
        from websockets.exceptions import ConnectionClosed

        while len(self.buf) < n:
            try:
                message = await self.ws.recv()
            except ConnectionClosed as exc:
                raise _closed(what, len(self.buf), n, _close_reason(exc)) from None
            if isinstance(message, str):
                raise RfbError("the server sent a text websocket message: RFB travels in binary messages")
            self.buf += message
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def write(self, data: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self.ws.send(data)
        except ConnectionClosed as exc:
            raise RfbClosed(f"the server closed the websocket: {_close_reason(exc)}") from None

    async def close(self) -> None:
        try:
            async with asyncio.timeout(2):
                await self.ws.close()
        except (OSError, TimeoutError):
            pass


def _close_reason(exc) -> str:
    rcvd = getattr(exc, "rcvd", None)
    sent = getattr(exc, "sent", None)
    frame = rcvd or sent
    if frame is None:
        return "no close frame"
    reason = f" {one_line(frame.reason, 80)}" if frame.reason else ""
    return f"code {frame.code}{reason}"
