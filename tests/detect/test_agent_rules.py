"""Provisioning agents other than cloud-init, and file systems beyond the root (issue 10, items 3-4),
as a user meets them with the shipped catalog: the category, the severity and the verdict
`analyze` prints, and nothing on the healthy look-alikes.

Each line names where it was seen: a public thread, a mail or page in the search index (by file
id; the rule samples cite the same), a program run here, or, where no console here shows the
message, the source that prints it (said so: "synthetic").
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found

#: https://github.com/GoogleCloudPlatform/guest-agent/issues/134 (the agent's start: a ready milestone)
GCE_AGENT_STARTED = ("Oct 06 20:52:08 xxx GCEGuestAgent[572]: 2021-10-06T20:52:08.8406Z GCEGuestAgent Info: "
                     "GCE Agent Started (version 20210414.00-0ubuntu1~20.04.0)")
#: https://github.com/GoogleCloudPlatform/guest-agent/issues/237 (Go runner, 2023)
GCE_SCRIPT_127 = [
    "2023-07-31T18:30:50.370996+00:00 localhost google_metadata_script_runner[740]: startup-script: /bin/bash: "
    "line 1: /tmp/metadata-scripts1655415343/startup-script: cannot execute: required file not found",
    "2023-07-31T18:30:50.378383+00:00 localhost google_metadata_script_runner[740]: startup-script exit status 127",
    "2023-07-31T18:30:50.378487+00:00 localhost google_metadata_script_runner[740]: Finished running startup scripts.",
]
#: https://github.com/GoogleCloudPlatform/getting-started-java/pull/180 (the Python runner's wording)
GCE_SCRIPT_PYTHON = ["Jan 12 03:31:25 my-app-instance startup-script: INFO startup-script:    Active: inactive (dead)",
                     "Jan 12 03:32:26 my-app-instance startup-script: INFO startup-script: Return code 3."]
#: https://github.com/kubernetes-sigs/cluster-api-provider-azure/issues/3232 (cloudbase-init 1.1.4)
CLOUDBASE = [
    "2023-03-08 07:47:10.626 7044 INFO cloudbaseinit.init [-] Executing plugin 'CreateUserPlugin'",
    "2023-03-08 07:47:10.635 7044 ERROR cloudbaseinit.init [-] plugin 'CreateUserPlugin' failed with error "
    "'Renaming user failed: The account already exists.': cloudbaseinit.exception.CloudbaseInitException: "
    "Renaming user failed: The account already exists.",
]
#: Ignition 2.14.0 (Debian ignition 2.14.0+ds1-1+b6) run with -log-to-stdout: a spec 2.1.0 config
IGNITION = ["INFO     : Stage: fetch",
            "WARNING  : failed to fetch config: unsupported config version",
            "CRITICAL : failed to acquire config: unsupported config version",
            "CRITICAL : Ignition failed: unsupported config version"]
#: https://github.com/coreos/ignition/issues/1514 (fetch-offline asking for the network: normal)
IGNITION_NEEDS_NETWORK = ["Failed to fetch config: resource requires networking"]
#: search-index file id 14685600857 (a serial console quoted in a Terraform file)
RUNPARTS = ["[   46.537391] cloud-init[3430]: Sep 01 09:25:32 cloud-init[3430]: util.py[WARNING]: "
            "Failed running /var/lib/cloud/instance/scripts/part-001 [2]"]
#: synthetic: WALinuxAgent 2.0.16 `waagent` Agent.Provision()'s mount loop, and its VMM probe before it
WAAGENT20_RETRY = ["2015/08/20 12:22:04 Provisioning image started.",
                   "2015/08/20 12:22:04 mount failed on attempt #1",
                   "2015/08/20 12:22:09 mount failed on attempt #2"]
WAAGENT20_VMM_PROBE = ["2015/08/20 12:21:50 mount failed on attempt #2",
                       "2015/08/20 12:21:55 VMM Init script not found.  Provisioning for Azure"]
#: synthetic: systemd's failure line with afterburn's unit description (systemd/afterburn-sshkeys@.service.in)
AFTERBURN = ["[FAILED] Failed to start Afterburn (SSH Keys)."]
#: linux-xfs mail in the search index, file id 25801804432 (the 6.x shutdown wording) and 19182998242 (loop)
XFS_SHUTDOWN = ["XFS (vdc): Corruption of in-memory data (0x8) detected at xfs_trans_mod_sb+0x2a4/0x310 "
                "(fs/xfs/xfs_trans.c:353).  Shutting down filesystem.",
                "XFS (vdc): Please unmount the filesystem and rectify the problem(s)"]
XFS_LOOP = ["[  190.302808] XFS (loop5): Log I/O Error (0x6) detected at xfs_fs_goingdown+0x93/0xd0 [xfs] "
            "(fs/xfs/xfs_fsops.c:458).  Shutting down filesystem."]
#: usrp-users mail in the search index, file id 24968358984 (a data partition's fsck fails)
FSCK_UNIT = ["[  OK  ] Started File System Check on /dev/mmcblk0p1.",
             "[FAILED] Failed to start File System Check on /dev/mmcblk0p4.",
             "See 'systemctl status systemd-fsck@dev-mmcblk0p4.service' for details.",
             "[DEPEND] Dependency failed for /data.",
             "[DEPEND] Dependency failed for Local File Systems."]
#: e2fsck 1.47.0 (Debian 12) run here with -p on ext4 made on 64 MiB, truncated to 32 MiB
E2FSCK_SIZE = ["d.img: The filesystem size (according to the superblock) is 65536 blocks",
               "The physical size of the device is 32768 blocks",
               "Either the superblock or the partition table is likely to be corrupt!"]


def test_a_failed_gce_startup_script_leaves_a_machine_that_came_up_unknown(catalog):
    for lines in (GCE_SCRIPT_127, GCE_SCRIPT_PYTHON):
        a = run_lines(catalog, [GCE_AGENT_STARTED, *lines])
        [f] = _found(a)["cloudinit.error"]
        assert (f.rule, f.severity) == ("gce-startup-script-failed", "error"), lines
        assert a.outcome == "unknown", lines  # up, but not as it was asked to be
    assert "status 3" in run_lines(catalog, GCE_SCRIPT_PYTHON).findings()[0].remediation


def test_a_gce_startup_script_that_succeeded_is_a_healthy_boot(catalog):
    a = run_lines(catalog, [GCE_AGENT_STARTED,
                            "google_metadata_script_runner[740]: startup-script exit status 0",
                            GCE_SCRIPT_127[-1]])
    assert a.outcome == "success"
    assert "cloudinit.error" not in _found(a)
    assert [f for f in a.findings() if f.severity in ("error", "critical")] == []


def test_a_windows_provisioning_plugin_failing_is_a_provisioning_error(catalog):
    a = run_lines(catalog, CLOUDBASE)
    [f] = a.findings()
    assert (f.category, f.severity, f.fields.get("plugin")) == ("cloudinit.error", "error", "CreateUserPlugin")
    assert "The account already exists" in f.remediation
    assert a.outcome == "unknown"  # Windows boots on
    assert run_lines(catalog, CLOUDBASE[:1]).findings() == []


def test_ignition_giving_up_is_a_provisioning_failure_and_a_failed_unit(catalog):
    a = run_lines(catalog, IGNITION)
    found = _found(a)
    assert a.outcome == "failure"
    assert set(found) == {"cloudinit.error", "init.unit-failed"}
    assert "unsupported config version" in found["cloudinit.error"][0].remediation
    assert run_lines(catalog, IGNITION_NEEDS_NETWORK).findings() == []
    assert run_lines(catalog, IGNITION[:2]).findings() == []  # a fetch that Ignition retries


def test_a_user_script_run_by_cloud_init_failing_is_named_from_its_runparts_line(catalog):
    a = run_lines(catalog, RUNPARTS)
    [f] = a.findings()
    assert (f.rule, f.severity, f.fields.get("status")) == ("cloudinit-user-scripts-failed", "error", "2")


def test_waagent_retrying_the_provisioning_dvd_is_a_warning_but_its_vmm_probe_is_nothing(catalog):
    a = run_lines(catalog, WAAGENT20_RETRY)
    [f] = a.findings()
    assert (f.rule, f.category, f.severity) == ("waagent-dvd-mount-failing", "cloudinit.error", "warning")
    assert a.outcome == "unknown"
    assert run_lines(catalog, WAAGENT20_VMM_PROBE).findings() == []
    assert run_lines(catalog, WAAGENT20_RETRY[:2]).findings() == []  # one failed try may be followed by success


def test_afterburn_failing_is_a_provisioning_error_next_to_the_unit(catalog):
    found = _found(run_lines(catalog, AFTERBURN))
    assert set(found) == {"cloudinit.error", "init.unit-failed"}
    assert found["cloudinit.error"][0].fields.get("description") == "Afterburn (SSH Keys)"


def test_xfs_shutting_a_disk_down_is_a_file_system_error_but_not_on_a_loop_device(catalog):
    [f] = _found(run_lines(catalog, XFS_SHUTDOWN))["disk.fs-error"]
    assert f.fields.get("device") == "vdc"
    assert run_lines(catalog, XFS_LOOP).findings() == []


def test_a_data_disk_whose_fsck_unit_fails_is_a_file_system_error(catalog):
    a = run_lines(catalog, FSCK_UNIT)
    found = _found(a)
    assert found["disk.fs-error"][0].fields.get("device") == "/dev/mmcblk0p4"
    assert "init.unit-failed" in found  # Local File Systems: the boot goes to emergency mode
    assert a.outcome == "failure"
    assert run_lines(catalog, FSCK_UNIT[:1]).findings() == []


def test_e2fsck_refusing_a_file_system_larger_than_its_disk_is_the_size_mismatch(catalog):
    [f] = run_lines(catalog, E2FSCK_SIZE).findings()
    assert (f.rule, f.fields.get("blocks")) == ("ext4-size-mismatch", "65536")
    assert "fewer" in f.remediation and "{" not in f.remediation
