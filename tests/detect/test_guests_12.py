"""Guests of round 12 (parsers/detectors/guests-12.yaml, parsers/formats/init-supervisors.yaml,
getty.yaml's pfSense menu): init systems other than systemd (runit, dinit, s6-rc, the Red Hat
initscripts, Android's init), Rust kernels' panic handlers, Windows start-up screens that stay,
OpenWrt's overlay and procd, Solo5's tender. A service that failed is reported and decides
nothing; an init system giving up on the boot, a kernel panic and a screen that stays decide it;
the lines that show such a system up make a healthy boot a success. Lines are the rules' real
samples (search-index files cited there) or the sources' own format strings (marked synthetic
in the rules)."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import categories


def rules(a) -> set[str]:
    return {f.rule for f in a.findings()}


# search-index file id 28199912061: sysvinit on an embedded board, the runlevel entered
SYSVINIT_UP = ["INIT: version 2.88 booting", "Starting udev", "INIT: Entering runlevel: 5"]


def test_runit_skipping_its_services_fails_the_boot_and_a_stage_failure_alone_does_not(catalog):
    a = run_lines(catalog, ["- runit: enter stage: /etc/runit/1", "- runit: warning: child failed: /etc/runit/1",
                            "- runit: leave stage: /etc/runit/1", "- runit: warning: skipping stage 2..."])
    assert a.outcome == "failure" and "runit-stage-2-skipped" in rules(a)
    went_on = run_lines(catalog, ["- runit: enter stage: /etc/runit/1", "- runit: warning: child failed: /etc/runit/1",
                                  "- runit: leave stage: /etc/runit/1", "- runit: enter stage: /etc/runit/2",
                                  "void login: "])
    assert went_on.outcome == "success" and "runit-stage-failed" in rules(went_on)


def test_a_service_that_failed_under_dinit_s6_rc_or_initscripts_is_reported_and_decides_nothing(catalog):
    for line, rule in (("[FAILED] network", "dinit-service-failed"),
                       ("s6-rc: warning: unable to start service init-db-migration: command exited 134",
                        "s6-rc-service-failed"),
                       ("Starting postfix: [FAILED]", "initscripts-action-failed")):
        a = run_lines(catalog, SYSVINIT_UP + [line, "host login: "])
        assert rule in rules(a) and a.outcome == "success", line
    # systemd's "[FAILED] Failed to start ..." is systemd's rules', not dinit's
    assert "dinit-service-failed" not in rules(run_lines(catalog, ["[FAILED] Failed to start LSB: Bring up/down networking."]))


def test_android_giving_up_on_a_crashing_critical_service_or_its_partitions_fails_the_boot(catalog):
    a = run_lines(catalog, ["[   21.480034] init: critical process 'servicemanager' exited 4 times in 4 minutes"])
    assert a.outcome == "failure" and "init.unit-failed" in categories(a)
    b = run_lines(catalog, ["[    0.685984] init: Failed to create FirstStageMount failed to read default fstab for first stage mount",
                            "[    0.688377] init: Failed to mount required partitions early ...",
                            "[    0.689874] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00"])
    assert b.outcome == "failure"
    first = next(f for f in b.findings() if f.verdict == "failure" and not f.suppressed_by)
    assert first.rule == "android-first-stage-mount-failed" and first.category == "disk.root-not-found"


def test_cuttlefish_boot_completed_and_the_pfsense_menu_are_a_healthy_end(catalog):
    assert run_lines(catalog, ["[    2.1] init: init first stage started!", "VIRTUAL_DEVICE_BOOT_COMPLETED"]).outcome == "success"
    assert run_lines(catalog, [" 0) Logout (SSH only)                  9) pfTop",
                               " 1) Assign Interfaces                 10) Filter Logs"]).outcome == "success"


def test_rust_kernel_panics_stop_the_boot_and_a_programs_panic_is_not_the_kernels(catalog):
    a = run_lines(catalog, ["[   0.483] panicked at 'not yet implemented', kernel/syscalls/mod.rs:312:18"])
    assert a.outcome == "failure" and "kernel.panic" in categories(a)
    f = next(f for f in a.findings() if f.rule == "rust-kernel-panicked")
    assert f.fields["file"] == "kernel/syscalls/mod.rs" and f.fields["lineno"] == "312"
    assert "rust-kernel-panicked" not in rules(run_lines(catalog, ["panicked at src/main.rs:3:5:"]))
    assert "rust-kernel-panicked" in rules(run_lines(catalog, ["Non-resettable panic! PanicHookInfo {"]))


def test_a_windows_start_up_screen_that_stays_is_a_stall_and_one_windows_got_past_is_not(catalog):
    a = run_lines(catalog, ["Applying Group Policy Environment policy"], cloud="azure")
    assert a.outcome == "stall" and "boot.stall" in categories(a)
    b = run_lines(catalog, ["Getting Windows ready. Don't turn off your computer.",
                            "2025/07/22 21:26:57Z: Message: Windows is Ready to use"], cloud="aws")
    assert "windows-startup-screen-stuck" not in rules(b) and b.outcome == "success"
    c = run_lines(catalog, ["Plug in the USB driver that has the BitLocker key"], cloud="azure")
    assert c.outcome == "stall" and "windows-bitlocker-key-prompt" in rules(c)


def test_gce_windows_setup_giving_up_on_the_metadata_server_is_reported(catalog):
    a = run_lines(catalog, ["Waiting for metadata server, attempt 60.", "There is likely a problem with the network."],
                  cloud="gce")
    assert "network.metadata-unreachable" in categories(a)


def test_openwrt_on_a_ram_overlay_is_a_warning_and_procd_reaching_askfirst_a_success(catalog):
    a = run_lines(catalog, ["[    4.057281] init: - preinit -",
                            "mount_root: failed to mount -t jffs2 /dev/mtdblock4 /tmp/overlay: Invalid argument",
                            "mount_root: switching to jffs2 failed - fallback to ramoverlay",
                            "[    9.817364] procd: - init -",
                            "Please press Enter to activate this console."])
    assert a.outcome == "success" and "openwrt-overlay-ram-fallback" in rules(a)
    assert all(f.severity == "warning" for f in a.findings() if f.rule == "openwrt-overlay-ram-fallback")


def test_a_solo5_tender_refusing_the_image_is_a_loader_error(catalog):
    a = run_lines(catalog, ["solo5-hvt: hello.spt: invalid or unsupported executable (elf header invalid while loading elf)"])
    assert a.outcome == "failure" and "boot.bootloader-error" in categories(a)


def test_pfsense_waiting_in_its_interface_assignment_wizard_is_a_stall(catalog):
    a = run_lines(catalog, ["Network interface mismatch -- Running interface assignment option."])
    assert a.outcome == "stall" and "network.no-device" in categories(a)
    answered = run_lines(catalog, ["Network interface mismatch -- Running interface assignment option.",
                                   " 0) Logout (SSH only)                  9) pfTop"])
    assert "firewall-interface-assignment-wizard" not in rules(answered) and answered.outcome == "success"
