"""The EC2 fetcher end to end: real boto3 over HTTP against consolewatch.sim.ec2, lines via Session.

The simulator's clock is stepped by the test (a fixed number of seconds per GetConsoleOutput
call), so "polled often" and "polled too slowly" are exact and the tests do not wait for a
boot to play: the fetcher polls as fast as loopback HTTP allows.

The 400 KB boot (`big_boot_log`) is every real capture in samples/ (the 14 QEMU serial logs,
then the cloud console excerpts, in path order) followed by the healthy QEMU boot once more
(the machine rebooted): about 410 KB of real console output, no line invented.
"""

from __future__ import annotations

import asyncio
import base64
import random
from pathlib import Path

import pytest

from consolewatch.fetchers import FetchError, parse_target
from consolewatch.fetchers.ec2 import Ec2Fetcher
from consolewatch.model import Chunk, Frame, Gap, MachineContext, SourceStatus, SourceUnavailable
from consolewatch.session import Session
from consolewatch.sim.ec2 import start_ec2_sim

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
IID = "i-0123456789abcdef0"
FAST = {"poll": 0.001, "poll_max": 0.004, "screenshots": "off", "state_poll": 60, "backoff": 0.001,
        "retries": 1}


def big_boot_log() -> bytes:
    parts = [p.read_bytes() for p in sorted(SAMPLES.glob("qemu/*/serial.log"))]
    parts += [p.read_bytes() for p in sorted(SAMPLES.glob("*/console.log"))]
    parts.append((SAMPLES / "qemu/healthy/serial.log").read_bytes())
    return b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


class ManualClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def sim(clock, monkeypatch):
    s = start_ec2_sim(clock=clock)
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    for k, v in s.env().items():
        monkeypatch.setenv(k, v)
    yield s
    s.close()


def step_per_poll(sim, clock, seconds: float) -> None:
    sim.before_action = lambda action: clock.advance(seconds) if action == "GetConsoleOutput" else None


async def _collect(options, until, *, follow=True, cursors=None, target=f"aws:{IID}", limit=60.0):
    fetcher = Ec2Fetcher(parse_target(target, {**FAST, **options}))
    events = []
    agen = fetcher.stream(cursors=cursors, follow=follow)
    try:
        async with asyncio.timeout(limit):
            async for ev in agen:
                events.append(ev)
                if until is not None and until(ev):
                    break
    finally:
        await agen.aclose()
    return events


def collect(options=None, until=None, **kw):
    return asyncio.run(_collect(options or {}, until, **kw))


def idle_after(inst, clock, lag: float = 0.0):
    """Stop at an idle status once the recording has been played completely (and, for posted
    output, `lag` seconds later: the last post came after the end)."""
    return lambda ev: isinstance(ev, SourceStatus) and ev.state == "idle" and inst.player.done(clock() - lag)


def until_data(expected: bytes):
    """Stop once the chunks add up to `expected` (the tests where nothing may be lost)."""
    got = bytearray()

    def until(ev):
        if isinstance(ev, Chunk):
            got.extend(ev.data)
        return len(got) >= len(expected)

    return until


def session_lines(catalog, events, *, marks=True):
    s = Session(catalog)
    out: list[str] = []
    for ev in events:
        step = s.feed(ev)
        for b in step.batches:
            out += list(b.texts)
        if marks and isinstance(ev, Gap):
            out.append("\x00GAP")
    for b in s.finish().batches:
        out += list(b.texts)
    return out, s


def reference_lines(catalog, data: bytes) -> list[str]:
    return session_lines(catalog, [Chunk("console", data)])[0]


def data_of(events) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Chunk))


# -- console output: stitching end to end ----------------------------------------------------


def test_a_400kb_boot_polled_often_yields_every_line_exactly_once_in_order(sim, clock, catalog):
    log = big_boot_log()
    assert len(log) >= 400_000
    inst = sim.add_instance(IID, log, bytes_per_second=20_000)
    step_per_poll(sim, clock, 2.0)  # 40 KB per poll: windows of 64 KB always overlap
    events = collect(until=idle_after(inst, clock))
    assert isinstance(events[0], MachineContext) and events[0].hypervisor == "nitro"
    assert not [e for e in events if isinstance(e, Gap)]
    assert data_of(events) == log
    got, _ = session_lines(catalog, events)
    assert got == reference_lines(catalog, log)
    assert sim.calls("GetConsoleOutput") <= len(log) // 40_000 + 4


def test_polled_too_slowly_it_yields_what_it_saw_plus_gaps_and_no_line_twice(sim, clock, catalog):
    log = big_boot_log()
    inst = sim.add_instance(IID, log, bytes_per_second=20_000)
    step_per_poll(sim, clock, 5.0)  # 100 KB per poll: consecutive windows never overlap
    events = collect(until=idle_after(inst, clock))
    gaps = [e for e in events if isinstance(e, Gap)]
    assert len(gaps) >= 3 and all(g.lost_bytes is None and g.reason for g in gaps)
    # bytes: every stretch between gaps is the log's own bytes, in order, none twice
    pos, stretch, spans = 0, b"", []
    for e in events + [Gap("console")]:
        if isinstance(e, Chunk):
            stretch += e.data
        elif isinstance(e, Gap) and stretch:
            at = log.find(stretch, pos)
            assert at >= pos, "bytes out of order or repeated"
            spans.append((at, at + len(stretch)))
            pos, stretch = at + len(stretch), b""
    # lines: exactly the lines of those stretches (a line cut by a gap ends there), nothing else
    expected = [line for a, b in spans for line in reference_lines(catalog, log[a:b])]
    got = [line for line in session_lines(catalog, events)[0] if line != "\x00GAP"]
    assert got == expected
    seen = sum(b - a for a, b in spans)
    assert 0.3 * len(log) < seen < len(log)
    print(f"\nslow polling: {len(gaps)} gaps, {seen} of {len(log)} bytes seen, {len(got)} lines")


def test_throttling_and_5xx_bursts_lose_and_repeat_nothing(sim, clock, catalog):
    log = big_boot_log()
    inst = sim.add_instance(IID, log, bytes_per_second=20_000)
    bursts = iter([("throttle", 2), ("internal", 2), ("throttling", 1), ("unavailable", 3), ("html500", 1),
                   ("malformed", 1)] * 20)
    calls = {"n": 0}

    def hook(action):
        if action == "GetConsoleOutput":
            clock.advance(0.5)  # 10 KB per call, failed or not
            calls["n"] += 1
            if calls["n"] % 3 == 0:
                kind, count = next(bursts)
                sim.inject(kind, count, "GetConsoleOutput")

    sim.before_action = hook
    events = collect(until=idle_after(inst, clock))
    backoffs = [e for e in events if isinstance(e, SourceStatus) and e.state == "backoff"]
    assert len(backoffs) >= 10 and any("throttl" in e.detail for e in backoffs)
    assert not [e for e in events if isinstance(e, Gap)]
    assert data_of(events) == log
    assert session_lines(catalog, events)[0] == reference_lines(catalog, log)


def test_botocore_retries_absorb_a_short_throttle(sim, clock):
    log = sample("qemu/healthy/serial.log")
    inst = sim.add_instance(IID, log, bytes_per_second=10_000)
    step_per_poll(sim, clock, 1.0)
    sim.inject("throttle", 1, "GetConsoleOutput")
    events = collect({"retries": 3}, until=idle_after(inst, clock))
    assert data_of(events) == log
    assert not [e for e in events if isinstance(e, SourceStatus) and e.state == "backoff"]


def test_a_restarted_fetcher_resumes_from_the_cursor_without_repeats(sim, clock, catalog):
    log = big_boot_log()[:300_000]
    inst = sim.add_instance(IID, log, bytes_per_second=20_000)
    step_per_poll(sim, clock, 2.0)
    first = collect(until=lambda ev: isinstance(ev, Chunk) and clock() > 1000 + 7)
    cursor = [e for e in first if isinstance(e, Chunk)][-1].cursor
    assert set(cursor) == {"v", "tail", "timestamp", "via"} and cursor["via"] == "output"
    clock.advance(1.0)  # the tail was down for a moment
    second = collect(until=idle_after(inst, clock), cursors={"console": cursor})
    assert data_of(first) + data_of(second) == log
    assert not [e for e in second if isinstance(e, Gap)]


def test_a_reboot_replaying_the_same_boot_is_stitched_as_two_boots(sim, clock, catalog):
    boot = sample("qemu/healthy/serial.log")
    inst = sim.add_instance(IID, boot, bytes_per_second=10_000)
    step_per_poll(sim, clock, 1.0)
    rebooted = {"done": False}

    def until(ev):
        if isinstance(ev, SourceStatus) and ev.state == "idle" and inst.player.done(clock()):
            if not rebooted["done"]:
                inst.reboot()
                rebooted["done"] = True
                return False
            return True
        return False

    events = collect(until=until)
    assert data_of(events) == boot + boot
    _, s = session_lines(catalog, events)
    assert len(s.result().boots) == 2


def test_a_cleared_buffer_after_stop_and_start_is_reported_as_a_gap(sim, clock):
    inst = sim.add_instance(IID, sample("qemu/healthy/serial.log"), bytes_per_second=10_000)
    step_per_poll(sim, clock, 1.0)
    state = {"restarted": False}

    def until(ev):
        if isinstance(ev, SourceStatus) and ev.state == "idle" and inst.player.done(clock()):
            if state["restarted"]:
                return True
            inst.stop()
            inst.start(sample("qemu/no-init/serial.log")[:5000])
            state["restarted"] = True
        return False

    events = collect(until=until)
    gaps = [e for e in events if isinstance(e, Gap)]
    assert len(gaps) == 1 and "cleared" in gaps[0].reason
    assert data_of(events).endswith(sample("qemu/no-init/serial.log")[:5000])


# -- Xen, Latest, state changes, terminated instances -----------------------------------------


def test_xen_uses_posted_output_and_says_it_is_delayed(sim, clock):
    log = sample("qemu/healthy/serial.log")
    sim.add_instance(IID, log, instance_type="m4.large", bytes_per_second=1_000, post_interval=10.0,
                            latest_on_xen="error")
    step_per_poll(sim, clock, 2.0)
    events = collect(until=until_data(log))
    ctx = events[0]
    assert ctx.hypervisor == "xen" and ctx.fields["instance_type"] == "m4.large"
    assert ctx.fields["hypervisor_source"] == "DescribeInstanceTypes"
    statuses = [e for e in events if isinstance(e, SourceStatus)]
    assert any("only around state changes" in e.detail for e in statuses)
    assert data_of(events) == log


def test_latest_refused_falls_back_to_posted_output(sim, clock):
    log = sample("qemu/healthy/serial.log")
    sim.add_instance(IID, log, instance_type="t2.micro", bytes_per_second=2_000, post_interval=5.0,
                            latest_on_xen="error")
    step_per_poll(sim, clock, 1.0)
    events = collect({"latest": "true"}, until=until_data(log))
    assert any(isinstance(e, SourceStatus) and "refused Latest" in e.detail for e in events)
    assert data_of(events) == log


def test_context_has_the_fields_detectors_use(sim):
    sim.add_instance(IID, b"x\n", instance_type="c5.xlarge", root_device_name="/dev/xvda",
                     block_devices=("/dev/xvda", "/dev/sdf"), image_id="ami-0abc")
    ctx = collect(until=lambda ev: isinstance(ev, MachineContext))[0]
    assert ctx.cloud == "aws" and ctx.hypervisor == "nitro"
    f = ctx.fields
    assert (f["instance_type"], f["state"], f["root_device"], f["block_devices"], f["image_id"]) == (
        "c5.xlarge", "running", "/dev/xvda", "/dev/xvda,/dev/sdf", "ami-0abc")
    assert f["availability_zone"] == "us-east-1a" and f["region"] == "us-east-1" and f["platform"] == "linux"


def test_a_terminated_instance_yields_its_final_output_and_ends(sim, clock, catalog):
    log = sample("qemu/wrong-root-nvme/serial.log")
    inst = sim.add_instance(IID, log, bytes_per_second=5_000)
    step_per_poll(sim, clock, 1.0)

    def hook(action):
        if action == "GetConsoleOutput":
            clock.advance(1.0)
            if inst.player.done(clock()) and inst.state == "running":
                inst.terminate()

    sim.before_action = hook
    events = collect({"state_poll": 0.01})  # ends by itself
    assert isinstance(events[-1], SourceStatus) and events[-1].state == "ended"
    assert any(isinstance(e, MachineContext) and e.fields["state"] == "terminated" for e in events)
    assert data_of(events) == log


def test_a_stop_ends_the_follow_unless_waiting_for_a_restart(sim, clock):
    log = sample("qemu/healthy/serial.log")
    inst = sim.add_instance(IID, log, bytes_per_second=10_000)

    def hook(action):
        if action == "GetConsoleOutput":
            clock.advance(1.0)
            if inst.player.done(clock()) and inst.state == "running" and not inst.player.boots:
                inst.stop()

    sim.before_action = hook
    events = collect({"state_poll": 0.01})
    assert events[-1].state == "ended" and data_of(events) == log

    inst = sim.add_instance(IID, log, bytes_per_second=10_000)
    second = sample("qemu/no-init/serial.log")[:6000]
    seen = bytearray()

    def until(ev):
        if isinstance(ev, MachineContext) and ev.fields["state"] == "stopped":
            inst.start(second)
        if isinstance(ev, Chunk):
            seen.extend(ev.data)
        return bytes(seen).endswith(second)

    events = collect({"state_poll": 0.01, "wait_restart": True}, until=until)
    states = [e.fields["state"] for e in events if isinstance(e, MachineContext)]
    assert states[:2] == ["running", "stopped"]
    assert data_of(events) == log + second
    assert [g.reason for g in events if isinstance(g, Gap)] and "cleared" in next(
        g for g in events if isinstance(g, Gap)).reason


def test_since_now_skips_what_is_already_on_the_console(sim, clock):
    log = sample("qemu/healthy/serial.log")
    inst = sim.add_instance(IID, log, bytes_per_second=0)
    seen = bytearray()

    def until(ev):
        if isinstance(ev, SourceStatus) and "following from now" in ev.detail:
            inst.player.append(b"a new line\n")
        if isinstance(ev, Chunk):
            seen.extend(ev.data)
        return bool(seen)

    events = collect({"since": "now"}, until=until)
    assert data_of(events) == b"a new line\n"


def test_screenshots_none_means_off(sim):
    sim.add_instance(IID, b"hello\n", bytes_per_second=0)
    events = collect({"screenshots": None}, follow=False)
    assert not [e for e in events if isinstance(e, Frame)] and sim.calls("GetConsoleScreenshot") == 0


def test_report_on_an_already_failed_instance(sim, catalog):
    """--no-follow on a Nitro instance told root=/dev/xvda1: the output that exists, the verdict."""
    log = sample("qemu/wrong-root-nvme/serial.log")
    sim.add_instance(IID, log, bytes_per_second=0, root_device_name="/dev/xvda")
    sim.instance(IID).terminate()
    events = collect(follow=False)
    assert data_of(events) == log
    _, s = session_lines(catalog, events)
    result = s.result()
    assert result.outcome == "failure" and result.hypervisor == "nitro"
    assert "disk.root-not-found" in {f.category for f in result.findings()}


@pytest.mark.parametrize("name,outcome,category", [
    ("qemu/wrong-root-nvme/serial.log", "failure", "disk.root-not-found"),
    ("qemu/healthy/serial.log", "success", "boot.success"),
])
def test_following_a_real_boot_reaches_its_outcome(sim, clock, catalog, name, outcome, category):
    log = sample(name)
    inst = sim.add_instance(IID, log, bytes_per_second=8_000)
    step_per_poll(sim, clock, 1.0)
    events = collect(until=idle_after(inst, clock))
    _, s = session_lines(catalog, events)
    assert s.result().outcome == outcome
    assert category in {f.category for f in s.result().findings()}


# -- failures the user must fix: one clear line ----------------------------------------------


def _error(options=None, target=f"aws:{IID}") -> str:
    with pytest.raises(FetchError) as info:
        collect(options or {}, target=target, limit=30)
    msg = str(info.value)
    assert "\n" not in msg and "simulated-secret-key" not in msg and "Traceback" not in msg
    return msg


def test_unknown_instance(sim):
    assert "i-0123456789abcdef0 was not found in region us-east-1" in _error()


def test_wrong_region(sim):
    sim.add_instance(IID, b"hello\n")
    msg = _error(target=f"aws:eu-west-1/{IID}")
    assert "not found in region eu-west-1" in msg and "region" in msg.split("found")[1]


def test_unreachable_endpoint(sim, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9")
    assert "cannot reach http://127.0.0.1:9" in _error()


def test_no_credentials(sim, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert _error().startswith("no AWS credentials found")


def test_no_region(sim, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert _error().startswith("no AWS region")


@pytest.mark.parametrize("fault,words", [
    ("expired-token", "expired"), ("expired", "expired"), ("auth", "rejected the credentials"),
    ("unauthorized", "not authorised to call ec2:DescribeInstances"),
])
def test_credential_and_permission_errors(sim, fault, words):
    sim.add_instance(IID, b"hello\n")
    sim.inject(fault, 1, "DescribeInstances")
    assert words in _error()


def test_a_persistent_outage_gives_up_with_one_line(sim):
    sim.add_instance(IID, b"hello\n")
    sim.inject("internal", 100, "GetConsoleOutput")
    assert "gave up after 5 attempts" in _error({"max_errors": 5})


# -- hostile responses -------------------------------------------------------------------------


def test_random_bytes_and_invalid_utf8_in_output_are_kept_visible(sim, clock, catalog):
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(30_000))
    inst = sim.add_instance(IID, junk, bytes_per_second=10_000)
    step_per_poll(sim, clock, 1.0)
    events = collect(until=idle_after(inst, clock))
    assert data_of(events) == junk  # exact bytes: boto3's lossy decoding is off
    lines, _ = session_lines(catalog, events)
    assert any("\\x" in line for line in lines)


def test_output_that_is_not_base64_is_a_clear_error(sim):
    sim.add_instance(IID, b"x\n", raw_output="this is *not* base64 !!!")
    assert "not valid base64" in _error({"max_errors": 3})


def test_a_huge_output_is_cut_to_a_bounded_window(sim):
    sim.add_instance(IID, b"x\n", output_override=lambda w: b"A" * 6_000_000)
    events = collect(follow=False)
    assert 0 < len(data_of(events)) <= 1024 * 1024
    assert any(isinstance(e, SourceStatus) and "more console output" in e.detail for e in events)


def test_malformed_xml_is_retried(sim, clock):
    log = sample("qemu/healthy/serial.log")
    inst = sim.add_instance(IID, log, bytes_per_second=10_000)
    step_per_poll(sim, clock, 1.0)
    sim.inject("malformed", 2, "GetConsoleOutput")
    events = collect(until=idle_after(inst, clock))
    assert data_of(events) == log
    assert any(isinstance(e, SourceStatus) and "not valid XML" in e.detail for e in events)


def test_a_corrupt_jpeg_becomes_a_note_not_a_traceback(sim, catalog):
    sim.add_instance(IID, b"hello\n", screenshot_override=base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x13" * 500).decode())
    events = collect({"screenshots": 1}, follow=False)
    frames = [e for e in events if isinstance(e, Frame)]
    assert len(frames) == 1
    _, s = session_lines(catalog, events)
    assert any(isinstance(n, SourceUnavailable) and n.source == "screen" for n in s.notes)


def test_a_screenshot_that_is_not_an_image_makes_screenshots_unavailable(sim, clock):
    inst = sim.add_instance(IID, sample("qemu/healthy/serial.log"), bytes_per_second=5_000,
                            screenshot_override=base64.b64encode(b"<html>nope</html>").decode())
    step_per_poll(sim, clock, 1.0)
    events = collect({"screenshots": 0.001},
                     until=lambda ev: isinstance(ev, SourceUnavailable) or (
                         isinstance(ev, SourceStatus) and ev.state == "idle" and inst.player.done(clock())))
    assert isinstance(events[-1], SourceUnavailable) and "not a JPEG" in events[-1].reason


def test_screenshots_unsupported_is_a_source_unavailable(sim):
    sim.add_instance(IID, b"hello\n", screenshots=False, bytes_per_second=0)
    events = collect({"screenshots": 1}, follow=False)
    assert any(isinstance(e, SourceUnavailable) and e.source == "screen" for e in events)
    assert data_of(events) == b"hello\n"


# -- screenshots: frames read by the OCR join the timeline --------------------------------------


def char_accuracy(truth: list[str], got: list[str]) -> float:
    from rapidfuzz.distance import Levenshtein

    got = got + [""] * (len(truth) - len(got))
    total = sum(len(t) for t in truth if t)
    return 1 - sum(Levenshtein.distance(t, g) for t, g in zip(truth, got) if t or g) / max(1, total)


def test_each_screenshot_reads_back_as_the_screen_it_shows(sim, clock):
    """GetConsoleScreenshot's JPEG of the sim's console, read by the OCR: character accuracy
    against the rows the screen shows, at several moments of a real boot."""
    from consolewatch.ocr import read_frame
    from consolewatch.sim.screen import screen_rows

    log = sample("qemu/wrong-root-nvme/serial.log")
    inst = sim.add_instance(IID, log, bytes_per_second=1_000)
    scores = []
    for t in (0.5, 3, 6, 10, 15, 20, 24):
        clock.t = inst.player._start + t
        events = collect({"screenshots": 1}, follow=False)
        frame = next(e for e in events if isinstance(e, Frame))
        assert frame.media_type == "image/jpeg" and frame.image[:3] == b"\xff\xd8\xff"
        truth = [r.rstrip() for r in screen_rows(inst.screen_lines(clock()))]
        while truth and not truth[-1]:
            truth.pop()
        got = read_frame(frame.image, frame.media_type).row_texts()
        scores.append(char_accuracy(truth, got))
    print(f"\nscreenshot OCR character accuracy per frame: {[round(s, 4) for s in scores]}")
    assert min(scores) >= 0.99


def test_screenshot_frames_become_lines_that_match_the_console_text(sim, clock, catalog):
    """Frames alone through the Session: each line read off the screen is a console line of
    the boot, in order. The screen reader rejoins rows that a long line wrapped only when the
    row is full after trailing spaces are dropped, so a line wrapped at a space comes out in
    two pieces and a line of exactly 80 characters is joined with the next one: those are
    counted apart (wrap artefacts), not as OCR errors."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    log = sample("qemu/wrong-root-nvme/serial.log")
    sim.add_instance(IID, log, bytes_per_second=4_000)
    step_per_poll(sim, clock, 0.25)  # about 12 lines per poll; a screen holds 25 rows
    events = collect({"screenshots": 0.001, "poll": 0.03, "poll_max": 0.03}, until=until_data(log))
    frames = [e for e in events if isinstance(e, Frame)]
    assert len(frames) >= 10
    ocr_lines, s = session_lines(catalog, frames, marks=False)
    # a screen shows tabs as spaces and no trailing blanks: compare with that form of the text
    truth = [t.expandtabs(8).rstrip() for t in reference_lines(catalog, log)]
    pos, dist, chars, exact, wrapped = 0, 0, 0, 0, 0
    for line in ocr_lines:
        if not line.strip():
            continue
        window = truth[pos: pos + 60]
        k, ref = max(enumerate(window), key=lambda c: fuzz.ratio(line, c[1]))
        if fuzz.ratio(line, ref) >= 90 and not (len(ref) > 80 and ref.startswith(line) and line != ref):
            pos += k + 1
            dist += Levenshtein.distance(line, ref)
            chars += len(ref)
            exact += line == ref
            continue
        near = truth[max(0, pos - 3): pos + 60]  # a wrap piece may belong to the line just matched
        pieces = [near[i] + near[i + 1] for i in range(len(near) - 1)] + near
        assert any(line in p or fuzz.partial_ratio(line, p) >= 95 for p in pieces if len(p) >= 79), (line, window[:3])
        if len(ref) > 80 and ref.startswith(line):
            pos += k + 1
        wrapped += 1
    accuracy = 1 - dist / max(1, chars)
    print(f"\nscreen lines: {len(ocr_lines)} read from {len(frames)} frames; {exact} exact; character accuracy "
          f"{accuracy:.4f} over {chars} characters of matched lines; {wrapped} wrap artefacts; "
          f"{len(truth)} console lines")
    assert accuracy >= 0.995 and exact >= 0.9 * len(ocr_lines) and wrapped <= 0.05 * len(ocr_lines)
    assert s.result().lines == len(ocr_lines)


# -- the EC2 serial console (SSH, opt-in) -------------------------------------------------------


@pytest.fixture
def live_sim(monkeypatch):
    """A simulator on the real clock (the serial console streams as the instance prints)."""
    pytest.importorskip("asyncssh")
    s = start_ec2_sim()
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    for k, v in s.env().items():
        monkeypatch.setenv(k, v)
    yield s
    s.close()


SERIAL = {"serial_console": True, "poll": 0.05, "poll_max": 0.2}


def test_serial_console_streams_live_and_splices_with_console_output(live_sim, catalog):
    log = sample("qemu/wrong-root-nvme/serial.log")
    # 6 s of output: the SSH session is live well before the end even on a loaded machine
    live_sim.add_instance(IID, log, bytes_per_second=4_000)
    events = collect(SERIAL, until=until_data(log))
    assert data_of(events) == log
    assert any(isinstance(e, SourceStatus) and "live from the EC2 serial console" in e.detail for e in events)
    via = [e.cursor["via"] for e in events if isinstance(e, Chunk)]
    assert "serial" in via and via[-1] == "serial"
    assert live_sim.serial.sessions == 1
    assert session_lines(catalog, events)[0] == reference_lines(catalog, log)


def test_when_the_serial_session_ends_console_output_takes_over(live_sim):
    log = sample("qemu/healthy/serial.log")
    first, second = log[:8000], log[8000:]
    inst = live_sim.add_instance(IID, first, bytes_per_second=50_000)
    seen, dropped = bytearray(), []

    def until(ev):
        if isinstance(ev, Chunk):
            seen.extend(ev.data)
        if isinstance(ev, SourceStatus) and "live from" in ev.detail and not dropped:
            dropped.append(ev)
            live_sim.drop_serial_sessions()  # EC2 ends the session; the machine prints on
            inst.player.append(second)
        return len(seen) >= len(log)

    events = collect({**SERIAL, "backoff": 0.01}, until=until)
    assert data_of(events) == log
    assert any(isinstance(e, SourceStatus) and "back to GetConsoleOutput" in e.detail for e in events)


@pytest.mark.parametrize("setup,words", [
    (lambda sim: sim.add_instance(IID, b"x\n", instance_type="m4.large"), "needs a Nitro instance type"),
    (lambda sim: setattr(sim.state, "serial_access", False) or sim.add_instance(IID, b"x\n"),
     "serial console access is disabled"),
    (lambda sim: sim.state.serial_sessions.add(IID) or sim.add_instance(IID, b"x\n"), "another EC2 serial console"),
])
def test_serial_console_problems_are_clear_and_the_rest_goes_on(live_sim, setup, words):
    inst = setup(live_sim)
    inst.post_interval = 0.01  # the Xen instance posts its output at once
    seen = []

    def until(ev):
        seen.append(ev)
        return any(isinstance(e, SourceUnavailable) for e in seen) and any(isinstance(e, Chunk) for e in seen)

    events = collect(SERIAL, until=until)
    gone = next(e for e in events if isinstance(e, SourceUnavailable))
    assert gone.source == "serial" and words in gone.reason
    if "disabled" in words:
        assert "enable-serial-console-access" in gone.hint
    assert data_of(events) == b"x\n"  # console output kept flowing


def test_an_unknown_serial_host_key_is_refused(live_sim):
    live_sim.add_instance(IID, b"x\n")
    events = collect({**SERIAL, "serial_known_hosts": "/dev/null"}, until=lambda ev: isinstance(ev, SourceUnavailable))
    assert "host key" in events[-1].reason and "known_hosts" in events[-1].hint


def test_console_and_screen_together_keep_each_line_once(sim, clock, catalog):
    """Console output and screenshots of the same console: the session keeps the text line
    and drops the screen's copy of it (Session.expect_frames)."""
    log = sample("qemu/wrong-root-nvme/serial.log")
    sim.add_instance(IID, log, bytes_per_second=4_000)
    step_per_poll(sim, clock, 0.25)
    events = collect({"screenshots": 0.001, "poll": 0.03, "poll_max": 0.03}, until=until_data(log))
    s = Session(catalog)
    s.expect_frames()
    text, ocr, dupes = [], [], 0
    for ev in events:
        step = s.feed(ev)
        dupes += len(step.duplicates)
        for b in step.batches:
            (ocr if b.origin == "ocr" else text).extend(b.texts)
    assert text == reference_lines(catalog, log)
    print(f"\nconsole + screen: {len(text)} text lines, {dupes} screen lines recognised as repeats, "
          f"{len(ocr)} screen lines kept")
    assert dupes > 100 and len(ocr) <= 0.1 * dupes, (len(ocr), dupes)


# -- the pieces ----------------------------------------------------------------------------------


def test_hypervisor_by_family_when_describe_instance_types_is_not_allowed(sim):
    from consolewatch.fetchers.ec2_api import hypervisor_for_type

    assert [hypervisor_for_type(t) for t in ("m5.large", "t2.micro", "m4.xlarge", "c7g.medium", "i3.metal",
                                             "i3.large")] == ["nitro", "xen", "xen", "nitro", None, "xen"]
    sim.add_instance(IID, b"x\n", instance_type="t2.micro", bytes_per_second=0)
    sim.inject("unauthorized", 5, "DescribeInstanceTypes")
    ctx = collect(follow=False)[0]
    assert ctx.hypervisor == "xen" and ctx.fields["hypervisor_source"] == "instance family"


def test_console_bytes_is_strict_and_bounded():
    from consolewatch.fetchers.ec2_api import MAX_OUTPUT, RAW_KEY, console_bytes

    assert console_bytes({RAW_KEY: base64.b64encode(b"\xff\x00ok").decode()}) == (b"\xff\x00ok", None)
    assert console_bytes({}) == (b"", None)
    assert console_bytes({"Output": "decoded \ufffd text"}) == ("decoded \ufffd text".encode(), None)
    assert "not valid base64" in console_bytes({RAW_KEY: "abc$"})[1]
    data, note = console_bytes({RAW_KEY: base64.b64encode(b"z" * (2 * MAX_OUTPUT)).decode()})
    assert len(data) <= MAX_OUTPUT and "more console output" in note


def test_errors_are_sorted_for_the_poll_loop():
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    from consolewatch.fetchers.ec2_api import classify

    def err(code, status=400):
        return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                           "GetConsoleOutput")

    kw = {"instance_id": IID, "region": "us-east-1", "endpoint": None, "action": "GetConsoleOutput"}
    assert classify(err("RequestLimitExceeded", 503), **kw).kind == "throttle"
    assert classify(err("Throttling"), **kw).kind == "throttle"
    assert classify(err("InternalError", 500), **kw).kind == "transient"
    assert classify(err("SomethingNew", 502), **kw).kind == "transient"
    assert classify(err("UnsupportedOperation"), **kw).kind == "unsupported"
    for code in ("AuthFailure", "ExpiredToken", "InvalidInstanceID.NotFound", "UnauthorizedOperation"):
        assert classify(err(code), **kw).kind == "fatal"
    assert classify(NoCredentialsError(), **kw).kind == "fatal"
    assert classify(EndpointConnectionError(endpoint_url="https://x"), **kw).kind == "transient"
