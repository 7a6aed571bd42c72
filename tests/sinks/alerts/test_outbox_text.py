"""What the alert store keeps is any text a finding can carry: a rule file is YAML, and YAML's
`"\\ud800"` loads as a lone surrogate, which SQLite (UTF-8) cannot hold."""

from __future__ import annotations

import yaml

from consolewatch.model import Evidence, Finding
from consolewatch.sinks.alerts.destinations import Destination
from consolewatch.sinks.alerts.outbox import connect, rows
from consolewatch.sinks.alerts.router import Router
from consolewatch.sinks.alerts.settings import Route, Settings


def test_a_rule_title_with_a_lone_surrogate_is_routed_stored_and_read_back_unchanged(tmp_path):
    """The router's alert log and the outbox stored the notice as UTF-8 JSON: the insert raised
    UnicodeEncodeError inside the routing thread and the alert was lost (chat fuzz target)."""
    title = yaml.safe_load('title: "Kernel panic \\ud800 (custom rule)"')["title"]
    finding = Finding("my-panic", "kernel.panic", "critical", title, 1,
                      (Evidence(2, "[    1.000000] Kernel panic - not syncing: x"),), "Fix the image.",
                      verdict="failure")
    dest = Destination("json", "k", "json://host", "json://host/hook")
    db = connect(tmp_path / "alerts.sqlite3")
    router = Router(db, Settings(routes=(Route("default", (dest,)),), group_wait=0.0), {})
    router.observe("file:/tmp/console.log", 1, "gce", [finding], [], now=100.0)
    router.tick(200.0)
    [row] = rows(db)
    assert row.notice.causes[0].title == title and title in row.notice.headline
