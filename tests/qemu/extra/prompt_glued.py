#!/usr/bin/env python3
"""Capture real consoles whose kernel lines land on the login prompt's line (rule samples).

A machine that sits at its login prompt has printed "<host> login: " with no newline: the next
kernel message (a watchdog reset, a SysRq reset, a power-off) is glued to the prompt, as
"debian login: [    7.35] softdog: Initiating system reboot". Each recipe boots the Debian kernel
under QEMU (guestkit, through tests/qemu/kernel_faults.py) with a busybox /init that offers a
login (busybox getty on ttyS0) and then ends the boot from inside, and prints the sanitised
serial lines. Rule samples quote them with
`source: qemu boot: <recipe> (tests/qemu/extra/prompt_glued.py)`.

    python tests/qemu/extra/prompt_glued.py --list
    python tests/qemu/extra/prompt_glued.py RECIPE [--out FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel_faults import Recipe, main

PROMPT = "dmesg -n 4; hostname debian; getty -L 115200 ttyS0 vt100 & "

RECIPES = {r.name: r for r in [
    Recipe("login-then-softdog-loop", "the software watchdog (softdog) armed for 3 s and fed every 60 s, then a "
           "login prompt: softdog resets the machine while it waits at the prompt, on every boot",
           init="watchdog -T 3 -t 60 /dev/watchdog; echo consolewatch-guest: ready; " + PROMPT + "sleep 3600",
           modules=["softdog"], flavour="generic", stop=r"Initiating system reboot", stop_count=3, timeout=60),
    Recipe("login-then-sysrq-reset", "a login prompt, then the magic SysRq reset two seconds later (echo b > "
           "/proc/sysrq-trigger: the kernel's emergency restart)",
           init="echo consolewatch-guest: ready; " + PROMPT + "sleep 2; echo b > /proc/sysrq-trigger; sleep 30",
           stop=r"Resetting", stop_count=2, timeout=60),
    Recipe("login-then-poweroff", "a login prompt, then a forced power-off two seconds later (busybox poweroff -f)",
           init="echo consolewatch-guest: ready; " + PROMPT + "sleep 2; poweroff -f; sleep 30",
           stop=r"Power down", timeout=60),
    Recipe("login-then-reboot-twice", "a login prompt, then a forced restart two seconds later (busybox reboot -f), "
           "on every boot",
           init="echo consolewatch-guest: ready; " + PROMPT + "sleep 2; reboot -f; sleep 30",
           stop=r"Restarting system", stop_count=3, timeout=60),
]}


if __name__ == "__main__":
    main(RECIPES, __doc__)
