"""The definitions cache: a command reads its definitions back instead of parsing them, and what it
reads is never stale, never half written, and never trusted when damaged."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest

from consolewatch import defcache, definitions

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def parsers(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSOLEWATCH_CACHE_DIR", str(tmp_path / "cache"))
    copy = tmp_path / "parsers"
    shutil.copytree(ROOT / "parsers", copy)
    return copy


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "definitions").glob("*"))


def summary(defs: definitions.Definitions) -> list[tuple]:
    """What a user's analysis depends on: every rule's and pattern's id, text, regexes and place."""
    rules = [(r.id, r.title, r.path, r.at, r.remediation, [(m.regex.pattern if m.regex else None, m.format_ref)
                                                          for m in r.matchers]) for r in defs.rules.values()]
    pats = [(p.ref, p.regex.pattern, p.regex.flags, p.milestone) for f in defs.formats.values() for p in f.patterns]
    return [*rules, *pats]


def test_a_cached_load_gives_what_loading_gives(parsers, tmp_path):
    fresh = definitions.load([parsers])
    first = defcache.load([parsers])  # loads and writes the entry
    assert len(entries(tmp_path)) == 1
    again = defcache.load([parsers])  # reads it back
    assert summary(first) == summary(again) == summary(fresh)
    assert again.rules.keys() == fresh.rules.keys() and not again.problems
    # every field of every rule, matcher, condition and pattern (read back by `_set_slots`)
    assert again.rules == fresh.rules and again.formats == fresh.formats


def test_an_edited_definition_is_never_read_from_a_stale_entry(parsers, tmp_path):
    defcache.load([parsers])
    path = parsers / "detectors" / "kernel.yaml"
    text = path.read_text(encoding="utf-8")
    old = next(r for r in definitions.load([parsers]).rules.values() if r.path.endswith("kernel.yaml"))
    path.write_text(text.replace(f"title: {old.title}", "title: An edited title", 1), encoding="utf-8")
    assert defcache.load([parsers]).rules[old.id].title == "An edited title"
    path.write_text(text, encoding="utf-8")
    assert defcache.load([parsers]).rules[old.id].title == old.title


def test_the_key_of_unchanged_files_is_remembered_and_not_read_again(parsers, tmp_path, monkeypatch):
    keys = tmp_path / "cache" / "keys"
    defcache.load([parsers])  # the copied files changed just now: read every time, nothing remembered
    assert not keys.exists()
    monkeypatch.setattr(defcache, "SETTLE_NS", 0)
    first = defcache.load([parsers])
    memos = sorted(keys.glob("*"))
    assert [p.read_text() for p in memos] == [defcache.key([parsers])]
    real = defcache.key
    monkeypatch.setattr(defcache, "key", lambda *a: pytest.fail("the files were read again"))
    assert defcache.load([parsers]).rules == first.rules
    path = parsers / "detectors" / "kernel.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1), encoding="utf-8")
    monkeypatch.setattr(defcache, "key", real)  # an edited file: its stat names no remembered key
    assert any(r.title.startswith("Edited ") for r in defcache.load([parsers]).rules.values())


def test_an_analysis_reads_the_definitions_without_their_samples(parsers, tmp_path):
    fresh = definitions.load([parsers])
    defcache.load([parsers])  # writes the entry
    bare = defcache.load([parsers], samples=False)
    assert summary(bare) == summary(fresh)
    assert all(not r.match_samples and not r.no_match_samples for r in bare.rules.values())
    assert all(not f.samples for f in bare.formats.values())
    full = defcache.load([parsers])  # the same entry, samples and all
    assert full.rules == fresh.rules and full.formats == fresh.formats


def test_definitions_with_problems_are_reported_and_not_cached(parsers, tmp_path):
    (parsers / "detectors" / "broken.yaml").write_text("rules: [\n", encoding="utf-8")
    got = defcache.load([parsers])
    assert any("broken.yaml" in str(p) for p in got.problems)
    assert entries(tmp_path) == []


@pytest.mark.parametrize("damage", [b"", b"garbage", b"\x80\x04\x95 truncated pickle"])
def test_a_damaged_entry_is_loaded_again_and_replaced(parsers, tmp_path, damage):
    good = summary(defcache.load([parsers]))
    (entry,) = entries(tmp_path)
    entry.write_bytes(damage)
    assert summary(defcache.load([parsers])) == good
    assert entry.read_bytes() != damage  # written again


def test_an_unwritable_cache_directory_only_means_loading(parsers, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("CONSOLEWATCH_CACHE_DIR", str(blocker))
    assert summary(defcache.load([parsers])) == summary(definitions.load([parsers]))


def _load(parsers: str) -> int:
    return len(defcache.load([Path(parsers)]).rules)


def test_commands_starting_together_share_the_cache_safely(parsers, tmp_path):
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, as separate commands are
    with ctx.Pool(4) as pool:
        counts = pool.map(_load, [str(parsers)] * 8)
    assert set(counts) == {len(definitions.load([parsers]).rules)}
    assert [p.suffix for p in entries(tmp_path)] == [".pickle"]  # one entry, no temporary left behind
    assert _load(str(parsers)) == counts[0]


def test_only_the_newest_entries_are_kept(parsers, tmp_path):
    for i in range(defcache.KEEP + 3):
        (parsers / "formats" / "extra.yaml").write_text(f"# variant {i}\n" + (
            parsers / "formats" / "grub.yaml").read_text(encoding="utf-8").replace("id: grub", "id: grub-copy", 1))
        defcache.load([parsers])
    assert len(entries(tmp_path)) == defcache.KEEP


def test_regexes_read_back_are_compiled_on_first_use_and_match_as_the_fresh_ones(parsers, tmp_path):
    # Compiling all ~700 regexes on loading cost ~0.09 s of every command's start; a read-back
    # regex compiles when first used, and then finds exactly what the freshly loaded one finds.
    import pickle
    import re

    fresh = definitions.load([parsers])
    defcache.load([parsers])
    again = defcache.load([parsers])
    pairs = [(p.regex, q.regex) for f, g in zip(fresh.formats.values(), again.formats.values(), strict=True)
             for p, q in zip(f.patterns, g.patterns, strict=True)]
    lazy = pairs[0][1]
    assert not isinstance(lazy, re.Pattern) and "search" not in vars(lazy)  # nothing compiled yet
    lines = [s.line for f in fresh.formats.values() for s in f.samples][:300]
    for rx, back in pairs:
        assert back == rx and back.pattern == rx.pattern and back.flags == rx.flags
        for line in lines:
            m, n = rx.search(line), back.search(line)
            assert (m and m.groupdict()) == (n and n.groupdict()), (rx.pattern, line)
    assert isinstance(pickle.loads(pickle.dumps(lazy)), re.Pattern)  # written again as a compiled regex


def test_regexes_read_back_are_rebuilt_from_their_stored_code_into_the_same_compiled_pattern(parsers, tmp_path):
    # The entry holds what `re` compiled each regex to, so its first use skips parsing and compiling
    # (~0.11 ms a regex); the rebuilt pattern is the one re.compile makes (equal compares the code).
    import re

    defcache.load([parsers])
    again = defcache.load([parsers])
    lazies = [p.regex for f in again.formats.values() for p in f.patterns]
    lazies += [m.regex for r in again.rules.values() for m in r.matchers if m.regex is not None]
    assert len(lazies) > 500 and all(rx._form is not None for rx in lazies)
    for rx in lazies:
        rebuilt = rx.search.__self__
        assert isinstance(rebuilt, re.Pattern) and rebuilt == re.compile(rx.pattern, rx.flags)
        assert rebuilt.groupindex == re.compile(rx.pattern, rx.flags).groupindex
