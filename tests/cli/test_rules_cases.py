"""`consolewatch rules check --cases DIR` as a user runs it on a folder of annotated cases.

The fixture folder is built from copies of real samples whose results the per-case tests pin
(tests/test_samples.py), annotated here on purpose with a miss, a false positive, an optional
category, an unquoted evidence substring and a failed boot annotated as healthy, so every
figure below is known exactly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "qemu"

#: case -> (copied sample, family, expected.yaml)
FIXTURE = {
    "qemu/healthy": ("healthy", "healthy", {
        "outcome": "success", "categories": ["boot.success"]}),
    # a miss: network.no-device is annotated but the console does not show it
    "qemu/wrong-root": ("wrong-root-nvme", "root-device", {
        "outcome": "failure",
        "categories": ["disk.root-not-found", "kernel.panic", "network.no-device"],
        "evidence": {"kernel.panic": ["VFS: Unable to mount root fs"]}}),
    # an optional category: init.not-found may be named, is not required
    "qemu/fs-error": ("fs-error", "filesystems", {
        "outcome": "failure", "categories": ["disk.fs-error", "kernel.panic"],
        "optional": ["init.not-found"],
        "evidence": {"disk.fs-error": ["a line this console never printed"]}}),
    # a false positive: the catalog's disk.driver-missing is not annotated
    "loops/boot-loop": ("boot-loop", "loops-resets", {
        "outcome": "failure", "categories": ["boot.loop", "disk.root-not-found", "kernel.panic"]}),
    # a failed boot annotated as healthy: wrong outcome, a false alarm, a miss and an extra
    "lonely-case": ("no-network-device", "healthy", {
        "outcome": "success", "categories": ["boot.success"]}),
}


def make_cases(root: Path, fixture: dict = FIXTURE) -> Path:
    for case, (sample, family, expected) in fixture.items():
        folder = root / case
        folder.mkdir(parents=True)
        shutil.copy(SAMPLES / sample / "serial.log", folder / "serial.log")
        meta = {"name": case, "source": f"copy of samples/qemu/{sample}", "synthetic": False,
                "files": ["serial.log"], "family": family}
        (folder / "meta.yaml").write_text(yaml.safe_dump(meta))
        (folder / "expected.yaml").write_text(yaml.safe_dump(expected))
    return root


@pytest.fixture
def cases(tmp_path) -> Path:
    return make_cases(tmp_path / "cases")


def test_json_gives_the_exact_figures(cli, cases):
    r = cli("rules", "check", "--cases", str(cases), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "consolewatch.score/1"
    assert (doc["cases"], doc["tp"], doc["fp"], doc["fn"]) == (5, 8, 2, 2)
    assert doc["recall"] == doc["precision"] == round(8 / 10, 4)
    assert (doc["outcomes_right"], doc["healthy"], doc["false_alarms"]) == (4, 2, 1)
    assert (doc["evidence_checked"], doc["evidence_quoted"]) == (2, 1)
    cats = doc["categories"]
    assert cats["network.no-device"] == {"tp": 0, "fp": 1, "fn": 1, "recall": 0.0, "precision": 0.0}
    assert cats["disk.driver-missing"] == {"tp": 0, "fp": 1, "fn": 0, "recall": None, "precision": 0.0}
    assert cats["kernel.panic"]["tp"] == 3 and cats["boot.success"] == {
        "tp": 1, "fp": 0, "fn": 1, "recall": 0.5, "precision": 1.0}
    assert "init.not-found" not in cats  # found, optional: neither a hit nor a false positive
    fams = doc["families"]
    assert set(fams) == {"healthy", "root-device", "filesystems", "loops-resets"}
    assert (fams["healthy"]["cases"], fams["healthy"]["outcomes_right"], fams["healthy"]["false_alarms"]) == (2, 1, 1)
    assert (fams["root-device"]["tp"], fams["root-device"]["fn"], fams["root-device"]["recall"]) == (2, 1, 0.6667)
    assert (fams["loops-resets"]["fp"], fams["loops-resets"]["precision"]) == (1, 0.75)
    assert "misses" not in doc


def test_misses_are_listed_only_when_asked(cli, cases):
    plain = cli("rules", "check", "--cases", str(cases))
    assert plain.returncode == 0, plain.stderr
    out = plain.stdout.decode()
    assert "MISS" not in out and "network.no-device" in out
    assert "0.80" in out and "4/5" in out and "1/2" in out
    r = cli("rules", "check", "--cases", str(cases), "--misses")
    misses = sorted(line for line in r.stdout.decode().splitlines() if line.startswith("MISS"))
    assert misses == [
        "MISS lonely-case [healthy]: missing boot.success; extra network.no-device; outcome failure "
        "(expected success); false alarm " + misses[0].rsplit("false alarm ", 1)[1],
        "MISS loops/boot-loop [loops-resets]: extra disk.driver-missing",
        "MISS qemu/fs-error [filesystems]: evidence not quoted for disk.fs-error",
        "MISS qemu/wrong-root [root-device]: missing network.no-device",
    ]
    doc = json.loads(cli("rules", "check", "--cases", str(cases), "--json", "--misses").stdout)
    assert {m["case"] for m in doc["misses"]} == {"lonely-case", "loops/boot-loop", "qemu/fs-error",
                                                 "qemu/wrong-root"}


def test_progress_goes_to_stderr(cli, cases):
    r = cli("rules", "check", "--cases", str(cases), "--json")
    assert b"scoring case 1 of 5" in r.stderr and b"scoring case 5 of 5" in r.stderr
    json.loads(r.stdout)  # stdout holds the document alone


def _problems(cli, root: Path) -> list[str]:
    r = cli("rules", "check", "--cases", str(root))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == b""
    return [line for line in r.stderr.decode().splitlines() if line.startswith("consolewatch: ")]


def test_broken_case_folders_are_all_reported_and_exit_2(cli, cases):
    (cases / "qemu/healthy/expected.yaml").unlink()
    meta = yaml.safe_load((cases / "qemu/wrong-root/meta.yaml").read_text())
    meta["files"] = ["serial.log", "screen.png", "../../../etc/passwd"]
    (cases / "qemu/wrong-root/meta.yaml").write_text(yaml.safe_dump(meta))
    (cases / "qemu/fs-error/expected.yaml").write_text(yaml.safe_dump({
        "outcome": "crashed", "categories": "kernel.panic", "evidence": ["x"]}))
    (cases / "loops/boot-loop/expected.yaml").write_text(yaml.safe_dump({
        "outcome": "failure", "categories": ["kernel.panik"], "optional": ["boot.loop", 3],
        "evidence": {"disk.fs-error": ["x"]}, "args": ["--cloud"]}))
    (cases / "lonely-case/meta.yaml").write_text("files: [serial.log\n")
    problems = _problems(cli, cases)
    text = "\n".join(problems)
    for expected in (
        "qemu/healthy/expected.yaml: missing",
        "qemu/wrong-root/screen.png: missing (listed in meta.yaml files)",
        "file '../../../etc/passwd' is outside the case folder",
        "qemu/fs-error/expected.yaml: outcome must be one of success, failure, stall, unknown, not 'crashed'",
        "qemu/fs-error/expected.yaml: categories: must be a list of non-empty strings",
        "qemu/fs-error/expected.yaml: evidence must map categories",
        "loops/boot-loop/expected.yaml: categories: unknown category 'kernel.panik'",
        "loops/boot-loop/expected.yaml: optional: must be a list of non-empty strings",
        "evidence for 'disk.fs-error', which is neither in categories nor in optional",
        "loops/boot-loop/expected.yaml: args: unsupported '--cloud'",
        "lonely-case/meta.yaml: not readable YAML",
    ):
        assert expected in text, (expected, text)
    assert len(problems) == 11, text


@pytest.mark.parametrize("content", [b"", b"- just\n- a list\n", b"\xff\xfe\x00binary", b"a: *nope\n"])
def test_hostile_meta_yaml_is_one_clear_line(cli, cases, content):
    (cases / "qemu/healthy/meta.yaml").write_bytes(content)
    [problem] = _problems(cli, cases)
    assert "qemu/healthy/meta.yaml: " in problem


def test_an_input_analyze_refuses_is_a_problem_of_its_case(cli, cases):
    folder = cases / "qemu/healthy"
    (folder / "console.json").write_text('{"InstanceId": "i-0123", "Output": 5}')
    meta = yaml.safe_load((folder / "meta.yaml").read_text())
    (folder / "meta.yaml").write_text(yaml.safe_dump({**meta, "files": ["serial.log", "console.json"]}))
    [problem] = _problems(cli, cases)
    assert "qemu/healthy" in problem and "`Output` in EC2 console JSON is not text" in problem


def test_markup_and_escapes_in_case_folders_stay_inert(cli, tmp_path):
    root = tmp_path / "cases"
    make_cases(root, {"[bold red]x\x1b[31my": ("healthy", "fam[link=http://e]\x1b]0;t\x07", {
        "outcome": "failure", "categories": ["kernel.panic"]})})
    r = cli("rules", "check", "--cases", str(root), "--misses")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert b"\x1b" not in r.stdout + r.stderr and "\x07" not in out
    assert "[bold red]x" in out and "fam[link=http://e]" in out


def test_no_cases_or_no_folder_is_bad_usage(cli, tmp_path):
    assert _problems(cli, tmp_path) == [f"consolewatch: {tmp_path}: no case folders (folders with "
                                        "meta.yaml and expected.yaml)"]
    assert _problems(cli, tmp_path / "nope") == [f"consolewatch: {tmp_path / 'nope'}: not a directory"]
    r = cli("rules", "check", "--json")
    assert r.returncode == 2 and b"--cases" in r.stderr
