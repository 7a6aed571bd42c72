"""ScreenStitcher and FrameDeduper on rendered scrolling screens and real QEMU frames."""

from __future__ import annotations

import pytest
from helpers import FRAMES, log_lines

from consolewatch.ocr import FrameDeduper, OcrLine, ScreenStitcher, read_frame
from consolewatch.ocr.stitch import StitchResult
from consolewatch.sim.screen import render_screen, screen_rows

LOG = "kvm-rumprun-solo5-hvt-hello-success.log"


def _screen(lines: list[str], rows: int = 25) -> list[str]:
    return [r.rstrip() for r in screen_rows(lines, rows=rows)]


def _wrapped(lines: list[str]) -> list[str]:
    return [r for r in _screen(lines, rows=10**6) if r] if lines else []


@pytest.mark.parametrize("step", [1, 3, 7, 15])
def test_scrolling_real_log_through_rendered_frames(step):
    """Frames of a console printing a real boot log `step` lines at a time, read by the
    grid engine: every line comes out exactly once, in order."""
    lines = log_lines(LOG)
    stitcher, out = ScreenStitcher(), []
    for end in list(range(step, len(lines), step)) + [len(lines)]:
        result = read_frame(render_screen(lines[:end]))
        out += stitcher.feed(result).texts
    out += stitcher.flush().texts
    assert out == _wrapped(lines)


def test_scrolling_with_jpeg_and_tesseract_noise():
    lines = log_lines(LOG)[:40]
    stitcher, out = ScreenStitcher(), []
    for end in range(10, 41, 6):
        out += stitcher.feed(read_frame(render_screen(lines[:end], fmt="JPEG"), engines=("tesseract",))).texts
    out += stitcher.flush().texts
    truth = _wrapped(lines)
    assert abs(len(out) - len(truth)) <= 2  # no frame's worth of lines repeated or lost


def test_real_qemu_scrolling_frames_match_the_serial_log():
    stitcher, out = ScreenStitcher(), []
    frames = sorted((FRAMES / "scroll").glob("frame-*.png"))
    assert len(frames) == 6
    for path in frames:
        res = stitcher.feed(read_frame(path.read_bytes()))
        assert not res.reset
        out += res.texts
    out += stitcher.flush().texts
    rows = _screen((FRAMES / "scroll" / "serial.log").read_text().split("\n"), rows=10**6)
    first = read_frame(frames[0].read_bytes()).row_texts()
    start = next(i for i in range(len(rows)) if rows[i : i + len(first)] == first)
    expected = [r for r in rows[start : start + len(out) + 5] if r][: len(out)]
    assert out == expected and len(out) > 60
    stamped = [r for r in out if r.startswith("[ ")]
    assert len(stamped) == len(set(stamped))  # printk stamps make these rows unique: none twice


def test_cleared_screen_emits_everything():
    s = ScreenStitcher()
    assert s.feed(["a1", "a2", "a3"]).texts == ["a1", "a2"]
    res = s.feed(["b1", "b2"])
    assert res.reset and res.texts == ["a3", "b1"] and res.pending.text == "b2"
    res = s.feed([])
    assert res.reset and res.texts == ["b2"]


def test_identical_frames_add_nothing_but_release_the_bottom_line():
    s = ScreenStitcher()
    frame = ["Booting from Hard Disk...", "No bootable device."]
    assert s.feed(frame).texts == ["Booting from Hard Disk..."]
    assert s.feed(frame).texts == ["No bootable device."]  # stable across 2 frames
    for _ in range(3):
        assert s.feed(frame).texts == []


def test_bottom_line_being_typed_is_emitted_once_in_full():
    s = ScreenStitcher()
    assert s.feed(["Loading Linux 6.1 ...", "Loading initial ram"]).texts == ["Loading Linux 6.1 ..."]
    assert s.feed(["Loading Linux 6.1 ...", "Loading initial ramdisk ..."]).texts == []
    res = s.feed(["Loading Linux 6.1 ...", "Loading initial ramdisk ...", "["])
    assert res.texts == ["Loading initial ramdisk ..."] and res.pending.text == "["
    assert s.feed(["Loading Linux 6.1 ...", "Loading initial ramdisk ...", "[    0.000000] Linux"]).texts == []
    assert s.flush().texts == ["[    0.000000] Linux"]
    assert s.flush().texts == []


def test_partial_line_while_scrolling():
    s = ScreenStitcher()
    rows = [f"line {i}" for i in range(25)]
    assert len(s.feed(rows[:24] + ["line 24 is sti"])) == 24
    res = s.feed(rows[3:24] + ["line 24 is still typing", "line 25", "line 26", "line 2"])
    assert res.texts == ["line 24 is still typing", "line 25", "line 26"] and res.overlap == 22


def test_repeat_for_deduplicated_frames():
    s = ScreenStitcher()
    s.feed(["---[ end Kernel panic - not syncing: VFS ]---"])
    assert s.pending.text.startswith("---[ end")
    assert s.repeat().texts == ["---[ end Kernel panic - not syncing: VFS ]---"]
    assert s.repeat().texts == [] and s.pending is None


def test_fuzzy_overlap_tolerates_ocr_noise():
    s = ScreenStitcher()
    s.feed(["[    1.7] VFS: Cannot open root device \"xvda1\"", "Please append a correct \"root=\" boot option"])
    res = s.feed(["[    1.7] UFS: Cannot open root device “xudai”", "Please append a correct “root=” boot option", "Kernel panic"])
    assert res.overlap == 2 and [ln.text for ln in res.lines] == ["Please append a correct “root=” boot option"]


def test_blank_rows_inside_the_screen():
    s = ScreenStitcher()
    s.feed(OcrLineList([("a", 0), ("b", 2)]))
    res = s.feed(OcrLineList([("b", 0), ("c", 2)]))  # scrolled by 2: "a", "" went off the top
    assert res.overlap == 1 and res.texts == ["b"] and res.pending.text == "c"


def OcrLineList(items):  # noqa: N802 - reads like a constructor
    return [OcrLine(t, 1.0, r) for t, r in items]


def test_stitch_result_is_frozen_and_iterable():
    res = ScreenStitcher().feed(["x", "y"])
    assert isinstance(res, StitchResult) and [ln.text for ln in res] == ["x"] and len(res) == 1
    with pytest.raises(AttributeError):
        res.lines = ()  # type: ignore[misc]


def test_frame_deduper_with_a_blinking_cursor():
    d = FrameDeduper(window=4)
    a = (FRAMES / "qemu-linux-vfs-panic.png").read_bytes()
    b = (FRAMES / "qemu-linux-vfs-panic-cursor.png").read_bytes()
    assert [d.seen(x) for x in (a, b, a, b, a)] == [False, False, True, True, True]
    assert d.dropped == 3
    assert d.seen(render_screen(["new"])) is False
    with pytest.raises(ValueError):
        FrameDeduper(window=0)
