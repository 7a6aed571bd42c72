"""What a screenshot says next to (or instead of) the serial port, read as a user's screenshot.

- The VGA screen at the end of a real kernel panic shows the panic's own dump (the CPU line,
  registers, the call trace through panic(), "---[ end Kernel panic"): that dump is the
  panic's, not an oops (frames recorded by frames/capture_panics.py; PNG, and JPEG q50).
- A serial port that goes quiet while the screen shows the boot still in the firmware or the
  boot loader is not a console that is not configured: the OS never started.
"""

from __future__ import annotations

import io

import pytest
from helpers import FRAMES
from PIL import Image

from consolewatch.analysis import analyze
from consolewatch.sim.screen import render_screen

#: recipe -> the categories the screen shows (the panic, and its cause where the screen names it)
PANICS = {
    "kill-init": {"kernel.panic"},
    "nmi-panic": {"kernel.panic"},
    "oom-init": {"kernel.panic", "kernel.oom"},
    "mce-fatal": {"kernel.panic"},
}


def _as_shown(png, quality, tmp_path):
    """The screenshot as a user sends it: the PNG, or re-encoded as JPEG at `quality`."""
    if quality is None:
        return png
    buf = io.BytesIO()
    Image.open(png).convert("RGB").save(buf, "JPEG", quality=quality)
    path = tmp_path / "screen.jpg"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("quality", [None, 50])
@pytest.mark.parametrize("name", sorted(PANICS))
def test_a_panics_own_dump_on_a_screen_is_not_an_oops(name, quality, tmp_path, catalog):
    png = FRAMES / f"qemu-panic-{name}.png"
    truth = (FRAMES / f"qemu-panic-{name}.txt").read_text()
    assert "---[ end Kernel panic" in truth and ("</TASK>" in truth or name == "mce-fatal")  # the dump in view
    result = analyze([_as_shown(png, quality, tmp_path)], catalog=catalog)
    categories = {f.category for f in result.findings()}
    assert result.outcome == "failure"
    assert categories == PANICS[name], [(f.rule, f.category) for f in result.findings()]


#: samples/qemu-grub-no-such-device/serial.log lines 1-2: SeaBIOS hands over to the disk
HANDOFF = "SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\nBooting from Hard Disk...\r\n"
#: the same boot's GRUB menu (lines 4-5 and the menu's text, as the screen shows them, with the
#: countdown of Debian's default timeout: a menu with none waits for a key, a stall of its own)
GRUB_MENU = ["GNU GRUB  version 2.06-13+deb12u2", "", "*Debian GNU/Linux", "",
             "     Use the \u2191 and \u2193 keys to select which entry is highlighted.",
             "      Press enter to boot the selected OS, `e' to edit the commands",
             "      before booting or `c' for a command-line.",
             "   The highlighted entry will be executed automatically in 4s."]


def test_a_quiet_serial_port_while_the_screen_shows_the_firmware_failing_is_that_failure(tmp_path, catalog):
    serial = tmp_path / "serial.log"
    serial.write_bytes(HANDOFF.split("\r\n")[0].encode() + b"\r\n")  # the banner, then nothing
    result = analyze([serial, FRAMES / "qemu-seabios-no-bootable-device.png"], catalog=catalog)
    assert {f.category for f in result.findings()} == {"boot.bootloader-error"}
    assert result.outcome == "failure"
    alone = analyze([serial], catalog=catalog)  # the serial port alone: it may well be silent
    assert {f.category for f in alone.findings()} == {"console.silent"}


def test_a_quiet_serial_port_while_the_screen_shows_the_boot_loader_is_no_silent_console(tmp_path, catalog):
    serial = tmp_path / "serial.log"
    serial.write_bytes(HANDOFF.encode())
    screen = tmp_path / "screen.png"
    screen.write_bytes(render_screen(["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from Hard Disk...",
                                      "GRUB loading...", "Welcome to GRUB!", *GRUB_MENU]))
    at_menu = analyze([serial, screen], catalog=catalog)  # in the boot loader's menu: nothing wrong seen yet
    assert not at_menu.findings() and at_menu.outcome == "unknown"
    alone = analyze([serial], catalog=catalog)
    assert {f.category for f in alone.findings()} == {"console.silent", "boot.stall"}


#: samples/<name>/screen.png (tests/qemu/extra/initramfs_tools_shell.py) -> the categories the
#: screen alone must show: a shell waiting for input after the initramfs or /init gave up
SHELLS = {
    "qemu-itools-no-root-device": {"disk.root-not-found", "init.emergency-mode"},
    "qemu-itools-no-init": {"init.not-found", "init.emergency-mode"},
    "qemu-init-fallback-shell-switch-root-usage": {"init.emergency-mode"},
    "qemu-init-fallback-shell-command-not-found": {"init.emergency-mode"},
    "qemu-systemd-emergency-root-locked": {"init.emergency-mode", "init.unit-failed"},
}


@pytest.mark.parametrize("quality", [None, 50])
@pytest.mark.parametrize("name", sorted(SHELLS))
def test_a_shell_waiting_on_the_screen_after_the_boot_gave_up_is_a_failure(name, quality, tmp_path, catalog):
    result = analyze([_as_shown(FRAMES.parents[2] / "samples" / name / "screen.png", quality, tmp_path)],
                     catalog=catalog)
    categories = {f.category for f in result.findings()}
    assert result.outcome == "failure"
    assert SHELLS[name] <= categories, [(f.rule, f.category) for f in result.findings()]


#: samples/<name>/<screen> (tests/qemu/extra/init_failures.py): the kernel mounted its root and
#: could not start init; the screen holds the end of the panic (its first lines, and the loader's
#: message, scrolled away), as PNG and JPEG q90/q70/q50: its call trace is the panic's, not an oops
INIT_SCREENS = [("qemu-init-missing-library", s) for s in ("screen.png", "screen-q90.jpg", "screen-q70.jpg",
                                                           "screen-q50.jpg")] + [
    ("qemu-init-requested-missing", "screen.png"), ("qemu-init-wrong-arch", "screen.png")]


@pytest.mark.parametrize(("name", "screen"), INIT_SCREENS)
def test_the_end_of_a_panic_because_init_could_not_start_says_so(name, screen, catalog):
    result = analyze([FRAMES.parents[2] / "samples" / name / screen], catalog=catalog)
    categories = {f.category for f in result.findings()}
    assert result.outcome == "failure"
    assert categories == {"init.not-found", "kernel.panic"}, [(f.rule, f.category) for f in result.findings()]
    assert result.findings()[0].category == "init.not-found"  # the cause first
