"""Local sources: a growing file, a unix socket served like QEMU's -serial unix:, a pty."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from consolewatch.fetchers import FetchError, Target
from consolewatch.fetchers.local import FileFetcher, QemuFetcher
from consolewatch.model import Chunk, Gap

ROOT = Path(__file__).resolve().parents[2]
LOG = (ROOT / "samples/aws-nixos-reboot-kill-init-panic/console.log").read_bytes()


async def take(stream, until, limit: float = 10.0) -> list:
    out = []

    async def run():
        async for ev in stream:
            out.append(ev)
            if until(out):
                return

    await asyncio.wait_for(run(), limit)
    return out


def data_of(events) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Chunk))


def test_a_growing_file_resumes_at_its_cursor_and_notices_truncation(tmp_path):
    path = tmp_path / "console.log"
    path.write_bytes(LOG[:300])

    async def scenario():
        f = FileFetcher(Target("file", str(path), {"poll": 0.02}))
        first = await take(f.stream(follow=True), lambda ev: len(data_of(ev)) >= 300)
        cursor = [e.cursor for e in first if isinstance(e, Chunk)][-1]
        with path.open("ab") as fh:
            fh.write(LOG[300:])
        rest = await take(FileFetcher(Target("file", str(path), {"poll": 0.02})).stream(
            cursors={"console": cursor}, follow=False), lambda ev: False)
        assert data_of(first) + data_of(rest) == LOG
        path.write_bytes(b"rebooted\n")  # truncated and rewritten
        again = FileFetcher(Target("file", str(path), {"poll": 0.02})).stream(cursors={"console": len(LOG)}, follow=True)
        events = await take(again, lambda ev: any(isinstance(e, Chunk) for e in ev))
        assert isinstance(events[0], Gap) and data_of(events) == b"rebooted\n"

    asyncio.run(scenario())


def test_missing_file_without_follow_is_a_clear_error(tmp_path):
    async def scenario():
        await take(FileFetcher(Target("file", str(tmp_path / "nope"))).stream(follow=False), lambda ev: False)

    with pytest.raises(FetchError, match="no such file"):
        asyncio.run(scenario())


def test_qemu_unix_socket_server(tmp_path):
    path = str(tmp_path / "serial.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        for i in range(0, len(LOG), 97):  # arbitrary pieces, as a UART delivers them
            conn.sendall(LOG[i:i + 97])
            time.sleep(0.001)
        conn.close()  # QEMU exits

    threading.Thread(target=serve, daemon=True).start()
    events = asyncio.run(take(QemuFetcher(Target("qemu", path)).stream(follow=True), lambda ev: False))
    assert data_of(events) == LOG
    assert events[-1].state == "ended"


def test_qemu_pty(tmp_path):
    import tty

    master, slave = os.openpty()
    name = os.ttyname(slave)
    tty.setraw(slave)  # a serial line: no newline translation

    async def scenario():
        stream = QemuFetcher(Target("qemu", name)).stream(follow=True)
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, os.write, master, LOG)
        return await take(stream, lambda ev: len(data_of(ev)) >= len(LOG))

    try:
        events = asyncio.run(scenario())
        assert data_of(events) == LOG
    finally:
        os.close(master)
        os.close(slave)


def test_analyze_reads_a_target_once(cli, tmp_path):
    path = tmp_path / "console.log"
    path.write_bytes(LOG)
    import json

    doc = json.loads(cli("analyze", "--json", f"file:{path}").stdout)
    assert doc["outcome"] == "failure" and doc["lines"] == len(LOG.splitlines())
