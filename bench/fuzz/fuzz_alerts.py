"""Fuzz target `chat`: findings and boots with arbitrary text -> an alert formatter's payload.

The bytes are cut at NUL into texts (invalid UTF-8 becomes lone surrogates, as from a file name
on the command line); the first bytes say how many findings, how many evidence lines each and
how many times each text repeats (long texts reach the services' length limits and the cuts).
Findings become one of the notices the router sends -- firing, its reminder, or the resolved
notice once a later boot succeeds -- and it goes through one formatter, picked by the last byte
(Slack, Discord, Telegram, Matrix, Teams, email, JSON, Apprise text, Alertmanager: one a run,
so the fuzzer makes nine times the runs). The check is not "no crash": no
mention, markup link, tag, styling or control character survives (`tests.hostile.chat_leaks`),
and the notice comes back unchanged from the outbox (the store's JSON round trip). The target
is a name as the router gets it (`str(Target)`); every other text is arbitrary.
"""

from __future__ import annotations

import itertools
import sqlite3
from functools import lru_cache

from tests.hostile import Misbehaved, chat_leaks

SEVERITIES = ("info", "warning", "error", "critical")


def _texts(data: bytes) -> list[str]:
    if len(data) < 3:
        return [""]
    repeat = 1 + data[2] % 16 if data[2] & 0x80 else 1  # up to 16: with 8 evidence rows, past every cut
    return [t * repeat for t in data[3:].decode("utf-8", "surrogateescape").split("\0")]


def _findings(data: bytes) -> tuple[str, str, list]:
    from consolewatch.fetchers.base import Target
    from consolewatch.model import Evidence, Finding

    texts = _texts(data)
    pick = itertools.cycle(texts)
    count = 1 + (data[0] % 7 if data else 0)  # more than a notice's 5 causes; bits 6-7: which notice
    lines = 1 + (data[1] % 10 if len(data) > 1 else 0)
    target, cloud = str(Target("file", next(pick))), next(pick)  # a target's name, as the router gets it
    findings = []
    for i in range(count):
        evidence = tuple(Evidence(10 * i + j, next(pick)) for j in range(lines))
        findings.append(Finding(next(pick), next(pick), SEVERITIES[(data[i % len(data)] if data else 0) % 4],
                                next(pick), 1, evidence, next(pick), verdict="failure"))
    return target, cloud, findings


@lru_cache(maxsize=1)
def _outbox() -> sqlite3.Connection:
    from consolewatch.sinks.alerts.outbox import connect

    return connect(":memory:")


def fuzz_chat(data: bytes) -> None:
    from consolewatch.sinks.alerts.destinations import Destination
    from consolewatch.sinks.alerts.formatters import _registry
    from consolewatch.sinks.alerts.notice import fingerprint, firing, reminder, resolved
    from consolewatch.sinks.alerts.outbox import enqueue, rows

    target, cloud, findings = _findings(data)
    if len({fingerprint(target, f) for f in findings}) > len({(f.rule, tuple(e.text for e in f.evidence))
                                                                  for f in findings}):
        raise Misbehaved("one finding, two fingerprints")
    n = fired = firing(target, cloud, 7, 1, findings, muted=[f.category for f in findings[1:]],
                       report=f"consolewatch report capture:7 {cloud}", now=1_700_000_000.0)
    if data[:1] and data[0] & 0x40:
        n = reminder(fired, 2, 1_700_000_600.0)
    elif data[:1] and data[0] & 0x80:
        n = resolved([fired], boot=2, capture=7, reason=f"booted: {findings[0].title}", now=1_700_001_000.0)
    services = sorted(_registry())
    service = services[data[-1] % len(services)] if data else services[0]  # one a run: 9x the runs
    leaks = chat_leaks(service, _registry()[service](n))
    if leaks:
        raise Misbehaved(f"{service}: {leaks[0]}")
    db = _outbox()
    with db:
        db.execute("DELETE FROM alert_outbox")
        enqueue(db, "fuzz", [Destination("json", "k", "json://host", "json://host/hook")], n, 1.0)
    [row] = rows(db)
    if row.notice != n:
        raise Misbehaved("the outbox changed the notice")


TARGETS = {"chat": fuzz_chat}
INSTRUMENT = ("consolewatch.sinks.alerts.notice", "consolewatch.sinks.alerts.formatters",
              "consolewatch.sinks.alerts.formatters.slack", "consolewatch.sinks.alerts.formatters.discord",
              "consolewatch.sinks.alerts.formatters.telegram", "consolewatch.sinks.alerts.formatters.matrix",
              "consolewatch.sinks.alerts.formatters.teams", "consolewatch.sinks.alerts.formatters.email",
              "consolewatch.sinks.alerts.formatters.jsonhook", "consolewatch.sinks.alerts.formatters.text",
              "consolewatch.sinks.alerts.formatters.alertmanager", "consolewatch.sinks.alerts.formatters.html_body",
              "consolewatch.sinks.alerts.outbox")
