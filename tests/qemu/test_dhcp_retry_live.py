"""A real boot whose DHCP client gives up while the NIC's link is down and gets its lease once
the QEMU monitor raises it (tests/qemu/dhcp_retry.py): the console shows the retries, and
consolewatch calls the boot a success with no network finding (the failures were superseded).
The recorded boots in samples/qemu-dhcp-*/ are replayed offline by tests/test_samples.py."""

from __future__ import annotations

from dhcp_retry import BY_NAME
from guestkit import blindboot

from consolewatch.detect.checks import run_lines


def test_udhcpc_retrying_until_the_link_comes_up_is_a_success(guest_kit, catalog):
    cap = blindboot.run(BY_NAME["dhcp-retry-then-lease"])
    lines = cap.lines
    assert len(cap.actions) == 2, cap.actions  # the link went down, then up
    assert sum("no lease, failing" in line for line in lines) >= 2
    assert any("udhcpc: lease of 10.0.2.15 obtained" in line for line in lines)
    a = run_lines(catalog, lines)
    assert a.outcome == "success"
    assert not [f for f in a.findings() if f.category.startswith("network.")]
