"""Component fallbacks (parsers/detectors/fallbacks.yaml, issue 10): a line that names a component
and says it failed is the first suspect when no fuller rule found its category, decides the
outcome only where the boot went no further, and is a warning once the machine came up.

Lines name where they were seen: a search-index file id (the rule samples and
/work/wt/rule-sources-7.txt cite the same), a sample console here, or the source that prints the
message when no console here shows it (said so: "synthetic").
"""

from __future__ import annotations

from consolewatch.analysis import load_catalog
from consolewatch.detect.checks import run_lines
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
#: util-linux 2.38.1 mount run here in a chroot holding /sysroot, refused: words no fuller rule knows
ROOT_MOUNT_REFUSED = ["mount: /sysroot: mount failed: Operation not permitted."]
#: kvmarm mailing list (search-index file 30965108270, grub-boot-entries-failed cites it): an arm64
#: 16 KB page-size kernel refused by the EFI stub, then GRUB's own closing words
GRUB_ENTRIES_FAILED = ["EFI stub: ERROR: This 16 KB granular kernel is not supported by your CPU", "",
                       "   Failed to boot both default and fallback entries.", "", "Press any key to continue..."]


def test_a_loader_rule_that_knows_the_words_replaces_the_phase_suspect():
    # U-Boot's own words: uboot-kernel-image-rejected says what they mean
    found = by_category(run_lines(load_catalog(), UBOOT_NO_IMAGE))
    assert {f.rule for f in found["boot.bootloader-error"]} == {"uboot-kernel-image-rejected"}


def test_a_fuller_fallback_is_not_kept_out_by_a_component_suspect_found_first():
    # GRUB's closing words after the EFI stub's error name the failure, not the component suspect
    # ("EFI stub" next to "ERROR"): since round 18 the stub's own error is a full rule
    # (efi-stub-error-boot-went-no-further), fuller than GRUB's closing words (grub-boot-entries-failed,
    # a fallback), which it keeps out; before it, the GRUB fallback won over the component suspect
    a = run_lines(load_catalog(), GRUB_ENTRIES_FAILED)
    assert [f.rule for f in by_category(a)["boot.bootloader-error"]] == ["efi-stub-error-boot-went-no-further"]
    assert a.outcome == "failure"
    # after a GRUB error no full rule names (grub-core/net/net.c's "no server is specified", from the
    # format string), GRUB's closing words (the fallback) name the failure
    b = run_lines(load_catalog(), ["error: no server is specified.", *GRUB_ENTRIES_FAILED[1:]])
    assert [f.rule for f in by_category(b)["boot.bootloader-error"]] == ["grub-boot-entries-failed"]
    assert b.outcome == "failure"


def test_loader_complaints_before_a_kernel_that_started_are_moot():
    a = run_lines(load_catalog(), UBOOT_THEN_KERNEL)
    assert "boot.bootloader-error" not in by_category(a)


def test_a_line_a_fuller_rule_explained_is_no_new_suspect():
    # the kernel's decompressor failing: kernel-image-corrupt says what it is (kernel.panic)
    a = run_lines(load_catalog(), serial_lines("qemu-kernel-image-corrupt"))
    assert set(by_category(a)) == {"kernel.panic"}


def test_a_component_failure_where_the_boot_stopped_decides_it():
    lines = ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from Hard Disk...",
             "[    0.000000] Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org)",
             *ROOT_MOUNT_REFUSED]
    a = run_lines(load_catalog(), lines)
    (f,) = by_category(a)["disk.root-not-found"]
    assert (f.rule, f.verdict, a.outcome) == ("root-device-failed", "failure", "failure")


def test_in_an_excerpt_that_shows_no_boot_it_is_reported_but_decides_nothing():
    a = run_lines(load_catalog(), ROOT_MOUNT_REFUSED)
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
