"""Engine semantics on real console lines, with small rule sets written for each behaviour."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from consolewatch import definitions
from consolewatch.detect.catalog import Catalog
from consolewatch.detect.checks import run_lines
from consolewatch.model import Chunk
from consolewatch.session import Session

FORMATS = """
id: t
title: test formats
component: firmware
patterns:
  - {id: seabios, regex: '^SeaBIOS \\(version', milestone: firmware, boot_start: true}
  - {id: booting, regex: '^Booting from Hard Disk', milestone: firmware}
  - {id: linux, regex: '^Linux version (?P<version>\\S+)', milestone: kernel, boot_start: true}
  - {id: agent, regex: 'GCE Agent Started', milestone: ready}
  - {id: google, regex: '^SeaBIOS \\(version [^)]*-google\\)', context: {cloud: gce, hypervisor: kvm}}
  - {id: dmi-gce, regex: 'Hardware name: Google Google Compute Engine', context: {cloud: gce, hypervisor: kvm}}
samples:
  - {line: 'SeaBIOS (version 1.8.2-google)', pattern: seabios, source: x}
  - {line: 'Booting from Hard Disk 0...', pattern: booting, source: x}
  - {line: 'Linux version 6.1.0-27-cloud-amd64 (x)', pattern: linux, source: x}
  - {line: '2024/03/12 14:36:48 GCEGuestAgent: GCE Agent Started (version 20240109.00)', pattern: agent, source: x}
  - {line: 'SeaBIOS (version 1.8.2-google)', pattern: google, source: x}
  - {line: 'Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011', pattern: dmi-gce, source: x}
"""

SAMPLE = "samples: {match: [{line: x, source: x}], no_match: [{line: y, source: x}]}"


def catalog_with(tmp_path: Path, rules: str) -> Catalog:
    (tmp_path / "formats").mkdir()
    (tmp_path / "detectors").mkdir()
    (tmp_path / "formats" / "t.yaml").write_text(FORMATS)
    (tmp_path / "detectors" / "t.yaml").write_text(textwrap.dedent(rules))
    defs = definitions.load([tmp_path])
    assert not defs.problems, defs.problems
    return Catalog(defs)


def rule(rid, category, severity, match, extra=""):
    return f"""
  - id: {rid}
    title: {rid}
    category: {category}
    severity: {severity}
    match: {match}
    remediation: {{default: 'fix {{reason}} on {{cloud}}', gce: 'gce fix for {{reason}}'}}
    {extra}
    {SAMPLE}"""


PANIC = "[    0.880011] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100"
VFS = '[    1.570210] VFS: Cannot open root device "xvda1" or unknown-block(0,0): error -6'


def test_line_rule_quotes_evidence_with_context_and_cloud_fix(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule("panic", "kernel.panic", "critical",
                                                  "{line: {regex: 'Kernel panic - not syncing: (?P<reason>.*)'}}"))
    lines = ["starting device mapper and LVM...", "NOCHANGE: partition 1 is size 41940992. it cannot be grown", PANIC]
    a = run_lines(cat, lines, cloud="gce")
    [f] = a.findings()
    assert [e.text for e in f.evidence] == [PANIC] and f.evidence[0].seq == 3
    assert [e.text for e in f.context] == lines[:2]
    assert f.remediation == "gce fix for Attempted to kill init! exitcode=0x00000100"
    assert a.outcome == "failure"
    a2 = run_lines(cat, lines)  # unknown cloud: each cloud's fix is listed
    assert "fix Attempted" in a2.findings()[0].remediation and "On GCE: gce fix" in a2.findings()[0].remediation


def test_repeated_lines_are_one_finding_with_a_count(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule("lease", "network.dhcp.no-lease", "error",
                                                  "{line: {regex: 'No lease, forking to background'}}"))
    a = run_lines(cat, ["Sending discover...", "No lease, forking to background"] * 3)
    [f] = a.findings()
    assert f.occurrences == 3 and f.evidence[0].seq == 2


def test_sequence_within_a_line_window(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule(
        "osv", "unikernel.crash", "critical",
        "{sequence: [{regex: '^OSv v'}, {regex: '^Aborted$'}], within: {lines: 3}}"))
    near = ["OSv v0.55.0-152-g52d4f05d", "eth0: 192.168.122.15", "Aborted"]
    far = ["OSv v0.55.0-152-g52d4f05d", "eth0: 192.168.122.15", "Booted up in 421.15 ms", "Cmdline: /cli", "Aborted"]
    [f] = run_lines(cat, near).findings()
    assert [e.seq for e in f.evidence] == [1, 3]
    assert run_lines(cat, far).findings() == []


def test_absent_after_fires_on_time_window_and_at_end_of_boot(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule(
        "dhcp", "network.dhcp.no-lease", "error",
        "{absent_after: {first: {regex: 'DHCP: start discovery'}, expect: {regex: 'DHCP lease'}}, within: {seconds: 5}}"))
    late = ["2016-08-13 23:21.54: INF [dhcp-clientv4] DHCP: start discovery",
            "2016-08-13 23:22.04: INF [dhcp-clientv4] DHCP lease acquired"]
    [f] = run_lines(cat, late).findings()
    assert f.evidence[0].seq == 1
    in_time = ["2016-08-13 23:21.54: INF [dhcp-clientv4] DHCP: start discovery",
               "2016-08-13 23:21.57: INF [dhcp-clientv4] DHCP lease acquired"]
    assert run_lines(cat, in_time).findings() == []
    assert len(run_lines(cat, in_time[:1]).findings()) == 1  # the capture ended with no lease


def test_repeat_count(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule("disc", "network.dhcp.no-lease", "error",
                                                  "{repeat: {regex: 'Sending discover'}, count: 3}"))
    assert run_lines(cat, ["Sending discover..."] * 2).findings() == []
    [f] = run_lines(cat, ["Sending discover..."] * 3).findings()
    assert [e.seq for e in f.evidence] == [1, 3]


def test_boots_split_on_banners_and_boot_rules_judge_each(tmp_path):
    rules = "rules:" + rule("ok", "boot.success", "info", "{boot: {outcome: [success], evidence: ready}}") + rule(
        "silent", "console.silent", "error",
        "{boot: {last_milestone: [firmware], max_lines_after: 0, ended_by: [capture-end], evidence: last-line}}",
        "verdict: stall") + rule("loop", "boot.loop", "error", "{capture: {min_boots: 2, outcome: [stall, unknown]}}")
    cat = catalog_with(tmp_path, rules)
    lines = ["SeaBIOS (version 1.8.2-google)", "Booting from Hard Disk 0...",
             "2024/03/12 14:36:48 GCEGuestAgent: GCE Agent Started (version 20240109.00)",
             "SeaBIOS (version 1.8.2-google)", "Booting from Hard Disk 0..."]
    a = run_lines(cat, lines)
    assert [b.outcome for b in a.boots] == ["success", "stall"]
    assert [f.category for f in a.boots[0].findings] == ["boot.success"]
    assert [f.category for f in a.boots[1].findings] == ["console.silent"]
    assert a.boots[1].findings[0].evidence[0].seq == 5
    assert a.capture_findings == ()  # only one boot without success
    assert a.cloud == "gce"


def test_root_cause_mutes_symptom_and_comes_first(tmp_path):
    rules = "rules:" + rule("panic", "kernel.panic", "critical", "{line: {regex: 'Kernel panic'}}") + rule(
        "root", "disk.root-not-found", "critical", "{line: {regex: 'VFS: Cannot open root device'}}",
        "inhibits: [kernel.panic]")
    cat = catalog_with(tmp_path, rules)
    a = run_lines(cat, ['[    1.570210] VFS: Cannot open root device "xvda1" or unknown-block(0,0): error -6',
                        "[    1.571000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"])
    first, second = a.findings()
    assert first.rule == "root" and first.suppressed_by is None
    assert second.rule == "panic" and second.suppressed_by == "root"
    assert a.boots[-1].reason.startswith("disk.root-not-found")


def test_scoped_rule_applies_only_on_its_cloud(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule("xvda", "disk.root-not-found", "critical",
                                                  "{line: {regex: 'Cannot open root device \"xvd'}}",
                                                  "scope: {clouds: [gce, do]}"))
    line = ['[    1.570210] VFS: Cannot open root device "xvda1" or unknown-block(0,0): error -6']
    assert run_lines(cat, line, cloud="aws").findings() == []
    assert run_lines(cat, line).findings() == []
    assert len(run_lines(cat, line, cloud="gce").findings()) == 1
    # the console itself names the cloud: SeaBIOS built by Google
    a = run_lines(cat, ["SeaBIOS (version 1.8.2-google)", *line])
    assert a.cloud == "gce" and len(a.findings()) == 1


@pytest.mark.parametrize("size", [1, 7, 64, 4096])
def test_batch_and_line_by_line_give_identical_results(catalog, size):
    data = (Path(__file__).resolve().parents[2] / "samples/openstack-ttylinux-no-lease-metadata-unreachable/console.log").read_bytes()
    def run(chunks):
        s = Session(catalog)
        for c in chunks:
            s.feed(Chunk("c", c))
        s.finish()
        return [(f.rule, f.evidence, f.context, f.occurrences) for f in s.result().findings("all")]
    whole = run([data])
    assert whole and run([data[i:i + size] for i in range(0, len(data), size)]) == whole


@pytest.mark.parametrize("facts_first", [True, False])
def test_remediation_quotes_what_the_cloud_api_said(tmp_path, facts_first):
    from consolewatch.model import MachineContext

    cat = catalog_with(tmp_path, """rules:
  - id: root
    title: root
    category: disk.root-not-found
    severity: critical
    match: {line: {regex: 'VFS: Cannot open root device "(?P<root>[^"]+)"'}}
    remediation: {default: 'kernel said {root}; {instance_type} boots from {root_device}'}
    """ + SAMPLE)
    s = Session(cat)
    facts = MachineContext("api", "aws", "nitro", {"instance_type": "m5.large", "root_device": "/dev/nvme0n1"})
    s.feed(facts if facts_first else MachineContext("api", "aws", "nitro", {}))
    s.feed(Chunk("console", VFS.encode() + b"\n"))
    if not facts_first:
        s.feed(facts)  # facts that come after the finding (the cloud known before it) reach its fix too
    s.finish()
    [f] = s.result().findings()
    assert f.remediation == "kernel said xvda1; m5.large boots from /dev/nvme0n1"


def test_a_fix_written_before_the_console_named_its_cloud_is_written_again_for_it(tmp_path):
    cat = catalog_with(tmp_path, "rules:" + rule("panic", "kernel.panic", "critical",
                                                  "{line: {regex: 'Kernel panic - not syncing: (?P<reason>.*)'}}"))
    # the panic's dump names GCE after the panic line (the firmware banner after it would be a new boot)
    a = run_lines(cat, [PANIC, "[    2.260114] Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 01/01/2011"])
    [f] = a.findings()
    assert f.remediation == "gce fix for Attempted to kill init! exitcode=0x00000100"


def test_a_line_seen_again_on_the_screen_is_judged_by_its_origin_each_time(tmp_path):
    # What a matcher said about a line is remembered by message, triggers and origin: the same
    # panic read off the screen must not borrow the serial port's answer, and vice versa.
    cat = catalog_with(tmp_path, "rules:" + rule("screen", "kernel.panic", "critical",
                                                  "{line: {regex: 'Kernel panic - not syncing: (?P<reason>.*)', origin: ocr}}"))
    s = Session(cat)
    s.feed(Chunk("console", (PANIC + "\n").encode()))
    s.engine.feed(s.normalizer.feed_lines("screen", [PANIC], origin="ocr"))
    s.feed(Chunk("console", (PANIC + "\n").encode()))
    s.finish()
    [f] = s.result().findings()
    assert [e.origin for e in f.evidence] == ["ocr"] and f.evidence[0].seq == 2


@pytest.mark.parametrize("with_rule", [False, True])
def test_a_rule_on_a_pattern_that_only_gives_fields_needs_nothing_but_its_yaml(tmp_path, with_rule):
    # A format pattern with no milestone or context only adds fields: the normaliser skips a
    # line it alone flags, until a rule (added in YAML, nothing else) matches on it.
    fmt = FORMATS.replace("samples:\n", """  - {id: vfs, regex: 'VFS: Cannot open root device "(?P<root>[^"]+)"'}
samples:
  - {line: 'VFS: Cannot open root device "sda1" or unknown-block(0,0): error -6', pattern: vfs, source: x}
""", 1)
    (tmp_path / "formats").mkdir()
    (tmp_path / "detectors").mkdir()
    (tmp_path / "formats" / "t.yaml").write_text(fmt)
    rules = rule("panic", "kernel.panic", "critical", "{line: {regex: 'Kernel panic - not syncing'}}")
    if with_rule:
        rules += rule("root", "disk.root-not-found", "critical", "{line: {format: t.vfs}}")
    (tmp_path / "detectors" / "t.yaml").write_text("rules:" + rules)
    defs = definitions.load([tmp_path])
    assert not defs.problems, defs.problems
    s = Session(Catalog(defs))
    seen = []
    s.engine.feed = lambda batch, feed=s.engine.feed: seen.extend(sl.line.seq for sl in batch.scanned) or feed(batch)
    s.feed(Chunk("console", b"Booting from Hard Disk 0...\n" + VFS.encode() + b"\n"))
    s.finish()
    findings = s.result().findings()
    if with_rule:
        [f] = findings
        assert f.rule == "root" and f.fields["root"] == "xvda1" and f.evidence[0].seq == 2
        assert seen == [1, 2]
    else:
        assert findings == [] and seen == [1]  # the VFS line was flagged, and skipped unread


OOM_RULE = """rules:
  - id: oom
    title: oom
    category: kernel.oom
    severity: error
    match: {any: [{regex: 'Out of memory: Killed process (?P<pid>\\d+) \\((?P<process>[^)]*)\\)'},
                  {regex: '(?P<process>\\S+) invoked oom-killer: '}]}
    remediation: {default: 'more memory for {process}'}
    """ + SAMPLE


def test_an_event_told_by_two_alternatives_is_one_finding(tmp_path):
    # real lines: samples/qemu/oom/serial.log (one event) and gce-ubuntu-oom-killer-console (two processes)
    cat = catalog_with(tmp_path, OOM_RULE)
    invoked = "[    5.192628] awk invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO)"
    killed = ("[    5.209067] Out of memory: Killed process 83 (awk) total-vm:254168kB, anon-rss:192708kB, "
              "file-rss:0kB, shmem-rss:1148kB, UID:0 pgtables:424kB oom_score_adj:0")
    [f] = run_lines(cat, [invoked, "[    5.2] Mem-Info:", killed]).findings("all")
    assert [e.seq for e in f.evidence] == [1, 3] and f.fields == {"process": "awk", "pid": "83"}
    [f] = run_lines(cat, [invoked, killed, invoked, killed]).findings("all")
    assert f.occurrences == 2 and len(f.evidence) == 2  # the same event twice: one finding, counted
    other = "Apr  6 22:28:06 myserver1 kernel: [ 2170.372482] supervisord invoked oom-killer: gfp_mask=0x100cca"
    two = run_lines(cat, [killed, other]).findings("all")
    assert [x.fields["process"] for x in two] == ["awk", "supervisord"]  # two processes, two events


def test_a_fix_quotes_the_fields_an_event_s_second_line_adds(tmp_path):
    # The OOM killer's "invoked" line names the process, its "Killed process" line the pid too:
    # joined into one finding, whose fix is written again with both (the cloud is known).
    cat = catalog_with(tmp_path, OOM_RULE.replace("'more memory for {process}'", "'more memory for {process} (pid {pid})'"))
    invoked = "[    5.192628] awk invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO)"
    killed = ("[    5.209067] Out of memory: Killed process 83 (awk) total-vm:254168kB, anon-rss:192708kB, "
              "file-rss:0kB, shmem-rss:1148kB, UID:0 pgtables:424kB oom_score_adj:0")
    [f] = run_lines(cat, [invoked, killed], cloud="gce").findings("all")
    assert f.remediation == "more memory for awk (pid 83)"
