"""Property tests (hypothesis) for every parser and decoder of hostile input: each survives
arbitrary input with its documented outcome (a value or its own clear error), bounded output,
and nothing a terminal would act on. The fuzz targets of bench/fuzz/targets.py run here too,
on hypothesis' inputs, so the properties atheris checks hold in every test run."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consolewatch.normalize.stamps import split_stamps
from consolewatch.normalize.terminal import WORK_BASE, WORK_PER_CHAR, RowTerminal
from consolewatch.safetext import is_inert
from tests.hostile import fuzz_targets

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONSOLE = st.lists(st.sampled_from(list("az09 [].:-<>;9HK") + ["\x1b", "\x1b[", "\x1b[2K", "\x1b[65535C", "\r",
                                                             "\b", "\t", "\x9b", "\u202e", "\u200d", "\x07"]),
                   max_size=120).map("".join)


TARGETS = fuzz_targets()


@pytest.mark.parametrize("target", sorted(set(TARGETS) - {"engine"}))
@given(data=st.binary(max_size=600))
@FAST
def test_fuzz_target_properties_hold(target, data):
    TARGETS[target](data)


@given(data=st.binary(max_size=200))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_engine_target_properties_hold(data):
    TARGETS["engine"](data)


@given(CONSOLE)
@FAST
def test_stamps_never_fail_and_keep_the_message_a_suffix(text):
    s = split_stamps(text)
    assert text.endswith(s.message)
    assert s.guest_time is None or s.guest_time >= 0


@given(st.text(max_size=300))
@FAST
def test_stamps_on_any_text(text):
    split_stamps(text)


@given(CONSOLE)
@FAST
def test_terminal_rows_hold_no_controls_and_stay_within_budget(text):
    rows = RowTerminal().render(text)
    for row in rows:
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]", row), row
    assert sum(map(len, rows)) <= len(text) * (WORK_PER_CHAR + 4) + WORK_BASE


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["Output", "InstanceId", "Timestamp", "contents", "next", "start", "schema",
                                         "events", "x"]), inner, max_size=5), max_leaves=12)


@given(JSON)
@FAST
def test_cloud_json_documents_are_read_or_refused(doc):
    from consolewatch.inputs import InputError, _from_json
    from consolewatch.model import Chunk, MachineContext

    try:
        events = _from_json(doc, "x.json", "x.json")
    except InputError:
        return
    for event in events or []:
        if isinstance(event, MachineContext):
            assert event.cloud in ("aws", "gce")  # the API's own JSON names its cloud
        else:
            assert isinstance(event, Chunk) and isinstance(event.data, bytes)


@given(st.text(max_size=400))
@FAST
def test_ec2_console_output_and_screenshots(text):
    from consolewatch.fetchers.ec2_api import MAX_OUTPUT, RAW_KEY, console_bytes, image_bytes

    for response in ({RAW_KEY: text}, {"Output": text}, {"Output": None}):
        data, note = console_bytes(response)
        assert isinstance(data, bytes) and len(data) <= MAX_OUTPUT
        assert note is None or is_inert(note)
    image, problem = image_bytes(text)
    assert (image is None) != (problem is None)


@given(st.text(max_size=200))
@FAST
def test_gce_screenshot_contents(text):
    from consolewatch.fetchers.gce_api import decode_screenshot

    try:
        image, media = decode_screenshot(text)
    except ValueError:
        return
    assert media in ("image/png", "image/jpeg") and image


@given(st.text(max_size=60))
@FAST
def test_the_regex_linter_reads_any_pattern(source):
    from consolewatch.normalize.regexlint import check

    result = check(source, re.ASCII)
    assert result is None or isinstance(result, str)


@given(st.binary(max_size=300), st.sampled_from(["image/png", "image/jpeg", None]))
@FAST
def test_frames_decode_or_fail_clearly(data, media):
    from consolewatch.ocr.base import OcrError
    from consolewatch.ocr.image import decode_image

    for blob in (data, b"\x89PNG\r\n\x1a\n" + data, b"\xff\xd8\xff" + data):
        try:
            img = decode_image(blob, media)
        except OcrError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert img.mode == "RGB"


def test_json_output_escapes_what_a_terminal_would_act_on():
    from consolewatch.sinks.jsonout import dumps

    doc = {"t": "a\u202eb\x9b\u2028\U000e0041\ud800"}
    out = dumps(doc)
    assert out.isascii() or not re.search("[\x7f-\x9f\u202e\u2028\U000e0041\ud800]", out)
    assert json.loads(out) == doc


@FAST
@given(st.lists(st.sampled_from([b"a", b"\n", b"\x00", b"\x7f", b"\x1b[1m", b"\xc3\xa9", b"\xc3", b"\xa9", b"\xed\xa0\x80",
                                 b"\xf0\x9f\x98\x80", b"\xff", b"\xe2\x80"]), max_size=60).map(b"".join))
def test_bytes_that_are_not_text_are_counted_as_each_byte_decoded(data):
    """The fast path (a strict UTF-8 decode) counts what decoding every byte would: controls,
    and bytes that are not UTF-8 (a character split by a chunk end, an encoded surrogate)."""
    from consolewatch.normalize.assembler import _NON_TEXT, non_text_bytes

    controls = len(data) - len(data.translate(None, _NON_TEXT))
    invalid = (len(data.decode("utf-8", "backslashreplace").encode("utf-8")) - len(data)) // 3
    assert non_text_bytes(data) == controls + invalid
