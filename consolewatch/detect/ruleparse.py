"""Reading detector files (parsers/detectors/*.yaml) into the frozen values of `rules`, with
every problem collected (file and line) rather than stopping at the first.

The YAML schema is documented in parsers/README.md.
"""

from __future__ import annotations

import re
from typing import Any

from consolewatch.detect import facts
from consolewatch.detect.rules import (
    REMEDIATION_KEYS,
    VERDICTS,
    AbsentCond,
    BootCond,
    CaptureCond,
    Condition,
    IdleCond,
    LineCond,
    LineMatcher,
    RepeatCond,
    Rule,
    RuleSample,
    SequenceCond,
    Window,
)
from consolewatch.model import CATEGORIES, CLOUDS, MILESTONES, OUTCOMES, SEVERITIES
from consolewatch.normalize.formats import HYPERVISORS, Checker
from consolewatch.normalize.scanner import REGEX_FLAGS
from consolewatch.yamlload import Problem, line_of

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")

_RULE_KEYS = {
    "id", "title", "category", "severity", "verdict", "scope", "description", "match",
    "remediation", "references", "inhibits", "fallback", "survivable", "superseded_by", "samples",
    "needs_milestone",
}


def parse_rules_file(doc: Any, path: str) -> tuple[list[Rule], list[Problem]]:
    c = Checker(path)
    d = c.mapping(doc, doc, "a detector file")
    rules: list[Rule] = []
    raw = d.get("rules") if d else None
    if d and (not isinstance(raw, list) or not raw):
        c.add(d, "a detector file needs `rules:`, a non-empty list")
    for r in raw or []:
        rule = _rule(c, r)
        if rule is not None:
            rules.append(rule)
    return rules, c.problems


def _rule(c: Checker, r: Any) -> Rule | None:
    before = len(c.problems)
    d = c.mapping(r, r, "a rule")
    if not d:
        return None
    c.unknown_keys(d, _RULE_KEYS, d, "a rule")
    rid = c.text(d, "id", d)
    if rid and not _ID.match(rid):
        c.add(d, f"rule id {rid!r} must be kebab-case")
    category = c.text(d, "category", d)
    if category and category not in CATEGORIES:
        c.add(d, f"unknown category {category!r}; use one of design.md's list")
    severity = c.text(d, "severity", d)
    if severity and severity not in SEVERITIES:
        c.add(d, f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})")
    default_verdict = "success" if category == "boot.success" else (
        "failure" if severity in ("error", "critical") else "none")
    verdict = d.get("verdict", default_verdict)
    if verdict not in VERDICTS:
        c.add(d, f"unknown verdict {verdict!r}")
    scope = d.get("scope") or {}
    if not isinstance(scope, dict):
        c.add(d, "`scope` must be a mapping")
        scope = {}
    c.unknown_keys(scope, {"clouds", "hypervisors"}, d, "scope")
    clouds = c.strings(scope, "clouds", d)
    for x in clouds:
        if x not in CLOUDS:
            c.add(d, f"unknown cloud {x!r} in scope")
    hypervisors = c.strings(scope, "hypervisors", d)
    for x in hypervisors:
        if x not in HYPERVISORS:
            c.add(d, f"unknown hypervisor {x!r} in scope")
    matchers: list[LineMatcher] = []
    cond = _condition(c, d.get("match"), d, matchers)
    reached, superseded_at = _superseded(c, d, matchers)
    if d.get("fallback") not in (None, True, False, "component"):
        c.add(d, "`fallback` is true, false or `component`")
    remediation = d.get("remediation")
    rem: dict[str, str] = {}
    if isinstance(remediation, str):
        rem = {"default": remediation}
    elif isinstance(remediation, dict):
        for k, v in remediation.items():
            if k not in REMEDIATION_KEYS:
                c.add(d, f"unknown remediation key {k!r} (one of {', '.join(REMEDIATION_KEYS)})")
            elif not isinstance(v, str) or not v.strip():
                c.add(d, f"remediation {k!r} must be text")
            else:
                rem[k] = v.strip()
    if "default" not in rem:
        c.add(d, "remediation needs a `default` text")
    samples = d.get("samples") or {}
    if not isinstance(samples, dict):
        c.add(d, "`samples` must be a mapping with `match` and `no_match`")
        samples = {}
    c.unknown_keys(samples, {"match", "no_match"}, d, "samples")
    match_s = _samples(c, samples.get("match"), d, "match")
    no_match_s = _samples(c, samples.get("no_match"), d, "no_match")
    if len(c.problems) > before or cond is None:
        return None
    return Rule(
        id=rid, title=c.text(d, "title", d), category=category, severity=severity, verdict=verdict,
        condition=cond, remediation=rem, description=str(d.get("description", "")).strip(),
        clouds=clouds, hypervisors=hypervisors, references=c.strings(d, "references", d),
        inhibits=c.strings(d, "inhibits", d), fallback=d.get("fallback") in (True, "component"),
        component=d.get("fallback") == "component",
        survivable=d.get("survivable") is True, needs_milestone=d.get("needs_milestone") is True,
        superseded_keeps=isinstance(d.get("superseded_by"), dict) and d["superseded_by"].get("keep") is True,
        superseded_reached=reached, superseded_at=superseded_at,
        match_samples=match_s, no_match_samples=no_match_s,
        path=c.path, at=line_of(d), matchers=tuple(matchers),
    )


def _superseded(c: Checker, d: dict[str, Any], matchers: list[LineMatcher]) -> tuple[tuple[str, ...], int]:
    """`superseded_by: {reached: [milestone, ...], line: <line matcher>, keep: bool}`: what, after
    a finding, makes it moot (`keep`: only ends what it waited for: the finding stays, deciding
    nothing). The line matcher goes last among the rule's matchers."""
    raw = d.get("superseded_by")
    if raw is None:
        return (), -1
    if not isinstance(raw, dict):
        c.add(d, "`superseded_by` must be a mapping")
        return (), -1
    c.unknown_keys(raw, {"reached", "line", "keep"}, d, "superseded_by")
    if isinstance(d.get("match"), dict) and ({"boot", "capture", "idle"} & set(d["match"])):
        c.add(d, "`superseded_by` is for line conditions (a boot or capture condition is judged at the end)")
    reached = _strings(c, raw, "reached", MILESTONES, d)
    at = -1
    if "line" in raw:
        if _matcher(c, raw["line"], d, matchers) is not None:
            at = len(matchers) - 1
    if not reached and at < 0:
        c.add(d, "`superseded_by` needs `reached` milestones and/or a `line` matcher")
    return reached, at


def _samples(c: Checker, raw: Any, where: Any, kind: str) -> tuple[RuleSample, ...]:
    if not isinstance(raw, list) or not raw:
        c.add(where, f"samples.{kind} must list at least one real sample")
        return ()
    out = []
    for s in raw:
        sd = c.mapping(s, where, "a sample")
        if not sd:
            continue
        c.unknown_keys(sd, {"line", "lines", "source", "cloud", "hypervisor", "context"}, sd, "a sample")
        lines = sd.get("lines", [sd["line"]] if "line" in sd else None)
        # `lines: []` is the empty console; `!!binary` lines are raw bytes (a console that is not text)
        if not isinstance(lines, list) or not all(isinstance(x, (str, bytes)) for x in lines):
            c.add(sd, "a sample needs `line` (a string) or `lines` (a list of strings)")
            continue
        source = c.text(sd, "source", sd)
        cloud, hyp = sd.get("cloud"), sd.get("hypervisor")
        if cloud is not None and cloud not in CLOUDS:
            c.add(sd, f"unknown cloud {cloud!r}")
        if hyp is not None and hyp not in HYPERVISORS:
            c.add(sd, f"unknown hypervisor {hyp!r}")
        given = sd.get("context") or {}
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            c.add(sd, "a sample's `context` maps context fields to text")
            given = {}
        out.append(RuleSample(tuple(lines), source, cloud, hyp, line_of(sd), {str(k): v for k, v in given.items()}))
    return tuple(out)


def _window(c: Checker, raw: Any, where: Any) -> Window | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw or not set(raw) <= {"seconds", "lines"}:
        c.add(where, "`within` takes `seconds` and/or `lines`")
        return None
    secs, lines = raw.get("seconds"), raw.get("lines")
    if secs is not None and (not isinstance(secs, (int, float)) or secs <= 0):
        c.add(where, "`within.seconds` must be a positive number")
    if lines is not None and (not isinstance(lines, int) or lines <= 0):
        c.add(where, "`within.lines` must be a positive integer")
    return Window(float(secs) if secs is not None else None, lines)


def _matcher(c: Checker, raw: Any, where: Any, out: list[LineMatcher]) -> LineMatcher | None:
    d = c.mapping(raw, where, "a line matcher")
    if not d:
        return None
    c.unknown_keys(d, {"regex", "ignore_case", "format", "where", "not", "origin", "context"}, d, "a line matcher")
    icase = bool(d.get("ignore_case", False))
    rx = c.regex(d["regex"], d, ignore_case=icase) if "regex" in d else None
    fmt = d.get("format")
    if fmt is not None and (not isinstance(fmt, str) or fmt.count(".") != 1):
        c.add(d, "`format` must be a pattern reference `format-id.pattern-id`")
        fmt = None
    if rx is None and fmt is None:
        if "regex" not in d:
            c.add(d, "a line matcher needs `regex` or `format`")
        return None
    where_tests: list[tuple[str, re.Pattern[str]]] = []
    w = d.get("where") or {}
    if not isinstance(w, dict):
        c.add(d, "`where` must map field names to regexes")
        w = {}
    for k, v in w.items():
        try:
            test = c.safe(re.compile(str(v), REGEX_FLAGS), d)
            if test is not None:
                where_tests.append((str(k), test))
        except re.error as exc:
            c.add(d, f"where.{k}: regex does not compile: {exc}")
    exclude = None
    if "not" in d:
        try:
            exclude = c.safe(re.compile(str(d["not"]), REGEX_FLAGS | (re.I if icase else 0)), d)
        except re.error as exc:
            c.add(d, f"`not` regex does not compile: {exc}")
    origin = d.get("origin")
    if origin not in (None, "text", "ocr"):
        c.add(d, "`origin` is text or ocr")
    tests = facts.parse(c, d["context"], d) if "context" in d else ()
    m = LineMatcher(rx, fmt, tuple(where_tests), exclude, origin, tests)
    out.append(m)
    return m


def _strings(c: Checker, d: dict[str, Any], key: str, allowed: tuple[str, ...], where: Any) -> tuple[str, ...]:
    vals = c.strings(d, key, where)
    for v in vals:
        if v not in allowed:
            c.add(where, f"`{key}`: unknown value {v!r} (one of {', '.join(allowed)})")
    return vals


def _condition(c: Checker, raw: Any, where: Any, out: list[LineMatcher]) -> Condition | None:
    d = c.mapping(raw, where, "`match`")
    if not d:
        return None
    kinds = [k for k in ("line", "any", "sequence", "absent_after", "repeat", "boot", "capture", "idle") if k in d]
    if len(kinds) != 1:
        c.add(d, "`match` needs exactly one of line, any, sequence, absent_after, repeat, boot, capture, idle")
        return None
    kind = kinds[0]
    extra = {"sequence": {"within"}, "absent_after": {"within"}, "repeat": {"count", "within"}}.get(kind, set())
    c.unknown_keys(d, {kind} | extra, d, f"a `{kind}` condition")
    if kind == "line":
        m = _matcher(c, d["line"], d, out)
        return LineCond((m,)) if m else None
    if kind == "any":
        items = d["any"] if isinstance(d["any"], list) else []
        ms = [_matcher(c, x, d, out) for x in items]
        if not items:
            c.add(d, "`any` must be a non-empty list of line matchers")
        return LineCond(tuple(m for m in ms if m)) if items and all(ms) else None
    if kind == "sequence":
        items = d["sequence"] if isinstance(d["sequence"], list) else []
        steps = [_matcher(c, x, d, out) for x in items]
        window = _window(c, d.get("within"), d)
        if len(items) < 2 or window is None:
            c.add(d, "`sequence` needs two or more steps and a `within` window")
            return None
        return SequenceCond(tuple(s for s in steps if s), window) if all(steps) else None
    if kind == "absent_after":
        a = c.mapping(d["absent_after"], d, "`absent_after`")
        c.unknown_keys(a, {"first", "expect", "latest"}, d, "absent_after")
        first = _matcher(c, a.get("first"), d, out) if a else None
        raw = a.get("expect") if a else None
        if isinstance(raw, list) and not raw:
            c.add(d, "`absent_after.expect` must be a line matcher or a non-empty list of them")
        expect = [_matcher(c, x, d, out) for x in (raw if isinstance(raw, list) else [raw])]
        latest = a.get("latest", False) if a else False
        if not isinstance(latest, bool):
            c.add(d, "`absent_after.latest` must be true or false")
        if first is None or not expect or None in expect:
            return None
        return AbsentCond(first, tuple(e for e in expect if e), _window(c, d.get("within"), d), latest is True)
    if kind == "repeat":
        m = _matcher(c, d["repeat"], d, out)
        count = d.get("count")
        if not isinstance(count, int) or count < 2:
            c.add(d, "`repeat` needs `count` >= 2")
            return None
        return RepeatCond(m, count, _window(c, d.get("within"), d)) if m else None
    if kind == "boot":
        b = c.mapping(d["boot"], d, "`boot`")
        c.unknown_keys(b, {"reached", "not_reached", "last_milestone", "max_lines_after", "min_lines_after",
                           "ended_by", "outcome", "evidence", "origin", "last_pattern", "first_boot", "unless_found",
                           "unless_screen_at", "armed"},
                       d, "a boot condition")
        if b.get("origin") not in (None, "text", "ocr"):
            c.add(d, "boot `origin` is text or ocr")
        evidence = b.get("evidence", "last-line")
        if evidence not in ("last-line", "last-milestone", "ready", "first-line", "armed"):
            c.add(d, "boot `evidence` is last-line, last-milestone, ready, first-line or armed")
        first, armed = b.get("first_boot"), b.get("armed")
        for key, flag in (("first_boot", first), ("armed", armed)):
            if flag is not None and not isinstance(flag, bool):
                c.add(d, f"`{key}` must be true or false")
        mla, mln = b.get("max_lines_after"), b.get("min_lines_after")
        for key, value in (("max_lines_after", mla), ("min_lines_after", mln)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                c.add(d, f"`{key}` must be a non-negative integer")
        return BootCond(
            reached=_strings(c, b, "reached", MILESTONES, d),
            not_reached=_strings(c, b, "not_reached", MILESTONES, d),
            last_milestone=_strings(c, b, "last_milestone", MILESTONES, d),
            max_lines_after=mla,
            min_lines_after=mln,
            ended_by=_strings(c, b, "ended_by", ("capture-end", "next-boot", "reset", "restart-unanswered"), d),
            outcome=_strings(c, b, "outcome", OUTCOMES, d),
            evidence=evidence,
            origin=b.get("origin"),
            last_pattern=c.strings(b, "last_pattern", d),
            first_boot=first if isinstance(first, bool) else None,
            unless_found=_strings(c, b, "unless_found", CATEGORIES, d),
            unless_screen_at=_strings(c, b, "unless_screen_at", MILESTONES, d),
            armed=armed if isinstance(armed, bool) else None,
        )
    if kind == "idle":
        i = c.mapping(d["idle"], d, "`idle`") if d["idle"] is not None else {}
        c.unknown_keys(i, {"not_reached"}, d, "an idle condition")
        return IdleCond(_strings(c, i, "not_reached", MILESTONES, d))
    cap = c.mapping(d["capture"], d, "`capture`")
    c.unknown_keys(cap, {"min_boots", "outcome", "max_lines", "non_text", "ended_by"}, d, "a capture condition")
    n, most, garbled = cap.get("min_boots"), cap.get("max_lines"), cap.get("non_text")
    if [n, most, garbled].count(None) != 2:
        c.add(d, "a capture condition needs one of `min_boots` (>= 2), `max_lines` (>= 0), `non_text` (0..1)")
        return None
    if garbled is not None:
        if isinstance(garbled, bool) or not isinstance(garbled, (int, float)) or not 0 < garbled <= 1:
            c.add(d, "`capture.non_text` must be a fraction between 0 and 1")
            return None
        return CaptureCond(non_text=float(garbled))
    if n is not None and (not isinstance(n, int) or n < 2):
        c.add(d, "`capture.min_boots` must be an integer >= 2")
        return None
    if most is not None and (not isinstance(most, int) or most < 0):
        c.add(d, "`capture.max_lines` must be an integer >= 0")
        return None
    ended_by = _strings(c, cap, "ended_by", ("next-boot", "reset"), d)
    if ended_by and n is None:
        c.add(d, "`capture.ended_by` goes with `min_boots`")
        return None
    return CaptureCond(n, _strings(c, cap, "outcome", OUTCOMES, d), most, ended_by)
