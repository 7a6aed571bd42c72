"""Unit failures in journal and syslog excerpts (round 13): where a line carries its date, host and
program ("Dec 07 10:00:01 web1 sshd[812]: ..."), the program is part of the stamp and the message
starts after it; sshd's, chronyd's, dockerd's and containerd's fatal lines and systemd's "Failed to
start Switch Root." are still read. Lines are the rules' samples (format strings of OpenSSH's
sshd.c, chrony's logging.c, systemd's units) in journalctl's short format."""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from tests.detect.findings import assert_quoted_safely


def rules(a) -> set[str]:
    return {f.rule for f in a.findings("all")}


def test_daemon_fatal_lines_in_a_journal_excerpt_are_read(catalog):
    for line, rule in (
            ("Dec 07 10:00:01 web1 sshd[812]: fatal: no hostkeys available -- exiting.", "sshd-exits-on-configuration"),
            ("Dec 07 10:00:01 web1 sshd[812]: /etc/ssh/sshd_config line 34: Bad configuration option: PermitRootLogins",
             "sshd-exits-on-configuration"),
            ("Dec 07 10:00:00 web1 sshd[1123]: error: Could not load host key: /etc/ssh/ssh_host_ed25519_key",
             "sshd-host-key-unusable"),
            ("Dec 07 10:00:03 web1 chronyd[612]: Fatal error : Could not open configuration file /etc/chrony/chrony.conf",
             "daemon-fatal-at-start"),
            ("Dec 07 10:00:04 web1 systemd[1]: Failed to start Switch Root.", "switch-root-failed")):
        assert rule in rules(run_lines(catalog, [line])), line


def test_the_same_words_from_another_program_are_not_that_daemons(catalog):
    assert "daemon-fatal-at-start" not in rules(run_lines(catalog, ["Dec 07 10:00:03 web1 myapp[612]: Fatal error : cannot read input"]))
    assert "sshd-host-key-unusable" not in rules(
        run_lines(catalog, ["Dec 07 10:00:00 web1 sshd[1123]: Could not load host key: /etc/ssh/ssh_host_dsa_key"]))


def test_hostile_bytes_in_a_journal_daemon_line_stay_inert(catalog):
    a = run_lines(catalog, [b"Dec 07 10:00:03 web1 chronyd[612]: Fatal error : \x1b]0;evil\x07\x00\xff\x1b[2J" + b"A" * 70000])
    assert "daemon-fatal-at-start" in rules(a)
    assert_quoted_safely(a)
