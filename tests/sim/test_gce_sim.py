"""The simulated Compute API, driven through the real google-cloud-compute client.

The ring semantics are checked against the documented `getSerialPortOutput` behaviour
(field-notes.md 1.1): a start older than the ring is moved up and returned, a negative start is
"the most recent N bytes", `next` is where to read next. Nothing here touches the real network:
the client talks to 127.0.0.1 with anonymous credentials.
"""

from __future__ import annotations

import base64
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolewatch.sim.gce import RING_SIZE, SimInstance, sample_log, start_gce_sim
from consolewatch.sim.player import ConsolePlayer

compute_v1 = pytest.importorskip("google.cloud.compute_v1")
from google.api_core import exceptions as gexc  # noqa: E402
from google.api_core.client_options import ClientOptions  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402

P, Z, N = "proj", "us-central1-a", "vm1"
LOG = sample_log("qemu/gce-option121-ignored")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock):
    _, handle = start_gce_sim(SimInstance.playing(LOG * 200, rate=1_000_000.0, clock=clock))
    with handle:
        yield handle


@pytest.fixture
def client(sim):
    return compute_v1.InstancesClient(credentials=AnonymousCredentials(),
                                      client_options=ClientOptions(api_endpoint=sim.url))


def serial(client, start=None, port=1, instance=N):
    req = {"project": P, "zone": Z, "instance": instance, "port": port}
    if start is not None:
        req["start"] = start
    r = client.get_serial_port_output(request=req, retry=None, timeout=10)
    return r.start, r.next_, r.contents


def test_reads_follow_next_and_return_every_byte(client, clock):
    data = LOG * 200
    clock.t = 0.3  # 300,000 bytes printed
    s, n, text = serial(client, 0)
    assert (s, n, text.encode()) == (0, 300_000, data[:300_000])
    assert serial(client, n) == (n, n, "")  # nothing new: an idle poll
    clock.t = 0.5
    s2, n2, text2 = serial(client, n)
    assert (s2, n2, text2.encode()) == (n, 500_000, data[300_000:500_000])


def test_ring_wrap_moves_start_up_and_reports_it(client, clock):
    data = LOG * 200
    clock.t = 2.5  # 2.5 MB printed, 1 MB kept
    s, n, text = serial(client, 100)
    assert n == 2_500_000 and s == n - RING_SIZE  # start > requested: bytes were lost
    assert text.encode() == data[s:n] and len(text) == RING_SIZE


def test_negative_start_is_the_most_recent_bytes(client, clock):
    clock.t = 2.0
    s, n, text = serial(client, -100)
    assert (s, n, len(text)) == (1_999_900, 2_000_000, 100)
    s, n, text = serial(client, -(3 << 20))  # bounded by the ring
    assert (s, n, len(text)) == (n - RING_SIZE, 2_000_000, RING_SIZE)


def test_start_past_the_end_and_empty_ports(client, clock):
    clock.t = 0.1
    assert serial(client, 10**9)[:2] == (100_000, 100_000)
    assert serial(client, 0, port=3) == (0, 0, "")
    with pytest.raises(gexc.BadRequest, match="port"):
        serial(client, 0, port=9)


def test_instance_resource(client, sim):
    inst = client.get(project=P, zone=Z, instance=N, retry=None, timeout=10)
    assert inst.status == "RUNNING" and inst.machine_type.endswith("/machineTypes/e2-medium")
    assert inst.network_interfaces[0].nic_type == "GVNIC"
    assert inst.disks[0].boot and inst.disks[0].interface == "SCSI"
    assert {f.type_ for f in inst.disks[0].guest_os_features} >= {"GVNIC"}
    assert {i.key: i.value for i in inst.metadata.items}["serial-port-enable"] == "true"
    assert inst.display_device.enable_display is True


def test_screenshot_is_a_png_of_the_console(client, clock):
    from PIL import Image

    clock.t = 0.02
    shot = client.get_screenshot(project=P, zone=Z, instance=N, retry=None, timeout=10)
    img = Image.open(io.BytesIO(base64.b64decode(shot.contents)))
    assert img.format == "PNG" and img.size == (720, 400)


def test_errors_in_google_json_format(client, sim):
    with pytest.raises(gexc.NotFound, match="projects/proj/zones/us-central1-a/instances/nope' was not found"):
        client.get(project=P, zone=Z, instance="nope", retry=None, timeout=10)
    with pytest.raises(gexc.NotFound):
        client.get(project="other", zone=Z, instance=N, retry=None, timeout=10)
    sim.instance().denied = True
    with pytest.raises(gexc.Forbidden) as info:
        client.get(project=P, zone=Z, instance=N, retry=None, timeout=10)
    assert info.value.errors[0]["reason"] == "forbidden"
    sim.instance().denied = False
    sim.inject("serialPort", 429, 503, 500)
    for cls in (gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.InternalServerError):
        with pytest.raises(cls):
            serial(client, 0)
    sim.inject("get", "reset")
    import requests

    with pytest.raises(requests.ConnectionError):
        client.get(project=P, zone=Z, instance=N, retry=None, timeout=10)
    assert client.get(project=P, zone=Z, instance=N, retry=None, timeout=10).status == "RUNNING"
    assert sim.calls["serialPort"] == 3 and sim.pending_faults() == 0


def test_stop_and_start_through_the_client(client, sim, clock):
    sim.instance().stopping_seconds = 1.0
    clock.t = 0.2
    client.stop(project=P, zone=Z, instance=N, retry=None, timeout=10)
    assert client.get(project=P, zone=Z, instance=N).status == "STOPPING"
    assert serial(client, 0)[1] == 200_000  # still readable while stopping
    clock.t = 1.5
    assert client.get(project=P, zone=Z, instance=N).status == "TERMINATED"
    with pytest.raises(gexc.BadRequest, match="not ready") as info:
        serial(client, 0)
    assert info.value.errors[0]["reason"] == "resourceNotReady"
    before = client.get(project=P, zone=Z, instance=N).last_start_timestamp
    client.start(project=P, zone=Z, instance=N, retry=None, timeout=10)
    inst = client.get(project=P, zone=Z, instance=N)
    assert inst.status == "RUNNING" and inst.last_start_timestamp != before
    assert serial(client, 0)[:2] == (0, 0)  # the ring was wiped; the boot starts again
    clock.t = 1.6
    assert serial(client, 0)[1] == 100_000


def test_utf8_characters_are_never_cut(clock):
    # A 3-byte character straddling both the ring's oldest byte and the player's current end.
    data = b"a" * 10 + "€".encode() * 10
    inst = SimInstance.playing(data, rate=1.0, clock=clock)
    clock.t = 12  # 2 bytes of the first euro sign printed: held back
    assert inst.serial(1, 0, ring=64) == {**inst.serial(1, 0, ring=64), "start": "0", "next": "10"}
    clock.t = 40
    out = inst.serial(1, 0, ring=8)  # 40-8 = 32 is inside a character: moved to 34
    assert (out["start"], out["next"], out["contents"]) == ("34", "40", "€€")


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=0, max_size=300), ring=st.integers(4, 64),
       reads=st.lists(st.tuples(st.integers(0, 400), st.integers(-80, 400)), min_size=1, max_size=8))
def test_ring_invariants(text, ring, reads):
    data = text.encode("utf-8")
    clock = Clock()
    inst = SimInstance(players={1: ConsolePlayer(data, bytes_per_second=1.0, clock=clock)}, clock=clock)
    for printed, start in sorted(reads):
        clock.t = printed
        buf = data[:printed]
        out = inst.serial(1, start, ring)
        s, n = int(out["start"]), int(out["next"])
        assert 0 <= s <= n <= len(buf) and n - s <= ring
        assert out["contents"].encode() == buf[s:n]  # whole characters, positions in bytes
        if start >= 0:
            assert s >= min(start, n)
        assert len(buf) - n < 4  # only an unfinished character is held back
