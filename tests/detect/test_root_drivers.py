"""A disk driver that is there but will not load is the named cause of a missing root device
(parsers/detectors/root-drivers.yaml), on a real QEMU boot (tests/qemu/driver_faults.py)."""

from __future__ import annotations

import consolewatch
from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES, serial_lines


def test_a_disk_driver_built_for_another_kernel_is_the_cause_of_the_missing_root():
    a = consolewatch.analyze([SAMPLES / "qemu-disk-driver-wrong-kernel" / "serial.log"])
    cats = [f.category for f in a.findings()]
    assert a.outcome == "failure" and "disk.root-not-found" in cats
    assert cats.index("disk.driver-missing") < cats.index("disk.root-not-found")  # the cause first
    modules = {f.fields.get("module") for f in a.findings() if f.rule == "disk-driver-module-refused"}
    assert {"virtio_blk", "virtio_pci"} <= modules and "virtio_ring" not in modules


def test_a_driver_that_loads_is_no_finding(catalog):
    a = run_lines(catalog, serial_lines("qemu-itools-root-mount-failed"))
    assert "disk-driver-module-refused" not in [f.rule for f in a.findings("all")]
