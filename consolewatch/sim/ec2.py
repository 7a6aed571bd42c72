"""A simulated EC2 on loopback, speaking the Query API boto3 uses, playing real boot logs.

    sim = start_ec2_sim()                                   # 127.0.0.1, a free port
    inst = sim.add_instance("i-0123456789abcdef0", log_bytes, instance_type="m5.large")
    os.environ.update(sim.env())                            # AWS_ENDPOINT_URL_EC2=..., dummy keys
    ...                                                      # boto3 / consolewatch tail aws:i-...
    sim.close()

Actions (form-encoded `Action=...&Version=2016-11-15`, answered in EC2's XML with its
namespace; SigV4 is not verified, but the access key and the signing region are read):
`DescribeInstances`, `DescribeInstanceTypes` (the `hypervisor` field that tells Nitro from Xen),
`DescribeSubnets` (the CIDR block of an instance's subnet),
`GetConsoleOutput` (64 KB window, `Latest`, `Timestamp`, base64: see `ec2_model` for the
model), `GetConsoleScreenshot` (the current console drawn by `render_screen` as a JPEG,
base64). Errors use EC2's XML error document: `InvalidInstanceID.NotFound` (400; also when the
request is signed for another region: the instance lives in the simulator's region),
`InvalidInstanceID.Malformed`, `AuthFailure`, `IncorrectInstanceState`, and the injected faults
of `ec2_model.FAULTS` (throttling, 5xx bursts, malformed bodies).

EC2 Instance Connect's `SendSerialConsoleSSHPublicKey` (JSON 1.1, `X-Amz-Target`) is answered
on the same port: point `AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT` at it. The serial console's SSH
side (`ec2_serial`, needs asyncssh) streams port 0 to `<instance-id>.port0` with a pushed key.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from consolewatch.sim.ec2_model import FAULTS, Fault, SimInstance, SimState
from consolewatch.sim.httpserve import HttpSim
from consolewatch.sim.player import ConsolePlayer

__all__ = ["Ec2Sim", "start_ec2_sim", "SimInstance"]

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
MAX_BODY = 1 << 20
_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
_STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
_CRED = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")


class _Reply(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Ec2Sim(HttpSim):
    """A running simulator: its endpoint, instances, faults and statistics. Use `start_ec2_sim`."""

    def __init__(self, *, region: str = "us-east-1", clock: Callable[[], float] = time.monotonic,
                 host: str = "127.0.0.1", port: int = 0, serial: bool = True,
                 serial_access: bool = True) -> None:
        self.state = SimState(region=region, clock=clock, serial_access=serial_access)
        self.region = region
        self.clock = clock
        self.delay = 0.0
        """Seconds every request waits before answering (a slow API)."""
        self.before_action: Callable[[str], None] | None = None
        """Called with the Action name before each request is answered (tests step a clock here)."""
        self.endpoint = self._serve(host, port, _handler(self), "ec2-sim")
        self.serial = None
        self.serial_endpoint: str | None = None
        self.known_hosts: str | None = None
        if serial:
            try:
                from consolewatch.sim.ec2_serial import SerialConsoleServer
            except ImportError:  # asyncssh not installed: no serial console
                pass
            else:
                self.serial = SerialConsoleServer(self.state, host=host)
                self.serial_endpoint = f"{host}:{self.serial.port}"
                fd, self.known_hosts = tempfile.mkstemp(prefix="ec2sim-known-hosts-")
                with os.fdopen(fd, "w") as fh:
                    fh.write(self.serial.known_hosts_line(host))

    # -- configuration --------------------------------------------------------------------

    def add_instance(self, instance_id: str, data: bytes = b"", *, bytes_per_second: float = 20_000.0,
                     player: ConsolePlayer | None = None, **fields: Any) -> SimInstance:
        """A running instance printing `data` (a real boot log) at `bytes_per_second`."""
        if not _ID.match(instance_id):
            raise ValueError(f"not an EC2 instance id: {instance_id!r}")
        player = player or ConsolePlayer(data, bytes_per_second=bytes_per_second, clock=self.clock)
        now = self.clock()
        fields.setdefault("availability_zone", self.region + "a")
        inst = SimInstance(instance_id=instance_id, player=player, launched_at=now, changed_at=now, **fields)
        with self.state.lock:
            self.state.instances[instance_id] = inst
        return inst

    def instance(self, instance_id: str) -> SimInstance:
        return self.state.instances[instance_id]

    def inject(self, kind: str, count: int = 1, action: str | None = None) -> None:
        """Answer the next `count` matching requests with a fault (see ec2_model.FAULTS)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
        with self.state.lock:
            self.state.faults.append(Fault(kind, count, action))

    def drop_serial_sessions(self) -> None:
        """Disconnect every serial console session (a network blip, or EC2 ending it)."""
        if self.serial is not None:
            self.serial.disconnect_all()

    def calls(self, action: str | None = None) -> int:
        return self.state.count(action)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for boto3 (and consolewatch) to use this simulator, with dummy keys."""
        env = {
            "AWS_ENDPOINT_URL_EC2": self.endpoint,
            "AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT": self.endpoint,
            "AWS_ACCESS_KEY_ID": "AKIASIMULATED0000000",
            "AWS_SECRET_ACCESS_KEY": "simulated-secret-key",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self.serial_endpoint:
            env["CONSOLEWATCH_EC2_SERIAL_ENDPOINT"] = self.serial_endpoint
            env["CONSOLEWATCH_EC2_SERIAL_KNOWN_HOSTS"] = self.known_hosts or ""
        env.update(extra)
        return env

    def close(self) -> None:
        super().close()
        if self.serial is not None:
            self.serial.close()
            self.serial = None
        if self.known_hosts:
            try:
                os.unlink(self.known_hosts)
            except OSError:
                pass

    # -- actions --------------------------------------------------------------------------

    def _find(self, params: dict[str, str], signing_region: str | None) -> SimInstance:
        iid = params.get("InstanceId", "")
        if not _ID.match(iid):
            raise _Reply(400, "InvalidInstanceID.Malformed", f'Invalid id: "{iid}"')
        inst = self.state.instances.get(iid)
        if inst is None or (signing_region and signing_region != self.region):
            raise _Reply(400, "InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")
        return inst

    def describe_instances(self, params: dict[str, str], region: str | None) -> str:
        ids = [v for k, v in sorted(params.items()) if k.startswith("InstanceId.")]
        if region and region != self.region:
            found: list[SimInstance] = []
        else:
            found = [self.state.instances[i] for i in ids if i in self.state.instances] if ids \
                else list(self.state.instances.values())
        missing = [i for i in ids if i not in {x.instance_id for x in found}]
        if missing:
            raise _Reply(400, "InvalidInstanceID.NotFound", f"The instance ID '{missing[0]}' does not exist")
        items = "".join(_instance_xml(i, self.state.wall(i.launched_at)) for i in found)
        body = (f"<reservationSet><item><reservationId>r-0sim</reservationId><ownerId>123456789012</ownerId>"
                f"<groupSet/><instancesSet>{items}</instancesSet></item></reservationSet>") if found \
            else "<reservationSet/>"
        return _doc("DescribeInstancesResponse", body)

    def describe_instance_types(self, params: dict[str, str]) -> str:
        from consolewatch.fetchers.ec2_api import hypervisor_for_type

        items = []
        for k, v in sorted(params.items()):
            if k.startswith("InstanceType."):
                hv = hypervisor_for_type(v)
                metal = hv is None
                hv_xml = "" if metal else f"<hypervisor>{hv}</hypervisor>"
                items.append(f"<item><instanceType>{escape(v)}</instanceType><currentGeneration>true</currentGeneration>"
                             f"<bareMetal>{str(metal).lower()}</bareMetal>{hv_xml}</item>")
        return _doc("DescribeInstanceTypesResponse", f"<instanceTypeSet>{''.join(items)}</instanceTypeSet>")

    def describe_subnets(self, params: dict[str, str]) -> str:
        ids = {v for k, v in params.items() if k.startswith("SubnetId.")}
        subnets = {i.subnet_id: i for i in self.state.instances.values() if not ids or i.subnet_id in ids}
        missing = sorted(ids - set(subnets))
        if missing:
            raise _Reply(400, "InvalidSubnetID.NotFound", f"The subnet ID '{missing[0]}' does not exist")
        items = "".join(
            f"<item><subnetId>{escape(sid)}</subnetId><state>available</state><vpcId>vpc-0sim</vpcId>"
            f"<cidrBlock>{escape(i.subnet_cidr)}</cidrBlock><availabilityZone>{escape(i.availability_zone)}"
            "</availabilityZone><defaultForAz>true</defaultForAz></item>" for sid, i in sorted(subnets.items()))
        return _doc("DescribeSubnetsResponse", f"<subnetSet>{items}</subnetSet>")

    def get_console_output(self, params: dict[str, str], region: str | None) -> str:
        inst = self._find(params, region)
        latest = params.get("Latest", "false").lower() == "true"
        if latest and inst.hypervisor == "xen" and inst.latest_on_xen == "error":
            raise _Reply(400, "UnsupportedOperation",
                         "The latest console output is not supported for this instance type.")
        at, window = inst.console_output(self.clock(), latest)
        if inst.raw_output is not None:
            out = f"<output>{escape(inst.raw_output)}</output>"
        else:
            out = f"<output>{base64.b64encode(window).decode()}</output>" if window else ""
        ts = f"<timestamp>{_iso(self.state.wall(at))}</timestamp>" if at is not None else ""
        return _doc("GetConsoleOutputResponse", f"<instanceId>{inst.instance_id}</instanceId>{ts}{out}")

    def get_console_screenshot(self, params: dict[str, str], region: str | None) -> str:
        inst = self._find(params, region)
        if not inst.screenshots:
            raise _Reply(400, "UnsupportedOperation", "This instance type does not support console screenshots.")
        if inst.state != "running":
            raise _Reply(400, "IncorrectInstanceState",
                         f"The instance '{inst.instance_id}' is not in a state from which a screenshot can be taken.")
        if inst.screenshot_override is not None:
            data = inst.screenshot_override
        else:
            from consolewatch.sim.screen import render_screen

            data = base64.b64encode(render_screen(inst.screen_lines(self.clock()), fmt="JPEG", quality=85)).decode()
        return _doc("GetConsoleScreenshotResponse",
                    f"<instanceId>{inst.instance_id}</instanceId><imageData>{escape(data)}</imageData>")

    def send_serial_key(self, body: dict[str, Any]) -> dict[str, Any]:
        iid = str(body.get("InstanceId", ""))
        key = str(body.get("SSHPublicKey", ""))
        if not _ID.match(iid) or not 80 <= len(key) <= 4096 or body.get("SerialPort", 0) != 0:
            raise _Reply(400, "InvalidArgsException", "Invalid instance id, serial port or SSH public key")
        inst = self.state.instances.get(iid)
        if inst is None:
            raise _Reply(400, "EC2InstanceNotFoundException", f"Instance not found: {iid}")
        if not self.state.serial_access:
            raise _Reply(403, "SerialConsoleAccessDisabledException",
                         "Your requested instance type is not supported or serial console access is disabled")
        if inst.hypervisor != "nitro" and inst.instance_type.split(".")[1:2] != ["metal"]:
            raise _Reply(400, "EC2InstanceTypeInvalidException", "Only Nitro instance types are currently supported.")
        if inst.state != "running":
            raise _Reply(400, "EC2InstanceStateInvalidException", "The instance is not running")
        if iid in self.state.serial_sessions:
            raise _Reply(400, "SerialConsoleSessionLimitExceededException",
                         "There is already an active serial console session for this instance")
        self.state.push_serial_key(iid, key)
        return {"RequestId": str(uuid.uuid4()), "Success": True}


def _doc(root: str, body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}"><requestId>{uuid.uuid4()}</requestId>'
            f"{body}</{root}>")


def _instance_xml(i: SimInstance, launched: float) -> str:
    bdm = "".join(
        f"<item><deviceName>{escape(d)}</deviceName><ebs><volumeId>vol-0{n:016x}</volumeId><status>attached</status>"
        f"<attachTime>{_iso(launched)}</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item>"
        for n, d in enumerate(i.block_devices))
    platform = f"<platform>{escape(i.platform)}</platform>" if i.platform else ""
    details = "Windows" if i.platform == "windows" else "Linux/UNIX"
    return (
        f"<item><instanceId>{i.instance_id}</instanceId><imageId>{escape(i.image_id)}</imageId>"
        f"<instanceState><code>{_STATE_CODES.get(i.state, 16)}</code><name>{i.state}</name></instanceState>"
        f"<privateDnsName/><dnsName/><reason/><amiLaunchIndex>0</amiLaunchIndex>"
        f"{f'<privateIpAddress>{escape(i.private_ip)}</privateIpAddress>' if i.private_ip else ''}"
        f"<subnetId>{escape(i.subnet_id)}</subnetId><vpcId>vpc-0sim</vpcId>"
        f"<instanceType>{escape(i.instance_type)}</instanceType><launchTime>{_iso(launched)}</launchTime>"
        f"<placement><availabilityZone>{escape(i.availability_zone)}</availabilityZone><tenancy>default</tenancy>"
        f"</placement>{platform}<monitoring><state>disabled</state></monitoring><architecture>x86_64</architecture>"
        f"<rootDeviceType>ebs</rootDeviceType><rootDeviceName>{escape(i.root_device_name)}</rootDeviceName>"
        f"<blockDeviceMapping>{bdm}</blockDeviceMapping><virtualizationType>hvm</virtualizationType>"
        f"<hypervisor>xen</hypervisor><enaSupport>{str(i.hypervisor == 'nitro').lower()}</enaSupport>"
        f"<platformDetails>{details}</platformDetails></item>"
    )


def _handler(sim: Ec2Sim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/xml;charset=UTF-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"request too large", "text/plain")
                return
            raw = self.rfile.read(length)
            if sim.delay:
                time.sleep(sim.delay)
            target = self.headers.get("X-Amz-Target", "")
            if target:
                self._json(target, raw)
            else:
                self._query({k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()})

        def _signing(self) -> tuple[str | None, str | None]:
            m = _CRED.search(self.headers.get("Authorization", ""))
            return (m.group(1), m.group(2)) if m else (None, None)

        def _query(self, params: dict[str, str]) -> None:
            action = params.get("Action", "")
            key, region = self._signing()
            status = 200
            if sim.before_action is not None:
                sim.before_action(action)
            try:
                fault = sim.state.take_fault(action)
                if fault is not None:
                    status, code = FAULTS[fault.kind]
                    if code is None:
                        sim.state.record(action, status)
                        self._garbage(status)
                        return
                    raise _Reply(status, code, f"Simulated {code}.")
                keys = sim.state.valid_access_keys
                if keys is not None and key not in keys:
                    raise _Reply(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
                if action == "DescribeInstances":
                    body = sim.describe_instances(params, region)
                elif action == "DescribeInstanceTypes":
                    body = sim.describe_instance_types(params)
                elif action == "DescribeSubnets":
                    body = sim.describe_subnets(params)
                elif action == "GetConsoleOutput":
                    body = sim.get_console_output(params, region)
                elif action == "GetConsoleScreenshot":
                    body = sim.get_console_screenshot(params, region)
                else:
                    raise _Reply(400, "InvalidAction", f"The action {action} is not valid for this web service.")
                sim.state.record(action, status)  # before the reply: a client may count calls at once
                self._send(200, body.encode())
            except _Reply as r:
                sim.state.record(action, r.status)
                self._send(r.status, (
                    f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(r.code)}</Code>'
                    f"<Message>{escape(r.message)}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID>"
                    "</Response>").encode())

        def _garbage(self, status: int) -> None:
            if status >= 500:
                self._send(status, b"<!doctype html><html><body>502 Bad Gateway</body></html>", "text/html")
            else:
                junk = bytes(random.Random(status).randrange(256) for _ in range(200))
                self._send(status, b"<GetConsoleOutputResponse><output>" + junk)

        def _json(self, target: str, raw: bytes) -> None:
            action = target.rpartition(".")[2]
            try:
                if action != "SendSerialConsoleSSHPublicKey":
                    raise _Reply(400, "InvalidAction", f"unknown operation {action}")
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    raise _Reply(400, "SerializationException", "malformed JSON") from None
                reply = json.dumps(sim.send_serial_key(body)).encode()
                sim.state.record(action, 200)
                self._send(200, reply, "application/x-amz-json-1.1")
            except _Reply as r:
                sim.state.record(action, r.status)
                self._send(r.status, json.dumps({"__type": r.code, "Message": r.message}).encode(),
                           "application/x-amz-json-1.1")

    return Handler


def start_ec2_sim(*, region: str = "us-east-1", clock: Callable[[], float] = time.monotonic, serial: bool = True,
                  serial_access: bool = True, host: str = "127.0.0.1", port: int = 0) -> Ec2Sim:
    """Start the simulator (HTTP, and the SSH serial console when asyncssh is installed)."""
    return Ec2Sim(region=region, clock=clock, host=host, port=port, serial=serial, serial_access=serial_access)
