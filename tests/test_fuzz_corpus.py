"""Every input that once broke a parser or decoder (tests/fuzz_corpus/) is replayed through the
same fuzz target atheris runs (bench/fuzz/targets.py), and every target has a corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile import fuzz_targets

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz_corpus"


TARGETS = fuzz_targets()
CASES = sorted((t, p) for t in TARGETS for p in (CORPUS / t).glob("*") if p.is_file())


def test_every_target_has_a_corpus_and_every_corpus_a_target():
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert folders == set(TARGETS)
    assert all(any((CORPUS / t).iterdir()) for t in TARGETS)


@pytest.mark.parametrize("target, path", CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_corpus_input_is_handled(target, path):
    TARGETS[target](path.read_bytes())
