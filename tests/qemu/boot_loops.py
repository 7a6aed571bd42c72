#!/usr/bin/env python3
"""Capture recipes for reboot loops whose restart line is printed onto a login prompt.

getty's prompt ("cw-node login: ") ends without a newline, so the kernel's next message (the
watchdog's reset, the SysRq reset; "reboot: Restarting system" follows its own "ACPI: PM:
Preparing to enter system sleep state S5" line) lands on the same line. Each recipe boots the
Debian cloud kernel with a busybox /init (kernel_faults.py's machinery) that offers a login on
ttyS0 and then restarts the machine, again on every boot.
Rule samples quote these lines with `source: qemu boot: <recipe> (tests/qemu/boot_loops.py)`.

    python tests/qemu/boot_loops.py --list
    python tests/qemu/boot_loops.py RECIPE [--out FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_faults import Recipe, main

GETTY = "hostname cw-node; getty -L 115200 ttyS0 vt100 & "

RECIPES = {r.name: r for r in [
    Recipe("login-then-softdog-reset", "each boot offers a login on ttyS0 with the software watchdog armed and "
           "never fed (busybox watchdog pinging every 60 s, timeout 3 s): the watchdog resets the machine while "
           "the prompt waits, its line glued to the prompt",
           init="watchdog -T 3 -t 60 /dev/watchdog; " + GETTY + "sleep 60", modules=["softdog"],
           stop=r"Initiating system reboot", stop_count=2, timeout=60),
    Recipe("login-then-sysrq-reset", "each boot offers a login on ttyS0, then resets the machine five seconds later "
           "through the magic SysRq key (echo b > /proc/sysrq-trigger: no shutdown, no \"Restarting system\")",
           init=GETTY + "sleep 5; echo b > /proc/sysrq-trigger; sleep 30",
           stop=r"Resetting", stop_count=2, timeout=60),
    Recipe("login-then-i6300esb-reset", "each boot loads the i6300esb driver for QEMU's emulated Intel 6300ESB "
           "watchdog, arms it with busybox watchdog (timeout 4 s, fed every 600 s: a daemon that hangs) and offers "
           "a login on ttyS0: the watchdog hardware resets the machine with no line printed, and it boots again",
           init="watchdog -T 4 -t 600 /dev/watchdog; " + GETTY + "sleep 600", modules=["i6300esb"], flavour="generic",
           qemu_args=["-device", "i6300esb", "-action", "watchdog=reset"], stop=r"cw-node login: ", stop_count=3,
           timeout=60),
    Recipe("login-then-itco-reset", "as login-then-i6300esb-reset on a q35 machine (ICH9) whose TCO timer may reset "
           "it (-global ICH9-LPC.noreboot=off): lpc_ich and iTCO_wdt loaded, the watchdog armed and never fed",
           init="watchdog -T 4 -t 600 /dev/watchdog; " + GETTY + "sleep 600", modules=["lpc_ich", "iTCO_wdt"],
           flavour="generic", qemu_args=["-machine", "q35", "-global", "ICH9-LPC.noreboot=off"],
           stop=r"cw-node login: ", stop_count=2, timeout=60),
]}


if __name__ == "__main__":
    main(RECIPES, __doc__)
