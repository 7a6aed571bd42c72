"""The blind set (samples/blind/) stays blind: no rule or format sample, and no rule reference,
cites a thread a blind case came from or quotes a file under samples/blind/; the per-case
tests and `rules check --samples` leave it out; and every blind case folder can be scored.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from consolewatch.detect import checks, score

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
BLIND = SAMPLES / checks.BLIND
_URL = re.compile(r"https?://[^\s)>\]\"']+", re.I)


def normalise(url: str) -> str:
    """A URL as a thread identity: no scheme, no www., no #fragment, no trailing slash."""
    parts = urlsplit(url.strip().rstrip(".,;"))
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def urls(text: str) -> set[str]:
    return {normalise(u) for u in _URL.findall(text or "")}


def blind_threads(root: Path = BLIND) -> dict[str, Path]:
    """Normalised URL -> the blind case citing it (its `thread` or its `source`)."""
    out: dict[str, Path] = {}
    for meta_path in sorted(root.rglob("meta.yaml")) if root.is_dir() else []:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
        for key in ("thread", "source"):
            for url in urls(str(meta.get(key) or "")):
                out.setdefault(url, meta_path.parent)
    return out


def citations(defs) -> list[tuple[str, str]]:
    """(where, text) for every sample source and rule reference in the definitions."""
    out = []
    for rule in defs.rules.values():
        for s in (*rule.match_samples, *rule.no_match_samples):
            out.append((f"{rule.path}:{s.at} ({rule.id})", s.source))
        out += [(f"{rule.path}:{rule.at} ({rule.id} references)", ref) for ref in rule.references]
    for fmt in defs.formats.values():
        out += [(f"{fmt.path}:{s.at} ({fmt.id})", s.source) for s in fmt.samples]
    return out


def leaks(cited: list[tuple[str, str]], threads: dict[str, Path]) -> list[str]:
    found = []
    for where, text in cited:
        if f"samples/{checks.BLIND}/" in text.replace("\\", "/"):
            found.append(f"{where} quotes a blind case: {text}")
        found += [f"{where} cites {u}, the thread of blind case {threads[u]}"
                  for u in sorted(urls(text) & threads.keys())]
    return found


def test_no_sample_or_reference_cites_a_blind_thread(defs):
    assert not leaks(citations(defs), blind_threads())


def test_a_cited_blind_thread_is_caught_however_the_url_is_written(tmp_path):
    case = tmp_path / "blind" / "launchpad" / "case-1"
    case.mkdir(parents=True)
    (case / "meta.yaml").write_text(yaml.safe_dump({
        "thread": "https://bugs.launchpad.net/ubuntu/+source/linux/+bug/1234567",
        "source": "https://github.com/org/repo/issues/42#issuecomment-99"}))
    threads = blind_threads(tmp_path / "blind")
    cited = [("a.yaml:3", "http://bugs.launchpad.net/ubuntu/+source/linux/+bug/1234567/ (comment 4)"),
             ("a.yaml:9", "https://www.github.com/org/repo/issues/42/#issue-1"),
             ("b.yaml:1", "samples/blind/launchpad/case-1/console.log"),
             ("c.yaml:2", "https://github.com/org/repo/issues/421"),
             ("c.yaml:5", "https://bugzilla.example.org/show_bug.cgi?id=42")]
    found = leaks(cited, threads)
    assert [f.split(" ", 1)[0] for f in found] == ["a.yaml:3", "a.yaml:9", "b.yaml:1"], found


def test_the_per_case_tests_and_samples_default_leave_the_blind_set_out(tmp_path):
    for case in ("blind/qemu/x", "qemu/y", "z"):
        (tmp_path / case).mkdir(parents=True)
        (tmp_path / case / "expected.yaml").write_text("outcome: success\n")
    assert checks.find_cases(tmp_path) == [tmp_path / "qemu/y", tmp_path / "z"]
    assert checks.find_cases(tmp_path / "blind") == [tmp_path / "blind/qemu/x"]
    assert not any(BLIND in c.parents for c in checks.find_cases(SAMPLES))


def test_every_blind_case_can_be_scored():
    """Loading validates every folder (files, outcome, categories, evidence); nothing is run."""
    cases = score.load_cases(BLIND)
    assert cases
    for case in cases:
        meta = yaml.safe_load((case.path / "meta.yaml").read_text(encoding="utf-8"))
        assert case.family in score.FAMILIES, (case.name, case.family)
        assert meta.get("thread") and meta.get("source"), case.name
        assert isinstance(meta.get("synthetic"), bool), case.name
