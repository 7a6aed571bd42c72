"""Each service formatter makes hostile console text inert: exact escaping per service, and a
property test that no mention, link or markup survives whatever the console printed.

The formatters are pure functions (Notice in, payload out), so these run on their output; the
tests in test_delivery.py check the same bytes arrive at real HTTP receivers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolewatch.model import Evidence, Finding
from consolewatch.sinks.alerts.formatters import WJ, _registry, alertmanager, discord, email, formatter, jsonhook
from consolewatch.sinks.alerts.formatters import matrix, slack, teams, telegram, text
from consolewatch.sinks.alerts.notice import Cause, Notice, firing
from tests.hostile import chat_leaks

HOSTILE = ("<!channel> <!here|x> @everyone <@U123> <https://evil.example|Click> [click](https://evil.example) "
           "**b** _i_ ~s~ `c` <b>t</b> & # h > q \u202eexe \x1b[31m")


def notice(text: str = HOSTILE) -> Notice:
    cause = Cause("root-device-missing", "disk.root-not-found", "critical", f"Title {text}",
                  ((339, text),), f"Fix {text}")
    return Notice("n1", "firing", f"file:{text}", "gce", 3, 1, "failure", f"reason {text}", (cause,),
                  report=f"consolewatch report capture:3 {text}", started_at=1_700_000_000.0)


def test_slack_escapes_control_sequences_and_mentions_and_turns_mrkdwn_off():
    assert slack.inert(HOSTILE) == (
        f"&lt;!channel&gt; &lt;!here|x&gt; @{WJ}everyone &lt;@{WJ}U123&gt; &lt;https://evil.example|Click&gt; "
        "[click](https://evil.example) **b** _i_ ~s~ `c` &lt;b&gt;t&lt;/b&gt; &amp; # h &gt; q \ufffdexe \ufffd[31m")
    payload = slack.render(notice())
    assert payload["mrkdwn"] is False and payload["unfurl_links"] is False
    assert f"   339 | {slack.inert(HOSTILE)}" in payload["text"].splitlines()
    assert "<" not in payload["text"]


def test_discord_escapes_markdown_and_allows_no_mention():
    assert discord.inert(HOSTILE) == (
        r"\<\!channel\> \<\!here\|x\> @" + WJ + r"everyone \<@" + WJ + r"U123\> \<https\://evil\.example\|Click\> "
        r"\[click\]\(https\://evil\.example\) \*\*b\*\* \_i\_ \~s\~ \`c\` \<b\>t\</b\> & \# h \> q "
        "\ufffdexe \ufffd\\[31m")
    payload = discord.render(notice())
    assert payload["allowed_mentions"] == {"parse": []} and payload["flags"] == 4
    assert discord.inert(f"   339 | {HOSTILE}") in payload["content"]


def test_telegram_escapes_html_and_mentions():
    assert telegram.inert(HOSTILE) == (
        f"&lt;!channel&gt; &lt;!here|x&gt; @{WJ}everyone &lt;@{WJ}U123&gt; &lt;https://evil.example|Click&gt; "
        "[click](https://evil.example) **b** _i_ ~s~ `c` &lt;b&gt;t&lt;/b&gt; &amp; # h &gt; q \ufffdexe \ufffd[31m")
    payload = telegram.render(notice())
    assert payload["parse_mode"] == "HTML" and payload["disable_web_page_preview"] is True
    assert f"<pre>{telegram.inert('   339 | ' + HOSTILE)}</pre>" in payload["text"]


def test_matrix_and_email_escape_html_with_quotes_and_mentions():
    expected = (f"&lt;!channel&gt; &lt;!here|x&gt; @{WJ}everyone &lt;@{WJ}U123&gt; &lt;https://evil.example|Click&gt; "
                "[click](https://evil.example) **b** _i_ ~s~ `c` &lt;b&gt;t&lt;/b&gt; &amp; # h &gt; q \ufffdexe \ufffd[31m")
    assert matrix.inert(HOSTILE) == expected and email.inert(HOSTILE) == expected
    assert matrix.inert('"x" \'y\'') == "&quot;x&quot; &#x27;y&#x27;"
    for fmt in (matrix, email):
        payload = fmt.render(notice())
        assert payload["format"] == "html" and f"<pre>{fmt.inert('   339 | ' + HOSTILE)}</pre>" in payload["body"]
    assert "\n" not in email.render(notice("a\nSubject: forged"))["title"]


def test_teams_escapes_markdown():
    assert teams.inert(HOSTILE) == (
        r"\<\!channel\> \<\!here\|x\> @" + WJ + r"everyone \<@" + WJ + r"U123\> \<https://evil\.example\|Click\> "
        r"\[click\]\(https://evil\.example\) \*\*b\*\* \_i\_ \~s\~ \`c\` \<b\>t\</b\> & \# h \> q "
        "\ufffdexe \ufffd\\[31m")
    assert teams.render(notice())["format"] == "markdown"


def test_plain_text_json_and_alertmanager_break_mentions_tags_and_links():
    expected = (f"<{WJ}!channel> <{WJ}!here|x> @{WJ}everyone <{WJ}@{WJ}U123> <{WJ}https://evil.example|Click> "
                f"[click]{WJ}(https://evil.example) **b** _i_ ~s~ `c` <{WJ}b>t<{WJ}/b> & # h > q \ufffdexe \ufffd[31m")
    assert text.inert(HOSTILE) == expected
    doc = jsonhook.render(notice())
    assert doc["consolewatch"]["causes"][0]["evidence"] == [{"line": 339, "text": expected}]
    assert f"   339 | {expected}" in doc["message"].splitlines()
    [alert] = alertmanager.render(notice())
    assert alert["annotations"]["evidence"] == f"339: {expected}"
    assert alert["labels"]["target"] == f"file:{expected}"
    assert alert["labels"]["rule"] == "root-device-missing" and alert["startsAt"] == "2023-11-14T22:13:20.000Z"


# -- properties: whatever the console printed ------------------------------------------------

PIECES = list("<>@&*_~`|[]()#!-:.\\/ \n\"'") + ["https://", "!channel", "everyone", "here", "\u202e", "&lt;"]
CONSOLE = st.lists(st.one_of(st.sampled_from(PIECES), st.characters()), max_size=60).map("".join)
FAST = settings(max_examples=150, deadline=None)
SERVICES = sorted(_registry())


@FAST
@given(CONSOLE)
@pytest.mark.parametrize("service", SERVICES)
def test_property_no_mention_link_or_markup_survives(service, t):
    """What each service acts on (tests.hostile.chat_leaks): mentions, Slack control sequences,
    Markdown, HTML tags and entities, controls; only consolewatch's own markup is left."""
    payload = formatter(service)(notice(t))
    assert chat_leaks(service, payload) == []
    json.dumps(payload)  # serialisable whatever the console printed


def longest_notice(unit: str) -> Notice:
    """The biggest notice the router builds (5 causes, 8 evidence lines each, every text at its
    clip), made of one hostile unit: every service but email must cut it."""
    text = unit * 600
    findings = [Finding(f"rule-{i}", "kernel.panic", "error", text, 1, tuple(Evidence(j, text) for j in range(8)),
                        text, verdict="failure") for i in range(5)]
    return firing("file:" + text, "gce", 1, 1, findings, report=text, now=1.0)


@pytest.mark.parametrize("unit", ['"<@&*`', "&", "*", "\\*", "](", "@a"])
@pytest.mark.parametrize("service", SERVICES)
def test_a_message_too_long_is_cut_between_rows(service, unit):
    """Cutting at a character count split escapes in half: `&quot;` became `&quo` and `</pre>`
    `</pr` in Matrix and email bodies, and Discord kept one `*` of a bold marker (found by the
    chat fuzz target). Messages are cut between rows, with the ellipsis on a row of its own."""
    payload = formatter(service)(longest_notice(unit))
    assert chat_leaks(service, payload) == []
    limits = {"slack": ("text", 3500), "discord": ("content", 2000), "telegram": ("text", 4000),
              "teams": ("body", 20000), "matrix": ("body", 20000), "email": ("body", 100000),
              "json": ("message", 3500), "apprise": ("body", 3500)}
    if service in limits:
        key, limit = limits[service]
        body = payload[key]
        assert len(body) <= limit and (body[-2:] in ("\n\u2026", ">\u2026") or service == "email"), body[-40:]
