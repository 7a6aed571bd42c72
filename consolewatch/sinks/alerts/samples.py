"""The sample message `consolewatch alerts test URL` sends: marked as a test, with a console
line full of what each service must neutralise, so a person can see the escaping work."""

from __future__ import annotations

from consolewatch.sinks.alerts.notice import Cause, Notice

HOSTILE = "<!channel> @everyone @here <https://example.invalid|click> *bold* [link](https://example.invalid) <b>tag</b>"


def test_notice(now: float) -> Notice:
    cause = Cause(
        rule="consolewatch-test", category="boot.success", severity="info",
        title="consolewatch test message: nothing failed",
        evidence=((1, "consolewatch alerts test: this line imitates console text a hostile guest could print:"),
                  (2, HOSTILE)),
        fix="Nothing to fix: if this message arrived and shows the line above as plain text, alerts work.")
    return Notice(id=f"test-{now:.6f}", status="firing", target="test:consolewatch", cloud="unknown", capture=0,
                  boot=1, verdict="failure", reason="a test message (consolewatch alerts test)", causes=(cause,),
                  report="", started_at=now)
