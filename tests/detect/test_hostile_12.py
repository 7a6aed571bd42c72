"""Hostile bytes in the lines the round-12 rules read (unikernel-runtimes-12, guests-12,
units-12, filesystems-12, kernel-health-12): each rule still names its line, and every finding
quotes it without terminal controls (ESC sequences, BEL, NUL) and within the length limit, fields
included (they reach remediations such as "{tender}: {message}")."""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely

PAD = b"A" * 70000

CASES = [
    ("solo5-tender-refused-image", [b"solo5-hvt: KVM: ioctl (SET_SREGS) failed: \x1b]0;evil\x07Invalid \x1b[2J\xff" + PAD]),
    ("fly-init-error", [b'Error: UnhandledIoError(Os { code: 2, kind: NotFound, message: "\x1b[31mNo such\x00 file\xff" })']),
    ("cloud-hypervisor-vm-boot-failed",
     [b"Error booting VM: VmBoot(KernelFile(Os { code: 13, kind: \x1b]52;c;ZXZpbA==\x07PermissionDenied\x00 }))"]),
    ("osv-cannot-execute-application", [b"run_main(): cannot execute /\x1b]0;x\x07evil\xff. Powering off."]),
    ("nanos-program-start-failed",
     [b"kernel error: program startup failed on exec: (result:unable to open program file /\x1b[31mevil\x00" + PAD + b")"]),
    ("dinit-service-failed", [b"[FAILED] net\x1b[5mwork\x00"]),
    ("theseus-component-failed",
     [b"[E] kernel/captain/src/lib.rs:214: Failed to spawn the default shell: \x1b]8;;http://x\x07" + PAD]),
    ("toro-kernel-exception", [b"[\t] CPU#0 Exception: Page Fault\x1b[2J\x00\xff", b"Dumping ThreadID: 1029378048",
                               b"rax: 0, rbx: 1C864C0,      rcx: 418B"]),
    ("sshd-host-key-unusable", [b"sshd[1123]: error: Could not load host key: /\x1b]0;evil\x07/etc/ssh/ssh_host_ed25519_key\x00\xff" + PAD]),
    ("systemd-job-timed-out-or-asserted", [b"[ TIME ] Timed out starting \x1b[31mWait for \x00Network\xff" + PAD + b"."]),
    ("scsi-disk-offlined", [b"[ 1234.567890] sd 1:0:0:0: Device offlined - not ready after error recovery\x1b[2J\x00"]),
    ("x86-trap-oops-other-kinds", [b"[    3.218443] divide error: 0000 [#1] SMP NOPTI \x1b]0;evil\x07\xff" + PAD]),
]


@pytest.mark.parametrize(("rule", "lines"), CASES, ids=[c[0] for c in CASES])
def test_hostile_bytes_in_the_round_12_rules_lines_stay_inert(catalog, rule, lines):
    a = run_lines(catalog, lines)
    assert rule in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
