"""Hypervisors stopping or resetting a guest they cannot run (parsers/detectors/loops-resets-15.yaml,
triple-fault's VirtualBox and small-VMM forms in boot.yaml): lines from the format strings of QEMU's
accel/kvm/kvm-all.c and target/i386/kvm/kvm.c, VirtualBox's VMMGuruMeditation.cpp and a KVM VMM's
run loop."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely


def test_kvm_internal_error_stops_the_vm(catalog):
    for lines in (["KVM internal error. Suberror: 1", "emulation failure"], ["KVM: entry failed, hardware error 0x80000021"]):
        a = run_lines(catalog, ["SeaBIOS (version 1.16.2-debian-1.16.2-1)", *lines])
        assert {f.rule for f in a.findings() if f.category == "boot.stall"} == {"qemu-kvm-internal-error"}
        assert a.outcome == "failure"


def test_virtualbox_guru_meditation_on_a_triple_fault_is_the_triple_fault(catalog):
    a = run_lines(catalog, ["!!", "!!         VCPU0: Guru Meditation 1155 (VINF_EM_TRIPLE_FAULT)", "!!"])
    assert "triple-fault" in {f.rule for f in a.findings()} and a.outcome == "failure"
    other = run_lines(catalog, ["!!         VCPU0: Guru Meditation -2403 (VERR_TRPM_DONT_PANIC)"])
    assert "triple-fault" not in {f.rule for f in other.findings("all")}


def test_hostile_bytes_in_the_kvm_error_stay_inert(catalog):
    a = run_lines(catalog, [b"KVM internal error. Suberror: 1\x1b[2J\x00\xff" + b"B" * 70000])
    assert "qemu-kvm-internal-error" in {f.rule for f in a.findings("all")}
    assert_quoted_safely(a)
