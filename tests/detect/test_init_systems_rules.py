"""Service failures as OpenRC, sysvinit and BusyBox init report them (lines from public consoles,
parsers/detectors/init-systems.yaml): reported as init.unit-failed, deciding nothing in a boot
that comes up; cloud-init's OpenRC service stays cloud-init's."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import serial_lines

LINES = {
    "openrc-service-failed": "   * ERROR: sshd failed to start",
    "sysvinit-respawning-too-fast": 'INIT: Id "S0" respawning too fast: disabled for 5 minutes',
    "busybox-init-cannot-run": "can't run '/etc/init.d/rcS': No such file or directory",
}


def test_each_init_systems_failure_is_a_unit_failure_that_does_not_decide_a_boot_that_came_up(catalog):
    healthy = serial_lines("qemu/healthy")
    for rule, line in LINES.items():
        a = run_lines(catalog, healthy[:-1] + [line, healthy[-1]])
        found = [f for f in a.findings("all") if f.rule == rule]
        assert found and found[0].category == "init.unit-failed", rule
        assert a.outcome == "success", rule


def test_cloud_inits_openrc_service_is_left_to_cloud_init(catalog):
    a = run_lines(catalog, [" * ERROR: cloud-init-local failed to start"])
    assert not [f for f in a.findings("all") if f.rule == "openrc-service-failed"]
