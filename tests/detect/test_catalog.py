"""The detector catalog as a whole: its size and coverage, its accuracy over every case in
samples/, cloud-aware remediation, root-cause inhibition and the known false-positive guards.

(Rule files that are malformed or hostile are covered by the loader's own tests.)
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from consolewatch.detect import checks
from consolewatch.detect.remedy import CLOUD_NAMES, render
from consolewatch.model import CATEGORIES, Chunk
from consolewatch.session import Session

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

#: Categories that one rule covers on purpose. boot.success is the boot's outcome (the engine
#: decides it from the milestones every format marks as "ready"); a second rule would only
#: repeat that judgement.
SINGLE_RULE_CATEGORIES = {"boot.success"}

#: remediation key -> (cloud, hypervisor) that selects it
KEY_CONTEXT = {
    "aws": ("aws", "unknown"), "aws-xen": ("aws", "xen"), "aws-nitro": ("aws", "nitro"),
    "gce": ("gce", "kvm"), "do": ("do", "kvm"), "openstack": ("openstack", "unknown"),
    "openstack-xen": ("openstack", "xen"), "openstack-kvm": ("openstack", "kvm"),
    "qemu": ("qemu", "tcg"), "azure": ("azure", "hyperv"),
}

_ESC = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z]|.)")


@cache
def _results(catalog) -> tuple:
    return tuple(checks.run_case(c, catalog) for c in checks.find_cases(SAMPLES))


def _analyse(catalog, lines, cloud="unknown", hypervisor="unknown"):
    s = Session(catalog, cloud=cloud, hypervisor=hypervisor)
    s.feed(Chunk("sample", "".join(f"{x}\n" for x in lines).encode()))
    s.finish()
    return s.result()


# -- size and coverage ------------------------------------------------------------------------


def test_the_catalog_has_at_least_80_rules(defs):
    assert len(defs.rules) >= 80, len(defs.rules)


def test_every_category_has_several_rules(defs):
    by_cat = checks.rules_by_category(defs.rules.values())
    thin = {c: by_cat.get(c, []) for c in CATEGORIES
            if len(by_cat.get(c, [])) < (1 if c in SINGLE_RULE_CATEGORIES else 2)}
    assert not thin, thin


def test_every_rule_names_a_source_for_each_sample_and_has_both_kinds(defs):
    assert not checks.lint_rules(defs)


def test_sample_lines_quoted_from_samples_are_in_those_files(defs):
    """A sample whose source is a file under samples/ quotes lines that file really has."""
    missing = []
    for rule in defs.rules.values():
        for s in (*rule.match_samples, *rule.no_match_samples):
            if not s.source.startswith("samples/"):
                continue
            path = ROOT / s.source.split()[0]
            assert path.is_file(), f"{rule.id}: {path} does not exist"
            text = _ESC.sub("", path.read_text(encoding="utf-8", errors="replace")).replace("\r", "")
            have = {x.rstrip() for x in text.split("\n")}
            missing += [f"{rule.id}: {line!r} not in {s.source}" for line in s.lines
                        if _ESC.sub("", line).rstrip() not in have]
    assert not missing, "\n".join(missing)


# -- accuracy over the cases --------------------------------------------------------------------


def test_there_are_cases_of_every_kind():
    cases = checks.find_cases(SAMPLES)
    assert len(cases) >= 60
    assert len([c for c in cases if "qemu" in c.name or c.parent.name == "qemu"]) >= 30


def test_category_recall_and_precision_over_all_cases(catalog):
    scores = checks.category_scores(list(_results(catalog)))
    low = {}
    tp_all = fp_all = fn_all = 0
    for category, (tp, fp, fn) in scores.items():
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        recall = tp / (tp + fn) if tp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        if recall < 0.95 or precision < 0.95:
            low[category] = (recall, precision)
    assert not low, low
    assert tp_all / (tp_all + fn_all) >= 0.95 and tp_all / (tp_all + fp_all) >= 0.95


def test_every_case_passes(catalog):
    bad = [f"{r.name}: outcome {r.outcome} (expected {r.expected_outcome}), found {sorted(r.found)}, "
           f"expected {sorted(r.expected)} {r.missing_evidence} {r.problems}"
           for r in _results(catalog) if not r.ok]
    assert not bad, "\n".join(bad)


def test_every_category_occurs_in_some_case(catalog):
    seen = set().union(*(r.expected for r in _results(catalog)))
    assert set(CATEGORIES) - {"network.static-config-missing"} <= seen, sorted(set(CATEGORIES) - seen)


def test_no_error_or_critical_finding_on_a_success_case(catalog):
    """The verdict boot of a successful case (and the capture) carries no error or critical finding."""
    for r in _results(catalog):
        if r.expected_outcome != "success":
            continue
        worst = [f for f in r.analysis.findings("last") if f.severity in ("error", "critical")]
        assert not worst, (r.name, [(f.rule, f.severity) for f in worst])


# -- cloud-aware remediation ----------------------------------------------------------------------


def test_every_per_cloud_remediation_renders_its_own_fix(defs):
    problems = []
    for rule in defs.rules.values():
        texts = rule.remediation
        for key in texts:
            if key == "default":
                continue
            cloud, hyp = KEY_CONTEXT[key]
            got = render(texts, cloud, hyp, {})
            if got != render({"x": texts[key], "default": texts[key]}, cloud, hyp, {}):
                problems.append(f"{rule.id}: {key} does not select its own text")
            if got == render(texts, "qemu" if cloud != "qemu" else "gce", "unknown", {}) and key != "qemu":
                problems.append(f"{rule.id}: {key} renders the same fix as another cloud")
            if texts[key].strip() == texts["default"].strip():
                problems.append(f"{rule.id}: {key} repeats the default text")
    assert not problems, "\n".join(problems)


def test_unknown_cloud_lists_each_clouds_fix(defs):
    for rule in defs.rules.values():
        text = render(rule.remediation, "unknown", "unknown", {})
        for key in rule.remediation:
            if key != "default":
                assert f"On {CLOUD_NAMES[key]}:" in text, (rule.id, key)


def test_remediations_have_no_unfilled_fields_on_their_own_samples(defs, catalog):
    left = []
    for rule in defs.rules.values():
        if not any("{" in text for text in rule.remediation.values()):
            continue  # nothing to fill in
        for s in rule.match_samples:
            for key, (cloud, hyp) in [("default", ("unknown", "unknown")), *KEY_CONTEXT.items()]:
                a = _analyse(catalog, s.lines, s.cloud or cloud, s.hypervisor or hyp)
                for f in [f for b in a.boots for f in b.findings] + list(a.capture_findings):
                    if f.rule == rule.id and re.search(r"\{\w+\}", f.remediation):
                        left.append(f"{rule.id} ({key}): {f.remediation[:120]}")
    assert not left, "\n".join(sorted(set(left)))


@pytest.mark.parametrize("cloud, hypervisor, expect", [
    ("gce", "kvm", "/dev/sda"),
    ("do", "kvm", "/dev/vda"),
    ("aws", "nitro", "/dev/nvme0n1"),
])
def test_the_same_xen_root_name_is_explained_per_cloud(catalog, cloud, hypervisor, expect):
    line = '[    1.831160] VFS: Cannot open root device "xvda1" or unknown-block(0,0): error -6'  # samples/qemu/wrong-root-nvme
    a = _analyse(catalog, [line], cloud, hypervisor)
    f = next(f for b in a.boots for f in b.findings if f.rule == "root-xen-name-on-kvm")
    assert expect in f.remediation and "xvda1" in f.remediation


def test_a_scoped_rule_stays_quiet_outside_its_scope(catalog):
    line = '[    1.831160] VFS: Cannot open root device "xvda1" or unknown-block(0,0): error -6'
    for cloud, hyp in (("aws", "xen"), ("unknown", "unknown")):
        a = _analyse(catalog, [line], cloud, hyp)
        assert "root-xen-name-on-kvm" not in checks.fired_rules(a), (cloud, hyp)


def test_option121_finding_quotes_the_lease(catalog):
    r = checks.run_case(SAMPLES / "qemu-gce-32-lease-ip-route-unreachable", catalog)
    f = next(f for f in r.analysis.findings("last") if f.rule == "lease-32-then-unreachable")
    assert "10.128.0.2/32" in f.remediation
    g = next(f for f in r.analysis.findings("last") if f.rule == "dhcp-lease-then-no-route")
    assert "10.128.0.2" in g.remediation


def test_digitalocean_dhcp_failure_is_explained_as_static_configuration(catalog):
    line = "[   94.027287] NetworkManager[541]: <warn>  [1591289268.7874] dhcp4 (eth0): request timed out"
    a = _analyse(catalog, [line], "do", "kvm")
    found = {f.rule: f for b in a.boots for f in b.findings}
    assert "iface eth0 inet static" in found["dhcp-timeout-on-static-cloud"].remediation
    assert found["networkmanager-dhcp-timeout"].suppressed_by == "dhcp-timeout-on-static-cloud"


# -- root cause over symptoms ----------------------------------------------------------------------


ROOT_CAUSE_CASES = {
    "qemu/wrong-root-nvme": "disk.root-not-found",
    "qemu/driver-missing": "disk.driver-missing",
    "qemu-root-fs-driver-missing": "disk.driver-missing",
    "qemu-initramfs-truncated": "init.not-found",
    "qemu-switch-root-no-init": "init.not-found",
    "qemu-kernel-oom-deadlock": "kernel.oom",
    "qemu-kernel-oops-fatal-exception": "kernel.oops",
}


@pytest.mark.parametrize("case, cause", sorted(ROOT_CAUSE_CASES.items()))
def test_a_root_cause_mutes_the_panic_but_both_stay_listed(catalog, case, cause):
    r = checks.run_case(SAMPLES / case, catalog)
    last = r.analysis.boots[-1]
    panics = [f for f in last.findings if f.category == "kernel.panic"]
    assert panics and all(f.suppressed_by for f in panics if f.rule in ("kernel-panic", "kernel-panic-init-killed",
                                                                         "kernel-panic-fatal-exception"))
    assert "kernel.panic" in r.found
    assert last.reason.startswith(cause), last.reason


# -- known false positives -------------------------------------------------------------------------


def test_an_earlier_failed_boot_is_not_the_verdict(catalog):
    r = checks.run_case(SAMPLES / "qemu-fail-then-success", catalog)
    a = r.analysis
    assert [b.outcome for b in a.boots] == ["failure", "success"]
    assert a.outcome == "success"
    assert {f.category for f in a.findings("last")} == {"boot.success"}
    assert "kernel.panic" in {f.category for f in a.findings("all")}


@pytest.mark.parametrize("case, absent", [
    ("qemu-ipxe-gce-32-lease-handled", "network.dhcp.option121-missing"),
    ("qemu-floppy-failed-then-disk-boots", "boot.bootloader-error"),
    ("aws-pvgrub-turnkey-benign-blkfront-errors", "disk.fs-error"),
])
def test_known_look_alikes_do_not_fire(catalog, case, absent):
    r = checks.run_case(SAMPLES / case, catalog)
    assert absent not in r.found


@pytest.mark.parametrize("line", [
    "[ 6941.438022] Buffer I/O error on dev sr0, logical block 0, async page read",  # util-linux/util-linux#3012
    "[ 6946.528506] I/O error, dev sr0, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2",
])
def test_io_errors_on_removable_devices_are_not_disk_failures(catalog, line):
    assert "block-io-error" not in checks.fired_rules(_analyse(catalog, [line]))


# -- reading a line once per message ------------------------------------------------------


def _read(catalog, text):
    hits, _ = catalog.scanner.scan(f"{text}\n".encode())
    return catalog.read(text, frozenset(hits[0]))


def test_a_message_repeated_under_new_times_keeps_each_lines_own_stamps(catalog):
    """`read` remembers what a message says apart from its stamps (a console repeats messages
    under new times): each line still gets its own time and program, and the same formats."""
    line = "Run /init as init process"  # samples/*: a kernel line every initramfs boot prints
    first, again = _read(catalog, f"[    1.727805] {line}"), _read(catalog, f"[    1.742947] {line}")
    assert (first.stamps.guest_time, again.stamps.guest_time) == (1.727805, 1.742947)
    assert again.formats == first.formats and again.milestones == first.milestones
    # the program is part of what a line says (`fields["program"]`), not only of its stamps
    oom = "[ 2170.372482] supervisord invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0"
    said = {prog: _read(catalog, f"Apr  6 22:28:06 myserver1 {prog}: {oom}").fields.get("program")
            for prog in ("kernel", "systemd")}
    assert said == {"kernel": "kernel", "systemd": "systemd"}


def test_a_stamped_line_is_remembered_from_its_second_sight(catalog):
    """A line with a printk time enters `read_cache` when it is read again (a fleet's archive
    seldom repeats one, and kept at once they were most of what the cycle collector traversed);
    one without enters it at once. `read` says the same of it either way."""
    stamped = "[ 4242.424242] Run /init as init process"  # samples/*'s line, under a time no case has
    first = _read(catalog, stamped)
    assert not any(text == stamped for text, _ in catalog.read_cache)
    again = _read(catalog, stamped)
    assert again == first and any(text == stamped for text, _ in catalog.read_cache)
    assert _read(catalog, stamped) is again  # from the cache now
    plain = "Run /init as init process"
    assert _read(catalog, plain) is _read(catalog, plain)
