"""Failures that do not name their component (parsers/detectors/unnamed-failures-10.yaml, and ext4's
mount refusals added to fs-mount-refused in disk.yaml): a provisioning agent's Python traceback or
Go panic known by the paths of its own code, `cloud-init status` answering error, and ext4 refusing
a root for reasons the kernel states without the word "error". Lines are the rules' real samples
(public threads; QEMU boots of tests/qemu/fs_mount_faults.py on Debian's 6.1 cloud kernel)."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines

READY = ["consolewatch-guest: ready", "", "debian login: "]   # samples/qemu/healthy/serial.log

WAAGENT = ('Traceback (most recent call last):   File "/usr/lib/python2.7/site-packages/azurelinuxagent/daemon/'
           'main.py", line 77, in run     self.daemon(child_args)')     # Azure/WALinuxAgent#1049
SSM_PANIC = [   # aws/amazon-ssm-agent#84
    "panic: runtime error: slice bounds out of range",
    "",
    "goroutine 1 [running]:",
    "github.com/aws/aws-sdk-go/aws/ec2metadata.(*EC2Metadata).Region(0xc42000e600, 0xc4201b5480, 0x866db5, 0x0, 0x0)",
    "\t/local/p4clients/pkgbuild-F0Rtj/workspace/src/Amazon-ssm-agent/vendor/src/github.com/aws/aws-sdk-go/aws/"
    "ec2metadata/api.go:122 +0xb7",
    "github.com/aws/amazon-ssm-agent/agent/platform.instanceMetadata.Region(0xc42000e600, 0x0, 0x0, 0x42a5b9, 0xc400000008)",
]
MANTLE_PANIC = [   # coreos/coreos-assembler#1851: another Go program's panic
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x88993a]",
    "",
    "goroutine 1 [running]:",
    "github.com/coreos/ign-converter/translate/v31tov24.Translate(0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, ...)",
    "        /root/containerbuild/mantle/vendor/github.com/coreos/ign-converter/translate/v31tov24/v31tov24.go:78 +0x78a",
]


def rules_of(a, category: str) -> dict:
    return {f.rule: f for f in a.findings("all") if f.category == category}


def test_an_agent_traceback_known_by_its_package_path_is_a_provisioning_failure(catalog):
    a = run_lines(catalog, ["[   12.100000] Run /sbin/init as init process", WAAGENT])
    found = rules_of(a, "cloudinit.error")
    assert found["provisioning-agent-python-traceback"].fields["agent"] == "azurelinuxagent"
    assert a.outcome == "failure"   # the boot went no further than the crash


def test_an_agent_traceback_the_machine_came_up_after_is_not_the_verdict(catalog):
    a = run_lines(catalog, ["[   12.100000] Run /sbin/init as init process", WAAGENT, *READY])
    assert "provisioning-agent-python-traceback" not in rules_of(a, "cloudinit.error")
    assert a.outcome == "success"


def test_another_programs_traceback_is_not_an_agent_failure(catalog):
    a = run_lines(catalog, ["Traceback (most recent call last):",
                            '  File "/usr/lib/python3/dist-packages/apt/cache.py", line 152, in __init__',
                            "OSError: [Errno 28] No space left on device"])
    assert not rules_of(a, "cloudinit.error")


def test_a_go_panic_through_the_ssm_agents_module_is_the_agents_crash(catalog):
    a = run_lines(catalog, SSM_PANIC)
    panic = rules_of(a, "cloudinit.error")["provisioning-agent-go-panic"]
    assert panic.fields["reason"] == "runtime error: slice bounds out of range"
    assert panic.evidence[0].text.startswith("panic: ")


def test_a_go_panic_of_another_program_is_not_a_provisioning_failure(catalog):
    # the frames name github.com/coreos/ign-converter, not github.com/coreos/ignition
    assert not rules_of(run_lines(catalog, MANTLE_PANIC), "cloudinit.error")


def test_cloud_init_status_error_is_a_warning_of_a_running_machine(catalog):
    # scylladb/scylla-cluster-tests#5058
    a = run_lines(catalog, ["Command: 'sudo cloud-init status --wait'", "Exit code: 1", "Stdout:", "status: error"])
    status = rules_of(a, "cloudinit.error")["cloudinit-status-error"]
    assert status.severity == "warning"
    assert a.outcome != "failure"


def test_cloud_init_status_done_is_quiet(catalog):
    # digitalocean/marketplace-partners#186, behind a `cloud-init status --wait` of our own
    a = run_lines(catalog, ["sudo cloud-init status --wait", "    digitalocean: ......", "    digitalocean: status: done"])
    assert "cloudinit-status-error" not in rules_of(a, "cloudinit.error")


def test_the_exception_ending_a_cloud_init_traceback_is_cloud_inits_error(catalog):
    a = run_lines(catalog, ["[   16.372012] cloud-init[196]: yaml.scanner.ScannerError: mapping values are not allowed here"])
    line = rules_of(a, "cloudinit.error")["cloudinit-exception-line"]
    assert line.fields["exception"] == "ScannerError"
    # the Traceback header alone (hypriot/image-builder-rpi#238) is not the exception
    header = run_lines(catalog, ["[   16.344458] cloud-init[196]: Traceback (most recent call last):"])
    assert "cloudinit-exception-line" not in rules_of(header, "cloudinit.error")


def test_a_cloud_config_part_that_did_not_merge_is_user_data_cloud_init_could_not_use(catalog):
    # canonical/cloud-init#3011
    a = run_lines(catalog, ["2017-09-22 10:43:51,212 - util.py[WARNING]: Failed at merging in cloud config part from part-001"])
    assert "cloudinit-userdata-invalid" in rules_of(a, "cloudinit.error")


def test_a_coreos_initramfs_unit_around_ignition_failing_is_ignition_not_provisioning(catalog):
    # fedora-coreos-config coreos-ignition-setup-user.service: OnFailure=emergency.target
    a = run_lines(catalog, ["[FAILED] Failed to start coreos-ignition-setup-user.service - CoreOS Ignition User Config Setup."])
    assert "ignition-provisioning-failed" in rules_of(a, "cloudinit.error")
    done = run_lines(catalog, ["[  OK  ] Finished coreos-ignition-setup-user.service - CoreOS Ignition User Config Setup."])
    assert not rules_of(done, "cloudinit.error")


@pytest.mark.parametrize("refusal", [
    "[    1.701158] EXT4-fs (nvme0n1): bad block size 65536",
    "[    1.708186] EXT4-fs (nvme0n1): Invalid log block size: 9",
    "[    1.643380] EXT4-fs (nvme0n1): failed to open journal device unknown-block(0,0) -6",
])
def test_ext4_refusing_the_root_names_the_file_system(catalog, refusal):
    # QEMU boots of tests/qemu/fs_mount_faults.py: the refusal, then the kernel's root panic
    a = run_lines(catalog, [refusal, refusal, "[    1.706311] List of all partitions:",
                            "[    1.706493] 103:00000      65536 nvme0n1 ",
                            "[    1.707259] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(259,0)"])
    refused = rules_of(a, "disk.fs-error")["fs-mount-refused"]
    assert refused.fields["device"] == "nvme0n1"
    assert a.outcome == "failure"


def test_a_journal_left_to_replay_then_a_read_only_root_decides_nothing(catalog):
    # ext4-needs-recovery-noload: the kernel retried read-only and mounted the root
    a = run_lines(catalog, [
        "[    1.799036] EXT4-fs (nvme0n1): required journal recovery suppressed and not mounted read-only",
        "[    1.815208] EXT4-fs (nvme0n1): mounted filesystem without journal. Quota mode: none.",
        "[    1.815724] VFS: Mounted root (ext4 filesystem) readonly on device 259:0.",
        *READY])
    assert "fs-mount-refused" in rules_of(a, "disk.fs-error")
    assert a.outcome == "success"


def test_a_loop_device_mounted_by_hand_is_not_the_boots_disk(catalog):
    a = run_lines(catalog, ["[72261.635468] EXT4-fs (loop0): required journal recovery suppressed and not mounted read-only"])
    assert "fs-mount-refused" not in rules_of(a, "disk.fs-error")


def test_hostile_bytes_in_panics_tracebacks_and_status_lines(catalog):
    long_frame = 'File "/x/azurelinuxagent/' + "a/" * 50_000 + 'm.py", line 1, in run'
    lines = ["panic: \x1b[31mruntime error\x1b[0m: index out of range\x00\x07", "goroutine 1 [running]:",
             "github.com/aws/amazon-ssm-agent/agent/x.y()\x1b]0;owned\x07", long_frame]
    a = run_lines(catalog, lines)
    assert rules_of(a, "cloudinit.error")["provisioning-agent-go-panic"].fields["reason"] == \
        "runtime error: index out of range"
    status = run_lines(catalog, ["cloud-init status --wait\x00", "status: error\x1b[0m"])
    assert "cloudinit-status-error" in rules_of(status, "cloudinit.error")
    for f in a.findings("all") + status.findings("all"):
        for value in f.fields.values():
            assert "\x1b" not in str(value) and "\x00" not in str(value) and "\x07" not in str(value)
