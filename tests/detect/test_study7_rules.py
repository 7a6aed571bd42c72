"""Round-7 study families, with the shipped catalog on real lines.

- a kernel line that ends the boot (a watchdog or SysRq reset, a restart, a power-off) printed
  while the console sits at its login prompt lands on the prompt's line; it still ends the boot,
  and a watchdog reset after the prompt is a failure of that boot (a machine that came up and
  then reset itself every time is a loop, even when the capture ends as the third boot starts);
- an OPNsense or pfSense console that shows its console-menu banner shows the appliance up.

Lines are from QEMU boots of tests/qemu/extra/prompt_glued.py (Debian 12 kernels 6.1.0-57,
busybox 1.35 getty) and from the OPNsense documentation's EC2 console (search-index file
32696084751), as each constant says.
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES

#: qemu boot: login-then-softdog-loop (tests/qemu/extra/prompt_glued.py; lines 1, 2, 4, 354, 359)
SEABIOS = "SeaBIOS (version 1.16.2-debian-1.16.2-1)"
ROM = "Booting from ROM..."
LINUX = ("[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) "
         "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)")
RUN_INIT = "[    1.848729] Run /init as init process"
SOFTDOG = ["debian login: [    5.015302] softdog: Initiating system reboot",
           "debian login: [    5.199393] softdog: Initiating system reboot"]
#: qemu boot: login-then-reboot-twice (lines 345, 694, 1041: busybox reboot -f two seconds after the prompt)
RESTART = ["debian login: [    4.232631] reboot: Restarting system",
           "debian login: [    4.723064] reboot: Restarting system",
           "debian login: [    4.443214] reboot: Restarting system"]


def _boot(last: str) -> list[str]:
    return [SEABIOS, ROM, LINUX, RUN_INIT, last]


def test_a_watchdog_reset_glued_to_the_login_prompt_fails_the_boot_that_came_up(catalog):
    a = run_lines(catalog, _boot(SOFTDOG[0]))
    assert a.outcome == "failure"
    (f,) = [f for f in a.findings() if f.rule == "watchdog-restart"]
    assert f.severity == "critical" and f.evidence[0].text == SOFTDOG[0]


def test_two_watchdog_resets_after_the_prompt_and_a_third_boot_starting_are_a_loop(catalog):
    a = run_lines(catalog, _boot(SOFTDOG[0]) + _boot(SOFTDOG[1]) + [SEABIOS, ROM])
    assert a.outcome == "failure" and len(a.boots) == 3
    loops = {f.rule: f for f in a.capture_findings if f.category == "boot.loop"}
    assert "boot-loop" in loops and "watchdog" in loops["boot-loop"].fields["cause"]


def test_a_watchdog_reset_is_history_when_the_next_boot_comes_up_and_stays(catalog):
    a = run_lines(catalog, _boot(SOFTDOG[0]) + [SEABIOS, ROM, LINUX, RUN_INIT, "debian login: "])
    assert a.outcome == "success" and len(a.boots) == 2


def test_restarts_glued_to_the_prompt_are_named_as_restarts_the_system_asked_for(catalog):
    lines = [x for r in RESTART for x in _boot(r)] + [SEABIOS, ROM]
    a = run_lines(catalog, lines)
    (loop,) = [f for f in a.capture_findings if f.rule == "boot-loop-after-ready"]
    assert loop.fields["cause"].startswith("a restart the system asked for") and a.outcome == "failure"


#: docs.opnsense.org, Installing OPNsense on AWS: the EC2 console's last lines after the first boot
#: (search-index file 32696084751; the getty lines after the banner left out, as when the console
#: menu runs on the VGA console, OPNsense's default)
OPNSENSE_END = [
    ">>> Invoking start script 'cron'",
    "Starting Cron: OK",
    ">>> Invoking start script 'beep'",
    "Root file system: /dev/gpt/rootfs",
    "Sat Feb  5 17:58:45 UTC 2022",
    "",
    "*** OPNsense.localdomain: OPNsense 21.7.7 (amd64/OpenSSL) ***",
    "",
    " WAN (xn0)       -> v4/DHCP4: 172.31.27.130/20",
]


def test_an_opnsense_console_that_shows_its_menu_banner_is_up(catalog):
    a = run_lines(catalog, OPNSENSE_END)
    assert a.outcome == "success"
    assert not [f for f in a.findings("all") if f.severity in ("error", "critical")]


def test_opnsense_start_lines_without_the_banner_decide_nothing(catalog):
    # the same page, its password notice (asterisks, no banner) and the start scripts before the banner
    a = run_lines(catalog, ["*** set initial root password to : SNFpd2lcefYXXjyRezPrloTWTF3LjhgZPV3zLuDxEdVkiBGWxn",
                            *OPNSENSE_END[:5]])
    assert a.outcome == "unknown"


#: https://github.com/openbmc/openbmc/issues/3767: an AST2500 BMC whose U-Boot "would hang shortly
#: after the DRAM message"; its first boot's lines, and the watchdog's reset into the next boot
UBOOT_HANG = ["U-Boot 2016.07 (Feb 05 2021 - 19:15:39 +0000)", "       Watchdog enabled", "DRAM:  496 MiB"]
ASPEED_RESET = ["", "DRAM Init-V12-DDR4", "0abc1-4Gb-Done", "Read margin-DL:0.3705/DH:0.3784 CK (min:0.30)", ""]
#: https://github.com/u-root/u-bmc/issues/75: the same U-Boot going on past its DRAM line
UBOOT_GOES_ON = ["U-Boot 2016.07-00038-gc7a5629a1c (Oct 02 2018 - 21:27:29 +0000)", "", "DRAM:  240 MiB",
                 "WARNING: Caches not enabled", "Flash: 32 MiB", "Using default environment", "", "In:    serial",
                 "Out:   serial", "Err:   serial", "Net:   aspeednic#0", "Error: aspeednic#0 address not set.", "",
                 "Hit any key to stop autoboot:  0 "]


def test_a_console_that_ends_at_u_boots_dram_line_is_a_stall(catalog):
    a = run_lines(catalog, UBOOT_HANG)
    assert a.outcome == "stall"
    (f,) = [f for f in a.findings() if f.rule == "uboot-stopped-after-dram"]
    assert f.evidence[0].text == "DRAM:  496 MiB"


def test_u_boot_going_on_past_its_dram_line_or_reset_after_it_is_no_dram_stall(catalog):
    for lines in (UBOOT_GOES_ON, UBOOT_HANG + ASPEED_RESET + UBOOT_HANG[:2]):
        a = run_lines(catalog, lines)
        assert "uboot-stopped-after-dram" not in {f.rule for f in a.findings("all")}


def test_old_and_unversioned_u_boot_banners_begin_the_boot_loader_stage(catalog):
    # https://github.com/tomeshnet/meshstream/issues/7 (U-Boot 1.1.4); the second banner is
    # synthetic: "U-Boot " PLAIN_VERSION " (" date ")" of include/version.h with an empty version
    for banner in ("U-Boot 1.1.4 (Apr 19 2014 - 00:17:22)", "U-Boot  (Apr 19 2014 - 00:17:22)"):
        a = run_lines(catalog, [banner, "DRAM:  2 GiB"])
        assert [m.name for m in a.boots[0].milestones] == ["bootloader"] and a.outcome == "stall"


#: synthetic: the serial::log strings of a Rust UEFI loader around boot::exit_boot_services()
#: (search-index file 52205505052), as its console would show them
RUST_LOADER = ["rust bootloader: exiting boot services", "rust bootloader: boot services exited"]


def test_a_console_that_ends_as_a_uefi_loader_exits_boot_services_is_a_stall(catalog):
    a = run_lines(catalog, RUST_LOADER[:1])
    assert a.outcome == "stall"
    assert "uefi-loader-stopped-at-exit-boot-services" in {f.rule for f in a.findings()}
    went_on = run_lines(catalog, RUST_LOADER)
    assert went_on.outcome == "unknown" and not [f for f in went_on.findings("all") if f.category == "boot.stall"]


def test_an_rcu_stall_seen_only_from_its_summary_line_is_still_an_rcu_stall(catalog):
    # samples/qemu-kernel-rcu-stall/serial.log lines 342 and 346-347: the report's first line
    # (345) left out, as on a screen whose top scrolled away, and its "kthread starved" line (348)
    # not yet printed
    lines = (SAMPLES / "qemu-kernel-rcu-stall" / "serial.log").read_text().splitlines()
    excerpt = lines[345:347]
    a = run_lines(catalog, excerpt)
    assert [f.rule for f in a.findings() if f.category == "kernel.oops"] == ["rcu-stall-summary"]
    assert a.outcome == "stall"  # an excerpt stamped 6 s after the kernel started: the boot (views.py)
    seen = run_lines(catalog, [lines[341], *excerpt])  # "Run /init as init process": the boot is seen
    assert seen.outcome == "stall"
    whole = run_lines(catalog, lines[344:347])
    assert [f.rule for f in whole.findings() if f.category == "kernel.oops"] == ["rcu-stall"]
