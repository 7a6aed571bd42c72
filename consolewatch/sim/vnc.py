"""A simulated VNC console on loopback: RFB 3.3/3.7/3.8 over TCP and over a websocket (as
websockify/noVNC serve it), showing a real boot log scrolling on a text console.

    screen = SimScreen(ConsolePlayer(sample_log("qemu/dhcp-no-lease"), bytes_per_second=3000))
    sim = start_vnc_sim(screen, password="s3cret")     # 127.0.0.1, two free ports
    sim.tcp_url   -> "vnc://127.0.0.1:PORT"            # RFB over TCP
    sim.ws_url    -> "ws://127.0.0.1:PORT/websockify"  # RFB in binary websocket messages
    sim.inject("disconnect")                           # the next connection drops after 3 updates
    sim.close()

Protocol, as a real server speaks it: ProtocolVersion (`version`, default 3.8), security None or
VNC Authentication (a random challenge, DES with the mirrored key), ClientInit, ServerInit
(32-bit true colour), then SetPixelFormat (32-bit true colour in any layout), SetEncodings
(the first of ZRLE and Raw the client lists, CopyRect when listed and `copyrect` is on,
DesktopSize when listed) and FramebufferUpdateRequests: a non-incremental one is answered with
the whole screen, an incremental one as soon as the screen differs from what the client has
(a scrolled console as a CopyRect plus the new rows, other changes as bands of changed rows);
KeyEvent, PointerEvent and ClientCutText are read and ignored. The websocket side accepts the
path `ws_path` only, offers the subprotocol `binary`, and splits what it sends into binary
messages of at most 16 KB (a client must not assume message boundaries). With
`boot_on_connect` the machine starts printing when the first client has connected (a
`ConsolePlayer` made with `start=float("inf")`), so a test sees the boot from its first line.

Faults (`inject(fault, times=1)`; each new connection takes the next one queued):
"disconnect" (closed after 3 updates), "stall" (silent after 2 updates, connection kept),
"malformed" (an undefined message type after 2 updates), "no-handshake" (sends `RFB 003` and
nothing more), "oversize" (ServerInit of 65535x65535), "outside" (a Raw rectangle past the
right edge), "zlib-bomb" (a ZRLE rectangle whose zlib data inflates to 64 MB), "truncate" (a
full-screen Raw update cut off halfway, then closed), "huge-cut-text" (a ServerCutText claiming
4 GB). `stats` counts connections, updates, rectangles per encoding and failed authentications.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import struct
import threading
from collections import Counter, deque
from typing import Any

from consolewatch.fetchers.rfb.protocol import (
    ENC_COPYRECT,
    ENC_DESKTOP_SIZE,
    ENC_RAW,
    ENC_ZRLE,
    PixelFormat,
    version_bytes,
    vnc_auth_response,
)
from consolewatch.sim.vnc_screen import (
    Picture,
    SimScreen,
    ZrleEncoder,
    copy_rect,
    raw_rect,
    rect_header,
    zlib_bomb,
)

__all__ = ["VncSim", "start_vnc_sim", "FAULTS"]

FAULTS = ("disconnect", "stall", "malformed", "no-handshake", "oversize", "outside", "zlib-bomb", "truncate",
          "huge-cut-text")
WS_CHUNK = 16 << 10
_CELL_H = 16


class _Hangup(Exception):
    """The simulated server ends this connection (a fault, or the client went away)."""


class VncSim:
    def __init__(self, screen: SimScreen, *, password: str | None = None, version: tuple[int, int] = (3, 8),
                 copyrect: bool = True, zrle_mode: str = "auto", host: str = "127.0.0.1",
                 ws_path: str = "/websockify", poll: float = 0.03, boot_on_connect: bool = False) -> None:
        self.screen = screen
        self.boot_on_connect = boot_on_connect
        """The machine starts printing when the first client has shaken hands (not before)."""
        self.password = password
        self.version = version
        self.copyrect = copyrect
        self.zrle_mode = zrle_mode
        self.ws_path = ws_path
        self.poll = poll
        self.stats: Counter[str] = Counter()
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task] = set()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="vnc-sim", daemon=True)
        self._thread.start()
        self._tcp, self._ws = asyncio.run_coroutine_threadsafe(self._start(host), self.loop).result(10)
        tcp_port = self._tcp.sockets[0].getsockname()[1]
        ws_port = next(iter(self._ws.sockets)).getsockname()[1]
        self.tcp_url = f"vnc://{host}:{tcp_port}"
        self.ws_url = f"ws://{host}:{ws_port}{ws_path}"

    async def _start(self, host: str):
        from websockets.asyncio.server import serve
        from websockets.typing import Subprotocol

        tcp = await asyncio.start_server(self._serve_tcp, host, 0)
        ws = await serve(self._serve_ws, host, 0, subprotocols=[Subprotocol("binary")], process_request=self._check_path,
                         compression=None, max_size=1 << 20, close_timeout=2)
        return tcp, ws

    def inject(self, fault: str, times: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
        with self._lock:
            self._faults.extend([fault] * times)

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def close(self) -> None:
        async def stop() -> None:
            self._tcp.close()
            self._ws.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        try:
            # A websocket whose peer left without a close frame holds its handler for the close
            # handshake; a slow teardown of the simulator is not an error of what it served.
            with contextlib.suppress(TimeoutError):
                asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self) -> VncSim:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- transports ------------------------------------------------------------------------------

    def _check_path(self, connection, request):
        if request.path.split("?", 1)[0] != self.ws_path:
            return connection.respond(404, "no console here\n")
        return None

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def read(n: int) -> bytes:
            try:
                return await reader.readexactly(n)
            except (asyncio.IncompleteReadError, OSError):
                raise _Hangup from None

        async def write(data: bytes) -> None:
            try:
                writer.write(data)
                await writer.drain()
            except OSError:
                raise _Hangup from None

        try:
            await self._run(read, write)
        finally:
            writer.close()

    async def _serve_ws(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        buf = bytearray()

        async def read(n: int) -> bytes:
            while len(buf) < n:
                try:
                    message = await ws.recv()
                except ConnectionClosed:
                    raise _Hangup from None
                buf.extend(message if isinstance(message, bytes) else message.encode())
            out = bytes(buf[:n])
            del buf[:n]
            return out

        async def write(data: bytes) -> None:
            try:
                for i in range(0, len(data), WS_CHUNK):
                    await ws.send(data[i : i + WS_CHUNK])
            except ConnectionClosed:
                raise _Hangup from None

        await self._run(read, write)

    async def _run(self, read, write) -> None:
        task = asyncio.current_task()
        assert task is not None  # called from a connection handler's task
        self._tasks.add(task)
        self.stats["connections"] += 1
        try:
            await _Connection(self, read, write, self._next_fault()).serve()
        except (_Hangup, asyncio.CancelledError):
            pass
        except Exception:  # a client the simulator cannot serve (a pixel format it does not speak)
            self.stats["errors"] += 1
        finally:
            self._tasks.discard(task)


class _Connection:
    def __init__(self, sim: VncSim, read, write, fault: str | None) -> None:
        self.sim, self.read, self.write, self.fault = sim, read, write, fault
        self.fmt = PixelFormat()
        self.encodings: list[int] = []
        self.zrle = ZrleEncoder(sim.zrle_mode)
        self.shown: Picture | None = None
        self.request: tuple[bool, int, int, int, int] | None = None
        self.updates = 0

    async def serve(self) -> None:
        await self.handshake()
        reader = asyncio.ensure_future(self.client_messages())
        try:
            while True:
                if reader.done():
                    reader.result()
                    return
                if self.request is not None:
                    pic = self.sim.screen.picture()
                    incremental = self.request[0]
                    if not incremental or pic != self.shown:
                        self.request = None
                        await self.update(pic, incremental)
                        continue
                await asyncio.sleep(self.sim.poll)
        finally:
            reader.cancel()

    async def handshake(self) -> None:
        if self.fault == "no-handshake":
            await self.write(b"RFB 003")
            await asyncio.sleep(3600)
        version = self.sim.version
        await self.write(version_bytes(version))
        await self.read(12)
        sec = 2 if self.sim.password else 1
        if version == (3, 3):
            await self.write(struct.pack(">I", sec))
        else:
            await self.write(bytes([1, sec]))
            if (await self.read(1))[0] != sec:
                raise _Hangup
        if sec == 2:
            challenge = secrets.token_bytes(16)
            await self.write(challenge)
            if await self.read(16) != vnc_auth_response(challenge, self.sim.password or ""):
                self.sim.stats["auth-failures"] += 1
                reason = b"Authentication failed"
                await self.write(struct.pack(">I", 1) + (struct.pack(">I", len(reason)) + reason
                                                         if version == (3, 8) else b""))
                raise _Hangup
        if sec == 2 or version == (3, 8):
            await self.write(struct.pack(">I", 0))
        await self.read(1)  # ClientInit
        if self.sim.boot_on_connect:
            self.sim.boot_on_connect = False
            self.sim.screen.player.begin()
        pic = self.sim.screen.picture()
        width, height = (65535, 65535) if self.fault == "oversize" else pic.mode.size
        name = b"consolewatch-sim"
        await self.write(struct.pack(">HH", width, height) + self.fmt.pack() + struct.pack(">I", len(name)) + name)

    async def client_messages(self) -> None:
        while True:
            kind = (await self.read(1))[0]
            if kind == 0:
                self.fmt = PixelFormat.unpack((await self.read(19))[3:])
            elif kind == 2:
                (count,) = struct.unpack(">xH", await self.read(3))
                self.encodings = list(struct.unpack(f">{count}i", await self.read(4 * count)))
            elif kind == 3:
                inc, x, y, w, h = struct.unpack(">BHHHH", await self.read(9))
                self.request = (bool(inc), x, y, w, h)
            elif kind == 4:
                await self.read(7)
            elif kind == 5:
                await self.read(5)
            elif kind == 6:
                (length,) = struct.unpack(">3xI", await self.read(7))
                await self.read(min(length, 1 << 20))
            else:
                raise _Hangup

    # -- updates -------------------------------------------------------------------------------

    async def update(self, pic: Picture, incremental: bool) -> None:
        if await self.faulty_update(pic):
            return
        rects = self.rects(pic, incremental)
        self.shown = pic
        self.updates += 1
        self.sim.stats["updates"] += 1
        await self.write(struct.pack(">BxH", 0, len(rects)) + b"".join(rects))

    def rects(self, pic: Picture, incremental: bool) -> list[bytes]:
        width, height = pic.mode.size
        mask = pic.mask()
        old = self.shown
        out: list[bytes] = []
        if old is None or old.mode != pic.mode:
            if old is not None and ENC_DESKTOP_SIZE in self.encodings:
                out.append(rect_header(0, 0, width, height, ENC_DESKTOP_SIZE))
                self.sim.stats["rect-DesktopSize"] += 1
            incremental = False
        if not incremental:
            return out + [self.encode(mask, width, 0, 0, width, height)]
        have = list(_mask_rows(old)) if old is not None else []
        new_rows = _mask_rows(pic)
        shift = _scroll(have, new_rows)
        if shift and self.sim.copyrect and ENC_COPYRECT in self.encodings:
            out.append(copy_rect(0, 0, width, height - shift * _CELL_H, 0, shift * _CELL_H))
            self.sim.stats["rect-CopyRect"] += 1
            have = have[shift:] + have[len(have) - shift :]
        changed = [i for i, row in enumerate(new_rows) if i >= len(have) or have[i] != row]
        for first, last in _bands(changed):
            out.append(self.encode(mask, width, 0, first * _CELL_H, width, (last - first + 1) * _CELL_H))
        return out

    def encode(self, mask: bytes, width: int, x: int, y: int, w: int, h: int) -> bytes:
        if ENC_ZRLE in self.encodings and (ENC_RAW not in self.encodings
                                           or self.encodings.index(ENC_ZRLE) < self.encodings.index(ENC_RAW)):
            self.sim.stats["rect-ZRLE"] += 1
            return self.zrle.rect(mask, width, x, y, w, h, self.fmt)
        self.sim.stats["rect-Raw"] += 1
        return raw_rect(mask, width, x, y, w, h, self.fmt)

    async def faulty_update(self, pic: Picture) -> bool:
        """Play this connection's fault when its moment has come; True if it replaced the update."""
        fault, n = self.fault, self.updates
        width, height = pic.mode.size
        if (fault == "disconnect" and n >= 3) or fault == "truncate":
            if fault == "truncate":
                whole = struct.pack(">BxH", 0, 1) + raw_rect(pic.mask(), width, 0, 0, width, height, self.fmt)
                await self.write(whole[: len(whole) // 2])
            raise _Hangup
        if fault in ("stall", "malformed") and n >= 2:
            if fault == "malformed":
                await self.write(b"\xfe" + os.urandom(15))
            await asyncio.sleep(3600)
        if fault == "outside":
            await self.write(struct.pack(">BxH", 0, 1) + rect_header(width - 8, 0, 64, 16, ENC_RAW) + bytes(64 * 16 * 4))
            await asyncio.sleep(3600)
        if fault == "zlib-bomb":
            bomb = _bomb()
            await self.write(struct.pack(">BxH", 0, 1) + rect_header(0, 0, width, height, ENC_ZRLE)
                             + struct.pack(">I", len(bomb)) + bomb)
            await asyncio.sleep(3600)
        if fault == "huge-cut-text":
            await self.write(struct.pack(">B3xI", 3, 0xFFFFFFFF) + b"x" * 4096)
            await asyncio.sleep(3600)
        return False


_BOMB: list[bytes] = []


def _bomb() -> bytes:
    if not _BOMB:
        _BOMB.append(zlib_bomb())
    return _BOMB[0]


def _mask_rows(pic: Picture) -> tuple[Any, ...]:
    """One comparable value per text row (its characters and cursor)."""
    return tuple((row, pic.cursor[0] if pic.cursor and pic.cursor[1] == i else None)
                 for i, row in enumerate(pic.rows))


def _scroll(old: list, new: tuple) -> int:
    """By how many rows the screen scrolled up (0: it did not), judged on the text rows."""
    rows = len(new)
    if len(old) != rows:
        return 0
    for shift in range(1, rows):
        top = [r[0] for r in old[shift:]][:-1]
        if top and any(t.strip() for t in top) and top == [r[0] for r in new[: rows - shift]][:-1]:
            return shift
    return 0


def _bands(rows: list[int]) -> list[tuple[int, int]]:
    bands: list[tuple[int, int]] = []
    for r in rows:
        if bands and bands[-1][1] == r - 1:
            bands[-1] = (bands[-1][0], r)
        else:
            bands.append((r, r))
    return bands


def start_vnc_sim(screen: SimScreen, **kw: Any) -> VncSim:
    """Start the simulated console on 127.0.0.1 (two free ports: TCP and websocket)."""
    return VncSim(screen, **kw)
