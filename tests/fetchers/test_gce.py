"""GceFetcher through the real google-cloud-compute client against the simulated Compute API.

Every test runs the real client (REST transport, anonymous credentials) against
`consolewatch.sim.gce` on 127.0.0.1; nothing touches the real network. Most tests step the sim's
clock per request (`TickClock`), so "how much did the guest print between two polls" is exact and
the tests do not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consolewatch.fetchers import fetcher_class, parse_target
from consolewatch.fetchers.base import FetchError, Target
from consolewatch.fetchers.gce import GceFetcher
from consolewatch.model import Chunk, Frame, Gap, MachineContext, SourceStatus, SourceUnavailable
from consolewatch.session import Session
from consolewatch.sim.gce import RING_SIZE, SimInstance, sample_log, start_gce_sim

pytest.importorskip("google.cloud.compute_v1")  # paid once here, not inside a timed follow

ROOT = Path(__file__).resolve().parents[2]
ADDR = "proj/us-central1-a/vm1"
OPTION121 = sample_log("qemu/gce-option121-ignored")


def real_boot_logs(size: int) -> bytes:
    """At least `size` bytes of real console logs: every sample in samples/ (QEMU boots and public
    cloud consoles, some with multibyte UTF-8), concatenated and repeated until long enough."""
    logs = sorted(ROOT.glob("samples/**/*.log"))
    one = b"".join(p.read_bytes() for p in logs)
    assert len(logs) > 10 and len(one) > 200_000
    return (one * (size // len(one) + 1))[: size + 1234]


class TickClock:
    """A clock that advances `step` seconds each time it is read: the sim reads it once per
    serial request, so each poll sees exactly `step * rate` more bytes."""

    def __init__(self, step: float) -> None:
        self.t, self.step, self.lock = 0.0, step, threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            self.t += self.step
            return self.t


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def fetcher(url: str, address: str = ADDR, **opts) -> GceFetcher:
    base = {"endpoint": url, "poll": (0.01, 0.05), "backoff": (0.01, 0.05), "status_every": 0.05,
            "screenshots": "off", "timeout": 5}
    return GceFetcher(Target("gce", address, {**base, **opts}), env={})


def collect(f: GceFetcher, until=None, *, follow: bool = True, cursors=None, limit: float = 60.0,
            check=None) -> list:
    """Events of one stream() until `until(event)` is true, `check()` is (polled), or the stream ends."""
    events: list = []

    async def run() -> None:
        async for event in f.stream(cursors=cursors, follow=follow):
            events.append(event)
            if until is not None and until(event):
                return

    async def main() -> None:
        task = asyncio.ensure_future(run())
        while check is not None and not task.done() and not check():
            await asyncio.sleep(0.01)
        if not task.done():
            task.cancel() if check is not None else None
        try:
            await asyncio.wait_for(task, limit)
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    return events


def at(cursor: int, source: str = "serial-1"):
    return lambda e: isinstance(e, Chunk) and e.source == source and e.cursor >= cursor


def replay(events: list, source: str = "serial-1", data: bytes | None = None) -> tuple[bytes, list[Gap]]:
    """Concatenate a source's chunks, checking each lands exactly where its cursor says."""
    out, gaps, pos = bytearray(), [], None
    for e in events:
        if getattr(e, "source", None) != source:
            continue
        if isinstance(e, Gap):
            gaps.append(e)
            if pos is not None and e.lost_bytes is not None:
                pos += e.lost_bytes
        elif isinstance(e, Chunk):
            pos = (pos if pos is not None else e.cursor - len(e.data)) + len(e.data)
            assert e.cursor == pos and e.kind == "stream"
            if data is not None:
                assert data[pos - len(e.data):pos] == e.data
            out += e.data
    return bytes(out), gaps


def lines(catalog, events) -> list[str]:
    session, texts = Session(catalog), []
    for e in events:
        texts += [t for b in session.feed(e).batches for t in b.texts]
    texts += [t for b in session.finish().batches for t in b.texts]
    return texts


# -- lossless streaming ------------------------------------------------------------------------


def test_every_byte_of_a_3mb_boot_arrives_once(catalog):
    data = real_boot_logs(3 << 20)
    clock = TickClock(0.05)  # 150,000 bytes per poll at 3 MB/s: well inside the 1 MB ring
    url, sim = start_gce_sim(SimInstance.playing(data, rate=3_000_000, clock=clock))
    with sim:
        events = collect(fetcher(url), at(len(data)))
    got, gaps = replay(events, data=data)
    assert gaps == [] and got == data
    assert isinstance(events[0], MachineContext) and events[0].cloud == "gce"
    assert sum(isinstance(e, Chunk) for e in events) >= 20
    assert lines(catalog, events) == lines(catalog, [Chunk("serial-1", data)])


def test_ring_wrap_between_polls_reports_exact_loss(catalog):
    data = real_boot_logs(3 << 20)
    clock = Clock()
    url, sim = start_gce_sim(SimInstance.playing(data, rate=1_000_000, clock=clock))
    with sim:
        clock.t = 0.4
        first = collect(fetcher(url), follow=False)
        cursor = [e for e in first if isinstance(e, Chunk)][-1].cursor
        assert cursor == 400_000
        clock.t = 2.2  # 1.8 MB more printed: the ring (1 MB) lost 800,000 of them
        second = collect(fetcher(url), follow=False, cursors={"serial-1": cursor})
    oldest = 2_200_000 - RING_SIZE
    while 0x80 <= data[oldest] < 0xC0:  # the sim hands out whole UTF-8 characters
        oldest += 1
    got, gaps = replay(first + second, data=data)
    assert [g.lost_bytes for g in gaps] == [oldest - 400_000]
    assert got == data[:400_000] + data[oldest:2_200_000]
    assert "wrapped" in gaps[0].reason
    # the session does not join the bytes on either side of the gap into one line
    texts = lines(catalog, first + second)
    assert len(texts) == len(lines(catalog, [Chunk("s", data[:400_000])])) + len(
        lines(catalog, [Chunk("s", data[oldest:2_200_000])]))


def test_live_follow_with_slow_polls_counts_every_lost_byte():
    data = real_boot_logs(3 << 20)
    url, sim = start_gce_sim()
    with sim:
        sim.add(SimInstance.playing(data, rate=3_000_000))
        events = collect(fetcher(url, poll=(0.4, 0.8)), at(len(data)))
    got, gaps = replay(events, data=data)
    assert gaps and all(g.lost_bytes > 0 for g in gaps)
    assert len(got) + sum(g.lost_bytes for g in gaps) == len(data)


def test_faults_are_survived_without_loss():
    data = real_boot_logs(300_000)
    clock = TickClock(0.01)  # 20,000 bytes per successful poll
    url, sim = start_gce_sim(SimInstance.playing(data, rate=2_000_000, clock=clock))
    with sim:
        sim.inject("get", 503, "reset")
        sim.inject("serialPort", 429, 503, "reset", 500, "reset", 429, 429, 503, "invalid-json")
        f = fetcher(url)
        events = collect(f, at(len(data)))
        log = [entry for entry in sim.log if entry[0] == "serialPort"]
    got, gaps = replay(events, data=data)
    assert got == data and gaps == []
    backoffs = [e for e in events if isinstance(e, SourceStatus) and e.state in ("backoff", "error")]
    assert len(backoffs) == 11 and {"instance", "serial-1"} == {e.source for e in backoffs}
    assert any("HTTP 429" in e.detail for e in backoffs) and any("connection" in e.detail for e in backoffs)
    for (_, _, start, status), (_, _, again, _) in itertools.pairwise(log):
        if status != 200:
            assert again == start  # the same position asked again: nothing skipped
    assert f.calls["get_serial_port_output"] == len(log)


def test_a_slow_api_times_out_and_is_asked_again():
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim:
        sim.inject("serialPort", ("delay", 1.0))
        events = collect(fetcher(url, timeout=0.2), at(len(OPTION121)))
    assert replay(events)[0] == OPTION121
    (slow,) = [e for e in events if isinstance(e, SourceStatus) and e.state == "backoff"]
    assert "timed out" in slow.detail.lower()


def test_resume_from_a_stored_cursor_and_since_now():
    clock = Clock()
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=1.0, clock=clock))
    with sim:
        clock.t = 10_000.0
        events = collect(fetcher(url), follow=False, cursors={"serial-1": 6000})
        assert replay(events)[0] == OPTION121[6000:10_000]
        clock.t = 1e9  # the whole log printed
        player = sim.instance().players[1]
        f = fetcher(url, since="now")

        def append_once(e):
            if isinstance(e, SourceStatus) and e.state == "idle" and not player._extra:
                player.append(b"consolewatch-guest: appended\n")
            return at(len(OPTION121) + 1)(e)

        events = collect(f, append_once)
    got, gaps = replay(events)
    assert got == b"consolewatch-guest: appended\n" and not gaps
    reads = [entry for entry in sim.log if entry[0] == "serialPort"]
    assert reads[0][2] == 6000 and reads[1][2] == -1  # since=now: a read of the last byte positions the cursor


def test_several_ports_are_separate_sources():
    other = sample_log("qemu/healthy")
    inst = SimInstance.playing(OPTION121, rate=0)
    inst.players[2] = type(inst.players[1])(other, bytes_per_second=0)
    url, sim = start_gce_sim(inst)
    with sim:
        events = collect(fetcher(url, ports=[1, 2, 4]), follow=False)
    assert replay(events, "serial-1")[0] == OPTION121
    assert replay(events, "serial-2")[0] == other
    assert replay(events, "serial-4")[0] == b""
    assert {e.source for e in events if isinstance(e, SourceStatus)} == {"serial-1", "serial-2", "serial-4"}


def test_sources_pick_ports_and_the_screen():
    inst = SimInstance.playing(OPTION121, rate=0)
    inst.players[2] = type(inst.players[1])(b"port two\n", bytes_per_second=0)
    url, sim = start_gce_sim(inst)
    with sim:
        only2 = collect(fetcher(url, sources=["serial-2"], screenshots=5), follow=False)
        screen = collect(fetcher(url, sources=["screen"], screenshots=5), follow=False)
        with pytest.raises(FetchError, match=r"no source 'console'.*serial-1"):
            collect(fetcher(url, sources=["console"]))
    assert {e.source for e in only2 if isinstance(e, (Chunk, SourceStatus))} == {"serial-2"}
    assert replay(only2, "serial-2")[0] == b"port two\n" and not any(isinstance(e, Frame) for e in only2)
    assert [e.source for e in screen if isinstance(e, (Chunk, Frame))] == ["screen"]


# -- stop, start, context --------------------------------------------------------------------------


def test_stop_start_is_followed_with_wait_restart():
    second = sample_log("qemu/healthy")
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0, stopping_seconds=0.3))
    inst = sim.instance()
    state = {"stopped": False, "started": False}

    def drive(e) -> bool:
        if isinstance(e, Chunk) and e.cursor == len(OPTION121) and not state["stopped"]:
            state["stopped"] = True
            inst.stop()
        if isinstance(e, SourceStatus) and "waiting for it to start again" in e.detail and not state["started"]:
            state["started"] = True
            inst.start(second)
        return state["started"] and at(len(second))(e)

    with sim:
        events = collect(fetcher(url, wait_restart=True), drive)
    contexts = [e for e in events if isinstance(e, MachineContext)]
    assert [c.fields["status"] for c in contexts] == ["RUNNING", "TERMINATED", "RUNNING"]
    assert contexts[0].fields["last_start"] != contexts[-1].fields["last_start"]
    gap = next(e for e in events if isinstance(e, Gap))
    assert gap.lost_bytes == 0 and "started again" in gap.reason
    cut = events.index(gap)
    assert replay(events[:cut])[0] == OPTION121 and replay(events[cut:])[0] == second


def test_a_follow_waits_for_a_staging_instance():
    inst = SimInstance.playing(OPTION121, rate=0, status="STAGING")
    url, sim = start_gce_sim(inst)
    with sim:
        def run_it(e) -> bool:
            if isinstance(e, SourceStatus) and "waiting for it to run" in e.detail:
                inst.status = "RUNNING"
            return at(len(OPTION121))(e)

        events = collect(fetcher(url), run_it)
    got, gaps = replay(events)
    assert got == OPTION121 and gaps == []


def test_a_wiped_buffer_seen_only_in_the_positions():
    # Stopped and started between two status checks: the next read finds the position went back.
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    inst, second = sim.instance(), b"short second boot\n"
    state = {"restarted": False}

    def restart(e) -> bool:
        if isinstance(e, Chunk) and not state["restarted"]:
            state["restarted"] = True
            inst.stop()
            inst.start(second)
        return state["restarted"] and isinstance(e, Chunk) and e.data == second

    with sim:
        events = collect(fetcher(url, status_every=60), restart)
    gap = next(e for e in events if isinstance(e, Gap))
    assert gap.lost_bytes is None and "went back" in gap.reason
    cut = events.index(gap)
    assert replay(events[:cut])[0] == OPTION121 and replay(events[cut:])[0] == second


def test_a_stop_ends_the_follow_with_the_final_output():
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0, stopping_seconds=0.1))

    def stop(e) -> bool:
        if isinstance(e, Chunk):
            sim.instance().stop()
            sim.inject("serialPort", 503, 503, 503)  # as GCE answers while STOPPING (compute-image-tools#456)
        return False

    with sim:
        events = collect(fetcher(url), stop)
    assert replay(events)[0] == OPTION121
    assert isinstance(events[-1], SourceStatus) and events[-1].state == "ended"
    assert "TERMINATED" in events[-1].detail


def test_a_stopped_instance_is_unavailable_without_wait_restart():
    inst = SimInstance.playing(OPTION121, rate=0, status="TERMINATED")
    url, sim = start_gce_sim(inst)
    with sim:
        events = collect(fetcher(url), follow=True)
    (unavailable,) = [e for e in events if isinstance(e, SourceUnavailable)]
    assert "TERMINATED" in unavailable.reason and "--wait-restart" in unavailable.hint


def test_context_fields_for_detectors():
    inst = SimInstance.playing(OPTION121, rate=0, nic_type=None, disk_interface="NVME", display_device=False,
                               metadata={"serial-port-enable": "false"}, guest_os_features=())
    url, sim = start_gce_sim(inst)
    with sim:
        events = collect(fetcher(url, screenshots=5), follow=False)
    ctx = events[0]
    assert isinstance(ctx, MachineContext) and (ctx.cloud, ctx.hypervisor) == ("gce", "kvm")
    f = ctx.fields
    assert (f["nic_type"], f["boot_disk_interface"], f["root_device"]) == ("VIRTIO_NET", "NVME", "/dev/nvme0n1")
    assert (f["serial_port_enable"], f["display_device"], f["gvnic_in_image"]) == ("false", "false", "false")
    assert f["machine_type"] == f["instance_type"] == "e2-medium" and f["status"] == f["state"] == "RUNNING"
    (screen,) = [e for e in events if isinstance(e, SourceUnavailable)]
    assert screen.source == "screen" and "--enable-display-device" in screen.hint and "vm1" in screen.hint


def test_screenshots_are_frames_and_repeats_are_skipped():
    from PIL import Image

    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim:
        events = collect(fetcher(url, screenshots=0.02), check=lambda: sim.calls["screenshot"] >= 4)
    frames = [e for e in events if isinstance(e, Frame)]
    assert len(frames) == 1 and frames[0].source == "screen" and frames[0].media_type == "image/png"
    assert Image.open(io.BytesIO(frames[0].image)).size == (720, 400)


def test_option121_failure_is_found_from_the_live_stream(catalog):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim:
        events = collect(fetcher(url), follow=False)
    session = Session(catalog)
    for e in events:
        session.feed(e)
    session.finish()
    result = session.result()
    assert result.cloud == "gce" and result.outcome == "failure"
    assert "network.dhcp.option121-missing" in {f.category for f in result.findings()}


def test_serial_and_screen_on_one_timeline(catalog):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim:
        events = collect(fetcher(url, screenshots=0.02), check=lambda: sim.calls["screenshot"] >= 2)
    session = Session(catalog)
    session.expect_frames()
    steps = [session.feed(e) for e in events]
    assert any(step.duplicates for step in steps)  # screen lines that repeat serial lines are kept once


# -- errors the user must act on -------------------------------------------------------------------


@pytest.mark.parametrize("address, words", [
    ("proj/us-central1-a/nope", ["not found", "instances/nope", "check the project, zone and instance"]),
    ("other/us-central1-a/vm1", ["not found", "projects/other"]),
])
def test_unknown_instance_is_one_line(address, words):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim, pytest.raises(FetchError) as info:
        collect(fetcher(url, address))
    msg = str(info.value)
    assert "\n" not in msg and all(w in msg for w in words) and url not in msg


def test_permission_denied_is_one_line():
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0, denied=True))
    with sim, pytest.raises(FetchError, match=r"permission denied: Required 'compute.instances.get'") as info:
        collect(fetcher(url))
    assert "\n" not in str(info.value)


def test_defaults_from_the_environment_and_missing_parts(monkeypatch):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    env = {"CLOUDSDK_CORE_PROJECT": "proj", "CLOUDSDK_COMPUTE_ZONE": "us-central1-a",
           "CONSOLEWATCH_GCE_ENDPOINT": url + "/"}
    with sim:
        events = collect(GceFetcher(Target("gce", "vm1", {"screenshots": "off"}), env=env), follow=False)
    assert replay(events)[0] == OPTION121
    with pytest.raises(FetchError, match=r"no zone .*CLOUDSDK_COMPUTE_ZONE"):
        collect(GceFetcher(Target("gce", "vm1", {}), env={"CONSOLEWATCH_GCE_ENDPOINT": url}))
    with pytest.raises(FetchError, match=r"no project .*CLOUDSDK_CORE_PROJECT"):
        collect(GceFetcher(Target("gce", "zone-a/vm1", {}), env={"CONSOLEWATCH_GCE_ENDPOINT": url}))
    with pytest.raises(FetchError, match="ports"):
        collect(fetcher(url, ports=[5]))


def test_hostile_error_messages_are_one_safe_line():
    from consolewatch.sim.gce import error_body

    evil = "\x1b]0;owned\x07\x1b[31mRequired permission\nForged line\r\u2028" + "x" * 5000
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim, pytest.raises(FetchError) as info:
        sim.inject("get", ("raw", 403, json.dumps(error_body(403, evil)).encode()))
        collect(fetcher(url))
    msg = str(info.value)
    assert "\n" not in msg and "\x1b" not in msg and "\x07" not in msg and "\u2028" not in msg
    assert "Required permission Forged line" in msg and len(msg) < 600


def test_missing_application_default_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    f = GceFetcher(Target("gce", ADDR, {"endpoint": "https://192.0.2.1"}), env={})
    with pytest.raises(FetchError, match="gcloud auth application-default login"):
        collect(f)


def test_registry_and_lazy_import():
    assert fetcher_class("gce") is GceFetcher and parse_target("gce:p/z/n") == Target("gce", "p/z/n", {})
    code = ("import sys, consolewatch.fetchers.gce, consolewatch.sim.gce; "
            "assert 'google.cloud.compute_v1' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
                    max_size=400),
       ring=st.integers(16, 256), steps=st.lists(st.integers(0, 600), min_size=1, max_size=6))
def test_any_print_schedule_is_accounted_for_to_the_byte(text, ring, steps):
    """Whatever the guest prints between reads and however small the ring: chunks land exactly at
    their positions in the stream and, with the gaps, add up to every byte printed."""
    data = (text * 3).encode()
    clock = Clock()
    url, sim = start_gce_sim(SimInstance.playing(data, rate=1.0, clock=clock), ring_size=ring)
    events, cursors = [], None
    with sim:
        for t in sorted(steps):
            clock.t = t
            batch = collect(fetcher(url), follow=False, cursors=cursors)
            events += [e for e in batch if isinstance(e, (Chunk, Gap))]
            chunks = [e for e in events if isinstance(e, Chunk)]
            cursors = {"serial-1": chunks[-1].cursor} if chunks else cursors
    got, gaps = replay(events, data=data)
    end = max([e.cursor for e in events if isinstance(e, Chunk)], default=0)
    assert len(got) + sum(g.lost_bytes for g in gaps) == end
    assert end >= min(len(data), max(steps)) - 3  # only a half-printed character is held back


# -- hostile answers from the "API" ----------------------------------------------------------------


def test_control_bytes_and_replacement_characters_are_data_not_errors(catalog):
    log = b"boot \x1b]0;title\x07 ok\n\xff\xfe bad bytes\nlast \x9b line\n"
    url, sim = start_gce_sim(SimInstance.playing(log, rate=0))
    with sim:
        sim.inject("serialPort", ("json", {"contents": "\x00\x1b[2J\x1b]8;;http://x\x07\u202e\ud83d\ude00\n",
                                           "start": "0", "next": "0"}))
        events = collect(fetcher(url), at(len(log)))
    chunks = [e for e in events if isinstance(e, Chunk)]
    assert chunks[-1].cursor == len(log)  # positions come from the API, not from len(contents)
    assert b"\xef\xbf\xbd" in chunks[-1].data  # the sim's U+FFFD for bytes that are not UTF-8
    texts = lines(catalog, events)
    assert texts and all("\x1b" not in t and "\x07" not in t for t in texts)


def test_unreadable_answers_give_up_the_source_cleanly():
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim:
        sim.inject("serialPort", "invalid-json", ("raw", 200, b'{"contents": "a\xff"}'),
                   ("json", {"contents": "x", "start": "10", "next": "5"}),
                   ("json", {"contents": "x", "start": "abc"}))
        events = collect(fetcher(url, max_invalid=4))
    (gone,) = [e for e in events if isinstance(e, SourceUnavailable)]
    assert gone.source == "serial-1" and "4 unreadable answers" in gone.reason and "\n" not in gone.reason
    assert isinstance(events[-1], SourceStatus) and events[-1].state == "ended"


def test_huge_answers_are_refused_with_bounded_memory():
    body = b'{"contents": "' + b"A" * (48 << 20) + b'", "start": "0", "next": "50331648"}'
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    with sim:
        sim.inject("serialPort", ("raw", 200, body), ("raw", 200, body))
        tracemalloc.start()
        events = collect(fetcher(url, max_response=2 << 20), at(len(OPTION121)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert replay(events)[0] == OPTION121
    errors = [e for e in events if isinstance(e, SourceStatus) and e.state == "error"]
    assert len(errors) == 2 and "more than the 2,097,152 accepted" in errors[0].detail
    assert peak < 16 << 20


def test_corrupt_screenshots(catalog):
    url, sim = start_gce_sim(SimInstance.playing(OPTION121, rate=0))
    garbage_png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50).decode()
    with sim:
        sim.inject("screenshot", ("json", {"contents": garbage_png}), ("json", {"contents": "not base64!"}),
                   ("json", {"contents": base64.b64encode(b"GIF89a....").decode()}), "invalid-json")
        events = collect(fetcher(url, screenshots=0.01, max_invalid=3),
                         lambda e: isinstance(e, SourceUnavailable) and e.source == "screen")
    shots = [e for e in events if e.source == "screen"]
    assert isinstance(shots[0], Frame)  # PNG magic: the session's screen reader judges the rest
    assert [e.state for e in shots[1:-1]] == ["error", "error"]
    assert "unreadable" in shots[-1].reason
    session = Session(catalog)
    notes = [n for e in events for n in session.feed(e).notes]  # no exception from a corrupt image
    assert any(isinstance(n, SourceUnavailable) and n.source == "screen" for n in notes)
