"""`consolewatch alerts test|outbox|flush`, URLs as secrets, and the store migration."""

from __future__ import annotations

import json
import sqlite3

from conftest import WRONG_ROOT, write_config

from consolewatch.sinks.alerts.destinations import DestinationError, parse, redact
from consolewatch.sinks.alerts.transport import retry_after

SECRET = "T0SECRET"


def test_alerts_test_sends_a_sample_message_with_the_hostile_line_inert(cli, receivers):
    slack = receivers()
    r = cli("alerts", "test", slack.url("slack+http"))
    assert r.returncode == 0, r.stderr
    [got] = slack.accepted
    assert "&lt;!channel&gt; @\u2060everyone" in got["doc"]["text"] and got["doc"]["mrkdwn"] is False
    assert b"delivered to slack+http://127.0.0.1:" in r.stderr and SECRET.encode() not in r.stderr


def test_alerts_test_reports_a_failure_without_the_url(cli, receivers):
    hook = receivers()
    hook.faults = [500]
    r = cli("alerts", "test", hook.url("json"), "--timeout", "2")
    assert r.returncode == 1 and b"NOT delivered" in r.stderr and b"HTTP 500" in r.stderr
    assert SECRET.encode() not in r.stderr + r.stdout
    hook.down()
    r = cli("alerts", "test", hook.url("json"), "--timeout", "2")
    assert r.returncode == 1 and b"connection failed" in r.stderr and SECRET.encode() not in r.stderr


def test_bad_urls_are_usage_errors_that_do_not_print_them(cli, tmp_path):
    for url in (f"nosuchservice://{SECRET}/x", f"slack://{SECRET}", f"json://host:99999/{SECRET}"):
        r = cli("alerts", "test", url)
        assert r.returncode == 2 and SECRET.encode() not in r.stderr, r.stderr
    write_config(tmp_path / "config", f'[[alerts.routes]]\nto = ["nosuch://{SECRET}"]\n')
    r = cli("tail", f"file:{WRONG_ROOT}", "--no-follow")
    assert r.returncode == 2 and b"alerts.routes[0]" in r.stderr and SECRET.encode() not in r.stderr


def test_redaction_keeps_server_names_and_hides_tokens():
    assert redact(f"json://user:pw@hooks.example.com:8080/{SECRET}?k={SECRET}").startswith(
        "json://hooks.example.com:8080/\u2026#")
    for url in (f"slack://{SECRET}/B/C", f"tgram://123:{SECRET}/-100", f"discord://1/{SECRET}",
                f"https://hooks.slack.com/services/T/B/{SECRET}", f"mailto://me:{SECRET}@example.com"):
        d = parse(url)
        assert SECRET not in d.label and SECRET not in repr(d) and SECRET not in str(d)
    try:
        parse(f"tgram://123:{SECRET}")
    except DestinationError as exc:
        assert SECRET not in str(exc) and "CHAT_ID" in str(exc)


def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after("7") == 7.0 and retry_after("-3") == 0.0 and retry_after("99999") == 3600.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None and retry_after(None) is None and retry_after("nan") is None


def test_outbox_lists_deliveries_and_an_old_store_gains_the_tables(cli, tmp_path, receivers):
    from consolewatch.store import Store

    data = tmp_path / "data"
    data.mkdir()
    old = Store(data / "captures.sqlite3")  # a store as consolewatch wrote it before alerts
    cid, _ = old.open_capture("file:/earlier.log")
    old.close()
    hook = receivers()
    hook.faults = [503] * 50
    write_config(tmp_path / "config", drain_timeout=0.5)
    r = cli("tail", f"file:{WRONG_ROOT}", "--no-follow", "--alert", hook.url("json"))
    assert r.returncode == 1 and b"1 alert message(s) still pending" in r.stderr
    listed = json.loads(cli("captures", "list", "--json").stdout)["captures"]
    assert listed[0]["target"] == "file:/earlier.log" and listed[0]["id"] == cid
    box = json.loads(cli("alerts", "outbox", "--json").stdout)
    assert box["counts"] == {"pending": 1, "delivered": 0, "failed": 0}
    [row] = box["deliveries"]
    assert row["state"] == "pending" and row["last_error"] == "HTTP 503" and row["attempts"] >= 1
    table = cli("alerts", "outbox", env={"COLUMNS": "200"}).stdout.decode()
    assert "1 pending, 0 delivered, 0 failed" in table and "HTTP 503" in table and "json://127.0.0.1:" in table

    hook.faults = []
    r = cli("alerts", "flush", "--alert", hook.url("json"), "--timeout", "10")
    assert r.returncode == 0 and b"1 delivered, 0 pending" in r.stderr
    assert len(hook.accepted) == 1
    raw = (data / "captures.sqlite3").read_bytes() + b"".join(p.read_bytes() for p in data.glob("*-wal"))
    assert SECRET.encode() not in raw  # the URL is not in the store
    version = sqlite3.connect(data / "captures.sqlite3").execute(
        "SELECT value FROM alert_meta WHERE key='schema'").fetchone()
    assert version == ("1",)


def test_email_through_apprise_reaches_an_smtp_server_with_the_console_text_inert(cli):
    import email
    import email.policy

    from receiver import SmtpReceiver

    smtp = SmtpReceiver()
    try:
        r = cli("alerts", "test", f"mailto://127.0.0.1:{smtp.port}?from=cw@example.com&to=ops@example.com&mode=insecure")
    finally:
        smtp.close()
    assert r.returncode == 0, r.stderr
    [raw] = smtp.messages
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()
    assert ("&lt;!channel&gt; @\u2060everyone @\u2060here &lt;https://example.invalid|click&gt; *bold* "
            "[link](https://example.invalid) &lt;b&gt;tag&lt;/b&gt;") in html
    assert "<a " not in html and msg["Subject"].startswith("FAILED BOOT: test:consolewatch")
