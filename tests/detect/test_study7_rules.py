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
