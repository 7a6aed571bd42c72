"""Resets a watchdog outside the guest's kernel makes (parsers/detectors/loops-resets-13.yaml) and
the reboot lines the Xen hypervisor prints for its hardware domain (formats/xen-hypervisor.yaml):
lines as Xen's sources print them (xen/common/sched/core.c, xen/common/shutdown.c) or as
xen-devel threads quote them; the hostile-bytes check follows tests/detect/test_hostile_12.py."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

#: search-index file id 36154307382 (xen-devel): the host rebooting by Xen's watchdog for dom0
XEN_WATCHDOG = ["(XEN) Watchdog timer fired for domain 0", "(XEN) Hardware Dom0 shutdown: watchdog rebooting machine"]


def test_xen_watchdog_firing_is_a_reset_nobody_asked_for(catalog):
    a = run_lines(catalog, XEN_WATCHDOG)
    rules = {f.rule for f in a.findings() if f.category == "boot.loop"}
    assert rules == {"xen-watchdog-fired"} and a.outcome == "failure"
    assert next(f for f in a.findings() if f.rule == "xen-watchdog-fired").fields["domid"] == "0"
    # Xen 4.17+ names the timer and the domain as %pd
    newer = run_lines(catalog, ["(XEN) [  812.125448] Watchdog timer 1 fired for d3"])
    assert {f.rule for f in newer.findings()} == {"xen-watchdog-fired"}


def test_the_hardware_domains_watchdog_reboot_is_a_restart_line(catalog):
    # the next Xen banner begins a boot the hypervisor announced, not a silent reset
    a = run_lines(catalog, ["(XEN) Xen version 4.14.1 (user@example.org) (gcc (Debian 10.2.1-6) 10.2.1) debug=n",
                            *XEN_WATCHDOG,
                            "(XEN) Xen version 4.14.1 (user@example.org) (gcc (Debian 10.2.1-6) 10.2.1) debug=n"])
    assert len(a.boots) == 2
    assert not any(f.rule == "reset-during-boot" for b in a.boots for f in b.findings)


def test_a_crashed_hardware_domain_is_no_watchdog_reset(catalog):
    a = run_lines(catalog, ["(XEN) [    5.040906] Hardware Dom0 crashed: rebooting machine in 5 seconds."])
    assert not any(f.rule == "xen-watchdog-fired" for f in a.findings("all"))


def test_hostile_bytes_in_xens_watchdog_line_stay_inert(catalog):
    a = run_lines(catalog, [b"(XEN) Watchdog timer fired for domain 7\x1b]0;evil\x07\x00\xff" + b"A" * 70000])
    assert "xen-watchdog-fired" in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)


def test_a_restart_the_platform_ignored_is_a_stall(catalog):
    # machine_restart() of arch/arm64/kernel/process.c after every reset method returned
    a = run_lines(catalog, ["[  120.500000] reboot: Restarting system", "[  120.518233] Reboot failed -- System halted"])
    assert {f.rule for f in a.findings() if f.category == "boot.stall"} >= {"kernel-restart-failed"}
    assert a.outcome == "stall"


def test_qemus_watchdogs_expiring_is_a_reset_nobody_asked_for(catalog):
    # QEMU hw/watchdog/wdt_aspeed.c (the timer's address since 5.0), sbsa_gwdt.c, the DesignWare model
    for line in ("Watchdog timer 1e785000 expired.", "Watchdog timer expired.", "DesignWare APB watchdog expired"):
        a = run_lines(catalog, [line])
        assert {f.rule for f in a.findings()} == {"qemu-watchdog-expired"} and a.outcome == "failure"


def test_sysvinits_will_now_restart_announces_the_next_boot(catalog):
    # Debian /etc/init.d/reboot: log_action_msg "Will now restart", then the machine starts again
    kernel = ("[    0.000000] Linux version 4.9.0-8-amd64 (debian-kernel@lists.debian.org) (gcc version 6.3.0 "
              "20170516 (Debian 6.3.0-18+deb9u1) ) #1 SMP Debian 4.9.130-2 (2018-10-27)")
    a = run_lines(catalog, [kernel, "[info] Will now restart.", kernel.replace("[    0.000000]", "[    0.000001]")])
    assert len(a.boots) == 2
    assert not any(f.rule == "reset-during-boot" for b in a.boots for f in b.findings)


def test_a_restart_that_hung_in_a_lockup_is_a_stall(catalog):
    # kernel/reboot.c's restart line, then kernel/watchdog.c's soft lockup report and nothing else
    a = run_lines(catalog, ["[   87.423510] reboot: Restarting system",
                            "[  113.402117] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [systemd-shutdow:1]"])
    assert "restart-hung-in-kernel" in {f.rule for f in a.findings()} and a.outcome == "stall"
    # a restart the next boot answered is no hang
    ok = run_lines(catalog, ["[    5.670515] reboot: Restarting system", "SeaBIOS (version 1.16.2-debian-1.16.2-1)"])
    assert "restart-hung-in-kernel" not in {f.rule for f in ok.findings("all")}


def test_a_uefi_option_that_failed_while_the_firmware_tries_the_next_decides_nothing(catalog):
    # EDK II went on to its network boot after the disk option failed; the capture ends there
    failed = ('BdsDxe: failed to load Boot0002 "UEFI QEMU HARDDISK QM00001 " from '
              "PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0): Not Found")
    going_on = run_lines(catalog, [failed, ">>Start PXE over IPv4."])
    assert "uefi-boot-option-failed" not in {f.rule for f in going_on.findings("all")}
    # the firmware always goes on after a failed option (the next one, its shell, "No bootable
    # option or device was found."): a capture that ends on the failure was cut before its verdict
    last = run_lines(catalog, [failed])
    assert "uefi-boot-option-failed" in {f.rule for f in last.findings()} and last.outcome == "unknown"
    verdict = run_lines(catalog, [failed, "BdsDxe: No bootable option or device was found.",
                                  "BdsDxe: Press any key to enter the Boot Manager Menu."])
    assert "uefi-boot-option-failed" in {f.rule for f in verdict.findings()} and verdict.outcome == "failure"
