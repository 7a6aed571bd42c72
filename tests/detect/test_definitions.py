"""The definitions load from the search path, collect every problem, and pass their own samples."""

from __future__ import annotations

from pathlib import Path

from consolewatch import definitions
from consolewatch.detect import checks
from consolewatch.model import CATEGORIES


def test_every_format_sample_matches_its_pattern_with_its_fields(defs):
    results = checks.check_formats(defs)
    assert results
    bad = [f"{r.where} {r.owner}: {r.detail}" for r in results if not r.ok]
    assert not bad, "\n".join(bad)


def test_every_rule_fires_on_its_match_samples_and_not_on_its_no_match_samples(defs, catalog):
    results = checks.check_rules(defs, catalog)
    bad = [f"{r.where} {r.owner} ({r.kind}): {r.detail}; fired: {r.fired}" for r in results if not r.ok]
    assert not bad, "\n".join(bad)


def test_every_rule_has_real_samples_of_both_kinds_with_sources(defs):
    assert not checks.lint_rules(defs)


def test_every_category_has_a_rule(defs):
    covered = {r.category for r in defs.rules.values()}
    assert set(CATEGORIES) <= covered, sorted(set(CATEGORIES) - covered)


def test_later_directories_override_by_id(tmp_path, defs):
    (tmp_path / "detectors").mkdir()
    some = next(iter(defs.rules.values()))
    src = Path(some.path).read_text()
    (tmp_path / "detectors" / "override.yaml").write_text(src.replace(f"title: {some.title}", "title: overridden", 1))
    loaded = definitions.load([*defs.dirs, tmp_path])
    assert loaded.rules[some.id].title == "overridden"


def test_builtin_definitions_are_found_without_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSOLEWATCH_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("CONSOLEWATCH_PARSERS", raising=False)
    dirs = definitions.search_path()
    assert dirs and (dirs[0] / "detectors").is_dir()
