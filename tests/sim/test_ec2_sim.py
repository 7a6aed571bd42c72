"""The simulated EC2 speaks the Query API as boto3 expects it, and models the console calls."""

from __future__ import annotations

import base64
import io
import time
import urllib.request
from pathlib import Path

import pytest

from consolewatch.sim.ec2 import start_ec2_sim

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
IID = "i-0123456789abcdef0"
XEN = "i-00000000000000aaa"


class Clock:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock, monkeypatch):
    s = start_ec2_sim(clock=clock)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    for k, v in s.env().items():
        monkeypatch.setenv(k, v)
    yield s
    s.close()


@pytest.fixture
def ec2(sim):
    import boto3
    from botocore.config import Config

    return boto3.client("ec2", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def log(name="qemu/healthy/serial.log") -> bytes:
    return (SAMPLES / name).read_bytes()


def raw_post(sim, body: str) -> bytes:
    req = urllib.request.Request(sim.endpoint, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        return exc.read()


def test_describe_instances_and_instance_types(sim, ec2):
    sim.add_instance(IID, b"", instance_type="m5.large", root_device_name="/dev/xvda",
                     block_devices=("/dev/xvda", "/dev/sdf"))
    sim.add_instance(XEN, b"", instance_type="m4.large", platform="windows")
    res = ec2.describe_instances(InstanceIds=[IID, XEN])["Reservations"][0]["Instances"]
    nitro, xen = res
    assert nitro["State"] == {"Code": 16, "Name": "running"}
    assert nitro["Hypervisor"] == "xen"  # as EC2 says, even for Nitro
    assert nitro["RootDeviceName"] == "/dev/xvda" and [b["DeviceName"] for b in nitro["BlockDeviceMappings"]] == [
        "/dev/xvda", "/dev/sdf"]
    assert nitro["Placement"]["AvailabilityZone"] == "us-east-1a" and xen["Platform"] == "windows"
    types = {t["InstanceType"]: t for t in ec2.describe_instance_types(
        InstanceTypes=["m5.large", "m4.large", "t2.micro", "i3.metal"])["InstanceTypes"]}
    assert types["m5.large"]["Hypervisor"] == "nitro" and types["m4.large"]["Hypervisor"] == "xen"
    assert types["t2.micro"]["Hypervisor"] == "xen"
    assert types["i3.metal"]["BareMetal"] is True and "Hypervisor" not in types["i3.metal"]


def test_console_output_is_the_last_64kb_base64_on_the_wire(sim, ec2, clock):
    data = b"".join(p.read_bytes() for p in sorted(SAMPLES.glob("qemu/*/serial.log")))[:150_000]
    sim.add_instance(IID, data, bytes_per_second=10_000)
    clock.t += 10.0  # 100 KB printed
    wire = raw_post(sim, f"Action=GetConsoleOutput&Version=2016-11-15&InstanceId={IID}&Latest=true")
    assert b'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"' in wire
    b64 = wire.split(b"<output>")[1].split(b"</output>")[0]
    assert base64.b64decode(b64) == data[100_000 - 65536: 100_000]
    r = ec2.get_console_output(InstanceId=IID, Latest=True)
    assert r["Output"] == data[100_000 - 65536: 100_000].decode("utf-8", "replace")  # boto3 decoded it
    assert abs(r["Timestamp"].timestamp() - (time.time() + 10)) < 5  # the sim clock ran 10 s ahead


def test_boto3_decodes_output_lossily_as_the_brief_says(sim, ec2):
    sim.add_instance(IID, b"ok \xff\xfe bytes\n", bytes_per_second=0)
    assert ec2.get_console_output(InstanceId=IID, Latest=True)["Output"] == "ok \ufffd\ufffd bytes\n"


def test_without_latest_the_output_is_the_posted_snapshot(sim, ec2, clock):
    data = log()
    inst = sim.add_instance(IID, data, bytes_per_second=1_000, post_interval=10.0)
    launched = clock.t
    clock.t += 15.0
    r = ec2.get_console_output(InstanceId=IID)
    assert r["Output"].encode() == data[:10_000]  # posted at +10 s
    posted = r["Timestamp"].timestamp()
    clock.t += 3.0
    r2 = ec2.get_console_output(InstanceId=IID)
    assert r2["Timestamp"].timestamp() == posted and r2["Output"] == r["Output"]
    assert ec2.get_console_output(InstanceId=IID, Latest=True)["Output"].encode() == data[:18_000]
    assert inst.console_output(launched + 25, latest=False)[1] == data[:20_000]


def test_xen_ignores_latest_or_refuses_it(sim, ec2, clock):
    data = log()
    xen = sim.add_instance(XEN, data, instance_type="m4.large", bytes_per_second=1_000, post_interval=None,
                           post_delay=2.0)
    clock.t += 1.0
    assert "Output" not in ec2.get_console_output(InstanceId=XEN, Latest=True)  # nothing posted yet
    clock.t += 5.0
    assert ec2.get_console_output(InstanceId=XEN, Latest=True)["Output"].encode() == data[:2_000]
    xen.latest_on_xen = "error"
    with pytest.raises(ec2.exceptions.ClientError) as info:
        ec2.get_console_output(InstanceId=XEN, Latest=True)
    assert info.value.response["Error"]["Code"] == "UnsupportedOperation"


def test_state_changes_reboot_stop_start_terminate(sim, ec2, clock):
    data = log()
    inst = sim.add_instance(IID, data, bytes_per_second=0)
    inst.reboot()
    clock.t += 1
    assert ec2.get_console_output(InstanceId=IID, Latest=True)["Output"].encode() == (data + data)[-65536:]
    inst.stop()
    state = ec2.describe_instances(InstanceIds=[IID])["Reservations"][0]["Instances"][0]["State"]
    assert state == {"Code": 80, "Name": "stopped"}
    with pytest.raises(ec2.exceptions.ClientError) as info:
        ec2.get_console_screenshot(InstanceId=IID)
    assert info.value.response["Error"]["Code"] == "IncorrectInstanceState"
    inst.start(b"fresh boot\n")
    clock.t += 1
    assert ec2.get_console_output(InstanceId=IID, Latest=True)["Output"] == "fresh boot\n"
    inst.terminate()
    clock.t += 100
    assert ec2.get_console_output(InstanceId=IID, Latest=True)["Output"] == "fresh boot\n"
    assert ec2.describe_instances(InstanceIds=[IID])["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"


def test_screenshot_is_a_jpeg_of_the_current_console(sim, ec2, clock):
    from PIL import Image

    from consolewatch.ocr import read_frame
    from consolewatch.sim.screen import screen_rows

    data = log("qemu/wrong-root-nvme/serial.log")
    inst = sim.add_instance(IID, data, bytes_per_second=0)
    image = base64.b64decode(ec2.get_console_screenshot(InstanceId=IID, WakeUp=True)["ImageData"])
    picture = Image.open(io.BytesIO(image))
    assert picture.format == "JPEG" and picture.size == (720, 400)
    rows = [r.rstrip() for r in screen_rows(inst.screen_lines(clock()))]
    assert "Kernel panic - not syncing: VFS: Unable to mount root fs" in "".join(rows)
    assert read_frame(image, "image/jpeg").row_texts() == rows[: len(read_frame(image).row_texts())]


def test_errors_in_ec2s_xml_format(sim, ec2):
    with pytest.raises(ec2.exceptions.ClientError) as info:
        ec2.get_console_output(InstanceId=IID)
    err = info.value.response
    assert err["Error"] == {"Code": "InvalidInstanceID.NotFound", "Message": f"The instance ID '{IID}' does not exist"}
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ec2.exceptions.ClientError) as info:
        ec2.describe_instances(InstanceIds=[IID])
    assert info.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    wire = raw_post(sim, "Action=GetConsoleOutput&Version=2016-11-15&InstanceId=nope")
    assert b"<Code>InvalidInstanceID.Malformed</Code>" in wire and wire.startswith(b"<?xml")


def test_a_request_signed_for_another_region_does_not_find_the_instance(sim):
    import boto3

    sim.add_instance(IID, b"hi\n")
    other = boto3.client("ec2", region_name="eu-west-1")
    with pytest.raises(other.exceptions.ClientError) as info:
        other.get_console_output(InstanceId=IID)
    assert info.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"


@pytest.mark.parametrize("kind,status,code", [
    ("throttle", 503, "RequestLimitExceeded"), ("throttling", 400, "Throttling"), ("internal", 500, "InternalError"),
    ("auth", 401, "AuthFailure"), ("expired-token", 400, "ExpiredToken"), ("unauthorized", 403, "UnauthorizedOperation"),
])
def test_injected_faults(sim, ec2, kind, status, code):
    sim.add_instance(IID, b"hi\n", bytes_per_second=0)
    sim.inject(kind, 1, "GetConsoleOutput")
    with pytest.raises(ec2.exceptions.ClientError) as info:
        ec2.get_console_output(InstanceId=IID)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert ec2.get_console_output(InstanceId=IID)["InstanceId"] == IID  # one call only
    assert sim.calls("GetConsoleOutput") == 2


def test_malformed_and_html_bodies(sim, ec2):
    from botocore.parsers import ResponseParserError

    sim.add_instance(IID, b"hi\n", bytes_per_second=0)
    for kind in ("malformed", "html500"):
        sim.inject(kind, 1)
        with pytest.raises((ResponseParserError, ec2.exceptions.ClientError)):
            ec2.get_console_output(InstanceId=IID)


def test_standard_retries_get_through_a_throttle_burst(sim):
    import boto3
    from botocore.config import Config

    sim.add_instance(IID, b"hi\n", bytes_per_second=0)
    sim.inject("throttle", 2, "GetConsoleOutput")
    client = boto3.client("ec2", config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    assert client.get_console_output(InstanceId=IID)["ResponseMetadata"]["RetryAttempts"] == 2


def test_send_serial_console_key_over_json(sim):
    import boto3

    sim.add_instance(IID, b"hi\n")
    sim.add_instance(XEN, b"hi\n", instance_type="t2.micro")
    ic = boto3.client("ec2-instance-connect")
    key = "ssh-ed25519 " + "A" * 68 + " test"
    assert ic.send_serial_console_ssh_public_key(InstanceId=IID, SSHPublicKey=key)["Success"] is True
    with pytest.raises(ic.exceptions.EC2InstanceTypeInvalidException):
        ic.send_serial_console_ssh_public_key(InstanceId=XEN, SSHPublicKey=key)
    sim.state.serial_access = False
    with pytest.raises(ic.exceptions.SerialConsoleAccessDisabledException):
        ic.send_serial_console_ssh_public_key(InstanceId=IID, SSHPublicKey=key)


def test_serial_console_over_ssh_streams_what_is_printed_after_connecting(monkeypatch):
    asyncssh = pytest.importorskip("asyncssh")
    import asyncio

    import boto3

    sim = start_ec2_sim()
    try:
        monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
        for k, v in sim.env().items():
            monkeypatch.setenv(k, v)
        inst = sim.add_instance(IID, b"before\n", bytes_per_second=0)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="t")
        host, port = sim.serial_endpoint.rsplit(":", 1)

        async def session(push: bool) -> bytes:
            if push:
                boto3.client("ec2-instance-connect").send_serial_console_ssh_public_key(
                    InstanceId=IID, SSHPublicKey=key.export_public_key().decode().strip())
            async with asyncssh.connect(host, int(port), username=f"{IID}.port0", client_keys=[key],
                                        known_hosts=sim.known_hosts, agent_path=None, config=None) as conn:
                proc = await conn.create_process(encoding=None)
                await asyncio.sleep(0.1)
                inst.player.append(b"after connecting\n")
                data = await asyncio.wait_for(proc.stdout.read(100), 5)
                assert IID in sim.state.serial_sessions
                return data

        with pytest.raises(asyncssh.PermissionDenied):
            asyncio.run(session(push=False))
        assert asyncio.run(session(push=True)) == b"after connecting\n"
    finally:
        sim.close()


def test_close_frees_the_port_and_threads(clock):
    import threading

    before = threading.active_count()
    sim = start_ec2_sim(clock=clock)
    endpoint = sim.endpoint
    sim.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(endpoint, timeout=1)
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before
