"""Every normaliser step is linear in its input (issue 12 item 1): a guest cannot stall analysis.

Two measures, neither a wall-clock assertion: the Python work (line events counted by a tracer,
exact and repeatable) must grow in proportion to the input; and 1 MB of each hostile family
must take a CPU-time budget that a linear implementation meets many times over while a
quadratic one misses it by minutes (the CR runs of item 1 took 32-78 s). Figures per family:
`python bench/hostile_input.py`.
"""

from __future__ import annotations

import sys
import time

import pytest

from consolewatch.model import Chunk
from consolewatch.session import Session
from tests.hostile import FAMILIES, chunks_of

#: CPU seconds 1 MB of any family may take (a linear run here: under 0.5 s).
CPU_BUDGET = 6.0


def _feed(catalog, chunks) -> Session:
    session = Session(catalog)
    for chunk in chunks:
        session.feed(chunk)
    session.finish()
    return session


def _line_events(catalog, family: str, size: int) -> tuple[int, int]:
    """(Python line events, input bytes) for about `size` bytes of `family`."""
    chunks = list(chunks_of(family, size))
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        _feed(catalog, chunks)
    finally:
        sys.settrace(None)
    return count, sum(len(c.data) for c in chunks)


def test_issue_cr_runs_take_well_under_a_second(catalog):
    """The issue's file: 64 lines of 16,380 CRs (1 MB). They end as 64 empty lines."""
    data = (b"\r" * 16380 + b"\n") * 64
    t0 = time.process_time()
    session = _feed(catalog, [Chunk("console", data)])
    assert time.process_time() - t0 < CPU_BUDGET
    assert session.normalizer.next_seq - 1 == 64


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_python_work_grows_linearly(catalog, family):
    _line_events(catalog, family, 4096)  # warm caches (compiled regexes, lazy imports)
    small, small_bytes = _line_events(catalog, family, 16384)
    large, large_bytes = _line_events(catalog, family, 8 * 16384)
    assert large_bytes >= 4 * small_bytes
    assert large <= large_bytes / small_bytes * small * 1.25 + 2000, (family, small, large)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_one_megabyte_of_each_family_fits_a_cpu_budget(catalog, family):
    chunks = list(chunks_of(family, 1 << 20))
    t0 = time.process_time()
    _feed(catalog, chunks)
    assert time.process_time() - t0 < CPU_BUDGET, family


def test_pending_line_from_one_byte_chunks_is_linear(catalog):
    """A slow serial port delivering an endless line one byte at a time: each byte costs the
    same, however long the line already is (the partial line is appended in place and stops
    growing at the raw limit)."""
    from consolewatch.normalize.assembler import LineAssembler

    def work(n: int) -> int:
        asm = LineAssembler()
        count = 0

        def tracer(frame, event, arg):
            nonlocal count
            count += event == "line"
            return tracer

        sys.settrace(tracer)
        try:
            for _ in range(n):
                asm.feed(b"x")
        finally:
            sys.settrace(None)
        return count

    assert work(40000) <= 2 * work(20000) * 1.05
    asm = LineAssembler()
    t0 = time.process_time()
    for _ in range(200_000):
        asm.feed(b"y")
    assert time.process_time() - t0 < CPU_BUDGET
    assert len(asm.pending) == asm.raw_limit
    assert asm.flush().endswith(b"characters]\n")  # the cut line is marked
