"""Boot-chain families no older rule read (parsers/detectors/bootloader-errors-10.yaml, the
xen-hypervisor format, GRUB legacy's and Windows Boot Manager's further wordings, more test
harness summaries): a console that ends in one of them is decided, not unknown, and the same
line followed by the boot going on decides nothing. Lines as the sources print them (U-Boot
include/config_distro_bootcmd.h, Xen xen/drivers/char/console.c and xen/common/domain.c, the
Hermit kernel's panic handler, GRUB legacy's err_list) or as public threads quote them."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import serial_lines

#: U-Boot 2023.01 banner and its DRAM line (loaders.yaml's samples), then distro boot's echo
UBOOT = ["U-Boot 2023.01-rc3 (Dec 16 2022 - 12:02:33 +0100)", "DRAM:  1 GiB"]
SCRIPT_FAILED = "SCRIPT FAILED: continuing..."
#: xen/drivers/char/console.c panic(): the header, the reason, the footer, the reboot line
XEN_PANIC = ["(XEN) ****************************************", "(XEN) Panic on CPU 0:",
             "(XEN) Could not set up DOM0 guest OS", "(XEN) ****************************************",
             "(XEN) Reboot in five seconds..."]
#: search-index file id 23397757710: a RustyHermit run's banner and running line
HERMIT = ["[0][INFO] Welcome to HermitCore-rs 0.6.1", "[0][INFO] HermitCore is running on common system!"]


def _rules(a, category: str) -> list[str]:
    return [f.rule for f in a.findings() if f.category == category]


def test_uboot_distro_boot_that_ran_out_of_entries_is_a_failure(catalog):
    a = run_lines(catalog, UBOOT + ["Found U-Boot script /boot.scr", SCRIPT_FAILED, "=> "])
    assert _rules(a, "boot.bootloader-error") == ["uboot-distro-boot-exhausted"] and a.outcome == "failure"
    unknown = run_lines(catalog, UBOOT + ["Unknown command 'bootefi' - try 'help'"])
    assert unknown.findings()[0].fields["command"] == "bootefi" and unknown.outcome == "failure"


def test_uboot_distro_boot_that_went_on_to_a_kernel_decides_nothing(catalog):
    a = run_lines(catalog, UBOOT + [SCRIPT_FAILED, "Starting kernel ..."] + serial_lines("qemu/healthy"))
    assert not _rules(a, "boot.bootloader-error") and a.outcome == "success"


def test_a_xen_hypervisor_panic_is_a_kernel_panic_and_its_reboot_a_restart(catalog):
    a = run_lines(catalog, XEN_PANIC)
    assert _rules(a, "kernel.panic") == ["xen-hypervisor-panic"] and a.outcome == "failure"
    # printed once per run of Xen: three panics pasted without banners are three boots, a loop,
    # each ended by the restart Xen announced rather than by a reset nobody asked for
    loop = run_lines(catalog, XEN_PANIC * 3)
    assert len(loop.boots) == 3 and loop.outcome == "failure"
    assert {f.rule for f in loop.capture_findings if f.category == "boot.loop"} >= {"boot-loop"}
    assert not any(f.rule == "reset-during-boot" for b in loop.boots for f in b.findings)


def test_xen_crashing_a_guest_domain_is_a_guest_crash_and_dom0_rebooting_is_not(catalog):
    a = run_lines(catalog, ["(XEN) domain_crash_sync called from entry.S: fault at ffff82d08020fc3e",
                            "(XEN) Domain 3 (vcpu#0) crashed on cpu#3:"])
    assert _rules(a, "unikernel.crash") == ["xen-domain-crashed"] and a.outcome == "failure"
    assert a.findings()[0].fields["domid"] == "3"
    # https://github.com/QubesOS/qubes-issues/issues/6258: the hardware domain crashed, Xen reboots
    dom0 = run_lines(catalog, ["(XEN) [    5.040906] Hardware Dom0 crashed: rebooting machine in 5 seconds."])
    assert not _rules(dom0, "unikernel.crash") and not _rules(dom0, "kernel.panic")


def test_a_hermit_panic_after_the_application_started_is_a_crash(catalog):
    a = run_lines(catalog, HERMIT + ["[0][PANIC] panicked at src/main.rs:3:5:", "explicit panic"])
    assert _rules(a, "unikernel.crash") == ["hermit-kernel-panic"] and a.outcome == "failure"
    old = run_lines(catalog, HERMIT + ["[0][!!!PANIC!!!] src/main.rs:3: explicit panic"])
    assert old.outcome == "failure" and old.findings()[0].fields["message"] == "src/main.rs:3: explicit panic"
    healthy = run_lines(catalog, HERMIT + ["Hello World!"])
    assert not _rules(healthy, "unikernel.crash") and healthy.outcome == "success"


def test_grub_legacy_windows_and_bios_wordings_are_boot_loader_errors(catalog):
    for lines in (["Error 28: Selected item cannot fit into memory"], ["Error 2: Bad file or directory type"],
                  # http://support.microsoft.com/kb/2261423: the screen's last lines
                  ["Status: 0xc000000e", "", "Info: The boot selection failed because a required device is inaccessible."],
                  # an Award BIOS (techsupportforum post 2170801) and Windows' boot sector with no BOOTMGR
                  ["DISK BOOT FAILURE, INSERT SYSTEM DISK AND PRESS ENTER"], ["BOOTMGR is missing", "Press Ctrl+Alt+Del to restart"]):
        a = run_lines(catalog, lines)
        assert _rules(a, "boot.bootloader-error") and a.outcome == "failure", lines


def test_a_test_harness_reporting_no_failures_is_a_success_and_one_with_failures_is_not(catalog):
    boot = serial_lines("qemu/healthy")[:40]  # the kernel's first lines: a boot, no ready line yet
    for summary in ("24 runs, 37 assertions, 0 failures, 0 errors, 0 skips", "3 examples, 0 failures",
                    "3 tests, 0 failures", "5 Tests 0 Failures 0 Ignored"):
        assert run_lines(catalog, boot + [summary]).outcome == "success", summary
    for summary in ("24 runs, 37 assertions, 1 failures, 0 errors, 0 skips", "8 examples, 2 failures",
                    "5 Tests 1 Failures 0 Ignored", "24 runs, 37 assertions, 0 failures, 2 errors, 0 skips"):
        assert run_lines(catalog, boot + [summary]).outcome != "success", summary


def test_hostile_lines_of_these_families_stay_bounded(catalog):
    hostile = ["(XEN) Domain 1 " * 4000, "\x1b[2J\x00(XEN) Panic on CPU 0:" + "\xff" * 3000,
               "[0][PANIC] " + "\x1b]0;x\x07" * 2000, "1 " * 20000 + "tests, 0 failures", SCRIPT_FAILED * 500]
    a = run_lines(catalog, hostile)
    assert all(len(e.text) < 20000 for f in a.findings("all") for e in f.evidence)


def test_a_limine_panic_is_a_boot_loader_error_not_a_unikernel_crash(catalog):
    """Limine common/lib/panic.c: "PANIC: " and the message, a stack trace, then the wait."""
    a = run_lines(catalog, ["PANIC: limine: Failed to open kernel with path `boot():/boot/kernel`. Is the path correct?",
                            "Stacktrace:", "Press a key to return to menu."])
    assert _rules(a, "boot.bootloader-error") == ["limine-panic"] and a.outcome == "failure"
    assert not _rules(a, "unikernel.crash")


def test_firmware_that_has_nothing_to_hand_over_to_is_a_boot_loader_error(catalog):
    # search-index file id 47617484125: coreboot without a payload
    coreboot = run_lines(catalog, ["CBFS: Locating 'fallback/payload'", "CBFS: 'fallback/payload' not found.",
                                   "Payload not loaded."])
    assert _rules(coreboot, "boot.bootloader-error") == ["coreboot-payload-not-loaded"]
    assert coreboot.outcome == "failure"
    # TF-A's BL2 missing BL33; the same error followed by U-Boot (a second FIP) decided nothing
    tfa = run_lines(catalog, ["ERROR:   BL2: Failed to load image id 5 (-2)"])
    assert _rules(tfa, "boot.bootloader-error") == ["tf-a-image-load-failed"] and tfa.outcome == "failure"
    retried = run_lines(catalog, ["ERROR:   BL2: Failed to load image id 5 (-2)"] + UBOOT)
    assert not _rules(retried, "boot.bootloader-error")
