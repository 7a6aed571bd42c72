"""Line assembly: any chunking gives the same lines; terminals' CR/escape semantics; hostile bytes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consolewatch.normalize.assembler import LineAssembler
from consolewatch.safetext import is_inert


def lines_of(chunks, cap=4096) -> list[str]:
    asm = LineAssembler(cap=cap)
    out = b"".join(asm.feed(c) for c in chunks) + asm.flush()
    text = out.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return text.split("\n")[:-1]


# Bytes that exercise every path: newlines, CR, escapes, invalid UTF-8, multibyte, controls.
ALPHABET = [b"a", b"Z", b" ", b"\n", b"\r", b"\r\n", b"\x1b[0;32m", b"\x1b[K", b"\x1b[2D", b"\x1b]0;t\x07",
            b"\xff", b"\xe2\x80\xa6", b"\xe2", b"\x00", b"\x07", b"\x01", b"\t", b"\x1b", b"\xc2\x9b", b"[", b"m",
            "\u202e".encode(), "\u200d".encode(), "\u0301".encode(), "\U0001f600".encode()]


@st.composite
def streams(draw):
    parts = draw(st.lists(st.sampled_from(ALPHABET), max_size=80))
    data = b"".join(parts)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    chunks, prev = [], 0
    for c in cuts:
        chunks.append(data[prev:c])
        prev = c
    chunks.append(data[prev:])
    return data, chunks


@given(streams(), st.sampled_from([8, 64, 4096]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_split_into_chunks_yields_the_same_lines(stream, cap):
    data, chunks = stream
    assert lines_of(chunks, cap) == lines_of([data], cap)


@given(streams())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bytes_that_are_not_text_are_counted_alike_in_any_chunking(stream):
    """`console.garbled` judges the share of bytes that are not text: counted on the lines that
    need a look, it is what counting the whole stream at once gives, however it was chunked
    (a multi-byte character split by a chunk end is one character, not two bad bytes)."""
    from consolewatch.normalize.assembler import non_text_bytes

    data, chunks = stream
    asm = LineAssembler()
    for c in chunks:
        asm.feed(c)
    asm.flush()
    assert asm.non_text == non_text_bytes(data)


def test_bytes_of_an_over_long_line_that_are_dropped_are_still_counted():
    asm = LineAssembler(cap=8)  # lines are kept up to 32 raw bytes
    for _ in range(10):
        asm.feed(b"\x00\x01abc\xff")
    asm.feed(b"\n")
    assert asm.non_text == 30


@given(st.binary(max_size=2000), st.integers(1, 50))
@settings(max_examples=200, deadline=None)
def test_random_bytes_in_random_chunk_sizes(data, size):
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    lines = lines_of(chunks)
    assert lines == lines_of([data])
    for line in lines:  # nothing a terminal would interpret survives
        assert not any(ord(ch) < 32 and ch != "\t" for ch in line)
        assert not any(0x7F <= ord(ch) <= 0x9F for ch in line)
        assert is_inert(line)  # nor a bidi or invisible format character


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_comes_out_inert_and_the_same_in_any_chunking(text):
    data = text.encode("utf-8", "surrogatepass")
    lines = lines_of([data])
    assert lines == lines_of([data[i:i + 7] for i in range(0, len(data), 7)])
    assert all(is_inert(line) for line in lines)


def test_bidi_and_zero_width_characters_are_shown_escaped():
    raw = "fix: \u202erm -rf /\u202c \u2066x\u2069 ad\u200bmin \ufeffboot a\u2028b \u200e\u200f\U000e0041\n"
    assert lines_of([raw.encode()]) == [
        "fix: \\u202erm -rf /\\u202c \\u2066x\\u2069 ad\\u200bmin \\ufeffboot a\\u2028b \\u200e\\u200f\\U000e0041"]


def test_joiners_in_emoji_and_scripts_are_kept_elsewhere_escaped():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert lines_of([f"{family} x\u200dy\n".encode()]) == [f"{family} x\\u200dy"]


def test_piled_up_combining_marks_are_escaped_after_four():
    [line] = lines_of([("e" + "\u0301" * 6 + " ok\n").encode()])
    assert line == "e" + "\u0301" * 4 + "\\u0301" * 2 + " ok"


def test_crlf_and_lf_end_lines():
    assert lines_of([b"one\r\ntwo\nthree\r", b"\n"]) == ["one", "two", "three"]


def test_lone_cr_overwrites_like_a_terminal():
    assert lines_of([b"abc\rxy\n"]) == ["xyc"]
    assert lines_of([b"progress 10%\rprogress 20%\rprogress 30%\n"]) == ["progress 30%"]
    assert lines_of([b"long text here\r\x1b[Kshort\n"]) == ["short"]


def test_systemd_colour_is_removed():
    raw = b"[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mSystem Initialization\x1b[0m.\r\n"
    assert lines_of([raw]) == ["[  OK  ] Reached target System Initialization."]


def test_cursor_movement_is_interpreted():
    # openstack ttylinux: "[WATING]" then ESC[-11G... (column move) then " [  OK  ]"
    assert lines_of([b"abcdef\x1b[3Dxy\n"]) == ["abcxyf"]
    assert lines_of([b"abc\x1b[6Gz\n"]) == ["abc  z"]


def test_osc_title_hyperlink_and_clipboard_are_dropped():
    raw = (b"\x1b]0;owned\x07before \x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\ "
           b"\x1b]52;c;ZXZpbA==\x07after\n")
    assert lines_of([raw]) == ["before link after"]


def test_nul_bell_are_dropped_other_controls_shown():
    assert lines_of([b"a\x00b\x07c\x01d\n"]) == ["abc\\x01d"]


def test_invalid_utf8_stays_visible():
    assert lines_of([b"caf\xc3\xa9 \xff\xfe end\n"]) == ["caf\u00e9 \\xff\\xfe end"]
    # a multibyte character split across chunks is reassembled
    assert lines_of([b"dots \xe2\x80", b"\xa6\n"]) == ["dots \u2026"]


def test_long_line_is_capped_with_a_visible_marker():
    [line] = lines_of([b"x" * 10000 + b"\n"], cap=100)
    assert line.startswith("x" * 100) and "line cut" in line and len(line) < 200


def test_a_50_mb_line_without_newline_keeps_memory_bounded():
    asm = LineAssembler(cap=4096)
    chunk = b"y" * (1 << 20)
    for _ in range(50):
        assert asm.feed(chunk) == b""
        assert len(asm.pending) <= 4 * 4096
    [line] = asm.flush().decode().split("\n")[:-1]
    assert line.startswith("y" * 4096) and "line cut" in line


def test_flush_ends_a_prompt_without_newline():
    asm = LineAssembler()
    assert asm.feed(b"ok\ndebian login: ") == b"ok\n"
    assert asm.flush() == b"debian login: \n"
    assert asm.flush() == b""


# -- the fast path against the old one ------------------------------------------------------
# The assembler copies plain lines as bytes and remembers how it interpreted short lines; the
# old path interpreted every line in Python. `interpret_each_line` is that old path, written
# out plainly: both must give the same rows, byte for byte.

def interpret_each_line(data: bytes, cap: int) -> list[str]:
    import re

    from consolewatch.normalize.terminal import RowTerminal
    from consolewatch.safetext import UNICODE_HAZARD, escape_unicode

    dirty = re.compile(f"[\x00-\x08\x0b-\x1f\x7f]|{UNICODE_HAZARD.pattern}")
    marker = f" \u2026[line cut at {cap} characters]"
    term = RowTerminal()
    out: list[str] = []
    raws = data.split(b"\n")
    if raws[-1] == b"":
        raws.pop()
    for raw in raws:
        cut = len(raw) > 4 * cap
        raw = raw[: 4 * cap].rstrip(b"\r")
        text = re.sub(rb"\x1b\[[0-9;]*m", b"", raw).decode("utf-8", "backslashreplace")
        rows = [escape_unicode(r) for r in term.render(text)] if dirty.search(text) else [text]
        for j, row in enumerate(rows):
            if len(row) > cap or (cut and j == len(rows) - 1):
                row = escape_unicode(row[:cap]) + marker
            out.append(row)
    return out


# Whole lines real consoles repeat (GRUB menus redraw with cursor positioning, progress bars
# with CR), pieces of lines, and lines longer than the caps tried.
LINE_PARTS = [b"plain text", b"\x1b[2J\x1b[1;1H", b"\x1b[5;3H", b"\x1b[2;1H", b"\x1b[3;1H", b"\x1bc", b"\x1b[1;1f", b"\x1b[H", b"\x9b4;1H",
              b"\xc2\x9b6;2H", b"menu entry", b"\x1b[K", b"\r", b"\r\r", b"40%\r50%", b"\x1b[0;32m", b"\x1b[1A",
              b"\xff", b"\xe2\x80\xa6", "\u202e".encode(), b"\x00", b"\x01", b"\t", b"H", b"f", b"x" * 70, b"y" * 300]


@st.composite
def repetitive_streams(draw):
    lines = draw(st.lists(st.lists(st.sampled_from(LINE_PARTS), max_size=5).map(b"".join), min_size=1, max_size=6))
    order = draw(st.lists(st.integers(0, len(lines) - 1), max_size=40))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r\r\n"]), min_size=1, max_size=3))
    return b"".join(lines[i] + ends[k % len(ends)] for k, i in enumerate(order))


@given(repetitive_streams(), st.sampled_from([16, 64, 4096]), st.sampled_from(["auto", "re"]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_path_gives_the_rows_of_interpreting_every_line(data, cap, backend):
    asm = LineAssembler(cap=cap, backend=backend)
    got = (asm.feed(data) + asm.flush()).decode("utf-8").split("\n")[:-1]
    assert got == interpret_each_line(data, cap)


@given(streams(), st.sampled_from([8, 64, 4096]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_path_matches_the_old_one_on_any_bytes(stream, cap):
    data, _ = stream
    data = data if data.endswith(b"\n") else data + b"\n"
    asm = LineAssembler(cap=cap)
    assert asm.feed(data).decode("utf-8").split("\n")[:-1] == interpret_each_line(data, cap)


def test_a_remembered_line_that_moves_the_cursor_is_interpreted_for_the_row_it_is_on():
    # Two control lines take the cursor to row 2 (each interpreted line is one row down), so
    # `\x1b[3;1H` (row 2) keeps "a" and "b" on one row: "b" overwrites "a". The same bytes
    # again, from another row, end "a" there and write "b" on the new row.
    data = b"\x01\n" * 2 + b"a\x1b[3;1Hb\n" + b"a\x1b[3;1Hb\n" + b"a\x1b[1;1Hb\n" * 2
    asm = LineAssembler()
    rows = asm.feed(data).decode().split("\n")[:-1]
    assert rows == ["\\x01", "\\x01", "b", "a", "b", "a", "b", "a", "b"]
    assert rows == interpret_each_line(data, 4096)


def test_a_remembered_full_reset_homes_the_cursor_wherever_it_comes():
    # ESC c puts the cursor on row 0 from any row: after it, "\x1b[2;1H" (row 1) stays on its
    # row and "b" overwrites "a", the second time as the first.
    data = (b"\x01\n" * 2 + b"\x1bcX\n" + b"a\x1b[2;1Hb\n") + (b"\x01\n" * 3 + b"\x1bcX\n" + b"a\x1b[2;1Hb\n")
    rows = LineAssembler().feed(data).decode().split("\n")[:-1]
    assert rows == ["\\x01", "\\x01", "X", "b", "\\x01", "\\x01", "\\x01", "X", "b"]
    assert rows == interpret_each_line(data, 4096)
