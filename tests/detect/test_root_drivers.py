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


#: search-index file 38983013342: an Arch Linux machine after an upgrade (mkinitcpio)
MKINITCPIO = [
    "ERROR: device 'UUID=1dd743ed-e0a5-4b0c-80ee-186e89eea401' not found. Skipping fsck.",
    "mount: /new_root: can't find UUID=1dd743ed-e0a5-4b0c-80ee-186e89eea401.",
    "ERROR: failed to mount '1dd743ed-e0a5-4b0c-80ee-186e89eea401' on real root",
    "You are now being dropped into an emergency shell."]


def test_mkinitcpio_not_finding_the_root_uuid_is_a_missing_root_device_and_its_shell(catalog):
    a = run_lines(catalog, MKINITCPIO)
    cats = {f.category for f in a.findings()}
    assert {"disk.root-not-found", "init.emergency-mode"} <= cats and a.outcome == "failure"
    root = next(f for f in a.findings() if f.rule == "initramfs-root-device-not-found")
    assert root.fields["root"] == "UUID=1dd743ed-e0a5-4b0c-80ee-186e89eea401"


def test_systemd_250_status_lines_name_the_root_device_that_timed_out(catalog):
    # search-index file 54921347539: a LUKS test's serial log (unit names, then descriptions)
    a = run_lines(catalog, ["[ TIME ] Timed out waiting for device dev-disk-by-x2dlabel-root.device",
                            "[DEPEND] Dependency failed for sysroot.mount - /sysroot"])
    assert "disk.root-not-found" in {f.category for f in a.findings()}


def test_a_healthy_boot_has_no_root_device_finding(catalog):
    a = run_lines(catalog, serial_lines("qemu/healthy"))
    assert not [f for f in a.findings("all") if f.category in ("disk.root-not-found", "disk.driver-missing")]
