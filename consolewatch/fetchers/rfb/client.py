"""One RFB connection: the handshake, then a pump that keeps the framebuffer current.

    session = RfbSession(transport)
    info = await session.handshake(password)      # ProtocolVersion .. ServerInit, within a timeout
    task = asyncio.create_task(session.pump())    # raises RfbError subclasses when the connection ends
    ... session.updates, session.last_update_at, session.in_update, session.changed (an Event)

After ServerInit the client sends SetPixelFormat (32-bit true colour, `CLIENT_FORMAT`),
SetEncodings (ZRLE, CopyRect, Raw, DesktopSize) and one non-incremental
FramebufferUpdateRequest for the whole screen, then an incremental request after each update
(no sooner than `min_interval` after the previous one: a busy screen costs at most that many
updates per second). A screen that does not change makes the server send nothing; after
`Limits.keepalive` quiet seconds the client asks for one pixel non-incrementally, which every
server must answer, and a server that does not within `Limits.stall_timeout` is `RfbStalled`.
Bell is ignored, SetColourMapEntries read and ignored (true colour was asked for),
ServerCutText read in chunks and thrown away; any other message type is an RfbError (its length
is unknown, the stream cannot be resynchronised).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from consolewatch.fetchers.base import one_line
from consolewatch.fetchers.rfb import protocol as p
from consolewatch.fetchers.rfb.framebuffer import BYTES_PER_PIXEL, Framebuffer
from consolewatch.fetchers.rfb.protocol import Limits, RfbError, RfbStalled
from consolewatch.fetchers.rfb.transport import TcpTransport, Transport, WsTransport
from consolewatch.fetchers.rfb.zrle import ZrleDecoder, max_compressed


@dataclass(frozen=True, slots=True)
class ServerInfo:
    version: tuple[int, int]
    security: int
    width: int
    height: int
    name: str
    pixel_format: p.PixelFormat

    def __str__(self) -> str:
        return (f"RFB {self.version[0]}.{self.version[1]}, {p.SEC_NAMES.get(self.security, self.security)}, "
                f"{self.width}x{self.height} {self.name!r}")


class RfbSession:
    def __init__(self, transport: Transport, *, limits: Limits = Limits(),
                 encodings: tuple[int, ...] = p.DEFAULT_ENCODINGS, min_interval: float = 0.05) -> None:
        self.t = transport
        self.limits = limits
        self.encodings = encodings
        self.min_interval = min_interval
        self.fb: Framebuffer | None = None
        self.zrle = ZrleDecoder()
        self.stage = "waiting for the server's ProtocolVersion"
        self.updates = 0
        """FramebufferUpdates applied so far."""
        self.last_update_at = 0.0
        self.in_update = False
        """True while an update is half applied (the framebuffer is not a picture to take)."""
        self.changed = asyncio.Event()
        self.rects: dict[int, int] = {}
        """Rectangles received per encoding (for the benchmark and tests)."""
        self.bytes_in = 0
        self.closing = False
        """Set when the connection is being closed: the pump stops at the next message."""
        self._requested_at = 0.0

    # -- reading -------------------------------------------------------------------------------

    async def _read(self, n: int, what: str) -> bytes:
        try:
            async with asyncio.timeout(self.limits.stall_timeout):
                data = await self.t.read(n, what)
        except TimeoutError:
            raise RfbStalled(f"the server stopped in the middle of {what}: nothing for "
                             f"{self.limits.stall_timeout:g} s") from None
        self.bytes_in += n
        return data

    async def _u8(self, what: str) -> int:
        return (await self._read(1, what))[0]

    async def _u32(self, what: str) -> int:
        return struct.unpack(">I", await self._read(4, what))[0]

    async def _text(self, what: str) -> str:
        n = await self._u32(f"the length of {what}")
        if n > self.limits.max_text:
            raise RfbError(f"the server sent {what} of {n:,} bytes (limit {self.limits.max_text:,})")
        raw = await self._read(n, what)
        return one_line(raw.rstrip(b"\0").decode("utf-8", "replace"), 200)

    # -- handshake (§7.1-7.3) ------------------------------------------------------------------

    async def handshake(self, password: str | None) -> ServerInfo:
        try:
            async with asyncio.timeout(self.limits.handshake_timeout):
                return await self._handshake(password)
        except TimeoutError:
            raise RfbStalled(f"no RFB handshake within {self.limits.handshake_timeout:g} s "
                             f"(stuck {self.stage})") from None

    async def _handshake(self, password: str | None) -> ServerInfo:
        server = p.parse_version(await self._read(12, "the ProtocolVersion"))
        version = p.choose_version(server)
        await self.t.write(p.version_bytes(version))
        self.stage = "waiting for the security types"
        security = await self._security(version, password)
        await self.t.write(b"\x01")  # ClientInit: shared, so a person's viewer is not disconnected
        self.stage = "waiting for ServerInit"
        width, height = struct.unpack(">HH", await self._read(4, "ServerInit"))
        fmt = p.PixelFormat.unpack(await self._read(16, "ServerInit's pixel format"))
        name = await self._text("the desktop name")
        self.fb = Framebuffer(width, height, self.limits)
        self.stage = "after ServerInit"
        await self.t.write(p.set_pixel_format() + p.set_encodings(self.encodings))
        return ServerInfo(version, security, width, height, name, fmt)

    async def _security(self, version: tuple[int, int], password: str | None) -> int:
        if version == (3, 3):
            chosen = await self._u32("the security type")
            if chosen == p.SEC_INVALID:
                raise RfbError(f"the server refused the connection: {await self._text('the reason')}")
            p.choose_security(bytes([min(chosen, 255)]), password is not None)
        else:
            count = await self._u8("the number of security types")
            if count == 0:
                raise RfbError(f"the server refused the connection: {await self._text('the reason')}")
            chosen = p.choose_security(await self._read(count, "the security types"), password is not None)
            await self.t.write(bytes([chosen]))
        if chosen == p.SEC_VNC:
            self.stage = "waiting for the VNC Authentication challenge"
            challenge = await self._read(16, "the VNC Authentication challenge")
            await self.t.write(p.vnc_auth_response(challenge, password or ""))
        if chosen == p.SEC_VNC or version == (3, 8):
            self.stage = "waiting for the SecurityResult"
            if await self._u32("the SecurityResult") != 0:
                reason = await self._text("the failure reason") if version == (3, 8) else "no reason given"
                if chosen == p.SEC_VNC:
                    raise p.AuthError(f"VNC authentication failed: {reason} (check the password)")
                raise RfbError(f"the server refused the connection: {reason}")
        return chosen

    # -- after the handshake (§7.5-7.7) --------------------------------------------------------

    async def request(self, incremental: bool, x: int = 0, y: int = 0, w: int | None = None,
                      h: int | None = None) -> None:
        assert self.fb is not None
        await self.t.write(p.update_request(incremental, x, y, self.fb.width if w is None else w,
                                            self.fb.height if h is None else h))
        self._requested_at = time.monotonic()

    async def pump(self) -> None:
        """Read server messages until the connection ends (always by raising an RfbError)."""
        await self.request(False)
        while not self.closing:
            kind = await self._next_message()
            if kind == p.MSG_UPDATE:
                resized = await self._update()
                wait = self._requested_at + self.min_interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.request(not resized)  # after DesktopSize: the whole new screen
            elif kind == p.MSG_COLOURMAP:
                _first, count = struct.unpack(">xHH", await self._read(5, "SetColourMapEntries"))
                await self._read(6 * count, "SetColourMapEntries colours")
            elif kind == p.MSG_CUT_TEXT:
                await self._discard_cut_text()
            elif kind != p.MSG_BELL:
                raise RfbError(f"the server sent message type {kind}, which RFB does not define "
                               "(or that was not asked for)")

    async def _next_message(self) -> int:
        keepalive = self.limits.keepalive
        try:
            async with asyncio.timeout(keepalive):
                return (await self.t.read(1, "the next message"))[0]
        except TimeoutError:
            pass
        await self.request(False, 0, 0, 1, 1)  # a quiet screen or a dead server? Only an answer tells.
        try:
            async with asyncio.timeout(self.limits.stall_timeout):
                return (await self.t.read(1, "the next message"))[0]
        except TimeoutError:
            raise RfbStalled(f"the server sent nothing for {keepalive + self.limits.stall_timeout:g} s, "
                             "not even after a refresh request") from None

    async def _discard_cut_text(self) -> None:
        length = struct.unpack(">3xI", await self._read(7, "ServerCutText"))[0]
        if length > self.limits.max_cut_text:
            raise RfbError(f"the server sent a clipboard text of {length:,} bytes (limit "
                           f"{self.limits.max_cut_text:,})")
        while length:
            n = min(length, 1 << 16)
            await self._read(n, "ServerCutText")
            length -= n

    async def _update(self) -> bool:
        """Apply one FramebufferUpdate; True if it resized the framebuffer."""
        assert self.fb is not None
        (count,) = struct.unpack(">xH", await self._read(3, "a FramebufferUpdate"))
        self.in_update = True
        resized = False
        for i in range(count):
            what = f"rectangle {i + 1} of {count} of a FramebufferUpdate"
            x, y, w, h, enc = struct.unpack(">HHHHi", await self._read(12, what))
            self.rects[enc] = self.rects.get(enc, 0) + 1
            if enc == p.ENC_RAW:
                self.fb.check(x, y, w, h)
                self.fb.put(x, y, w, h, await self._read(w * h * BYTES_PER_PIXEL, what))
            elif enc == p.ENC_COPYRECT:
                src_x, src_y = struct.unpack(">HH", await self._read(4, what))
                self.fb.copy(x, y, w, h, src_x, src_y)
            elif enc == p.ENC_ZRLE:
                self.fb.check(x, y, w, h)
                length = await self._u32(what)
                if length > max_compressed(w, h):
                    raise RfbError(f"a ZRLE rectangle of {w}x{h} claims {length:,} bytes of zlib data, more than "
                                   f"it can need ({max_compressed(w, h):,})")
                self.zrle.decode(self.fb, x, y, w, h, await self._read(length, what))
            elif enc == p.ENC_DESKTOP_SIZE:
                self.fb.resize(w, h)
                resized = True
            else:
                raise RfbError(f"the server used encoding {enc} ({p.ENC_NAMES.get(enc, 'unknown')}), which "
                               "consolewatch did not offer")
        self.in_update = False
        self.updates += 1
        self.last_update_at = time.monotonic()
        self.changed.set()
        return resized


@contextlib.asynccontextmanager
async def connect_session(endpoint: Any, password: str | None, *, limits: Limits = Limits(),
                          encodings: tuple[int, ...] = p.DEFAULT_ENCODINGS, min_interval: float = 0.05,
                          connect_timeout: float = 10.0) -> AsyncIterator[tuple[RfbSession, ServerInfo, asyncio.Task]]:
    """Connect to `endpoint` (a consolewatch.fetchers.vnc.Endpoint), shake hands and start the pump;
    yields (session, info, pump task). The pump is cancelled and the connection closed on exit."""
    if endpoint.transport == "tcp":
        transport: Transport = await TcpTransport.open(endpoint.host, endpoint.port, connect_timeout)
    else:
        transport = await WsTransport.open(endpoint.url, connect_timeout, limits)
    session = RfbSession(transport, limits=limits, encodings=encodings, min_interval=min_interval)
    pump = None
    try:
        info = await session.handshake(password)
        pump = asyncio.create_task(session.pump())
        # How the connection ended is reported by the caller; retrieved here even if the cleanup
        # below is cancelled halfway (a follow that ends while its fetcher is being closed).
        pump.add_done_callback(lambda t: t.cancelled() or t.exception())
        yield session, info, pump
    finally:
        session.closing = True
        if pump is not None:
            pump.cancel()
        await transport.close()  # a read the cancellation missed ends here
        if pump is not None:
            await asyncio.wait({pump}, timeout=5)
