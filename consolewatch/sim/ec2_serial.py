"""The simulated EC2 serial console: SSH to `<instance-id>.port0` streams the instance's port 0.

Like EC2's (shared/research/api-brief.md section 1.3): authentication is by a public key
pushed with EC2 Instance Connect's `SendSerialConsoleSSHPublicKey` within the last 60 seconds;
one session per instance; the session shows what the instance prints from the moment it
connects (no history: that is what GetConsoleOutput is for) and ends when the instance stops
or terminates. Needs asyncssh; runs its own event loop on a thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import asyncssh

from consolewatch.sim.ec2_model import SimState

TICK = 0.01


class SerialConsoleServer:
    def __init__(self, state: SimState, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ec2-sim-serial", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(host, port), self.loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        self.sessions = 0
        self._generation = 0

    async def _start(self, host: str, port: int) -> Any:
        return await asyncssh.create_server(
            lambda: _Auth(self.state), host, port, server_host_keys=[self.host_key],
            process_factory=self._session, encoding=None, allow_scp=False, sftp_factory=None,
            agent_forwarding=False, x11_forwarding=False, keepalive_interval=0,
        )

    def known_hosts_line(self, host: str) -> str:
        key = self.host_key.export_public_key("openssh").decode().split()
        return f"[{host}]:{self.port} {key[0]} {key[1]}\n"

    async def _session(self, process: asyncssh.SSHServerProcess) -> None:
        username = process.get_extra_info("username") or ""
        iid = username.removesuffix(".port0")
        inst = self.state.instances.get(iid)
        with self.state.lock:
            busy = iid in self.state.serial_sessions
            if not busy:
                self.state.serial_sessions.add(iid)
        if inst is None or busy:
            process.stderr.write(b"serial console session unavailable\r\n")
            process.exit(1)
            return
        self.sessions += 1
        generation = self._generation
        try:
            pos = len(inst.buffer())
            while inst.state == "running" and not process.stdout.is_closing() and generation == self._generation:
                data = inst.buffer()
                if len(data) < pos:  # the buffer was cleared (start after stop)
                    pos = 0
                if len(data) > pos:
                    process.stdout.write(data[pos:])
                    pos = len(data)
                    await process.stdout.drain()
                await asyncio.sleep(TICK)
            process.exit(0)
        except (asyncssh.Error, OSError, BrokenPipeError):
            pass
        finally:
            with self.state.lock:
                self.state.serial_sessions.discard(iid)

    def disconnect_all(self) -> None:
        """End every open session (the instance keeps running)."""
        self._generation += 1

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


class _Auth(asyncssh.SSHServer):
    def __init__(self, state: SimState) -> None:
        self.state = state

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        iid = username.removesuffix(".port0")
        b64 = key.export_public_key("openssh").decode().split()[1]
        return self.state.serial_key_ok(iid, b64)
