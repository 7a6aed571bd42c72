"""Principles and message families the round-6 study cases showed missing (issue 10), as a user
meets them with the shipped catalog: the verdict and the categories `analyze` prints, and nothing
on the healthy look-alikes.

Each line names where it was seen: a QEMU boot stored under samples/, a QEMU boot run here with the
guest kit (tests/qemu), or, where no console here shows the message, the source that prints it
(said so, and `synthetic` there).
"""

from __future__ import annotations

from pathlib import Path

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found
from tests.detect.findings import serial_lines as _serial

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


# -- reports a running system carries on after, in a view that does not show the boot ------------


def _from(lines: list[str], needle: str) -> list[str]:
    return lines[next(i for i, x in enumerate(lines) if needle in x):]


def test_a_lockup_that_ends_a_boot_is_a_stall_in_the_whole_console_and_in_an_excerpt_of_its_first_seconds(catalog):
    for case, needle in (("qemu-kernel-soft-lockup", "BUG: soft lockup"),
                         ("qemu-kernel-rcu-stall", "detected stalls on CPUs")):
        lines = _serial(case)
        whole = run_lines(catalog, lines)
        assert whole.outcome == "stall", case
        # what a person pastes: the report onwards, stamped seconds after the kernel started (views.py):
        # still the boot, stopped there
        excerpt = run_lines(catalog, _from(lines, needle))
        assert excerpt.outcome == "stall", case
        [oops] = _found(excerpt)["kernel.oops"]
        assert oops.severity == "error" and oops.verdict == "stall"


def test_a_hung_task_in_an_excerpt_of_the_boot_is_a_stall_and_a_panic_after_it_a_failure(catalog):
    lines = _from(_serial("qemu-kernel-hung-task-panic"), "blocked for more than")
    report = lines[: next(i for i, x in enumerate(lines) if "Kernel panic" in x)]  # before its panic
    a = run_lines(catalog, report)
    assert a.outcome == "stall" and [f.rule for f in _found(a)["kernel.oops"]] == ["hung-task"]
    assert run_lines(catalog, lines).outcome == "failure"  # the panic after it is an action: it decides


# -- boot loaders, provisioning, systemd ----------------------------------------------------------

#: synthetic: do_reset() of U-Boot arch/riscv/lib/reset.c, then hang() of lib/hang.c
UBOOT_RESET = ["BeagleV # reset", "resetting ...", "reset not supported yet", "### ERROR ### Please RESET the board ###"]
#: synthetic: systemd src/core/manager.c "%sJob %s/%s running (%s / %s)%s%s" (StatusUnitFormat=name)
IGNITION_JOB = ["[  *** ] Job ignition-fetch.service/start running (36min 59s / no limit)",
                "[ ***  ] Job ignition-fetch.service/start running (37min / no limit)"]
#: https://github.com/kernelci/kernelci-project/issues/267, then systemd src/sulogin-shell/sulogin-shell.c
EMERGENCY_LOCKED = ['You are in emergency mode. After logging in, type "journalctl -xb" to view',
                    'system logs, "systemctl reboot" to reboot, "systemctl default" or "exit"',
                    "to boot into default mode.", "", "Cannot open access to console, the root account is locked.",
                    "See sulogin(8) man page for more details.", "", "Press Enter to continue."]
SULOGIN_AGAIN = ["Reloading system manager configuration", "Starting default.target"]


def test_u_boot_that_cannot_reset_waits_for_a_hand_on_the_button(catalog):
    a = run_lines(catalog, UBOOT_RESET)
    assert a.outcome == "stall" and [f.rule for f in _found(a)["boot.stall"]] == ["uboot-hang"]
    # without hang()'s line only the unanswered reset is seen: the capture ends a line after
    # "resetting ...", which is reboot-never-reset's stall (rules-study-8), not uboot-hang's
    cut = _found(run_lines(catalog, UBOOT_RESET[:3]))
    assert [f.rule for f in cut.get("boot.stall", [])] == ["reboot-never-reset"]
    # a reset that was answered: the board's next SPL banner (parsers/formats/u-boot.yaml's
    # sample from https://github.com/kwindrem/SetupHelper/issues/55) begins a new boot
    answered = run_lines(catalog, UBOOT_RESET[:2] + ["", "U-Boot SPL 2018.05 (Apr 12 2023 - 23:29:03 +0000)"])
    assert "boot.stall" not in _found(answered)


def test_ignition_waiting_without_limit_is_named_in_the_unit_name_form_of_the_job_line(catalog):
    a = run_lines(catalog, IGNITION_JOB)
    assert a.outcome == "stall"
    [f] = _found(a)["cloudinit.error"]
    assert f.rule == "ignition-start-job-waiting" and "37min" in f.remediation
    done = run_lines(catalog, IGNITION_JOB + ["[  OK  ] Finished ignition-fetch.service - Ignition (fetch)."])
    assert "cloudinit.error" not in _found(done)


def test_an_emergency_shell_the_boot_left_is_reported_and_decides_nothing(catalog):
    stuck = run_lines(catalog, EMERGENCY_LOCKED)
    assert stuck.outcome == "failure"
    went_on = run_lines(catalog, EMERGENCY_LOCKED + SULOGIN_AGAIN)
    assert went_on.outcome == "unknown"
    assert {f.rule for f in _found(went_on)["init.emergency-mode"]} == {"systemd-emergency-banner", "emergency-shell-root-locked"}
    # the default target failing again brings the shell back: a failure again
    again = run_lines(catalog, EMERGENCY_LOCKED + SULOGIN_AGAIN + EMERGENCY_LOCKED)
    assert again.outcome == "failure"


def test_the_root_discovered_by_gpt_type_timing_out_is_root_not_found(catalog):
    for device in ("/dev/disk/by-designator/root", "/dev/gpt-auto-root"):
        a = run_lines(catalog, ["[  OK  ] Finished Repartition Root Disk.", f"[ TIME ] Timed out waiting for device {device}."])
        assert a.outcome == "failure"
        assert [f.rule for f in _found(a)["disk.root-not-found"]] == ["root-designator-timed-out"]
    home = run_lines(catalog, ["[ TIME ] Timed out waiting for device /dev/disk/by-designator/home."])
    assert "disk.root-not-found" not in _found(home)


def test_ext4_read_errors_and_a_recorded_error_count_are_file_system_errors_that_decide_nothing(catalog):
    a = run_lines(catalog, ["[3784708.859860] EXT4-fs (vdb): error count since last fsck: 3",
                            "[3785008.198203] EXT4-fs warning (device vdb): __ext4_read_dirblock:1092: inode #2: lblock 0: "
                            "comm ls: error -5 reading directory block"])
    assert a.outcome == "unknown"
    assert {f.rule for f in _found(a)["disk.fs-error"]} == {"fs-mounted-with-errors", "ext4-error"}
    clean = run_lines(catalog, ["[    3.316494] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none."])
    assert "disk.fs-error" not in _found(clean)


def _without_esc(case: str) -> list[str]:
    """A QEMU serial log as a copy from a web page keeps it: ESC bytes dropped, the rest of each
    escape sequence kept, each line what follows its last carriage return."""
    raw = (SAMPLES / case / "serial.log").read_bytes().replace(b"\x1b", b"").decode("utf-8", "replace")
    return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in raw.split("\n")]


def _verdict(a) -> tuple:
    return a.outcome, sorted({f.category for f in a.findings()}), sorted({m.name for b in a.boots for m in b.milestones})


def test_a_console_whose_colour_codes_lost_their_esc_bytes_reads_as_the_console_itself(catalog):
    for case, outcome in (("qemu-systemd-batch-poweroff", "success"), ("qemu-systemd-journal-sockets-fail-ready", "success"),
                          ("qemu-systemd-readonly-run-frozen", "failure")):
        copied = _verdict(run_lines(catalog, _without_esc(case)))
        assert copied == _verdict(run_lines(catalog, _serial(case))) and copied[0] == outcome, case
    # the wait for the network ends in its unit's failure: reported, and the wait decides nothing
    copied = run_lines(catalog, _without_esc("qemu-systemd-wait-online-timeout"))
    assert "init.unit-failed" in _found(copied) and "ready" in _verdict(copied)[2]
    assert {f.verdict for f in _found(copied)["boot.stall"]} == {"none"}


def test_a_start_job_that_ended_in_its_units_failure_waited_no_longer(catalog):
    # synthetic: systemd's job status line (src/core/manager.c) and the [FAILED] line (src/core/job.c)
    # for systemd-modules-load.service, whose failure stops nothing
    job = ["[**    ] A start job is running for Load Kernel Modules (1min 29s / 1min 30s)"]
    assert run_lines(catalog, job).outcome == "stall"
    ended = run_lines(catalog, job + ["[FAILED] Failed to start Load Kernel Modules."])
    assert ended.outcome == "unknown"
    [stall] = _found(ended)["boot.stall"]
    assert stall.verdict == "none" and "init.unit-failed" in _found(ended)


# -- init's interpreter, provisioning scripts ------------------------------------------------------

#: samples/qemu-initramfs-exec-init-missing/serial.log
INIT_KILLED_127 = "[    3.076188] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00007f00"
#: BusyBox v1.35.0 (Debian 12) wget run in a network namespace where 169.254.169.254 is local and closed
WGET_REFUSED = ["Connecting to 169.254.169.254 (169.254.169.254:80)",
                "wget: can't connect to remote host (169.254.169.254): Connection refused"]
#: ... and against busybox httpd there, without the path / with it
WGET_404 = ["Connecting to 169.254.169.254 (169.254.169.254:80)", "wget: server returned error: HTTP/1.1 404 Not Found"]
WGET_OK = ["Connecting to 169.254.169.254 (169.254.169.254:80)", "writing to stdout", "written to stdout"]


def test_an_init_script_with_crlf_line_endings_is_init_not_found_with_its_panic(catalog):
    for shown in ("sh\r: applet not found", ": applet not found"):  # as sent, and as a terminal shows it
        a = run_lines(catalog, ["[    3.567090] Run /init as init process", shown, INIT_KILLED_127])
        assert a.outcome == "failure"
        [cause] = _found(a)["init.not-found"]
        assert cause.rule == "init-busybox-applet-missing" and "line endings" in cause.remediation
        assert all(f.suppressed_by is not None for f in _found(a)["kernel.panic"])  # symptoms, listed after it
    assert "init.not-found" not in _found(run_lines(catalog, ["nosuchapplet: applet not found", "consolewatch-guest: ready"]))


def test_a_script_retrying_a_refused_metadata_server_until_the_end_is_a_stall(catalog):
    lease = ["udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600"]  # samples/qemu/gce-option121-ignored
    stuck = run_lines(catalog, lease + WGET_REFUSED * 4)
    assert stuck.outcome == "stall"
    assert [f.rule for f in _found(stuck)["cloudinit.error"]] == ["metadata-fetch-retrying"]
    once = run_lines(catalog, lease + WGET_REFUSED)  # one attempt says nothing of a wait
    assert "cloudinit.error" not in _found(once)
    recovered = run_lines(catalog, lease + WGET_REFUSED * 3 + WGET_OK)
    assert "cloudinit.error" not in _found(recovered) and recovered.outcome != "stall"


def test_an_http_error_from_the_metadata_server_fails_only_a_boot_that_stopped_there(catalog):
    a = run_lines(catalog, WGET_404)  # an excerpt: it cannot show the boot stopping there
    [f] = _found(a)["cloudinit.error"]
    assert f.rule == "metadata-fetch-http-error" and "404" in f.remediation and a.outcome != "failure"
    assert "cloudinit.error" not in _found(run_lines(catalog, WGET_OK))
    lease = ["[    1.901233] Run /init as init process",  # samples/qemu/healthy/serial.log
             "udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600"]
    assert run_lines(catalog, lease + WGET_404).outcome == "failure"  # the agent stopped on it
    up = run_lines(catalog, lease + WGET_404 + ["consolewatch-guest: ready", "", "debian login: "])
    assert "cloudinit.error" not in _found(up)  # an optional attribute not set: the machine came up


def test_a_metadata_service_answering_an_http_error_leaves_a_machine_that_came_up_unprovisioned(catalog):
    # synthetic: cloud-init's wait_for_url status message (cloudinit/url_helper.py) with "bad status code [%s]"
    refused = ("cloud-init[736]: 2015-02-26 12:14:44,290 - url_helper.py[WARNING]: Calling "
               "'http://169.254.169.254/2009-04-04/meta-data/instance-id' failed [3/120s]: bad status code [400]")
    login = "localhost login: "  # getty's prompt: the machine came up
    a = run_lines(catalog, [refused, login], cloud="openstack")
    assert a.outcome == "unknown"
    assert "cloudinit-metadata-http-error" in {f.rule for f in _found(a)["network.metadata-unreachable"]}
    assert "Neutron" in next(f for f in a.findings() if f.rule == "cloudinit-metadata-http-error").remediation
    # the datasource found after the failed call: a retry that worked (synthetic: cloud-init's final message)
    found = "Cloud-init v. 0.7.5 finished at Thu, 26 Feb 2015 12:16:45 +0000. Datasource DataSourceOpenStack."
    assert run_lines(catalog, [refused, found, login], cloud="openstack").outcome == "success"


def test_a_panic_seen_only_by_its_reboot_countdown_is_a_panic_and_the_full_panic_is_said_once(catalog):
    lines = _serial("qemu/boot-loop")
    end = lines.index("[    1.831308] Rebooting in 1 seconds..") + 1
    tail = run_lines(catalog, lines[end - 6: end])  # the end of the crash: its call trace and the countdown
    assert tail.outcome == "failure"
    assert [(f.rule, f.severity) for f in _found(tail)["kernel.panic"]] == [("panic-reboot-armed", "critical")]
    whole = run_lines(catalog, lines[:end])
    panics = {f.rule for f in _found(whole)["kernel.panic"]}
    assert panics and "panic-reboot-armed" not in panics  # the panic line's own rules say it


# -- healthy runs of new kinds ----------------------------------------------------------------------

#: dnsmasq 2.90 (Debian 12) run as PID 1 of a PID namespace, its log on stderr
DNSMASQ_PID1 = ["dnsmasq[1]: started, version 2.90 DNS disabled",
                "dnsmasq[1]: compile time options: IPv6 GNU-getopt DBus no-UBus i18n IDN2 DHCP DHCPv6 no-Lua TFTP "
                "conntrack ipset nftset auth cryptohash DNSSEC loop-detect inotify dumpfile"]


def test_a_service_run_as_init_that_announces_its_start_is_a_healthy_appliance(catalog):
    a = run_lines(catalog, ["[    1.824161] Run /init as init process"] + DNSMASQ_PID1)
    assert a.outcome == "success" and "boot.success" in _found(a)
    # the same service under systemd is one unit of many (synthetic: dnsmasq's start line with its cache
    # enabled, from another PID); failing to start as init is no success
    assert run_lines(catalog, ["dnsmasq[612]: started, version 2.90 cachesize 150"]).outcome == "unknown"
    failed = run_lines(catalog, ["[    1.824161] Run /init as init process", "dnsmasq[1]: failed to change group-id to dip: "
                                 "Operation not permitted", "dnsmasq[1]: FAILED to start up"])
    assert failed.outcome != "success"
