"""Provisioning across releases, file systems beyond the root and unit failures that decide
nothing (issue 10, sixth round), as a user meets them with the shipped catalog: the category,
the verdict and the outcome `analyze` prints, and nothing on the healthy look-alikes.

Each line names where it was seen: a public thread, a mail or page in the search index (by file
id; the rule samples cite the same), a program or QEMU boot run here, or, where no console here
shows the message, the source that prints it (said so: "synthetic").
"""

from __future__ import annotations

import re
from pathlib import Path

from consolewatch.detect.checks import run_lines

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

#: search-index file id 54535042136: cloud-init 26.1 on EC2, a user-data script failing
CLOUDINIT_26_SCRIPTS = [
    "2026-06-08 07:41:28,782 - cc_scripts_user.py[WARNING]: Failed to run module scripts_user "
    "(scripts in /var/lib/cloud/instance/scripts)",
    "2026-06-08 07:41:28,782 - log_util.py[WARNING]: Running module scripts_user (<module "
    "'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/config/"
    "cc_scripts_user.py'>) failed",
    "Cloud-init v. 26.1-0ubuntu1~24.04.1 finished at Mon, 08 Jun 2026 07:41:28 +0000. "
    "Datasource DataSourceEc2Local.  Up 43.38 seconds",
]
#: search-index file id 10142121012: the module starting (DEBUG), scripts that ran
CLOUDINIT_SCRIPTS_RUNNING = ["2023-11-07 03:49:12,959 - modules.py[DEBUG]: Running module scripts_user (<module "
                             "'cloudinit.config.cc_scripts_user' from '/usr/lib/python3/dist-packages/cloudinit/"
                             "config/cc_scripts_user.py'>) with frequency once-per-instance"]
#: synthetic: cloudinit/subp.py runparts() (search-index file id 645131354), its exception and its noexec warning
RUNPARTS_RAISED = ["RuntimeError: Runparts: 1 failures (part-001) in 1 attempted commands"]
RUNPARTS_NOEXEC = ["2024-05-02 10:11:12,345 - subp.py[WARNING]: skipping /var/lib/cloud/instance/scripts/part-001 "
                   "as its not executable or the underlying file system is mounted without executable permissions."]
#: Ignition 2.14.0 (Debian) run here with -log-to-stdout: a file marked gzip that is not
IGNITION_OP_FAILED = ['CRITICAL : files: createFilesystemsFiles: createFiles: op(1): [failed]   writing file '
                      '"/tmp/rus/ign/root/etc/t-gzip": gzip: invalid header']
IGNITION_OP_STARTED = ['INFO     : files: createFilesystemsFiles: createFiles: op(1): [started]  writing file '
                       '"/tmp/rus/ign/root/etc/t-gzip"']
#: https://github.com/openshift/os/issues/394 (the stage's unit failing)
IGNITION_UNIT = ["[   17.916368] systemd[1]: Failed to start Ignition (fetch)."]
#: https://github.com/siderolabs/talos/issues/9000 (config on STATE does not parse) and #10282 (user data a script)
TALOS_STATE = ['10/07/2024 16:28:41 [talos] task loadConfig (1/1): starting',
               '10/07/2024 16:28:44 [talos] controller failed {"component": "controller-runtime", "controller": '
               '"config.AcquireController", "error": "failed to load config from STATE: decode error: yaml: line '
               '570: could not find expected \':\'"}']
TALOS_NOCLOUD = ['[talos] fetching machine config from: cidata/user-data',
                 '[talos] controller failed {"component": "controller-runtime", "controller": '
                 '"config.AquireController", "error": "failed to load config via platform nocloud: expected a '
                 'mapping node"}']

#: QEMU boot here (guest kit, Debian 6.1 cloud kernel): an XFS made on 320 MiB, its disk cut to 300 MiB
XFS_PAST_END = ["[    6.070419] mount: attempt to access beyond end of device",
                "[    6.070419] vda: rw=4096, sector=655359, nr_sectors = 1 limit=614400",
                "[    6.071028] XFS (vda): last sector read failed",
                "mount: mounting /dev/vda on /mnt/a failed: Input/output error"]
#: linux-xfs mail in the search index, file id 28127071485 (4.15, after lvreduce): the pre-5.10 wording
XFS_PAST_END_415 = ["[162580.208796] attempt to access beyond end of device",
                    "[162580.208800] dm-3: rw=4096, want=6650552320, limit=6640066560",
                    "[162580.208805] XFS (dm-3): last sector read failed"]
#: the same QEMU boot: an ext4 data disk mounted with a misspelt option; tmpfs with one (not a disk's)
EXT4_BAD_OPTION = ["[    6.096680] ext4: Unknown parameter 'discrad'",
                   "mount: mounting /dev/vdb on /mnt/b failed: Invalid argument"]
TMPFS_BAD_OPTION = ["[    2.794106] tmpfs: Unknown parameter 'sizee'",
                    "mount: mounting tmpfs on /mnt/t failed: Invalid argument"]
#: e2fsck 1.47.0 run here with -p: an unknown incompatible feature bit; a healthy image
E2FSCK_TOO_OLD = ["f1.img has unsupported feature(s): FEATURE_I31", "e2fsck: Get a newer version of e2fsck!"]
E2FSCK_CLEAN = ["f3.img: clean, 11/4096 files, 2325/16384 blocks"]
#: e2fsck 1.47.0 run here with -p on an image whose magic was zeroed: its stdout only
E2FSCK_NO_SUPERBLOCK = ["f2.img: ", "The superblock could not be read or does not describe a valid ext2/ext3/ext4",
                        "filesystem.  If the device is valid and it really contains an ext2/ext3/ext4"]
#: a CentOS 7 journal in the search index, file id 8697616922: fsck exits 8 and systemd-fsck ignores it
FSCK_IGNORED = ["[   1.588895] ccl systemd-fsck[265]: fsck.ext2: No such file or directory while trying to open "
                "/dev/mapper/vg_centos64-lv_root",
                "[   1.589337] ccl systemd-fsck[265]: Possibly non-existent device?",
                "[   1.590900] ccl systemd-fsck[265]: fsck failed with error code 8.",
                "[   1.591091] ccl systemd-fsck[265]: Ignoring error.",
                "[   1.591344] ccl systemd[1]: Started File System Check on /dev/mapper/vg_centos64-lv_root."]
#: an LKML mail in the search index, file id 22405422958 (an old dracut initramfs)
OLD_DRACUT = ['[  147.184948] dracut Warning: No root device "block:/dev/mapper/vg_paex623-lv_root" found']
#: synthetic: nixpkgs nixos/modules/system/activation/activation-script.nix's printf for a failed snippet
NIXOS_ACTIVATION = ["Activation script snippet 'users' failed (1)"]
#: https://github.com/foundriesio/meta-lmp/pull/212 (an fstab mount failing)
MOUNT_FAILED = ["[FAILED] Failed to mount /var/volatile."]
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log, lines 66-71: a boot going on
GOING_ON = ["[  OK  ] Started Notify NFS peers of a restart.",
            "[  OK  ] Started Permit User Sessions.",
            "[  OK  ] Started Getty on tty1.",
            "[  OK  ] Started Command Scheduler.",
            "[  OK  ] Started Serial Getty on ttyS0.",
            "[  OK  ] Reached target Login Prompts."]
#: linux-xfs mail in the search index, file id 25801804432 (the 6.x shutdown wording)
XFS_SHUTDOWN = ["XFS (vdc): Corruption of in-memory data (0x8) detected at xfs_trans_mod_sb+0x2a4/0x310 "
                "(fs/xfs/xfs_trans.c:353).  Shutting down filesystem."]


def _by_rule(a) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in a.findings():
        out.setdefault(f.rule, []).append(f)
    return out


def _serial(name: str) -> list[bytes]:
    return (SAMPLES / name / "serial.log").read_bytes().splitlines()


def _plain(line: bytes) -> str:
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\r", b"", line).decode("utf-8", "replace")


def test_user_scripts_failing_under_cloud_init_26_leave_a_finished_boot_unknown(catalog):
    a = run_lines(catalog, CLOUDINIT_26_SCRIPTS)
    f = _by_rule(a)["cloudinit-user-scripts-failed"][0]
    assert (f.category, f.severity, f.fields.get("module")) == ("cloudinit.error", "error", "scripts_user")
    assert a.outcome == "unknown"  # cloud-init finished (ready), but not as it was asked to
    assert run_lines(catalog, CLOUDINIT_SCRIPTS_RUNNING).findings() == []


def test_cloud_init_names_failed_and_skipped_scripts_in_its_newer_wording(catalog):
    [f] = run_lines(catalog, RUNPARTS_RAISED).findings()
    assert (f.rule, f.fields.get("script"), f.fields.get("failures")) == ("cloudinit-user-scripts-failed",
                                                                          "part-001", "1")
    [f] = run_lines(catalog, RUNPARTS_NOEXEC).findings()
    assert (f.rule, f.fields.get("script")) == ("cloudinit-user-scripts-failed",
                                                "/var/lib/cloud/instance/scripts/part-001")


def test_an_ignition_operation_or_stage_failing_alone_is_the_provisioning_failure(catalog):
    for lines in (IGNITION_OP_FAILED, IGNITION_UNIT):
        a = run_lines(catalog, lines)
        assert "ignition-provisioning-failed" in _by_rule(a), lines
        assert a.outcome == "failure", lines
    assert _by_rule(run_lines(catalog, IGNITION_OP_FAILED))["ignition-provisioning-failed"][0].fields["stage"] == "files"
    assert run_lines(catalog, IGNITION_OP_STARTED).findings() == []


def test_talos_failing_to_load_its_machine_config_is_a_provisioning_failure(catalog):
    for lines in (TALOS_STATE, TALOS_NOCLOUD):
        [f] = run_lines(catalog, lines).findings()
        assert (f.rule, f.category) == ("talos-config-load-failed", "cloudinit.error"), lines
        assert "failed to load config" in f.remediation
    assert run_lines(catalog, TALOS_STATE[:1] + TALOS_NOCLOUD[:1]).findings() == []


def test_a_file_system_past_the_end_of_its_disk_is_the_cause_of_the_failed_mount(catalog):
    for lines, device in ((XFS_PAST_END, "vda"), (XFS_PAST_END_415, "dm-3")):
        by = _by_rule(run_lines(catalog, lines))
        f = by["fs-beyond-end-of-device"][0]
        assert (f.category, f.fields.get("device")) == ("disk.fs-error", device), lines
    by = _by_rule(run_lines(catalog, XFS_PAST_END))
    assert by["mount-failed"][0].suppressed_by == "fs-beyond-end-of-device"  # the cause first
    assert run_lines(catalog, ["sr0: rw=0, want=4194308, limit=4194304"]).findings() == []


def test_a_misspelt_mount_option_is_named_but_not_on_a_memory_file_system(catalog):
    by = _by_rule(run_lines(catalog, EXT4_BAD_OPTION))
    f = by["fs-mount-option-rejected"][0]
    assert (f.fields.get("fstype"), f.fields.get("option")) == ("ext4", "discrad")
    assert '"discrad"' in f.remediation
    assert run_lines(catalog, TMPFS_BAD_OPTION).findings() == []


def test_e2fsck_too_old_for_the_file_system_and_its_superblock_advice(catalog):
    found = run_lines(catalog, E2FSCK_TOO_OLD).findings()
    assert {f.rule for f in found} == {"fsck-unsupported-features"}
    assert found[0].fields.get("features") == "FEATURE_I31"
    [f] = run_lines(catalog, E2FSCK_NO_SUPERBLOCK).findings()
    assert f.rule == "fsck-bad-superblock" and "{" not in f.remediation
    assert run_lines(catalog, E2FSCK_CLEAN).findings() == []


def test_an_fsck_failure_that_systemd_fsck_ignores_decides_nothing(catalog):
    a = run_lines(catalog, FSCK_IGNORED)
    assert a.findings() == []  # neither the missing device nor fsck's status stopped anything
    assert a.outcome != "failure"
    a = run_lines(catalog, FSCK_IGNORED[:3])  # the same failure with nothing after it
    assert _by_rule(a)["fsck-died"][0].fields.get("status") == "8"
    assert "fstab-device-missing" in _by_rule(a)
    assert a.outcome == "failure"


def test_an_fstab_mount_failing_stops_the_boot_unless_the_boot_goes_on(catalog):
    a = run_lines(catalog, MOUNT_FAILED)
    assert (a.outcome, _by_rule(a)["fstab-mount-failed"][0].fields.get("description")) == ("failure", "/var/volatile")
    a = run_lines(catalog, MOUNT_FAILED + GOING_ON)  # nofail: units started after it
    assert a.outcome == "unknown"
    assert _by_rule(a)["fstab-mount-failed"][0].verdict == "none"


def test_real_systemd_boots_with_a_required_and_an_optional_data_mount(catalog):
    a = run_lines(catalog, _serial("qemu-systemd-data-mount-required-emergency"))
    by = _by_rule(a)
    assert a.outcome == "failure"
    assert {"fstab-mount-failed", "local-fs-dependency-failed", "emergency-mode"} <= set(by)
    # systemd 252's status line alone names local-fs.target, cut short
    status = [line for line in _serial("qemu-systemd-data-mount-required-emergency")
              if re.match(r"\[(?:  OK  |FAILED|DEPEND)\] ", _plain(line))]
    assert "local-fs-dependency-failed" in _by_rule(run_lines(catalog, status))
    a = run_lines(catalog, _serial("qemu-systemd-data-mount-nofail-ready"))
    assert a.outcome == "success"
    f = _by_rule(a)["fstab-mount-failed"][0]
    assert (f.severity, f.demoted_from) == ("warning", "error")  # a problem that did not stop it


def test_a_file_system_report_the_boot_went_past_decides_nothing(catalog):
    assert run_lines(catalog, XFS_SHUTDOWN).outcome == "failure"
    a = run_lines(catalog, XFS_SHUTDOWN + GOING_ON)
    assert a.outcome == "unknown"
    assert [f.severity for f in a.findings()] == ["error"]  # still reported at its severity


def test_old_dracut_and_nixos_activation_wordings(catalog):
    [f] = run_lines(catalog, OLD_DRACUT).findings()
    assert (f.rule, f.fields.get("device")) == ("dracut-root-missing", "/dev/mapper/vg_paex623-lv_root")
    [f] = run_lines(catalog, NIXOS_ACTIVATION).findings()
    assert (f.rule, f.category, f.severity, f.fields.get("snippet")) == (
        "nixos-activation-snippet-failed", "init.unit-failed", "warning", "users")


def test_hostile_bytes_around_the_new_lines_stay_bounded(catalog):
    noise = ["\x1b[31m" + "A" * 20000 + "\x00\xff", "ext4: Unknown parameter '" + "x" * 5000, "op(zz): [failed]"]
    a = run_lines(catalog, noise + EXT4_BAD_OPTION)
    assert "fs-mount-option-rejected" in _by_rule(a)
    assert all("\x1b" not in e.text for f in a.findings() for e in f.evidence)


#: synthetic: systemd's status line with StatusUnitFormat=name (systemd-system.conf(5), 243+)
BY_UNIT_NAME = {"cloudinit-unit-failed": "[FAILED] Failed to start cloud-init.service.",
                "ignition-provisioning-failed": "[FAILED] Failed to start ignition-disks.service.",
                "afterburn-failed": "[FAILED] Failed to start afterburn-sshkeys@core.service."}


def test_provisioning_units_named_by_unit_name_are_provisioning_failures(catalog):
    for rule, line in BY_UNIT_NAME.items():
        by = _by_rule(run_lines(catalog, [line]))
        assert rule in by and by[rule][0].category == "cloudinit.error", line
    assert run_lines(catalog, ["[  OK  ] Started cloud-final.service."]).findings() == []


def test_rescue_shell_and_the_rhel_repair_prompt_are_emergency_mode(catalog):
    # synthetic: rescue.service's Description (Debian 12 systemd 252); RHEL 5-6 rc.sysinit's PS1
    for line in ("[  OK  ] Started rescue.service - Rescue Shell.", "(Repair filesystem) 1 # "):
        a = run_lines(catalog, [line])
        assert {f.category for f in a.findings()} == {"init.emergency-mode"}, line
        assert a.outcome == "failure", line


#: e2fsck 1.47.0 run here: -p repairs a cleared journal inode (exit 1); -p gives up on a root
#: inode that is not a directory (exit 4)
E2FSCK_REPAIRED = ["j1.img: Superblock has an invalid journal (inode 8).", "CLEARED.",
                   "*** journal has been deleted ***", "", "j1.img: Recreate journal.",
                   "Creating journal (1024 blocks):  Done.", "", "*** journal has been regenerated ***",
                   "j1.img: 11/4096 files (0.0% non-contiguous), 2325/16384 blocks"]
E2FSCK_MANUAL = ["f3.img contains a file system with errors, check forced.", "f3.img: Root inode is not a directory.  ",
                 "", "f3.img: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.", "\t(i.e., without -a or -p options)"]


def test_fsck_repairing_errors_is_a_warning_and_giving_up_is_not_called_a_repair(catalog):
    a = run_lines(catalog, E2FSCK_REPAIRED)
    [f] = a.findings()
    assert (f.rule, f.severity, f.verdict, f.fields.get("device")) == ("fsck-repaired-errors", "warning", "none", "j1.img")
    assert a.outcome != "failure"
    a = run_lines(catalog, E2FSCK_MANUAL)
    assert {f.rule for f in a.findings()} == {"fsck-manual-required"}
    assert a.outcome == "failure"


def test_emergency_mode_by_unit_name(catalog):
    # synthetic: systemd's status lines with StatusUnitFormat=name (systemd-system.conf(5))
    for line in ("[  OK  ] Reached target emergency.target.", "[  OK  ] Started emergency.service."):
        assert {f.category for f in run_lines(catalog, [line]).findings()} == {"init.emergency-mode"}, line
    assert run_lines(catalog, ["[  OK  ] Reached target multi-user.target."]).outcome == "success"


def test_a_real_boot_with_status_lines_by_unit_name_is_read_like_the_described_one(catalog):
    # samples/qemu-systemd-data-mount-required-by-name: systemd 252, systemd.status_unit_format=name
    status = [line for line in _serial("qemu-systemd-data-mount-required-by-name")
              if re.match(r"\[(?:  OK  |FAILED|DEPEND)\] ", _plain(line))]
    by = _by_rule(run_lines(catalog, status))
    assert {"fstab-mount-failed", "local-fs-dependency-failed", "emergency-mode"} <= set(by)
    assert by["fstab-mount-failed"][0].fields.get("description") == "data.mount"
    assert run_lines(catalog, ["[FAILED] Failed to mount sys-kernel-debug.mount."]).outcome != "failure"


def test_cloud_init_ephemeral_dhcp_without_a_lease_is_a_provisioning_warning(catalog):
    # synthetic: cloudinit/net/dhcp.py's warning and exception class (search-index file id 70598947660)
    for line in ("2024-05-02 10:11:12,345 - dhcp.py[WARNING]: dhclient did not produce expected files: "
                 "dhcp.leases, dhclient.pid", "cloudinit.net.dhcp.NoDHCPLeaseError"):
        [f] = run_lines(catalog, [line]).findings()
        assert (f.rule, f.category, f.severity) == ("cloudinit-ephemeral-dhcp-failed", "cloudinit.error", "warning")
        assert "{" not in f.remediation
