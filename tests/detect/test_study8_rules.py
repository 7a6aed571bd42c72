"""Families the round-7 public consoles showed missing, with the shipped catalog on real lines.

- boot loaders giving up in their closing words, whatever the error before: GRUB's "Failed to
  boot both default and fallback entries", U-Boot's bootm/booti refusing the image (moot when
  its boot script goes on to a target that boots), bhyveload killed by a signal;
- provisioning agents other than cloud-init: waagent waiting for a cloud-init that is not
  running (the OS boots on: no failure), Talos's sequence failing (a failure), Scaleway's
  initrd unable to report the server's state;
- mkinitcpio not finding the root device, named before the emergency shell it causes (an NFS
  root's "/dev/nfs" is no device);
- cloud-init's net table with no interface but lo holding an address (a table cut off before
  its rows decides nothing);
- OpenSBI's trap error, which hangs the hart: a stall.

Lines are from public threads and files recorded in /work/wt/rule-sources-7.txt (each constant
names its source) or are synthetic from the printing source, as the rules' samples say.
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import SAMPLES, by_category

#: Ubuntu forum thread 'Failed Kernel upgrade - error: cannot read the Linux header.' (search-index file 56792785499)
GRUB_FAILED = ["error: cannot read the Linux header.", "error: you need to load the kernel first.", "",
               "  Failed to boot both default and fallback entries.", "", "Press any key to continue..."]
#: https://github.com/openbmc/openbmc/issues/2781
UBOOT_WRONG = ["U-Boot 2016.07 (Dec 19 2017 - 10:49:16 +0000)", "Read 0 bytes from volume kernel-0 to 80800000",
               "Volume kernel-0 not found!", "Wrong Image Format for bootm command", "ERROR: can't get kernel image!"]
#: https://github.com/4ms/stm32mp1-baremetal/issues/21 (its healthy image's lines)
UBOOT_OK = ["   Verifying Hash Integrity ... OK", "   Loading Kernel Image ... OK", "", "Starting kernel ..."]
#: samples/qemu/healthy/serial.log: the kernel's banner of a boot that went on (after its screen-clearing escapes)
LINUX = ("[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) "
         "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)")
#: linux-ide list, Arch MacBook Air on 5.15.2 (search-index file 38049284486)
MKINITCPIO = [":: Triggering uevents...", "Waiting 10 seconds for device /dev/sda3 ...",
              "ERROR: device '/dev/sda3' not found. Skipping fsck.", ":: mounting '/dev/sda' on real root",
              "mount: /new_root: no filesystem type specified.", "You are now being dropped into an emergency shell.",
              "sh: can't access tty; job control turned off", "[rootfs ]# "]
#: linux-nfs list, Exynos board with an NFS root (search-index file 1695117260)
NFS_ROOT = ["Waiting 10 seconds for device /dev/nfs ...", "ERROR: device '/dev/nfs' not found. Skipping fsck.",
            "Mount cmd:", "mount.nfs4 -o vers=4,nolock 192.168.1.10:/srv/nfs/odroidhc1 /new_root",
            ":: running cleanup hook [udev]"]
#: a public console of cloud-init 0.7.5 (search-index file 34187708640)
NETINFO_OK = ["ci-info: +++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++",
              "ci-info: +--------+------+---------------+---------------+-------------------+",
              "ci-info: | Device |  Up  |    Address    |      Mask     |     Hw-Address    |",
              "ci-info: +--------+------+---------------+---------------+-------------------+",
              "ci-info: |   lo   | True |   127.0.0.1   |   255.0.0.0   |         .         |",
              "ci-info: |  eth0  | True | 10.100.10.237 | 255.255.255.0 | 02:12:05:f8:97:82 |",
              "ci-info: +--------+------+---------------+---------------+-------------------+"]


def _netinfo_no_address() -> list[str]:
    """The Net device info table of samples/kvm-centos7-no-network-cloudinit-datasource-none (lines 10-18)."""
    lines = (SAMPLES / "kvm-centos7-no-network-cloudinit-datasource-none" / "console.log").read_text().splitlines()
    return lines[9:18]


def test_grub_running_out_of_menu_entries_fails_the_boot_in_the_boot_loader(catalog):
    # an error no rule names ("no server is specified": a file name with a typo) before it
    a = run_lines(catalog, ["error: no server is specified.", "", "Press any key to continue...", "",
                            "Failed to boot both default and fallback entries.", "", "Press any key to continue..."])
    assert a.outcome == "failure"
    (f,) = by_category(a)["boot.bootloader-error"]
    assert f.rule == "grub-boot-entries-failed"
    # one finding for the whole wait (the error, GRUB's wait, its closing words), naming the error
    assert f.fields["error"] == "no server is specified" and "Press any key" in f.evidence[-1].text


def test_grubs_closing_words_give_way_to_the_rule_that_names_the_error_before_them(catalog):
    a = run_lines(catalog, GRUB_FAILED)
    assert a.outcome == "failure"
    assert [f.rule for f in by_category(a)["boot.bootloader-error"]] == ["grub-kernel-not-found"]


def test_grub_entries_failing_are_moot_when_an_entry_picked_at_the_menu_boots(catalog):
    a = run_lines(catalog, GRUB_FAILED + ["  Booting `Debian GNU/Linux'", LINUX])
    assert "grub-boot-entries-failed" not in {f.rule for f in a.findings()}


def test_uboot_refusing_its_kernel_image_is_a_boot_loader_failure(catalog):
    a = run_lines(catalog, UBOOT_WRONG)
    assert a.outcome == "failure"
    assert {f.rule for f in by_category(a)["boot.bootloader-error"]} == {"uboot-kernel-image-rejected"}


def test_uboot_image_errors_are_moot_when_the_boot_script_boots_another_target(catalog):
    a = run_lines(catalog, UBOOT_WRONG + UBOOT_OK)
    assert "uboot-kernel-image-rejected" not in {f.rule for f in a.findings()}


def test_bhyveload_killed_by_a_signal_fails_and_a_guest_shells_segfault_does_not(catalog):
    a = run_lines(catalog, ["Loading kernel...", "Loading configured modules...", "Abort trap (core dumped)"])
    assert a.outcome == "failure" and by_category(a)["boot.bootloader-error"][0].fields["signal"] == "Abort trap"
    b = run_lines(catalog, ["[   12.345678] systemd[1]: Started Journal Service.", "Segmentation fault"])
    assert "freebsd-loader-killed" not in {f.rule for f in b.findings()}


def test_waagent_waiting_for_a_cloud_init_that_is_not_running_is_a_provisioning_error_not_a_failure(catalog):
    a = run_lines(catalog, [
        "2020/09/22 19:10:07.731212 INFO Daemon Waiting for cloud-init to copy ovf-env.xml to "
        "/var/lib/waagent/ovf-env.xml [1706 retries remaining, sleeping 1s]",
        "2020/09/22 19:10:07.736384 WARNING Daemon cloud-init does not appear to be running"])
    # round 13: the wait itself, still running when the capture ends, is waagent-waiting-for-cloud-init's stall
    assert {f.rule for f in by_category(a)["cloudinit.error"]} == {"waagent-cloud-init-not-running", "waagent-waiting-for-cloud-init"}
    assert a.outcome != "failure"


def test_a_failed_talos_sequence_fails_the_boot_and_a_failed_reboot_sequence_is_not_a_boot(catalog):
    a = run_lines(catalog, ["[talos] phase config (6/6): failed", "[talos] initialize sequence: failed"])
    assert a.outcome == "failure"
    assert {f.rule for f in by_category(a)["cloudinit.error"]} == {"talos-sequence-failed"}
    assert not run_lines(catalog, ["[talos] reboot sequence: failed"]).findings()


def test_scaleways_initrd_failing_to_report_the_state_is_a_provisioning_error(catalog):
    a = run_lines(catalog, [">>> 'scw-update-server-state -s booted' failed"])
    assert [f.rule for f in by_category(a)["cloudinit.error"]] == ["scaleway-initrd-state-signal-failed"]


def test_mkinitcpio_not_finding_the_root_is_named_before_its_emergency_shell(catalog):
    a = run_lines(catalog, MKINITCPIO)
    assert a.outcome == "failure"
    cats = by_category(a)
    (root,) = cats["disk.root-not-found"]
    assert root.rule == "initramfs-root-device-not-found" and root.fields["root"] == "/dev/sda3"
    assert "init.emergency-mode" in cats
    order = [f.category for f in a.findings()]
    assert order.index("disk.root-not-found") < order.index("init.emergency-mode")


def test_an_nfs_root_is_no_missing_device(catalog):
    a = run_lines(catalog, NFS_ROOT)
    assert "disk.root-not-found" not in by_category(a)


def test_cloud_inits_table_without_an_address_shows_no_lease_and_a_healthy_one_does_not(catalog):
    a = run_lines(catalog, _netinfo_no_address())
    assert [f.rule for f in by_category(a)["network.dhcp.no-lease"]] == ["cloudinit-netinfo-no-address"]
    assert "network.dhcp.no-lease" not in by_category(run_lines(catalog, NETINFO_OK))


def test_a_net_table_cut_off_before_its_rows_decides_nothing(catalog):
    a = run_lines(catalog, _netinfo_no_address()[:2])
    assert "network.dhcp.no-lease" not in by_category(a)


def test_an_opensbi_trap_error_hangs_the_machine(catalog):
    a = run_lines(catalog, ["[  570.094646] reboot: Restarting system",
                            "sbi_trap_error: hart0: illegal instruction handler failed (error -2)",
                            "sbi_trap_error: hart0: mcause=0x0000000000000002 mtval=0x0000000000000000"])
    assert a.outcome == "stall"
    assert [f.rule for f in by_category(a)["boot.stall"]] == ["opensbi-trap-hang"]



#: samples/qemu-first-boot-reboot-then-ready/serial.log, lines 354-357
RESTART = ["[    3.484065] reboot: Restarting system", "[    3.484235] reboot: machine restart"]
FIRMWARE = ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from ROM..."]


def test_a_console_that_ends_at_restarting_system_is_a_machine_that_never_reset(catalog):
    a = run_lines(catalog, ["[  OK  ] Reached target Reboot."] + RESTART)
    assert a.outcome == "stall"
    assert [f.rule for f in by_category(a)["boot.stall"]] == ["reboot-never-reset"]


def test_a_restart_the_firmware_answered_is_no_stall(catalog):
    a = run_lines(catalog, RESTART + FIRMWARE)
    assert "reboot-never-reset" not in {f.rule for f in a.findings()}
    assert len(a.boots) == 2


def test_a_restart_after_a_boot_that_came_up_keeps_its_verdict(catalog):
    a = run_lines(catalog, FIRMWARE + [LINUX, "debian login: "] + RESTART)
    assert a.outcome == "success" and "reboot-never-reset" not in {f.rule for f in a.findings()}


def test_a_restart_cut_off_after_an_earlier_restart_that_was_answered_is_where_the_capture_stopped(catalog):
    a = run_lines(catalog, FIRMWARE + RESTART + FIRMWARE + RESTART)
    assert len(a.boots) == 2 and a.outcome == "unknown"
    assert "reboot-never-reset" not in {f.rule for f in a.findings()}


def test_boot_sector_code_giving_up_is_a_boot_loader_error_unless_another_device_boots(catalog):
    # Ubuntu forum posts (search-index files 56925841728, 56786231262)
    a = run_lines(catalog, ["GRUB GRUB loading stage1.5", "GRUB Hard Disk Error"])
    assert a.outcome == "failure" and by_category(a)["boot.bootloader-error"][0].fields["error"] == "Hard Disk"
    b = run_lines(catalog, ["PXE-M0F: Exiting Intel PXE ROM.", "", "Missing operating system.", "",
                            "Reboot and Select proper Boot device", "or Insert Boot Media and press a key"])
    assert "boot-sector-code-error" in {f.rule for f in b.findings()} and b.outcome == "failure"
    c = run_lines(catalog, ["Missing operating system.", LINUX])
    assert "boot-sector-code-error" not in {f.rule for f in c.findings()}


def test_uboot_failing_to_decompress_the_kernel_is_the_same_family(catalog):
    # a forum post on a D-Link DWR-921 (search-index file 20907664178)
    a = run_lines(catalog, ["   Uncompressing Kernel Image", "lzma compressed: uncompress error 1",
                            "Must RESET board to recover"])
    assert {f.rule for f in by_category(a)["boot.bootloader-error"]} == {"uboot-kernel-image-rejected"}


#: synthetic: cloud-init 23.x url_helper.dual_stack()'s warnings (search-index file 467571588)
DUAL_STACK = ("2023-08-04 09:56:20,232 - url_helper.py[WARNING]: Exception(s) [ConnectTimeoutError(), "
              "ConnectTimeoutError()] during request to http://169.254.169.254/latest/api/token, raising last exception")
#: search index file id 45400316007 (an EC2 Ubuntu 18.04 console): the datasource found
FOUND = ("Cloud-init v. 19.4-33-gbb4131a2-0ubuntu1~18.04.1 finished at Wed, 08 Apr 2020 17:22:21 +0000. "
         "Datasource DataSourceEc2Local.")


def test_cloud_inits_dual_stack_request_failing_is_metadata_unreachable_until_a_datasource_is_found(catalog):
    a = run_lines(catalog, [DUAL_STACK])
    assert [f.rule for f in by_category(a)["network.metadata-unreachable"]] == ["metadata-unreachable"]
    assert "network.metadata-unreachable" not in by_category(run_lines(catalog, [DUAL_STACK, FOUND]))


def test_a_metadata_url_cloud_init_cannot_parse_is_its_own_error(catalog):
    a = run_lines(catalog, ["2023-08-04 09:56:20,232 - url_helper.py[WARNING]: Exception(s) [UrlError('Failed to parse: "
                            "http://169.254.169.254/latest/api/token')] during request to "
                            "http://169.254.169.254/latest/api/token, raising last exception"])
    cats = by_category(a)
    assert [f.rule for f in cats["cloudinit.error"]] == ["cloudinit-metadata-url-unparsable"]
    assert "network.metadata-unreachable" not in cats


def test_a_vmm_that_cannot_load_the_kernel_fails_the_boot_before_the_guest_runs(catalog):
    # LKP mailing-list message (search-index file 53598874100)
    a = run_lines(catalog, ["qemu-system-x86_64: Error loading uncompressed kernel without PVH ELF Note"])
    assert a.outcome == "failure"
    assert [f.rule for f in by_category(a)["boot.bootloader-error"]] == ["vmm-kernel-load-failed"]


def test_windows_setup_that_cannot_finish_configuring_fails_provisioning(catalog):
    # a blog post on a sysprepped Windows 2008 R2 VM (search-index file 24096632977)
    a = run_lines(catalog, ["Windows could not finish configuring the system. To attempt to resume configuration, "
                            "restart the computer."])
    assert a.outcome == "failure"
    assert [f.rule for f in by_category(a)["cloudinit.error"]] == ["windows-setup-cannot-proceed"]
