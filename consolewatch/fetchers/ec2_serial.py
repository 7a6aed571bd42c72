"""The EC2 serial console (Nitro only, opt-in): port 0 over SSH, spliced into the console stream.

Per session: a fresh ed25519 key is generated (asyncssh), pushed with EC2 Instance Connect's
`SendSerialConsoleSSHPublicKey` (valid 60 s), and used to SSH to
`<instance-id>.port0@serial-console.ec2-instance-connect.<region>.aws` (port 22; override with
the `serial_endpoint` option or CONSOLEWATCH_EC2_SERIAL_ENDPOINT=host:port). The host key is
checked against `~/.ssh/known_hosts` unless `serial_known_hosts` (or
CONSOLEWATCH_EC2_SERIAL_KNOWN_HOSTS) names another file, or "none" to skip the check.
The user's ssh config and agent are not used.

The serial console only shows what is printed after it connects, so the splice is: connect,
take one GetConsoleOutput window, then `SnapshotStitcher.join` the serial bytes received so
far (their start lies inside that window), and from then on append serial bytes as they come
(`extend`). Console polling pauses while the session lives and resumes, stitched against
the same reference, when it drops. It holds the one session EC2 allows per instance: a
human cannot connect meanwhile, which is why it is opt-in.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

from consolewatch.fetchers.ec2_api import THROTTLE_CODES
from consolewatch.model import Chunk, SourceStatus, SourceUnavailable

if TYPE_CHECKING:
    from consolewatch.fetchers.ec2 import Ec2Fetcher

MAX_RECONNECTS = 5


class _Unavailable(Exception):
    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason, self.hint = reason, hint


class _Transient(Exception):
    pass


def _push_error(f: Ec2Fetcher, code: str, message: str) -> Exception:
    region = f.region or "REGION"
    if code == "SerialConsoleAccessDisabledException":
        return _Unavailable(f"EC2 serial console access is disabled for this account in {region}",
                            f"an administrator can enable it: aws ec2 enable-serial-console-access --region {region}")
    if code == "EC2InstanceTypeInvalidException":
        return _Unavailable(f"instance type {f.itype} does not support the EC2 serial console (Nitro types only)",
                            "GetConsoleOutput and screenshots still work")
    if code == "SerialConsoleSessionLimitExceededException":
        return _Unavailable("another EC2 serial console session is open on this instance (only one is allowed)",
                            "close the other session (EC2 console or ssh) and run again")
    if code == "SerialConsoleSessionUnsupportedException":
        return _Unavailable("this instance cannot open a serial console session until its BIOS is updated",
                            "stop and start (or reboot) the instance")
    if code in ("AuthException", "AccessDeniedException", "UnauthorizedOperation"):
        return _Unavailable("not authorised to push a serial console key",
                            "the credentials need ec2-instance-connect:SendSerialConsoleSSHPublicKey")
    if code in ("EC2InstanceNotFoundException", "InvalidArgsException"):
        return _Unavailable(f"EC2 Instance Connect refused the request: {code}: {message}".rstrip(": "))
    if code in THROTTLE_CODES or code in ("ServiceException", "SerialConsoleSessionUnavailableException",
                                          "EC2InstanceUnavailableException", "EC2InstanceStateInvalidException"):
        return _Transient(f"EC2 serial console: {code}: {message}".rstrip(": "))
    return _Unavailable(f"EC2 serial console: {code}: {message}".rstrip(": "))


def _endpoint(f: Ec2Fetcher) -> tuple[str, int]:
    text = f.options.get("serial_endpoint") or os.environ.get("CONSOLEWATCH_EC2_SERIAL_ENDPOINT")
    if text:
        host, _, port = str(text).rpartition(":")
        if not host or not port.isdigit():
            host, port = str(text), "22"
        return host.strip("[]"), int(port)
    return f"serial-console.ec2-instance-connect.{f.region}.aws", 22


def _known_hosts(f: Ec2Fetcher) -> Any:
    value = f.options.get("serial_known_hosts") or os.environ.get("CONSOLEWATCH_EC2_SERIAL_KNOWN_HOSTS")
    if not value:
        return ()  # asyncssh's default: ~/.ssh/known_hosts
    return None if str(value).lower() == "none" else str(value)


async def serial_loop(f: Ec2Fetcher) -> None:
    if f.hypervisor != "nitro":
        await f.emit(SourceUnavailable("serial", f"the EC2 serial console needs a Nitro instance type; {f.itype} "
                                                 "runs on Xen", "GetConsoleOutput and screenshots still work"))
        return
    try:
        import asyncssh
    except ImportError:
        await f.emit(SourceUnavailable("serial", "the EC2 serial console needs the asyncssh package",
                                       "pip install asyncssh"))
        return
    failures = 0
    while not f.ended:
        if f.state != "running":
            await f._sleep(f.state_poll)
            continue
        try:
            got_data = await _session(f, asyncssh)
            failures = 0 if got_data else failures + 1
        except _Unavailable as exc:
            await f.emit(SourceUnavailable("serial", exc.reason, exc.hint))
            return
        except _Transient as exc:
            failures += 1
            if failures > MAX_RECONNECTS:
                await f.emit(SourceUnavailable("serial", f"gave up on the EC2 serial console: {exc}"))
                return
            await f.backoff("serial", str(exc), failures)


async def _session(f: Ec2Fetcher, asyncssh: Any) -> bool:
    """One serial console session; returns when it ends (True if it delivered bytes)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = asyncssh.generate_private_key("ssh-ed25519", comment="consolewatch")
    public = key.export_public_key("openssh").decode().strip()
    try:
        ic = await f.instance_connect()
        await asyncio.to_thread(ic.send_serial_console_ssh_public_key, InstanceId=f.instance_id, SerialPort=0,
                                SSHPublicKey=public)
    except ClientError as exc:
        err = exc.response.get("Error", {}) or {}
        raise _push_error(f, str(err.get("Code", "")), " ".join(str(err.get("Message", "")).split())) from None
    except BotoCoreError as exc:
        raise _Transient(f"EC2 Instance Connect: {type(exc).__name__}") from None
    host, port = _endpoint(f)
    try:
        conn = await asyncssh.connect(
            host, port, username=f"{f.instance_id}.port0", client_keys=[key], known_hosts=_known_hosts(f),
            agent_path=None, config=None, preferred_auth="publickey", connect_timeout=15, keepalive_interval=30,
        )
    except asyncssh.HostKeyNotVerifiable:
        raise _Unavailable(f"the host key of {host} is not in known_hosts",
                           "check it against AWS's published EC2 serial console fingerprints and add it to "
                           "~/.ssh/known_hosts (or pass serial_known_hosts=FILE)") from None
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        raise _Transient(f"cannot connect to the EC2 serial console at {host}:{port}: "
                         f"{type(exc).__name__}: {' '.join(str(exc).split())}") from None
    got = False
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    async with conn:
        try:
            proc = await conn.create_process(encoding=None, term_type="vt100", term_size=(80, 25))
        except asyncssh.Error as exc:
            raise _Transient(f"the EC2 serial console refused a session: {exc}") from None

        async def reader() -> None:
            while True:
                data = await proc.stdout.read(65536)
                await queue.put(data)
                if not data:
                    return

        task = asyncio.create_task(reader())
        try:
            async with f.lock:  # splice: one window, then the serial bytes that follow it
                await f.poll_console_locked(attempts=3)
                head, ended = _drain(queue)
                fresh = f.stitcher.join(head)
                f.serial_live = True
                got = bool(head)
                if fresh:
                    await f.emit(Chunk("console", fresh, f.cursor("serial"), time.time(), "stream"))
                await f.emit(SourceStatus("console", "streaming", "live from the EC2 serial console (SSH, port 0)",
                                          None, time.time()))
            while not ended:
                data = await queue.get()
                if not data:
                    break
                got = True
                await f.emit(Chunk("console", f.stitcher.extend(data), f.cursor("serial"), time.time(), "stream"))
                f.changed.set()
        except (asyncssh.Error, OSError) as exc:
            raise _Transient(f"the EC2 serial console session broke: {type(exc).__name__}") from None
        finally:
            task.cancel()
            if f.serial_live:
                f.serial_live = False
                f.wake.set()
                await f.emit(SourceStatus("console", "streaming", "the EC2 serial console session ended; "
                                          "back to GetConsoleOutput", f.poll_min, time.time()))
    return got


def _drain(queue: asyncio.Queue[bytes]) -> tuple[bytes, bool]:
    parts, ended = [], False
    while not queue.empty():
        data = queue.get_nowait()
        if not data:
            ended = True
            break
        parts.append(data)
    return b"".join(parts), ended
