"""What a provisioning agent's tools print when its instance data cannot be had (issue 10,
parsers/detectors/metadata-fetchers.yaml), as a user meets it with the shipped catalog: a boot the
agent stopped on fails with the right category, and the same lines in a boot that came up say
nothing.

The fetcher, parser, shell and mount lines are real: busybox-static 1.35.0 wget, GNU Wget 1.21.3,
curl 7.88.1, jq 1.6, dash/bash/busybox sh and mount run here (Debian 12) in a network or mount
namespace against a Python http.server on 169.254.169.254. The boot around them is
samples/qemu/healthy/serial.log's (its /init, a lease of samples/qemu/gce-option121-applied).
"""

from __future__ import annotations

import pytest

from consolewatch.detect.checks import run_lines
from tests.detect.findings import by_category as _found

BOOT = ["[    1.901233] Run /init as init process",
        "udhcpc: lease of 10.128.0.2 obtained from 10.128.0.1, lease time 3600"]
UP = ["consolewatch-guest: ready", "", "debian login: "]

STOPPED = [
    (["Connecting to 169.254.169.254 (169.254.169.254:80)",
      "wget: server returned error: HTTP/1.0 500 Internal Server Error"], "network.metadata-unreachable"),
    (["curl: (28) Operation timed out after 3001 milliseconds with 0 bytes received"], "network.metadata-unreachable"),
    (["curl: (52) Empty reply from server"], "network.metadata-unreachable"),
    (["HTTP request sent, awaiting response... Read error (Connection timed out) in headers.", "Giving up."],
     "network.metadata-unreachable"),
    (["2026-12-07 05:17:15 ERROR 503: Service Unavailable."], "network.metadata-unreachable"),
    (["curl: (22) The requested URL returned error: 404"], "cloudinit.error"),
    (["Connecting to 169.254.169.254 (169.254.169.254:80)",
      "wget: server returned error: HTTP/1.0 403 Forbidden"], "cloudinit.error"),
    (["parse error: Invalid numeric literal at line 1, column 24"], "cloudinit.error"),
    (["jq: error (at <stdin>:1): Cannot index string with string \"instance\""], "cloudinit.error"),
    (["mount: mounting LABEL=cidata on /seed failed: No such file or directory"], "cloudinit.error"),
    (["findfs: unable to resolve 'LABEL=cidata'"], "cloudinit.error"),
]


@pytest.mark.parametrize(("lines", "category"), STOPPED)
def test_the_agent_stopping_on_a_failed_fetch_fails_the_boot_and_a_boot_that_came_up_says_nothing(
        catalog, lines, category):
    stopped = run_lines(catalog, BOOT + lines)
    assert stopped.outcome == "failure", lines
    assert category in _found(stopped), lines
    up = run_lines(catalog, BOOT + lines + UP)
    assert up.outcome == "success", lines
    assert category not in _found(up), lines


def test_a_missing_seed_is_the_agents_failure_not_a_missing_root_device(catalog):
    a = run_lines(catalog, BOOT + ["mount: mounting LABEL=cidata on /seed failed: No such file or directory"])
    assert "disk.root-not-found" not in _found(a)
    [f] = _found(a)["cloudinit.error"]
    assert "LABEL=cidata" in f.remediation


def test_a_fetch_of_another_host_failing_is_not_the_metadata_server(catalog):
    a = run_lines(catalog, BOOT + ["curl: (6) Could not resolve host: deb.debian.org"])
    assert "network.metadata-unreachable" not in _found(a)


def test_a_user_data_script_failing_is_reported_and_the_machine_that_came_up_is_a_success(catalog):
    for line in ("/seed/user-data: line 3: nosuchpkgtool: not found",
                 "/var/lib/cloud/instance/scripts/part-001: line 3: nosuchpkgtool: command not found",
                 "/var/lib/cloud/instance/scripts/part-001: 3: nosuchpkgtool: not found"):
        a = run_lines(catalog, BOOT + [line] + UP)
        [f] = _found(a)["cloudinit.error"]
        assert f.rule == "userdata-script-shell-error" and f.severity == "warning", line
        assert a.outcome == "success", line
    init = run_lines(catalog, BOOT + ["/init: exec: line 9: /newroot/sbin/init: not found"])
    assert "cloudinit.error" not in _found(init)   # samples/qemu-initramfs-exec-init-missing: init's, not user data's
