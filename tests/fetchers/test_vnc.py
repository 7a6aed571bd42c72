"""VncFetcher against the simulated VNC console (consolewatch.sim.vnc) over real sockets:
TCP and websocket, RFB 3.3/3.7/3.8, with and without VNC Authentication, every encoding, a
console that scrolls, switches to a framebuffer console, drops the connection, and hostile
servers. The pictures are read back with the real OCR (the grid engine).

Real servers: tests/qemu/test_vnc_qemu.py (QEMU's own VNC server).
"""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc

import pytest

from consolewatch.fetchers.base import FetchError, Target
from consolewatch.fetchers.vnc import VncFetcher, parse_url, read_password
from consolewatch.model import Frame, Gap, SourceStatus, SourceUnavailable
from consolewatch.ocr.reader import read_frame
from consolewatch.sim.gce import sample_log
from consolewatch.sim.player import ConsolePlayer
from consolewatch.sim.vnc import start_vnc_sim
from consolewatch.sim.vnc_screen import FBCON, VGA, SimScreen

LOG = sample_log("qemu/dhcp-no-lease")
FAST = {"backoff": (0.05, 0.2), "settle": 0.1, "max_wait": 0.2, "confirm": 0.3}


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def still_screen(log: bytes = LOG, **kw) -> SimScreen:
    """The whole log printed: a screen that does not change (no cursor blinking)."""
    return SimScreen(ConsolePlayer(log, bytes_per_second=0), cursor=False, **kw)


def collect(url: str, options: dict | None = None, *, follow: bool = True, until=None, timeout: float = 20,
            env: dict | None = None) -> list:
    """Events of one stream() until `until(events)` is true, the stream ends or `timeout`."""
    events: list = []

    async def run() -> None:
        fetcher = VncFetcher(Target("vnc", url, {**FAST, **(options or {})}), env=env or {})
        async for event in fetcher.stream(follow=follow):
            events.append(event)
            if until is not None and until(events):
                return

    asyncio.run(asyncio.wait_for(run(), timeout))
    return events


def frames(events: list) -> list[Frame]:
    return [e for e in events if isinstance(e, Frame)]


def shown_text(screen: SimScreen) -> list[str]:
    return [row.rstrip() for row in screen.picture().rows if row.strip()]


def ocr_text(frame: Frame) -> list[str]:
    return [line.text for line in read_frame(frame.image, frame.media_type).lines]


@pytest.mark.parametrize("transport, version, password, options", [
    ("ws", (3, 8), None, {}),
    ("tcp", (3, 8), "s3cret", {}),
    ("ws", (3, 7), "s3cret", {"encodings": ["raw"]}),
    ("tcp", (3, 3), None, {"encodings": ["zrle"]}),
    ("tcp", (3, 3), "s3cret", {"encodings": ["zrle", "copyrect"]}),
])
def test_the_first_picture_is_the_console_exactly(transport, version, password, options):
    screen = still_screen()
    with start_vnc_sim(screen, password=password, version=version, zrle_mode="mixed") as sim:
        url = sim.ws_url if transport == "ws" else sim.tcp_url
        events = collect(url, options, follow=False, env={"CONSOLEWATCH_VNC_PASSWORD": password} if password else {})
        used = dict(sim.stats)
    (frame,) = frames(events)
    assert frame.source == "screen" and frame.media_type == "image/png"
    assert ocr_text(frame) == shown_text(screen)
    assert ("rect-Raw" in used) == (options.get("encodings") == ["raw"])
    status = next(e for e in events if isinstance(e, SourceStatus) and e.state == "streaming")
    assert f"RFB {version[0]}.{version[1]}" in status.detail
    assert ("VNC Authentication" in status.detail) == bool(password)


def test_a_scrolling_console_is_followed_with_copyrect_and_zrle():
    end = LOG.index(b"udhcpc: started")
    log = LOG[LOG.index(b"\n", end - 7000) + 1 : end]  # 7 KB of kernel lines, a hundred of them
    screen = SimScreen(ConsolePlayer(log, bytes_per_second=2500))
    with start_vnc_sim(screen) as sim:
        events = collect(sim.ws_url, {}, until=lambda ev: screen.player.done() and len(frames(ev)) > 6, timeout=30)
        used = dict(sim.stats)
    pics = frames(events)
    assert used["rect-CopyRect"] > 0 and used["rect-ZRLE"] > 0 and "rect-Raw" not in used
    texts = [ocr_text(f) for f in pics]
    assert len({tuple(t) for t in texts}) >= 5  # the screen moved between pictures
    log_lines = log.decode().splitlines()
    for rows in texts:  # what each picture shows is the log's text: every row part of a line
        assert all(any(row in line for line in log_lines) for row in rows), rows


def test_a_switch_to_a_framebuffer_console_is_a_desktop_size_change():
    clock = Clock()
    marker = b"[    0.000000] Linux version"
    player = ConsolePlayer(LOG, bytes_per_second=1000, clock=clock, start=0.0)
    screen = SimScreen(player, mode=VGA, switch_at=marker, switch_to=FBCON, cursor=False)
    seen = []

    def until(events):
        pics = frames(events)
        if len(pics) > len(seen):
            seen.append(pics[-1])
            if len(seen) == 1:
                clock.t = 100.0  # the whole log printed: the kernel took the console over
        return any(read_frame(f.image).width == 1024 for f in pics)

    with start_vnc_sim(screen) as sim:
        events = collect(sim.tcp_url, {}, until=until)
        assert sim.stats["rect-DesktopSize"] == 1
    first, last = frames(events)[0], frames(events)[-1]
    assert (read_frame(first.image).width, read_frame(first.image).height) == VGA.size
    result = read_frame(last.image)
    assert (result.width, result.height, result.cols, result.rows) == (1024, 768, 128, 48)
    assert [line.text for line in result.lines] == shown_text(screen)


def test_a_dropped_connection_is_a_gap_then_the_console_again():
    screen = SimScreen(ConsolePlayer(LOG, bytes_per_second=3000))
    with start_vnc_sim(screen) as sim:
        sim.inject("disconnect")
        events = collect(sim.tcp_url, {}, until=lambda ev: any(isinstance(e, Gap) for e in ev)
                         and isinstance(ev[-1], Frame))
        connections = sim.stats["connections"]
    gap = next(e for e in events if isinstance(e, Gap))
    assert gap.lost_bytes is None and "closed the connection" in gap.reason
    after = events[events.index(gap):]
    assert [e.state for e in after if isinstance(e, SourceStatus)][:2] == ["backoff", "streaming"]
    assert connections == 2 and isinstance(events[-1], Frame)


@pytest.mark.parametrize("fault, words, transport", [
    ("oversize", "65535x65535 framebuffer", "tcp"),
    ("outside", "outside the 720x400 framebuffer", "tcp"),
    ("zlib-bomb", "zlib bomb", "tcp"),
    ("zlib-bomb", "zlib bomb", "ws"),
    ("truncate", "closed the connection in the middle of rectangle 1 of 1", "tcp"),
    ("truncate", "closed the connection in the middle of rectangle 1 of 1", "ws"),
    ("no-handshake", "ProtocolVersion", "ws"),
    ("stall", "sent nothing for", "tcp"),
    ("malformed", "message type 254", "ws"),
    ("huge-cut-text", "clipboard text of 4,294,967,295 bytes", "tcp"),
])
def test_a_hostile_server_is_reported_in_one_clear_line_with_bounded_memory(fault, words, transport):
    screen = still_screen()
    with start_vnc_sim(screen) as sim:
        sim.inject(fault, times=2)
        url = sim.ws_url if transport == "ws" else sim.tcp_url
        tracemalloc.start()
        started = time.monotonic()
        try:
            events = collect(url, {"max_failures": 2, "handshake_timeout": 2, "stall_timeout": 0.6,
                                   "keepalive": 0.3}, timeout=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        took = time.monotonic() - started
    gone = [e for e in events if isinstance(e, SourceUnavailable)]
    assert len(gone) == 1 and words in gone[0].reason and "\n" not in gone[0].reason, gone
    assert "(2 attempts in a row)" in gone[0].reason
    assert isinstance(events[-1], SourceStatus) and events[-1].state == "ended"
    assert took < 15 and peak < 40 << 20, (took, peak)


def test_a_wrong_or_missing_password_is_an_error_for_the_user_that_never_shows_it():
    with start_vnc_sim(still_screen(), password="right-one") as sim:
        with pytest.raises(FetchError) as wrong:
            collect(sim.tcp_url, follow=False, env={"CONSOLEWATCH_VNC_PASSWORD": "not-the-password"})
        with pytest.raises(FetchError) as missing:
            collect(sim.ws_url, follow=False)
        assert sim.stats["auth-failures"] == 1
    assert "VNC authentication failed: Authentication failed" in str(wrong.value)
    assert "not-the-password" not in str(wrong.value) and "right-one" not in str(wrong.value)
    assert "--vnc-password-file" in str(missing.value)


def test_a_console_nobody_answers_on_is_unavailable_after_a_few_attempts():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    events = collect(f"vnc://127.0.0.1:{port}", {"max_failures": 3}, timeout=10)
    assert [e.state for e in events if isinstance(e, SourceStatus)] == ["backoff", "backoff", "ended"]
    (gone,) = [e for e in events if isinstance(e, SourceUnavailable)]
    assert f"cannot connect to 127.0.0.1:{port}" in gone.reason and not [e for e in events if isinstance(e, Gap)]


def test_the_websocket_path_and_subprotocol_are_those_of_novnc():
    with start_vnc_sim(still_screen()) as sim:
        events = collect(sim.ws_url.replace("/websockify", "/elsewhere"), {"max_failures": 1}, timeout=10)
    (gone,) = [e for e in events if isinstance(e, SourceUnavailable)]
    assert "refused the websocket" in gone.reason and "404" in gone.reason


# -- URLs and passwords ------------------------------------------------------------------------

@pytest.mark.parametrize("url, transport, port, connect", [
    ("vnc://10.0.0.5", "tcp", 5900, "vnc://10.0.0.5:5900"),
    ("vnc://[::1]:5901", "tcp", 5901, "vnc://[::1]:5901"),
    ("vnc+ws://h:6080/websockify?token=abc", "ws", 6080, "ws://h:6080/websockify?token=abc"),
    ("vnc+wss://console.example/vnc", "wss", 443, "wss://console.example:443/vnc"),
    ("wss://console.example:8443/?token=t", "wss", 8443, "wss://console.example:8443/?token=t"),
])
def test_console_urls(url, transport, port, connect):
    ep = parse_url(url)
    assert (ep.transport, ep.port, ep.url) == (transport, port, connect)
    assert "token" not in ep.name and "abc" not in ep.name


@pytest.mark.parametrize("url, words", [
    ("vnc://user:hunter2@host:5900", "--vnc-password-file"),
    ("vnc://host:5900/path", "only vnc://HOST:PORT"),
    ("http://host/", "a VNC console is"),
    ("vnc://host:99999", "not a console URL"),
])
def test_urls_that_are_not_consoles_are_refused_without_echoing_secrets(url, words):
    with pytest.raises(FetchError) as err:
        parse_url(url)
    assert words in str(err.value) and "hunter2" not in str(err.value)


def test_the_password_comes_from_the_file_or_the_environment(tmp_path):
    f = tmp_path / "pw"
    f.write_text("from-file\n")
    assert read_password({"vnc_password_file": str(f)}, {"CONSOLEWATCH_VNC_PASSWORD": "env"}) == "from-file"
    assert read_password({}, {"CONSOLEWATCH_VNC_PASSWORD": "env"}) == "env"
    assert read_password({}, {}) is None
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "big").write_bytes(b"x" * 5000)
    for name, words in (("empty", "is empty"), ("big", "over 4096 bytes"), ("missing", "cannot read")):
        with pytest.raises(FetchError, match=words):
            read_password({"vnc_password_file": str(tmp_path / name)}, {})
