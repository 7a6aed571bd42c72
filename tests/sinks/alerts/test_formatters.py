"""Each service formatter makes hostile console text inert: exact escaping per service, and a
property test that no mention, link or markup survives whatever the console printed.

The formatters are pure functions (Notice in, payload out), so these run on their output; the
tests in test_delivery.py check the same bytes arrive at real HTTP receivers."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from consolewatch.sinks.alerts.formatters import (
    WJ,
    alertmanager,
    discord,
    email,
    jsonhook,
    matrix,
    slack,
    teams,
    telegram,
    text,
)
from consolewatch.sinks.alerts.notice import Cause, Notice

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


def strings(doc) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


def no_live_mention(s: str) -> bool:
    return re.search("@(?!" + WJ + ")", s) is None


def entities_only(s: str) -> bool:
    return re.search(r"&(?!(amp|lt|gt|quot|#x27);)", s) is None


def unescaped(s: str, specials: str) -> list[str]:
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] in specials:
            out.append(s[i])
        i += 1
    return out


@FAST
@given(CONSOLE)
def test_property_slack(t):
    out = slack.render(notice(t))["text"]
    assert "<" not in out and ">" not in out and entities_only(out) and no_live_mention(out)


@FAST
@given(CONSOLE)
def test_property_discord(t):
    out = discord.render(notice(t))["content"]
    body = out.replace("**", "")  # our own bold markers are the only live markup
    assert not unescaped(body, "<[]()`|~_>#") and no_live_mention(out)


@FAST
@given(CONSOLE)
def test_property_teams(t):
    payload = teams.render(notice(t))
    body = (payload["title"] + "\n" + payload["body"]).replace("**", "")
    assert not unescaped(body, "<[]()`|~_>#!") and no_live_mention(body)


@FAST
@given(CONSOLE)
def test_property_html_services(t):
    for out in (telegram.render(notice(t))["text"], matrix.render(notice(t))["body"], email.render(notice(t))["body"]):
        stripped = re.sub(r"</?(b|pre)>|<br>", "", out)
        assert "<" not in stripped and ">" not in stripped
        assert entities_only(out) and no_live_mention(out)


@FAST
@given(CONSOLE)
def test_property_plain_json_and_alertmanager(t):
    docs = [jsonhook.render(notice(t)), alertmanager.render(notice(t)), text.render(notice(t))]
    for s in strings(docs):
        assert re.search("<(?!" + WJ + ")", s) is None and no_live_mention(s) and "](" not in s
    json.dumps(docs)  # serialisable whatever the console printed
