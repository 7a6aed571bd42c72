"""One timeline across sources: a line shown on a screen and on the serial console is kept once,
whichever arrives first, and the serial console's exact text is what detectors read.

Driven through the real Session with real frames: VGA text screens drawn by
consolewatch.sim.screen from the real serial log of a QEMU boot whose root= names a disk the
machine does not have (samples/qemu/wrong-root-nvme), read back by the OCR engines.
"""

from __future__ import annotations

from collections import Counter

import pytest

from consolewatch.model import Chunk, Frame
from consolewatch.normalize.assembler import LineAssembler
from consolewatch.normalize.timeline import CrossSource
from consolewatch.session import Session
from consolewatch.sim.screen import render_screen
from tests.conftest import SAMPLES

LOG = (SAMPLES / "qemu/wrong-root-nvme/serial.log").read_bytes()
PANIC = "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"


def _lines() -> list[str]:
    """The log's lines as the console shows them (escape sequences interpreted)."""
    from consolewatch.normalize.assembler import LineAssembler

    return LineAssembler().feed(LOG).decode("utf-8").split("\n")[:-1]


def _frames() -> list[Frame]:
    """What a screenshot loop saw at the end of the boot: the screen as the panic line was being
    printed (twice: the machine paused there, so the stitcher takes the half line as complete),
    then the screen once the panic had been printed in full."""
    lines = _lines()
    at = next(i for i, t in enumerate(lines) if PANIC in t)
    half = lines[at][: lines[at].index("unknown-block") + 7]  # "... on unknown"
    shots = [lines[:at - 6], lines[:at] + [half], lines[:at] + [half], lines]
    return [Frame("screen", render_screen(s), "image/png", received_at=i + 1.0) for i, s in enumerate(shots)]


def _run(catalog, events):
    session = Session(catalog)
    session.expect_frames()
    steps = [session.feed(e) for e in events]
    steps.append(session.finish())
    return session, steps


def _timeline(steps) -> dict[int, tuple[str, str]]:
    """seq -> (origin, text) as a reader of `tail --json` ends up with it: lines as printed,
    replaced by the exact text when a `seen` event says the text console printed it."""
    out: dict[int, tuple[str, str]] = {}
    for step in steps:
        for batch in step.batches:
            for line in batch:
                assert line.seq not in out, f"line {line.seq} printed twice"
                out[line.seq] = (line.origin, line.text)
        for twin in step.duplicates:
            assert twin.seq in out
            if twin.origin == "text":
                out[twin.seq] = ("text", twin.text)
    return out


@pytest.mark.parametrize("order", ["screen-first", "text-first"])
def test_each_line_once_whichever_source_comes_first(catalog, order):
    text = [Chunk("console", LOG, received_at=10.0)]
    events = _frames() + text if order == "screen-first" else text + _frames()
    _, steps = _run(catalog, events)
    timeline = _timeline(steps)
    log = _lines()
    # every serial line is on the timeline exactly once, in its exact bytes ...
    assert Counter(t for o, t in timeline.values() if o == "text") == Counter(log)
    # ... and no screen reading of a line stayed beside it: what the screen alone kept is the
    # tail of a wrapped line whose first row had scrolled off the top
    screen_only = [t for o, t in timeline.values() if o == "ocr"]
    assert all(t not in log and any(line.endswith(t) for line in log) for t in screen_only), screen_only
    assert len(screen_only) <= 1
    twins = sum(len(s.duplicates) for s in steps)
    assert twins >= 25  # the screen showed a screenful of the same lines
    if order == "screen-first":
        # before the end of the capture (when the screen's held-back bottom line comes)
        assert all(t.origin == "text" and t.source == "console" for s in steps[:-1] for t in s.duplicates)
        first_ocr = [ln for s in steps for b in s.batches if b.origin == "ocr" for ln in b]
        assert len(first_ocr) >= 25 and all(ln.seq < 100 for ln in first_ocr)  # the screen came first


def test_exact_text_wins_for_detectors_and_no_finding_is_emitted_twice(catalog):
    """Screen first: the stitcher took the half-printed panic line as complete. The kernel.panic
    rule matched that reading at once; the rule that needs the whole line could only match the
    serial console's copy. Each finding is emitted once and quotes the exact line."""
    screen_first, steps = _run(catalog, _frames() + [Chunk("console", LOG, received_at=10.0)])
    text_first, _ = _run(catalog, [Chunk("console", LOG, received_at=10.0)] + _frames())
    emitted = [f.rule for s in steps for f in s.findings]
    assert len(emitted) == len(set(emitted)), emitted
    seq_of = {t.text: t.seq for s in steps for t in s.duplicates}
    panic_seq = next(seq for text, seq in seq_of.items() if text.endswith(PANIC))
    ocr_panic = next(s for s in steps if any(f.rule == "kernel-panic" for f in s.findings))
    assert ocr_panic.batches and ocr_panic.batches[-1].origin == "ocr"  # found from the screen, at once
    late = [s for s in steps if any(f.rule == "root-fs-unmountable-disks-present" for f in s.findings)]
    assert late and late[0].duplicates  # found when the serial console's exact line came

    def verdict(session):
        result = session.result()
        return result.outcome, {f.rule: [e.text for e in f.evidence] for f in result.findings()}

    outcome, findings = verdict(screen_first)
    assert (outcome, findings) == verdict(text_first)  # the same verdict, quoting the same lines
    evidence = [e for f in screen_first.result().findings() for e in f.evidence]
    assert all(e.origin == "text" for e in evidence)
    panic = next(f for f in screen_first.result().findings() if f.rule == "kernel-panic")
    assert [e.seq for e in panic.evidence] == [panic_seq]
    # the values a finding quotes come from the exact line, not from the half line the screen showed
    read_off_screen = next(f for f in ocr_panic.findings if f.rule == "kernel-panic")
    assert read_off_screen.fields["reason"] == "VFS: Unable to mount root fs on unknown"
    assert panic.fields["reason"] == "VFS: Unable to mount root fs on unknown-block(0,0)"


def test_lines_that_differ_in_a_number_are_not_twins():
    cross = CrossSource()
    cross.saw_screen(7, "[    0.951851] acpiphp: Slot [28] registered", 1)
    assert cross.text_twin("[    0.949972] acpiphp: Slot [3] registered") is None
    assert cross.text_twin("[    0.951851]  acpiphp: Slot [28] registered") == (7, 1)
    assert cross.text_twin("[    0.951851] acpiphp: Slot [28] registered") is None  # a second copy is a new line
    cross.saw_text([(9, "[    1.831160] VFS: Cannot open root device \"xvda1\" or unknown-block(0,0): error -6")])
    assert cross.screen_twin("[    1.831160] VFS: Cannot open root devlce \"xvda1\" or unknown-block(0,0): error -6") == 9
    assert cross.screen_twin("[    1.831161] VFS: Cannot open root device \"xvda1\" or unknown-block(0,0): error -6") is None


def test_a_screen_line_goes_to_the_text_line_it_shows_not_to_a_close_one_before_it():
    """samples/qemu/healthy/serial.log lines 85 and 87 (Linux 6.1): on Xen the screen showed the
    second before GetConsoleOutput posted both; the first is within the fuzzy score of it."""
    trampoline = "[    0.000000] \tTrampoline variant of Tasks RCU enabled."
    tracing = "[    0.000000] \tTracing variant of Tasks RCU enabled."
    cross = CrossSource()
    cross.saw_screen(24, "[    0.000000]  Tracing variant of Tasks RCU enabled.", 1)
    assert cross.text_twins([trampoline, "[    0.000000] \tRude variant of Tasks RCU enabled.", tracing]) == [
        None, None, (24, 1)]
    cross.saw_screen(30, "[    0.000000]  Tracing varlant of Tasks RCU enabled.", 1)  # misread: paired fuzzily
    assert cross.text_twins([tracing]) == [(30, 1)]


def test_a_text_console_judged_from_its_own_lines_whichever_source_shows_them_first(catalog):
    """samples/qemu/console-silent: the serial port shows SeaBIOS and "Booting from ROM..." only,
    the screen goes on with the kernel (console=tty0). console.silent is judged from the serial
    port's own lines (origin: text); when a screenshot shows SeaBIOS before the serial poll
    does, the serial lines are twins of the screen's, and they still count as what the serial
    port printed (the live/offline race of tests/qemu/test_consolewatch_live.py)."""
    import yaml

    folder = SAMPLES / "qemu/console-silent"
    log = (folder / "serial.log").read_bytes()
    firmware = LineAssembler().feed(log).decode("utf-8").split("\n")[:-1]
    kernel = yaml.safe_load((folder / "meta.yaml").read_text())["screen_text"].splitlines()
    shots = [firmware, firmware + ["Probing EDD (edd=off to disable)... ok"] + kernel[:8]]
    frames = [Frame("screen", render_screen(s), "image/png", received_at=i + 1.0) for i, s in enumerate(shots)]
    text = [Chunk("console", log, received_at=10.0)]

    def verdict(events):
        session, steps = _run(catalog, events)
        return session.result().outcome, {f.category for f in session.result().findings()}, steps

    outcome, categories, _ = verdict(text + frames)
    assert "console.silent" in categories
    for events in (frames + text, frames[:1] + text + frames[1:]):
        screen_first = verdict(events)
        assert any(s.duplicates for s in screen_first[2])  # the serial lines came as twins
        assert screen_first[:2] == (outcome, categories)


def test_a_screen_left_at_the_boot_loader_while_the_kernel_writes_to_the_serial_port_is_one_boot(catalog):
    """samples/qemu-floppy-failed-then-disk-boots: GRUB, then a kernel that writes to ttyS0 only;
    the VGA screen keeps GRUB's last lines. A screenshot read after the serial port's kernel lines
    shows a boot loader, but not one that ran again: it is the same boot (on one source, a boot
    loader after a kernel means a reset)."""
    folder = SAMPLES / "qemu-floppy-failed-then-disk-boots"
    log = (folder / "serial.log").read_bytes()
    grub = ["GNU GRUB  version 2.06-13+deb12u2", "", "   Booting `Debian GNU/Linux'"]
    frames = [Frame("screen", render_screen(grub), "image/png", received_at=20.0)]
    session, _ = _run(catalog, [Chunk("console", log, received_at=10.0)] + frames)
    alone, _ = _run(catalog, [Chunk("console", log, received_at=10.0)])
    assert len(session.result().boots) == len(alone.result().boots) == 1
    assert session.result().outcome == alone.result().outcome
