"""Init that cannot start, loops and boot loaders, as a user meets them with the shipped catalog
(issue 10, round 6): the verdict and the categories `analyze` prints, and nothing on the
look-alikes.

Consoles are real: QEMU boots of tests/qemu/extra/init_failures.py and kernel_faults.py stored
under samples/, glibc 2.36 (Debian 12) run here, and public consoles by search-index file id
or thread (the rule samples cite the same). Where no console here shows a message, the source
that prints it is named.
"""

from __future__ import annotations

from pathlib import Path

import consolewatch
from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _serial(name: str) -> list[str]:
    raw = (SAMPLES / name / "serial.log").read_bytes().decode("utf-8", "replace")
    return [line.replace("\r", "") for line in raw.split("\n")]


# -- init cannot start -------------------------------------------------------------------------------

RUN_INIT = "[    4.377424] Run /sbin/init as init process"
LOADER = ("/sbin/init: error while loading shared libraries: libsystemd-shared-252.so: cannot open shared "
          "object file: No such file or directory")  # samples/qemu-init-missing-library/serial.log line 353
PANIC_127 = "[    4.582762] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00"
FOOTER_127 = "[    4.601369] ---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00 ]---"
#: glibc 2.36 ld.so here: a program linked against libcwfoo.so.1 version FOO_2, run with one that has FOO_1 (exit 1)
VERSION = "./sbin/init: ./libcwfoo.so.1: version `FOO_2' not found (required by ./sbin/init)"
#: samples/qemu-init-wrong-arch/serial.log line 369
NO_WORKING_FOOTER = ("[    2.929177] ---[ end Kernel panic - not syncing: No working init found.  Try passing init= "
                     "option to kernel. See Linux Documentation/admin-guide/init.rst for guidance. ]---")


def test_init_whose_library_is_missing_is_init_not_found_naming_the_library():
    a = consolewatch.analyze([SAMPLES / "qemu-init-missing-library" / "serial.log"])
    found = _found(a)
    assert a.outcome == "failure" and set(found) == {"init.not-found", "kernel.panic"}
    [cause] = found["init.not-found"]
    assert cause.rule == "init-libraries-missing" and "libsystemd-shared-252.so" in cause.remediation
    assert all(f.suppressed_by for f in found["kernel.panic"])  # the panic is the symptom, still listed
    assert a.findings()[0].category == "init.not-found"  # cause first


def test_a_library_too_old_for_init_is_named_and_a_loader_error_the_boot_goes_past_is_not(catalog):
    a = run_lines(catalog, [RUN_INIT, VERSION, PANIC_127.replace("0x00007f00", "0x00000100")])
    assert {f.rule for f in a.findings() if f.category == "init.not-found"} == {"init-libraries-missing"}
    # search-index file id 61613913261: glibc 2.33+ on a CPU model below the level the system was built for
    cpu = run_lines(catalog, [RUN_INIT, "Fatal glibc error: CPU does not support x86-64-v2", PANIC_127])
    [cause] = [f for f in cpu.findings() if f.category == "init.not-found"]
    assert cause.rule == "init-libraries-missing" and "x86-64-v2" in cause.remediation
    going_on = run_lines(catalog, [RUN_INIT, LOADER, "consolewatch-guest: ready"])
    assert not [f for f in going_on.findings() if f.category == "init.not-found"]


def test_the_end_of_a_panic_on_exit_127_says_init_could_not_start_and_keeps_the_panic(catalog):
    a = run_lines(catalog, [FOOTER_127])  # all a screen whose top scrolled away shows
    found = _found(a)
    assert a.outcome == "failure" and set(found) == {"init.not-found", "kernel.panic"}
    assert found["init.not-found"][0].rule == "init-exited-127-panic"
    full = run_lines(catalog, [RUN_INIT, LOADER, PANIC_127, FOOTER_127])  # the fuller cause in view: no fragment
    assert {f.rule for f in full.findings() if f.category == "init.not-found"} == {"init-libraries-missing"}
    crashed = run_lines(catalog, [FOOTER_127.replace("0x00007f00", "0x0000000b")])  # init crashed (SIGSEGV)
    assert "init.not-found" not in _found(crashed)


def test_the_end_of_a_no_working_init_panic_alone_is_init_not_found(catalog):
    a = run_lines(catalog, [NO_WORKING_FOOTER])
    assert {f.rule for f in a.findings() if f.category == "init.not-found"} == {"no-working-init-footer"}
    full = run_lines(catalog, _serial("qemu-init-wrong-arch"))
    assert {f.rule for f in full.findings() if f.category == "init.not-found"} == {"no-working-init"}


# -- loops -------------------------------------------------------------------------------------------

SEABIOS = "SeaBIOS (version 1.16.2-debian-1.16.2-1)"
ROM = "Booting from ROM..."


def test_a_capture_cut_off_inside_a_loop_names_what_the_machine_loops_on(catalog):
    lines = _serial("qemu/boot-loop")
    whole = set(_found(run_lines(catalog, lines)))
    cut = run_lines(catalog, [*lines, SEABIOS, ROM])  # the next boot begins, then nothing
    assert cut.outcome == "failure" and cut.boots[-1].outcome == "unknown"
    assert set(_found(cut)) == whole >= {"boot.loop", "disk.root-not-found", "kernel.panic"}


def test_a_boot_that_came_up_after_a_failure_leaves_that_failure_in_history(catalog):
    a = run_lines(catalog, _serial("qemu-fail-then-success"))
    assert a.outcome == "success" and "kernel.panic" not in _found(a)


#: https://github.com/kwindrem/SetupHelper/issues/55 (U-Boot 2018.05's console around the hand-off)
UBOOT = ["U-Boot SPL 2018.05 (Apr 12 2023 - 23:29:03 +0000)", "DRAM: 1024 MiB", "Trying to boot from MMC2", "",
         "U-Boot 2018.05 (Apr 12 2023 - 23:29:03 +0000) Allwinner Technology", "Hit any key to stop autoboot:  0",
         "   Loading Device Tree to 49ff5000, end 49fff805 ... OK", "", "Starting kernel ..."]
LINUX = ("[    0.000000] Linux version 5.10.109-venus-12 (oe-user@oe-host) (arm-ve-linux-gnueabi-gcc (GCC) 9.5.0, "
         "GNU ld (GNU Binutils) 2.34.0.20200910) #1 SMP Sun Nov 5 22:57:12 UTC 2023")


def test_u_boot_starting_the_kernel_and_then_its_spl_again_is_a_reset_after_the_hand_off(catalog):
    a = run_lines(catalog, UBOOT + UBOOT[:3])
    assert len(a.boots) == 2 and a.outcome == "failure"
    assert "boot.loop" in _found(a)
    healthy = run_lines(catalog, UBOOT + ["", LINUX])  # SPL, U-Boot, the kernel: one boot going on
    assert len(healthy.boots) == 1 and not _found(healthy)


def test_blank_lines_before_the_next_boot_are_not_the_line_a_reset_is_quoted_by(catalog):
    # Serial consoles print blank lines around a hand-off; the boot that ends is quoted by the
    # last line it printed, and blank lines are not what ran after the hand-off.
    a = run_lines(catalog, UBOOT + ["", "", ""] + UBOOT[:3])
    loops = {f.rule: [e.text for e in f.evidence] for f in _found(a)["boot.loop"]}
    assert a.boots[0].outcome == "failure" and loops["reset-after-handoff"] == ["Starting kernel ..."]
    assert "reset-after-handoff-output" not in loops and all(t.strip() for ev in loops.values() for t in ev)
    #: rule samples of reset-after-handoff-output (tests/qemu/kernel_faults.py, a boot sector)
    seabios, mbr = "SeaBIOS (version 1.16.2-debian-1.16.2-1)", ["mbr: started", "mbr: a20 on", "mbr: memory 640k"]
    a = run_lines(catalog, [seabios, "Booting from Hard Disk...", *mbr, "", "", seabios])
    loops = {f.rule: [e.text for e in f.evidence] for f in _found(a)["boot.loop"]}
    assert loops["reset-after-handoff-output"] == ["mbr: memory 640k"]


# -- firmware and boot loaders -----------------------------------------------------------------------


def test_virtualbox_giving_up_on_the_boot_medium_is_a_boot_loader_error(catalog):
    # search-index file ids 70693893924 (VirtualBox 7.2.14) and 36185652 (7.0): BIOS/boot.c print_boot_failure
    for lines in (["No bootable medium found!", "Please insert a bootable medium and reboot."],
                  ["Could not read from the boot medium!", "Please insert a bootable medium and reboot."],
                  ["Please insert a bootable medium and reboot."]):
        a = run_lines(catalog, lines)
        assert a.outcome == "failure" and set(_found(a)) == {"boot.bootloader-error"}, lines


def test_pxelinux_without_a_configuration_file_is_a_boot_loader_error_and_the_words_alone_are_not(catalog):
    # search-index file id 67114632070: PXELINUX 4.05's console
    pxe = ["Getting cached packet 01 02 03", "My IP address seens to be C0A80502 192.168.5.2",
           "ip=192.168.5.2:192.168.5.67:192.168.5.1:255.255.255.0", "TFTP prefix: /",
           "Unable to locate configuration file"]
    a = run_lines(catalog, pxe)
    assert a.outcome == "failure" and {f.rule for f in a.findings()} == {"syslinux-no-configuration"}
    assert not run_lines(catalog, ["Unable to locate configuration file"]).findings()
