"""Component fallbacks (parsers/detectors/fallbacks.yaml, issue 10): a line that names a component
and says it failed is the first suspect when no fuller rule found its category, decides the
outcome only where the boot went no further, and is a warning once the machine came up.

Lines name where they were seen: a search-index file id (the rule samples and
/work/wt/rule-sources-7.txt cite the same), a sample console here, or the source that prints the
message when no console here shows it (said so: "synthetic").
"""

from __future__ import annotations

import pytest

from consolewatch.analysis import load_catalog
from consolewatch.detect.checks import run_lines
from consolewatch.detect.ruleparse import parse_rules_file
from tests.detect.findings import by_category, serial_lines

#: search-index file 8122890273: a Linux-on-VexRiscv board's U-Boot with no SD card
UBOOT_NO_IMAGE = [
    "U-Boot 2019.10-02536-gefeedc3 (Jan 18 2020 - 14:18:57 +0100)",
    "",
    "DRAM:  31.9 MiB",
    "MMC:   spi@10020000:mmc@1: 0",
    "Hit any key to stop autoboot:  2  1  0",
    "Wrong Image Format for bootm command",
    "ERROR: can't get kernel image!",
    "=>",
]
#: the same README, with the SD card: U-Boot's complaints, then the kernel
UBOOT_THEN_KERNEL = [
    "U-Boot 2019.10-02536-gefeedc3 (Jan 18 2020 - 12:51:00 +0100)",
    "Loading Environment from EXT4... ** File not found /uboot.env **",
    '** Unable to read "/uboot.env" from mmc0:1 **',
    "Hit any key to stop autoboot:  0",
    "Starting kernel ...",
    "[    0.000000] Linux version 5.0.9 (user@lafite) (gcc version 8.3.0 (Buildroot 2019.05-git-00657-g2b0446e)) "
    "#1 Fri Jan 17 22:36:11 CET 2020",
]
#: synthetic: cloud-init distros/__init__.py util.logexc(LOG, "Failed to write hostname %s to %s", ...)
#: (search-index file 1113647914) in cloud-init's log format behind its console prefix
CLOUDINIT_HOSTNAME = ("[    9.104512] cloud-init[812]: 2024-01-01 00:00:00,000 - util.py[WARNING]: "
                      "Failed to write hostname debian to /etc/hostname")
#: search-index file 9034446658: mkinitcpio cannot find the root it was given
MKINITCPIO_ROOT = [
    "Waiting 10 seconds for device /dev/disk/by-partuuid/2950092c-7763-4c6d-9da3-bd066cdd6b0a ...",
    "ERROR: device 'PARTUUID=2950092c-7763-4c6d-9da3-bd066cdd6b0a' not found. Skipping fsck.",
    ":: mounting 'PARTUUID=2950092c-7763-4c6d-9da3-bd066cdd6b0a' on real root",
    "mount: /new_root: can't find PARTUUID=2950092c-7763-4c6d-9da3-bd066cdd6b0a.",
]


def test_an_error_in_the_boot_loader_phase_is_the_loaders_whatever_its_wording():
    a = run_lines(load_catalog(), UBOOT_NO_IMAGE)
    found = by_category(a)
    assert [f.rule for f in found["boot.bootloader-error"]] == ["loader-phase-error"]
    assert a.outcome == "failure"


def test_loader_complaints_before_a_kernel_that_started_are_moot():
    a = run_lines(load_catalog(), UBOOT_THEN_KERNEL)
    assert "boot.bootloader-error" not in by_category(a)


def test_the_same_words_outside_the_loader_phase_are_no_loader_error():
    # no firmware or loader banner: a pasted excerpt, whose phase nothing shows
    assert "boot.bootloader-error" not in by_category(run_lines(load_catalog(), UBOOT_NO_IMAGE[-3:]))


def test_a_line_a_fuller_rule_explained_is_no_new_suspect():
    # the kernel's decompressor failing: kernel-image-corrupt says what it is (kernel.panic)
    a = run_lines(load_catalog(), serial_lines("qemu-kernel-image-corrupt"))
    assert set(by_category(a)) == {"kernel.panic"}


def test_a_component_failure_where_the_boot_stopped_decides_it():
    lines = ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from Hard Disk...",
             "[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)",
             *MKINITCPIO_ROOT]
    a = run_lines(load_catalog(), lines)
    (f,) = by_category(a)["disk.root-not-found"]
    assert (f.rule, f.verdict, a.outcome) == ("root-device-failed", "failure", "failure")


def test_in_an_excerpt_that_shows_no_boot_it_is_reported_but_decides_nothing():
    a = run_lines(load_catalog(), MKINITCPIO_ROOT)
    (f,) = by_category(a)["disk.root-not-found"]
    assert (f.severity, f.verdict, a.outcome) == ("error", "none", "unknown")


def test_after_the_machine_came_up_it_is_a_warning_not_the_verdict():
    lines = [*serial_lines("qemu/healthy"), CLOUDINIT_HOSTNAME]
    a = run_lines(load_catalog(), lines)
    (f,) = by_category(a)["cloudinit.error"]
    assert (f.rule, f.severity, f.verdict, f.demoted_from) == ("cloudinit-component-failed", "warning", "none", "error")
    assert a.outcome == "success"


def test_before_the_machine_came_up_it_is_dropped():
    healthy = serial_lines("qemu/healthy")
    a = run_lines(load_catalog(), [healthy[0], CLOUDINIT_HOSTNAME, *healthy[1:]])
    assert "cloudinit.error" not in by_category(a)
    assert a.outcome == "success"


@pytest.mark.parametrize("cond", ["{boot: {reached: [ready]}}", "{repeat: {regex: abcd}, count: 3}"])
def test_loader_phase_needs_a_line_condition(cond):
    import yaml

    doc = yaml.safe_load(f"""
rules:
  - id: phase-test
    title: t
    category: boot.bootloader-error
    severity: error
    loader_phase: true
    match: {cond}
    remediation: r
    samples: {{match: [{{line: x, source: s}}], no_match: [{{line: y, source: s}}]}}
""")
    _, problems = parse_rules_file(doc, "test.yaml")
    assert any("loader_phase" in str(p) for p in problems)
