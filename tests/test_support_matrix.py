"""The README's support matrix says what the tests show: every target it names parses and has a
fetcher, every "yes" names the test that proves it, and no "no" has one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: (row, column) -> the test that shows the claim, as "path::function".
PROVEN = {
    ("AWS (Xen)", "Serial text"): "tests/fetchers/test_ec2.py::test_xen_uses_posted_output_and_says_it_is_delayed",
    ("AWS (Xen)", "Screenshots"): "tests/fetchers/test_ec2.py::test_each_screenshot_reads_back_as_the_screen_it_shows",
    ("AWS (Nitro)", "Serial text"):
        "tests/fetchers/test_ec2.py::test_a_400kb_boot_polled_often_yields_every_line_exactly_once_in_order",
    ("AWS (Nitro)", "Screenshots"):
        "tests/fetchers/test_ec2.py::test_screenshot_frames_become_lines_that_match_the_console_text",
    ("AWS (Nitro)", "Live serial"):
        "tests/fetchers/test_ec2.py::test_serial_console_streams_live_and_splices_with_console_output",
    ("GCE", "Serial text"): "tests/fetchers/test_gce.py::test_every_byte_of_a_3mb_boot_arrives_once",
    ("GCE", "Screenshots"): "tests/fetchers/test_gce.py::test_screenshots_are_frames_and_repeats_are_skipped",
    ("DigitalOcean", "VNC"):
        "tests/cli/test_tail_vnc.py::test_tail_do_reads_the_droplets_screen_and_explains_dhcp_with_its_static_addresses",
    ("OpenStack / Rackspace", "Serial text"):
        "tests/cli/test_tail_openstack.py::test_tail_until_outcome_on_a_real_failed_boot_exits_1_with_the_finding",
    ("OpenStack / Rackspace", "VNC"):
        "tests/cli/test_tail_openstack.py::test_the_remote_console_is_followed_over_vnc_and_read_by_ocr",
    ("Softlayer", "VNC"): "tests/cli/test_tail_vnc.py::test_tail_vnc_over_tcp_with_a_password_survives_a_dropped_connection",
    ("local QEMU / libvirt", "Serial text"):
        "tests/fetchers/test_local.py::test_a_growing_file_resumes_at_its_cursor_and_notices_truncation",
    ("local QEMU / libvirt", "Screenshots"):
        "tests/qemu/test_consolewatch_live.py::test_live_and_offline_agree_with_the_scenario",
    ("local QEMU / libvirt", "VNC"): "tests/qemu/test_vnc_qemu.py::test_a_real_boot_is_followed_on_qemus_vnc_server",
    ("local QEMU / libvirt", "Live serial"): "tests/fetchers/test_local.py::test_qemu_unix_socket_server",
}
SOURCES = ("Serial text", "Screenshots", "VNC", "Live serial")


def matrix() -> list[dict[str, str]]:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- support-matrix:start -->", 1)[1].split("<!-- support-matrix:end -->", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
    header, rows = rows[0], rows[2:]
    return [dict(zip(header, r)) for r in rows]


ROWS = matrix()


def test_the_matrix_covers_the_clouds_the_issue_names():
    assert [r["Cloud"] for r in ROWS] == ["AWS (Xen)", "AWS (Nitro)", "GCE", "DigitalOcean", "OpenStack / Rackspace",
                                         "Softlayer", "local QEMU / libvirt"]
    for r in ROWS:
        assert all(r[c].startswith(("yes", "no")) for c in SOURCES), r
        assert r["Known not to exist"] and r["Context from the API"]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["Cloud"])
def test_every_target_parses_and_has_a_fetcher(row):
    from consolewatch.fetchers import fetcher_class, parse_target

    targets = re.findall(r"`([^`]+)`", row["Targets"])
    assert targets
    for text in targets:
        target = parse_target(text)
        assert fetcher_class(target.kind).kind == target.kind


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["Cloud"])
def test_every_yes_is_shown_by_a_test_and_no_no_is(row):
    for column in SOURCES:
        proof = PROVEN.get((row["Cloud"], column))
        if row[column].startswith("no"):
            assert proof is None, (row["Cloud"], column)
            continue
        assert proof, f"{row['Cloud']} / {column} says yes: name the test that shows it"
        path, _, name = proof.partition("::")
        source = (ROOT / path).read_text()
        assert re.search(rf"^(?:async )?def {name}\(", source, re.M), f"{proof} does not exist"
