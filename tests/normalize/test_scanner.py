"""The prefilter never hides a match: Hyperscan and Python `re` backends agree on every sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from consolewatch.detect.catalog import Catalog
from consolewatch.model import Chunk
from consolewatch.normalize.scanner import Scanner, hyperscan_available
from consolewatch.session import Session
from consolewatch.sinks.jsonout import analysis_dict, dumps

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted(p for p in (ROOT / "samples").rglob("*.log"))

needs_hs = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed here")


def findings(catalog: Catalog, data: bytes) -> str:
    """The whole `analyze --json --boot all` document: every boot, finding, field, count and fix."""
    s = Session(catalog)
    s.feed(Chunk("c", data))
    s.finish()
    return dumps(analysis_dict(s.result(), "all"))


@needs_hs
def test_both_backends_give_identical_results_on_every_sample(defs):
    hs, rx = Catalog(defs, backend="hyperscan"), Catalog(defs, backend="re")
    assert hs.scanner.name.startswith("hyperscan") and rx.scanner.name == "re"
    for log in LOGS:
        data = log.read_bytes()
        assert findings(hs, data) == findings(rx, data), log


@needs_hs
def test_non_ascii_lines_and_multibyte_wildcards():
    pats = [(0, r"root=(?P<root>\S+)", False), (1, r"wait a.b", False), (2, r"caf\w", False)]
    buf = "x\nroot=/dev/vdå1\nwait a…b\ncafé\n".encode()
    for backend in ("hyperscan", "re"):
        hits, _ = Scanner(pats, backend=backend).scan(buf)
        assert {k: v for k, v in hits.items()} == {1: {0}, 2: {1}}, backend  # \w is ASCII: no "caf"+"é"


@needs_hs
def test_a_pattern_hyperscan_cannot_compile_is_scanned_with_re():
    # Hyperscan refuses patterns that can match nothing at all; Python `re` takes them.
    s = Scanner([(0, r"(?:abc)*", False), (1, r"plain", False)], backend="hyperscan")
    assert s.name == "hyperscan+re"
    hits, _ = s.scan(b"zzz\nabc\nplain\n")
    assert all(0 in hits[i] for i in range(3)) and hits[2] == {0, 1}


def test_optional_tails_are_left_out_of_the_prefilter_but_escaped_backslashes_are_kept():
    from consolewatch.normalize.scanner import _prefilter_source

    # A lazy field with an optional dot and blanks before `$` would report a match event per
    # character; the prefilter keeps only what decides whether the line can match.
    assert _prefilter_source(r"Dependency failed for (?P<unit>.+?)\.?\s*$") == "Dependency failed for "
    assert _prefilter_source(r"Subnet Mask: ffffffff\s*$") == "Subnet Mask: ffffffff"
    assert _prefilter_source(r"a\\s*") == r"a\\s*"  # a literal backslash, then `s*`: not a blank
    assert _prefilter_source(r"x\s+") == r"x\s+"  # required blanks stay


@needs_hs
def test_a_tail_left_out_still_finds_the_same_lines():
    pat = [(0, r"Failed to mount (?P<what>.+?)\.?\s*$", False)]
    buf = b"[FAILED] Failed to mount /data.\nFailed to mount /var/log   \nFailed to mount\n"
    for backend in ("hyperscan", "re"):
        hits, _ = Scanner(pat, backend=backend).scan(buf)
        assert set(hits) == {0, 1}, backend


def test_lines_flagged_only_by_field_patterns_are_the_ones_the_normaliser_may_skip(defs):
    """The normaliser skips, unread, a line whose flags are all patterns that only add fields
    (`Catalog.useful` holds the others): reading such a line must never find it relevant."""
    from consolewatch.normalize.assembler import LineAssembler

    cat = Catalog(defs)
    skipped = 0
    for log in LOGS:
        asm = LineAssembler()
        block = asm.feed(log.read_bytes()) + asm.flush()
        hits, where = cat.scanner.scan(block)
        for idx, pids in hits.items():
            start = block.rfind(b"\n", 0, where[idx]) + 1
            text = block[start: block.index(b"\n", start)].decode("utf-8")
            reading = cat.read(text, frozenset(pids))
            if cat.useful.isdisjoint(pids):
                skipped += 1
                assert not reading.relevant, (log, text)
    assert skipped > 0  # the samples do have such lines: the skip is exercised


@needs_hs
def test_the_compiled_scanner_cache_keeps_only_its_newest_entries_and_still_scans(tmp_path, monkeypatch):
    # One entry per set of patterns (a checkout switching branches, `--parsers`): without pruning
    # the folder grew by half a megabyte per variant (118 MB seen on a developer's machine).
    from consolewatch.normalize import scancache

    monkeypatch.setenv("CONSOLEWATCH_CACHE_DIR", str(tmp_path))
    for i in range(scancache.KEEP + 4):
        Scanner([(0, rf"variant {i} root=\S+", False)], backend="hyperscan")
    kept = sorted((tmp_path / "scanner").iterdir())
    assert len(kept) == scancache.KEEP and all(p.suffix == ".hsdb" for p in kept)
    last = scancache.KEEP + 3
    newest = Scanner([(0, rf"variant {last} root=\S+", False)], backend="hyperscan")
    assert newest.scan(f"x\nvariant {last} root=/dev/vda1\n".encode())[0] == {1: {0}}
    assert len(list((tmp_path / "scanner").iterdir())) == scancache.KEEP  # read back, not written again


@needs_hs
def test_a_costly_pattern_scanned_by_its_literal_still_reports_only_the_lines_it_matches():
    # `\S+` before the literal kept Hyperscan's automata busy on every byte after each ": ":
    # the scanner looks for the literal and confirms each line it flags with the pattern.
    from consolewatch.normalize.standins import literal_stand_ins

    src = r"(?P<driver>[^\s:]+): (?P<alg>\S+) alg self test failed in fips mode"
    assert literal_stand_ins(src, 0) == [" alg self test failed in fips mode"]
    pats = [(0, src, False), (1, r"Linux version \S+ \(", False)]
    buf = ("x\n: alg self test failed in fips mode\ncryptomgr: sha1 alg self test failed in fips mode\n"
           "Linux version 6.1 (gcc)\naes: ccm(aes) alg self test failed in fips mode, é\n").encode()
    for backend in ("hyperscan", "re"):
        hits, where = Scanner(pats, backend=backend).scan(buf)
        assert hits == {2: {0}, 3: {1}, 4: {0}}, backend
        assert set(where) == set(hits)


@needs_hs
def test_a_stand_ins_confirmation_read_back_from_the_cache_is_the_compiled_pattern_and_confirms_alike(tmp_path, monkeypatch):
    # The cache entry keeps what each confirming regex compiles to (`rxcode`): a later process
    # rebuilds it instead of compiling, and it flags exactly the lines the first process flagged.
    import re

    monkeypatch.setenv("CONSOLEWATCH_CACHE_DIR", str(tmp_path))
    src = r"(?P<driver>[^\s:]+): (?P<alg>\S+) alg self test failed in fips mode"
    pats = [(0, src, False), (1, r"Linux version \S+ \(", False), (2, r"(?P<dev>[^\s:]+): (?P<alg>\S+) alg self test failed in FIPS mode", False)]
    buf = ("x\n: alg self test failed in fips mode\ncryptomgr: sha1 alg self test failed in fips mode\n"
           "Linux version 6.1 (gcc)\naes: ccm(aes) alg self test failed in FIPS mode, \u00e9\n").encode()
    first = Scanner(pats, backend="hyperscan")
    again = Scanner(pats, backend="hyperscan")  # read back from the entry `first` wrote
    hs = again.backends[0]
    assert set(hs._forms) == {0, 2}  # both patterns a stand-in scans; not the one scanned as it is
    assert again.scan(buf)[0] == first.scan(buf)[0] == {2: {0}, 3: {1}, 4: {2}}
    for pid, (pat, icase) in hs._confirm.items():
        assert hs._pattern(pid) == re.compile(pat, re.M | re.ASCII | (re.I if icase else 0))
    # A damaged entry (code that is not SRE code) is compiled from the source, not trusted.
    import json

    entry = next((tmp_path / "scanner").glob("*.hsdb"))
    head, _, blob = entry.read_bytes().partition(b"\n")
    doc = json.loads(head)
    for form in doc[2]["forms"].values():
        form[1] = "ffffffff" * 4
    entry.write_bytes(json.dumps(doc).encode() + b"\n" + blob)
    assert Scanner(pats, backend="hyperscan").scan(buf)[0] == {2: {0}, 3: {1}, 4: {2}}


def test_patterns_get_a_literal_stand_in_only_when_a_broad_repeat_comes_before_a_long_literal():
    import re

    from consolewatch.normalize.standins import literal_stand_ins

    assert literal_stand_ins(r"Linux version \S+ \(", re.ASCII) is None  # the literal comes first: cheap
    assert literal_stand_ins(r"(?P<dev>\S+): short", re.ASCII) is None  # too short to stand in
    assert literal_stand_ins(r"(?i)(?P<dev>\S+): failed in fips mode", re.ASCII) is None  # (?i): not literal
    assert literal_stand_ins(r"\S+ does not exist\.|ALERT! \S+ does not exist", re.ASCII) == [
        r" does not exist\.", r" does not exist"]  # one per branch, escaped for Hyperscan
    assert literal_stand_ins(r"\S+ does not exist|\d+ x", re.ASCII) is None  # one branch has no long literal


@needs_hs
def test_a_pattern_led_by_a_broad_repeat_is_scanned_by_what_follows_it_and_reports_the_same_lines():
    # `^/\S*: ...` (the prefilter drops the `^`) kept Hyperscan busy after every `/`; it has no
    # long literal run, so it is scanned for by what follows its last broad repeat, and only
    # the lines that stand-in flags are confirmed; its branch led by a literal is scanned as it is.
    import re

    from consolewatch.normalize.standins import tail_stand_ins

    src = r"Loading, please wait|/\S*: (?:line )?\d+: (?P<program>/?\S+): (?P<error>not found|Permission denied)"
    assert tail_stand_ins(src, re.ASCII) == [
        ("Loading, please wait", False), (": (?:(?:not found|Permission denied))", True)]
    assert tail_stand_ins(r"(?P<dev>\S+): sh", re.ASCII) is None  # too few literals after `\S+`
    assert tail_stand_ins(r"Run /\S+ as init process", re.ASCII) is None  # a literal leads: cheap
    # what can match nothing at a branch's start finds no other line: left out, nothing to confirm
    assert tail_stand_ins(r"(?:|\]: )\s*routes\s*: \S+", re.ASCII) == [(r"routes(?:[\s])*: (?:[\S])+", False)]
    assert tail_stand_ins(r"(?:|\]: )\s*routes\s*: \S+|x?", re.ASCII) is None  # matches '': as it is
    # no literals after its last broad repeat: the first part that literals lead stands in
    assert tail_stand_ins(r"[A-Z][\w.]* (?P<k>\d+\.\d+\S*) \((?P<tty>tty\w*|console)\)", re.ASCII) == [
        (r" \((?:(?:tty(?:[\w])*|console))\)", True)]
    pats = [(0, src, False), (1, r"Linux version \S+ \(", False)]
    buf = ("[    2.5] /init: line 9: /sbin/init: not found\nmodprobe: not found\n"
           "Loading, please wait...\nLinux version 6.1 (gcc)\n/init: 9: /x: Permission denied, é\n"
           "/init: line x: /sbin/init: not found\n").encode()
    for backend in ("hyperscan", "re"):
        hits, where = Scanner(pats, backend=backend).scan(buf)
        assert hits == {0: {0}, 2: {0}, 3: {1}, 4: {0}}, backend
        assert set(where) == set(hits)


def test_a_part_of_a_pattern_written_back_matches_what_the_pattern_matches():
    import re
    from re import _parser  # type: ignore[attr-defined]

    from consolewatch.normalize.rxsource import source

    cases = {
        r"(?P<a>[^\s:\]-]+)\.?x{2,}y{3}z*?\b(?!169\.254\.)(?<=\d)(?:ab|c)": ["ab", "q.xxyyy1ab", "eth0.xxxyyyz7c"],
        r"[^)]\S\W\D[\x00\t^]": ["a)b c", "x1 y\t", "xy. ^"],
    }
    for src, texts in cases.items():
        written = re.compile(source(_parser.parse(src, re.ASCII).data), re.ASCII)
        for text in texts:
            assert bool(written.search(text)) == bool(re.search(src, text, re.ASCII)), (src, text)
    with pytest.raises(ValueError):
        source(_parser.parse(r"(a)\1", 0).data)  # a back-reference is not written back


@needs_hs
def test_an_anchor_inside_an_alternation_still_flags_a_stamped_line():
    # Definitions match a line's message (after its time stamp); the prefilter sees the raw line.
    # `(?:^|udhcpc: )` kept its `^` once and anchored before the stamp: the line was never
    # flagged, so its rule never saw it.
    pats = [(0, r"(?:^|udhcpc: )[Ll]ease of (?P<ip>\S+) obtained", False), (1, r"[^x]y|a|^b", False)]
    buf = b"[    3.141592] Lease of 10.0.2.15 obtained, lease time 86400\n[    3.2] b\nxy\n"
    for backend in ("hyperscan", "re"):
        hits, _ = Scanner(pats, backend=backend).scan(buf)
        assert hits == {0: {0, 1}, 1: {1}}, backend  # `xy`: the class's `^` is not an anchor


def test_the_prefilter_drops_anchors_but_not_class_negations_or_escaped_carets():
    from consolewatch.normalize.scanner import _prefilter_source

    assert _prefilter_source(r"(?:^|Solo5: )ABORT: ") == "(?:|Solo5: )ABORT: "
    assert _prefilter_source(r"^[^]^x]\^y") == r"[^]^x]\^y"


@needs_hs
def test_a_pattern_that_begins_with_an_alternation_is_scanned_as_its_alternatives_and_flags_the_same_lines():
    # `\s*(?:nvme..|xvd..|[shv]d[a-z]+): ...` has no literal Hyperscan can find it by: its class
    # automata ran on every byte (~8 % of Hyperscan's time on the bench mix). Its alternatives,
    # each led by literals, find exactly its lines; nothing to confirm.
    import re

    from consolewatch.normalize.standins import tail_stand_ins

    src = r"\s*(?P<disk>nvme\d+n\d+|xvd[a-z]+|[shv]d[a-z]+): (?P<partitions>\w+(?: \w+)*)"
    parts = tail_stand_ins(src, re.ASCII)
    assert parts is not None and len(parts) == 5 and not any(confirm for _, confirm in parts)
    assert [e.split("(")[0] for e, _ in parts] == ["nvme", "xvd", "sd", "hd", "vd"]
    assert tail_stand_ins(r"\s*(?:nvme\d+|[a-z]d\d+): x", re.ASCII) is None  # a wide class is not spelt out
    pats = [(0, src, False)]
    buf = ("[    3.9]  nvme0n1: p1 p2\n xvdc: xvdc1 xvdc3\nsda: sda1\n md0: x\nvdb:\n"
           "usb 1-1: new device\n\thdc: hdc1\u00e9\n").encode()
    for backend in ("hyperscan", "re"):
        hits, where = Scanner(pats, backend=backend).scan(buf)
        assert hits == {0: {0}, 1: {0}, 2: {0}, 6: {0}}, backend
        assert set(where) == set(hits)


@needs_hs
def test_a_pattern_led_by_a_long_blank_run_is_scanned_by_the_blanks_and_confirmed_per_line():
    # Unikraft's banner `^\s{8,}Codename 0.17.0`: no literal at all, so its automaton ran on every
    # byte. It is scanned for by eight spaces or another blank before what follows, and each line
    # flagged is confirmed with the pattern: a run of blanks that spans a line end (spaces ending
    # one line, a short indent beginning the next) is not a match, in either backend.
    import re

    from consolewatch.normalize.standins import tail_stand_ins

    src = r"\s{8,}(?P<codename>[A-Z][a-z]+) (?P<version>\d+\.\d+\.\d+(?:~[0-9a-f]{7,})?)\s*$"
    # eight spaces, or each other blank (a literal each: a class of four would be tried at every byte)
    assert [confirm for _, confirm in tail_stand_ins(src, re.ASCII) or []] == [True] * 5
    assert tail_stand_ins(r"\s{2,}[A-Z][a-z]+ \d", re.ASCII) is None  # a short run: scanned as it is
    pats = [(0, src, False), (1, r"OSv v\d|\s{8,}[A-Z][a-z]+ \d+\.\d+\.\d+\s*$", False)]
    buf = (b"                Calypso 0.17.0~3c884328\n\t \t    \t Ijiraq 0.21.0\nended with spaces      \n"
           b"   Short 1.2.3\n       Seven 1.2.3\nOSv v0.57\n            Lower case 1.2.3\n"
           b"  \x0c     \x0b Feed 1.2.3\n\t\tTabs 1.2.3\n")
    for backend in ("hyperscan", "re"):
        hits, where = Scanner(pats, backend=backend).scan(buf)
        assert hits == {0: {0, 1}, 1: {0, 1}, 5: {1}, 7: {0, 1}}, backend
        assert set(where) == set(hits)


@needs_hs
def test_a_pattern_keyed_on_a_short_lead_before_spaced_words_is_scanned_by_its_longest_word():
    # The OOM killer's table header `\\[ +pid +\\] +uid +tgid +total_vm +rss `: Hyperscan keyed it on
    # `[ `, which begins every printk stamp, and ran the rest on nearly every line (a tenth of the
    # scan on the bench mix). Its longest word stands in, and the lines it flags are confirmed.
    import re

    from consolewatch.normalize.standins import tail_stand_ins

    src = r"\[ +pid +\] +uid +tgid +total_vm +rss "
    assert tail_stand_ins(src, re.ASCII) == [("total_vm", True)]
    assert tail_stand_ins(r"\[ +pid +\]", re.ASCII) is None  # no word long enough: as it is
    assert tail_stand_ins(r"Stack Trace +\(", re.ASCII) is None  # a long lead: cheap as it is
    pats = [(0, src, False)]
    buf = (b"[  123.4] [  pid  ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name\n"
           b"[  123.5] [   1]     0     1    41300     1104  total_vm\n"
           b"[  123.6] [ pid ] uid tgid total_vm rss\n"
           b"[  123.7] [pid] uid tgid total_vm rss \n")
    for backend in ("hyperscan", "re"):
        hits, where = Scanner(pats, backend=backend).scan(buf)
        assert hits == {0: {0}}, backend
        assert set(where) == set(hits)


def test_newlines_counts_the_line_ends_of_a_span():
    from consolewatch.normalize.scanner import newlines

    buf = b"a\nbb\n\n\xc3\xa9\r\nlast"
    assert newlines(buf) == 4 and newlines(buf, 2) == 3 and newlines(buf, 2, 5) == 1 and newlines(buf, 6, 6) == 0


@needs_hs
def test_the_scanner_cache_is_keyed_by_the_patterns_as_written_and_by_the_code_that_prefilters_them(tmp_path, monkeypatch):
    # A run that finds its entry prefilters no pattern (it is keyed by the sources as written), so
    # the entry must change with the code that prefilters them and builds stand-ins.
    from consolewatch.normalize import scanner

    monkeypatch.setenv("CONSOLEWATCH_CACHE_DIR", str(tmp_path))
    pats = [(0, r"^(?P<dev>\S+): (?P<alg>\S+) alg self test failed in fips mode$", False), (1, r"^Linux version \S+", False)]
    buf = b"[ 1.0] aes: ccm alg self test failed in fips mode\nLinux version 6.1\n"
    calls: list[str] = []
    real = scanner._prefilter_source
    monkeypatch.setattr(scanner, "_prefilter_source", lambda src: calls.append(src) or real(src))
    assert Scanner(pats, backend="hyperscan").scan(buf)[0] == {0: {0}, 1: {1}}
    assert len(calls) == 2 and len(list((tmp_path / "scanner").iterdir())) == 1
    again = Scanner(pats, backend="hyperscan")  # read back: nothing prefiltered
    assert len(calls) == 2 and again.scan(buf)[0] == {0: {0}, 1: {1}}
    assert again.backends[0]._confirm == {0: (real(pats[0][1]), False)}  # the stand-in confirms as prefiltered
    monkeypatch.setattr(scanner, "_code_digest", lambda: "edited")
    assert Scanner(pats, backend="hyperscan").scan(buf)[0] == {0: {0}, 1: {1}}
    assert len(calls) == 4 and len(list((tmp_path / "scanner").iterdir())) == 2


@needs_hs
def test_a_pattern_with_an_end_anchor_of_its_own_reports_once_per_line_and_flags_the_same_lines():
    # `(?P<e>.+)` in a pattern with a `$` elsewhere reported a match event per character after
    # "error: "; extended alternative by alternative, it reports one event per line.
    from re import _parser  # type: ignore[attr-defined]

    from consolewatch.normalize import scanner
    from consolewatch.normalize.rxsource import to_line_end

    src = r"(?:|ignition\[\d+\]: )(?:GET error: (?P<e>.+)|GET result: (?P<s>Bad Gateway|Not Found)\s*$)"
    assert to_line_end(_parser.parse(src).data) == (
        r"(?:|ignition\[(?:[\d])+\]: )GET (?:error: (?:(?:.)+[^\n]*$)|result: (?:(?:Bad Gateway|Not Found))(?:[\s])*$)")
    assert scanner._to_line_end(r"a\s+|b\s*$") == r"a\s+|b\s*$"  # `\s+` may end with a newline: as it is
    assert scanner._to_line_end(r"(?:a|$)b") == r"(?:a|$)b"  # an anchor not at the end: as it is
    buf = (b"x GET error: timeout after 30s\nGET result: Bad Gateway  \nGET result: Bad Gateway x\n"
           b"ignition[5]: GET result: Not Found\nGET error:\n")
    events: list[int] = []
    backend = Scanner([(0, src, False)], backend="hyperscan").backends[0]
    backend._db.scan(buf, match_event_handler=lambda pid, start, end, flags, ctx: events.append(end))
    assert len(events) == 3
    for name in ("hyperscan", "re"):
        hits, _ = Scanner([(0, src, False)], backend=name).scan(buf)
        assert set(hits) == {0, 1, 3}, name
