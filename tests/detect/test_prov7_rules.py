"""File-system and provisioning failures across versions (issue 10, seventh round): the wordings
older kernels, other boot-time checkers and other provisioning agents print, with the category,
the verdict and the outcome `analyze` gives, and nothing on the healthy look-alikes.

Each line names where it was seen: a mail, forum thread or page in the search index (by file id;
the rule samples cite the same), or a sample in samples/. None comes from samples/blind/.
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines

from .findings import by_category

#: Ubuntu forum thread, search-index file id 56770771918 (2.6.20, a USB disk failing): ext3's
#: error and the bare read-only remount of 2.6 kernels
EXT3_ABORT = ["[22897.748000] EXT3-fs error (device sdb1): ext3_find_entry: reading directory #2 offset 0",
              "[22899.884000] ext3_abort called.",
              "[22899.884000] EXT3-fs error (device sdb1): ext3_journal_start_sb: Detected aborted journal",
              "[22899.884000] Remounting filesystem read-only"]
#: linux-kernel mail, search-index file id 47439360437: the "in FUNC" form and the journal aborting
EXT3_IN_FORM = ["Aborting journal on device sdd1.",
                "EXT3-fs error (device sdd1) in ext3_prepare_write: Journal has aborted"]
#: mailing-list post, search-index file id 43518706168: ext4 on LVM, its disk gone
JBD2_SUPERBLOCK = ["[90141.967169] JBD2: Error -5 detected when updating journal superblock for dm-1-8.",
                   "[90141.967454] EXT4-fs (dm-1): I/O error while writing superblock"]
#: linux-ext4 mail, search-index file id 27750732450: a journal whose replay fails its checksums
JBD2_REPLAY = ["[   98.201853] JBD2: Invalid checksum recovering data block 69959 in log",
               "[   98.339859] JBD2: recovery failed"]
#: linux-kernel mail, search-index file id 38014203702: an Ubuntu 20.04 board's initramfs (quoted)
INITRAMFS_FSCK = ["/dev/mmcblk1p1: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.",
                  "(i.e., without -a or -p options)",
                  "fsck exited with status code 4",
                  "done.",
                  "Failure: File system check of the root filesystem failed",
                  "The root filesystem on /dev/mmcblk1p1 requires a manual fsck"]
#: linux-ext4 mail, search-index file id 24659462687: an initramfs e2fsck older than the file system
INITRAMFS_FSCK_12 = ["/dev/nvme0n1p2 has unsupported feature(s): fast_commit",
                     "e2fsck: Get a newer version of e2fsck!",
                     "",
                     "/dev/nvme0n1p2: ********** WARNING: Filesystem still has errors **********",
                     "",
                     "fsck exited with status code 12",
                     "done.",
                     "Failure: File system check of the root filesystem failed"]
#: Azure troubleshooting page, search-index file id 36512241047: CentOS 6's rc.sysinit
RC_SYSINIT_FSCK = ['fsck.ext4: Unable to resolve UUID="<UUID>"',
                   "[FAILED",
                   "*** An error occurred during the file system check.",
                   "*** Dropping you to a shell; the system will reboot",
                   "*** when you leave the shell."]
#: linux-kernel mail, search-index file id 44759551797 (2.6.16): XFS's 2.6 wording
XFS_26 = ['Apr  2 00:26:17 postamt kernel: Filesystem "sda5": XFS internal error xfs_btree_check_lblock at line '
          '215 of file fs/xfs/xfs_btree.c.  Caller 0xb10dba58']
#: mailing-list post, search-index file id 8112864128: a KVM guest's disk failing under XFS (4.x-6.x)
XFS_METADATA_IO = ['Jul 30 05:09:46 kvm-03-guest-02 XFS (dm-0): metadata I/O error in "xfs_btree_read_buf_block+0xb7/'
                   '0x170 [xfs]" at daddr 0x1c06e len 2 error 5']
#: Ubuntu forum thread, search-index file id 57015255072: an initramfs mounting a root whose journal needs replay
EXT2_READONLY = ["kinit No resume image, doing normal boot...",
                 "[     13.268294] EXT2-fs: INFO: recovery required on readonly filesystem.",
                 "[     13.268373] EXT2-fs: write access unavailable, cannot proceed."]
#: linux-btrfs mail, search-index file id 42715088976: a Raspberry Pi's 5.4.83 kernel
BTRFS_NO_ROOT = ["[ 3492.553599] BTRFS warning (device dm-4): failed to read tree root"]
#: linux-btrfs mail (file id 18662225511); a blog post (5660256372) and a forum thread (56799863828), pre-3.14
BTRFS_CSUM = ["BTRFS warning (device sdd1): csum failed root 5 ino 263 off 5869793280 csum 0xeee8ab75 expected "
              "csum 0x1fc62249 mirror 1"]
BTRFS_OLD = ["[ 4055.661622] btrfs csum failed ino 358 off 227975168 csum 4151547339 private 259191981",
             "[ 1003.207990] parent transid verify failed on 79466496 wanted 33999 found 36704"]
#: linux-btrfs mail, search-index file id 32528089731: a warning about quotas, no damage
BTRFS_QGROUP = ["[ 1683.525602] BTRFS warning (device sda4): qgroup rescan init failed, qgroup is not enabled"]
#: a Lucid-era cloud image's console (forum thread, search-index file id 56771770501)
CLOUDINIT_OLD_TRACEBACK = ["consuming user data failed!",
                           "Traceback (most recent call last):",
                           '  File "/usr/bin/cloud-init", line 90, in <module>',
                           "    main()"]
#: homelab notes, search-index file id 54503826608: a NoCloud seed mounting a disk with no file system
CC_MOUNTS = ["EXT4-fs (sdb): VFS: Can't find ext4 filesystem", "Activate mounts: FAIL:mount -a"]
#: a troubleshooting note, search-index file id 8101406315: Talos without shared mount propagation
TALOS_FAILED = ["[talos] task setupSharedFilesystems (1/1): failed: invalid argument",
                "[talos] phase sharedFilesystems (6/10): failed",
                "[talos] boot sequence: failed"]
#: search-index file id 43422521679: a Talos node's boot completing
TALOS_DONE = ["192.168.77.151: user: warning: [2024-03-03T04:40:48.358208425Z]: [talos] phase startEverything "
              "(16/16): done, 30.796017875s",
              "192.168.77.151: user: warning: [2024-03-03T04:40:48.366214425Z]: [talos] boot sequence: done: "
              "1m7.749942979s"]
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log, lines 66-71: a boot going on
GOING_ON = ["[  OK  ] Started Permit User Sessions.",
            "[  OK  ] Started Getty on tty1.",
            "[  OK  ] Started Serial Getty on ttyS0.",
            "[  OK  ] Reached target Login Prompts."]


def _rules(a) -> set[str]:
    return {f.rule for f in a.findings()}


def test_ext3_and_old_kernels_errors_are_file_system_errors_and_the_remount_decides(catalog):
    a = run_lines(catalog, EXT3_ABORT)
    assert {"ext4-error", "fs-remounted-read-only"} <= _rules(a)
    assert a.outcome == "failure"  # the file system went read-only and nothing came after
    a = run_lines(catalog, EXT3_ABORT + GOING_ON)
    assert a.outcome != "failure"  # the boot went on past the read-only remount
    assert {f.severity for f in by_category(a)["disk.fs-error"]} <= {"warning", "error"}
    a = run_lines(catalog, EXT3_IN_FORM)
    assert {"ext4-error", "fs-journal-aborted"} <= _rules(a)
    assert a.outcome == "unknown"  # reports: what the file system does next decides


def test_a_journal_that_aborts_or_cannot_be_replayed_is_reported_and_decides_nothing(catalog):
    for lines in (JBD2_SUPERBLOCK, JBD2_REPLAY):
        a = run_lines(catalog, lines)
        assert "fs-journal-aborted" in _rules(a), lines
        assert set(by_category(a)) == {"disk.fs-error"}, lines
        assert a.outcome == "unknown", lines
    f = next(f for f in run_lines(catalog, JBD2_SUPERBLOCK).findings() if f.rule == "fs-journal-aborted")
    assert f.fields.get("device") == "dm-1-8"
    assert run_lines(catalog, ["Aborting journal on device loop0-8."]).findings() == []


def test_each_boot_time_checker_saying_fsck_failed_stops_the_boot(catalog):
    for lines in (INITRAMFS_FSCK, INITRAMFS_FSCK[2:5], INITRAMFS_FSCK_12, INITRAMFS_FSCK_12[3:4], RC_SYSINIT_FSCK):
        a = run_lines(catalog, lines)
        assert "fsck-manual-required" in _rules(a), lines
        assert a.outcome == "failure", lines
    # the shell after it is the symptom, listed after its cause
    a = run_lines(catalog, RC_SYSINIT_FSCK)
    assert all(f.suppressed_by for f in by_category(a).get("init.emergency-mode", []))
    assert run_lines(catalog, ["f3.img: clean, 11/4096 files, 2325/16384 blocks"]).findings() == []


def test_xfs_and_btrfs_damage_in_older_kernels_wording(catalog):
    for lines in (XFS_26, XFS_METADATA_IO, EXT2_READONLY, BTRFS_CSUM, BTRFS_OLD[:1], BTRFS_OLD[1:], BTRFS_NO_ROOT):
        a = run_lines(catalog, lines)
        assert set(by_category(a)) == {"disk.fs-error"}, lines
    assert by_category(run_lines(catalog, XFS_26))["disk.fs-error"][0].fields.get("device") == "sda5"
    assert run_lines(catalog, BTRFS_QGROUP).findings() == []
    assert run_lines(catalog, EXT2_READONLY[:2]).findings() == []  # a notice: the replay needs write access


def test_cloud_init_crashing_in_its_entry_script_and_cc_mounts_failing_are_provisioning_errors(catalog):
    for lines in (CLOUDINIT_OLD_TRACEBACK, CC_MOUNTS[1:]):
        a = run_lines(catalog, lines)
        assert "cloudinit.error" in by_category(a), lines
    a = run_lines(catalog, CC_MOUNTS)
    assert {"disk.fs-error", "cloudinit.error"} <= set(by_category(a))
    # synthetic: OpenRC's openrc-run.c eerrorx("ERROR: %s failed to start") for Alpine's cloud-init service
    [f] = run_lines(catalog, [" * ERROR: cloud-init-local failed to start"]).findings()
    assert (f.rule, f.fields.get("unit")) == ("cloudinit-unit-failed", "cloud-init-local")


def test_talos_failing_its_boot_sequence_stops_the_boot_and_finishing_it_is_success(catalog):
    a = run_lines(catalog, TALOS_FAILED)
    [f] = [f for f in a.findings() if f.rule == "talos-sequence-failed"]
    assert (f.category, f.fields.get("sequence"), a.outcome) == ("cloudinit.error", "boot", "failure")
    a = run_lines(catalog, TALOS_DONE)
    assert (set(by_category(a)), a.outcome) == ({"boot.success"}, "success")


#: linux-ext4 patch mail, search-index file id 52184328889: writeback on a corrupt eMMC root
EXT4_DATA_LOST = ["EXT4-fs (mmcblk0p1): Delayed block allocation failed for inode 206 at logical offset 0 with max "
                  "blocks 1 with error 117",
                  "EXT4-fs (mmcblk0p1): This should not happen!! Data will be lost"]
#: linux-xfs mail, search-index file id 25801804432: a shutdown and the advice after it
XFS_SHUTDOWN = ["XFS (vdc): Corruption of in-memory data (0x8) detected at xfs_trans_mod_sb+0x2a4/0x310 "
                "(fs/xfs/xfs_trans.c:353).  Shutting down filesystem.",
                "XFS (vdc): Please unmount the filesystem and rectify the problem(s)"]


def test_the_advice_after_damage_stands_in_for_it_only_when_the_report_is_not_in_view(catalog):
    for lines, fuller in ((EXT4_DATA_LOST, "ext4-error"), (XFS_SHUTDOWN, "xfs-corruption")):
        assert {f.rule for f in run_lines(catalog, lines).findings()} == {fuller}, lines
        [f] = run_lines(catalog, lines[1:]).findings()  # an excerpt that kept only the advice
        assert (f.rule, f.category, f.verdict) == ("fs-damage-advice", "disk.fs-error", "none"), lines


#: Azure troubleshooting page, search-index file id 10041145898: cloud-init 19.4 renaming a NIC that is not there
CLOUDINIT_RENAME = [" cloud-init[807]: Cloud-init v. 19.4 running 'init-local' at Tue, xx Aug 20XX 20:41:53 +0000. Up "
                    "5.83 seconds.",
                    " cloud-init[807]: 20XX-08-XX 20:41:54,231 - stages.py[WARNING]: Failed to rename devices: [nic not "
                    "present] Cannot rename mac=xx:xx:xx:xx:xx:xx to eth0, not available.",
                    "[  OK  ] Started Initial cloud-init job (pre-networking)."]
#: cloud-init's own integration test (search-index file id 117091225): the 23.4+ schema warning
CLOUDINIT_SCHEMA_23 = ["[WARNING]: cloud-config failed schema validation! You may run 'sudo cloud-init schema "
                       "--system' to check the details."]


def test_cloud_init_names_nics_it_cannot_match_and_user_data_its_newer_schema_rejects(catalog):
    [f] = [f for f in run_lines(catalog, CLOUDINIT_RENAME).findings() if f.category == "cloudinit.error"]
    assert (f.rule, f.severity) == ("cloudinit-nic-names-failed", "warning")
    assert "[nic not present]" in f.remediation
    [f] = run_lines(catalog, CLOUDINIT_SCHEMA_23).findings()
    assert (f.rule, f.category) == ("cloudinit-userdata-invalid", "cloudinit.error")


#: a kernel CI report, search-index file id 1035779607 (5.17, an NVMe that stopped answering; unwrapped)
EXT4_ERRORS_PANIC = ["<3>[  122.381741] EXT4-fs (nvme0n1p2): I/O error while writing superblock",
                     "<0>[  122.381744] Kernel panic - not syncing: EXT4-fs (device nvme0n1p2): panic forced after error",
                     "<0>[  122.381750] Kernel Offset: disabled"]


def test_errors_panic_names_the_file_system_as_the_cause_of_the_panic(catalog):
    a = run_lines(catalog, EXT4_ERRORS_PANIC)
    assert a.outcome == "failure"
    cause = next(f for f in a.findings() if f.rule == "fs-panic-on-error")
    assert (cause.category, cause.fields.get("device")) == ("disk.fs-error", "nvme0n1p2")
    assert [f.suppressed_by for f in by_category(a)["kernel.panic"]] == ["fs-panic-on-error"]
