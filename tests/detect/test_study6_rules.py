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

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _found(a) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in a.findings():
        out.setdefault(f.category, []).append(f)
    return out


def _serial(case: str) -> list[str]:
    return (SAMPLES / case / "serial.log").read_text().splitlines()


# -- reports a running system carries on after, in a view that does not show the boot ------------


def _from(lines: list[str], needle: str) -> list[str]:
    return lines[next(i for i, x in enumerate(lines) if needle in x):]


def test_a_lockup_that_ends_a_boot_seen_from_its_start_is_a_stall_but_an_excerpt_of_it_is_unknown(catalog):
    for case, needle in (("qemu-kernel-soft-lockup", "BUG: soft lockup"),
                         ("qemu-kernel-rcu-stall", "detected stalls on CPUs")):
        lines = _serial(case)
        whole = run_lines(catalog, lines)
        assert whole.outcome == "stall", case
        excerpt = run_lines(catalog, _from(lines, needle))  # what a person pastes: the report onwards
        assert excerpt.outcome == "unknown", case
        [oops] = _found(excerpt)["kernel.oops"]
        assert oops.severity == "error" and oops.verdict == "none"


def test_a_hung_task_in_an_excerpt_is_reported_and_decides_nothing(catalog):
    lines = _from(_serial("qemu-kernel-hung-task-panic"), "blocked for more than")
    report = lines[: next(i for i, x in enumerate(lines) if "Kernel panic" in x)]  # before its panic
    a = run_lines(catalog, report)
    assert a.outcome == "unknown" and [f.rule for f in _found(a)["kernel.oops"]] == ["hung-task"]
    assert run_lines(catalog, lines).outcome == "failure"  # the panic after it is an action: it decides
