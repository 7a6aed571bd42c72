"""Snapshot stitching: overlapping windows of a stream in, each byte of the stream out once."""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consolewatch.normalize.stitch import WINDOW, SnapshotStitcher


def console_stream(n_lines: int, salt: int = 0, width: int = 30) -> bytes:
    """Aperiodic console-like text: numbered lines with pseudo-random words (no real log needed
    for a property of byte offsets; every line differs, as printk timestamps make them)."""
    out = []
    for i in range(n_lines):
        h = hashlib.sha1(f"{salt}:{i}".encode()).hexdigest()
        out.append(f"[{i:7d}] {h[: 4 + (int(h[-2:], 16) % width)]}\n")
    return "".join(out).encode()


def window_at(stream: bytes, end: int, size: int) -> bytes:
    return stream[max(0, end - size): end]


@st.composite
def windows(draw):
    size = draw(st.integers(120, 1200))
    stream = console_stream(draw(st.integers(5, 150)), salt=draw(st.integers(0, 10**6)))
    ends, pos = [], 0
    for _ in range(draw(st.integers(1, 30))):
        # mostly steps within a window, sometimes past it, sometimes none
        pos = min(len(stream), pos + draw(st.one_of(st.integers(0, size), st.integers(size // 2, 3 * size))))
        ends.append(pos)
    return stream, size, ends


def check(stream: bytes, size: int, ends: list[int], stitcher: SnapshotStitcher, prev_end: int | None = None) -> None:
    """Every window's output is stream[x:end]: the whole window when nothing was seen before,
    exact when the windows overlapped by at least min_overlap bytes (or both start at the
    stream's start and the later one is not full: a full window may have lost its start, so a
    few shared bytes such as "[" prove nothing), else a gap whose output starts no earlier than
    the unseen bytes."""
    for end in ends:
        start = max(0, end - size)
        out, gap = stitcher.feed(window_at(stream, end, size))
        if not prev_end:  # nothing seen yet
            assert (out, gap) == (stream[start:end], None)
            prev_end = end
            continue
        overlap = prev_end - start
        if end == prev_end:
            assert (out, gap) == (b"", None)
        elif overlap >= stitcher.min_overlap or (start == 0 and end < size):
            assert gap is None, (start, prev_end, end)
            assert out == stream[prev_end:end]
        else:
            assert gap is not None and gap.lost_bytes is None
            assert len(out) <= end - max(prev_end, start), "a byte came out twice"
            assert out == stream[end - len(out): end]
            assert end - len(out) < start + stitcher.min_overlap
        prev_end = end


@given(windows())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_windows_concatenate_to_the_stream_with_gaps_exactly_where_they_do_not_overlap(case):
    stream, size, ends = case
    check(stream, size, ends, SnapshotStitcher(window=size, key=64, min_overlap=16))


@given(windows(), st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_resumed_stitcher_seeded_with_the_stored_tail_continues_without_repeats(case, data):
    stream, size, ends = case
    cut = data.draw(st.integers(0, len(ends)))
    first = SnapshotStitcher(window=size, key=64, min_overlap=16)
    check(stream, size, ends[:cut], first)
    prev_end = ends[cut - 1] if cut else 0
    resumed = SnapshotStitcher(window=size, key=64, min_overlap=16, seed=first.tail(200))
    for end in ends[cut:]:
        start = max(0, end - size)
        out, gap = resumed.feed(window_at(stream, end, size))
        if not prev_end:
            assert out == stream[start:end] and gap is None
        elif end == prev_end:
            assert out == b"" and gap is None
        elif prev_end - start >= 16 and prev_end > 0:
            assert gap is None and out == stream[prev_end:end]
        else:
            assert len(out) <= end - max(prev_end, start)
            assert out == stream[end - len(out): end]
        prev_end = end


def test_identical_snapshots_give_nothing_new():
    s = SnapshotStitcher()
    w = console_stream(100)
    assert s.feed(w) == (w, None)
    assert s.feed(w) == (b"", None)
    assert s.feed(b"") == (b"", None)


def test_a_window_that_slid_by_less_than_its_size_gives_only_the_new_tail():
    stream = console_stream(12000)
    assert len(stream) > 3 * WINDOW
    s = SnapshotStitcher()
    out = [s.feed(window_at(stream, e, WINDOW)) for e in range(50_000, len(stream), 20_000)]
    assert all(g is None for _, g in out)
    assert b"".join(o for o, _ in out) == stream[: range(50_000, len(stream), 20_000)[-1]]


def test_no_overlap_reports_a_gap_and_everything_new():
    stream = console_stream(12000)
    s = SnapshotStitcher()
    s.feed(window_at(stream, 70_000, WINDOW))
    b, gap = s.feed(window_at(stream, 200_000, WINDOW))
    assert gap is not None and gap.reason == "no-overlap" and gap.lost_bytes is None
    assert b == stream[200_000 - WINDOW: 200_000]


def test_a_cleared_buffer_after_a_restart_is_a_reset_gap():
    s = SnapshotStitcher()
    boot1, boot2 = console_stream(900, salt=1), console_stream(100, salt=2)
    s.feed(boot1[-WINDOW:])
    out, gap = s.feed(boot2)
    assert gap is not None and gap.reason == "reset"
    assert out == boot2


def test_a_reboot_printing_the_same_first_lines_is_not_mistaken_for_a_repeat():
    boot = console_stream(200)
    s = SnapshotStitcher()
    first, _ = s.feed(boot[:2000])
    stream = boot + boot[:3000]  # the same machine booted again, identical early output
    out, gap = s.feed(stream[-WINDOW:])
    assert gap is None
    assert first + out == stream


def test_a_stale_window_gives_nothing_and_keeps_the_reference():
    stream = console_stream(6000)
    s = SnapshotStitcher()
    s.feed(window_at(stream, 90_000, WINDOW))
    assert s.feed(window_at(stream, 80_000, WINDOW)) == (b"", None)
    out, gap = s.feed(window_at(stream, 100_000, WINDOW))
    assert gap is None and out == stream[90_000:100_000]


def test_repeated_identical_lines_never_come_out_twice():
    line = b"Waiting for root device /dev/xvda1...\n"
    stream = b"boot\n" + line * 5000
    s = SnapshotStitcher()
    total = b""
    for end in range(1000, len(stream), 7000):
        out, _ = s.feed(window_at(stream, end, WINDOW))
        total += out
    assert len(total) <= len(stream)
    assert total.startswith(b"boot\n")


def test_live_stream_join_and_extend_continue_the_same_stream():
    stream = console_stream(2000)
    s = SnapshotStitcher()
    first, _ = s.feed(window_at(stream, 40_000, WINDOW))
    # the serial console connected at 39_000 and has delivered up to 41_000 when the window came
    joined = s.join(stream[39_000:41_000])
    more = s.extend(stream[41_000:45_000])
    later, gap = s.feed(window_at(stream, 50_000, WINDOW))
    assert gap is None
    assert first + joined + more + later == stream[:50_000]
    assert s.join(b"") == b""


def test_join_when_nothing_was_printed_in_between():
    stream = console_stream(500)
    s = SnapshotStitcher()
    s.feed(stream[:10_000])
    assert s.join(stream[10_000:10_500]) == stream[10_000:10_500]


def test_hostile_bytes_and_odd_sizes():
    s = SnapshotStitcher(window=64, key=8, min_overlap=4)
    for w in (b"\xff" * 64, b"\x00\xff" * 32, b"", b"\xff", b"a" * 64, bytes(range(256))[-64:]):
        out, _ = s.feed(w)
        assert isinstance(out, bytes) and len(out) <= len(w)
    with pytest.raises(ValueError):
        SnapshotStitcher(window=0)


def test_stitching_64k_windows_is_fast():
    stream = console_stream(40_000)  # about 1.6 MB
    s = SnapshotStitcher()
    ends = list(range(10_000, len(stream), 30_000))
    t0 = time.perf_counter()
    out = b"".join(s.feed(window_at(stream, e, WINDOW))[0] for e in ends)
    elapsed = time.perf_counter() - t0
    assert out == stream[: ends[-1]]
    assert elapsed / len(ends) < 0.005, f"{elapsed / len(ends) * 1000:.2f} ms per window"


def test_a_few_bytes_seen_then_a_full_window_that_starts_with_them_is_a_gap():
    # Found by hypothesis: one byte ("[") seen, then a full window starting on another line's "[".
    stream = b"".join(b"[%7d] %s\n" % (i, b"ab" * (i % 9 + 2)) for i in range(60))
    line_starts = [i for i in range(1, len(stream)) if stream[i - 1:i] == b"\n"]
    size = 300
    start = next(p for p in line_starts if p > 400)
    s = SnapshotStitcher(window=size, key=64, min_overlap=16)
    assert s.feed(window_at(stream, 1, size)) == (b"[", None)
    out, gap = s.feed(window_at(stream, start + size, size))
    assert gap is not None and stream[start:start + size].endswith(out) and len(out) > size - 16
    # while the console is still shorter than a window, a window repeating all of it continues it
    s = SnapshotStitcher(window=size, key=64, min_overlap=16)
    s.feed(stream[:1])
    assert s.feed(stream[:200]) == (stream[1:200], None)
