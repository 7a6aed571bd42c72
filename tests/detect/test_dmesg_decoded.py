"""`dmesg -x` (util-linux's --decode: "kern  :info  : " before each line) read as the lines it
decodes. The kernel's lines of three real QEMU boots under samples/, taken as `dmesg` would print
them (the printk-stamped lines only) and once more with `-x`'s prefix: the same boots, findings and
outcome either way (before the prefix came off the message, rules read from a line's start missed
them and boots went unseen)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from consolewatch.analysis import analyze

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PRINTK = re.compile(r"\[ *\d+\.\d+\] ")


def _verdict(path: Path, catalog) -> tuple[str, int, list[str]]:
    a = analyze([path], catalog=catalog)
    return a.outcome, len(a.boots), sorted({f.category for f in a.findings()})


@pytest.mark.parametrize(("case", "expected"), [
    ("qemu-softdog-reboot-loop", ("failure", ["boot.loop"])),
    ("qemu-init-work-poweroff", ("success", ["boot.success"])),
    ("qemu-init-fallback-shell-mount-failed", ("failure", ["disk.root-not-found"])),
])
def test_dmesg_x_reads_as_the_kernels_own_lines(tmp_path, catalog, case, expected):
    kernel = [line for line in (SAMPLES / case / "serial.log").read_text(errors="replace").splitlines()
              if PRINTK.match(line)]
    plain, decoded = tmp_path / "dmesg.txt", tmp_path / "dmesg-x.txt"
    plain.write_text("\n".join(kernel) + "\n")
    decoded.write_text("".join(f"kern  :{'emerg' if 'panic' in line else 'info':6}: {line}\n" for line in kernel))
    outcome, boots, categories = _verdict(decoded, catalog)
    assert (outcome, categories) == expected
    assert (outcome, boots, categories) == _verdict(plain, catalog)
