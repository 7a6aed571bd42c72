"""Provisioning agents still retrying when the capture ends (issue 10): Ignition, cloud-init with
no time limit, coreos-installer. What a user sees from `analyze`: a stall whose cause is the
agent (`cloudinit.error`), quoting the first and the latest failed attempt; nothing when the
retries ended in a fetch; a machine up while its agent still waits is up, not as asked.

The Ignition lines are Ignition 2.14.0 (Debian ignition 2.14.0+ds1-1+b6) run here with
-log-to-stdout in network namespaces (unshare -n): what it printed, in order (its DEBUG lines
and the "no config dir" lines left out). Lines from elsewhere name their source.
"""

from __future__ import annotations

from consolewatch.detect.checks import run_lines
from consolewatch.detect.ruleparse import parse_rules_file

_URL = "http://config.example.test:8080/master"
_DNS_ERR = ('GET error: Get "http://config.example.test:8080/master": dial tcp: lookup config.example.test on '
            "[::1]:53: read udp [::1]:{port}->[::1]:53: read: connection refused")
#: -platform file, a spec 3.3.0 config merging the URL above, no DNS server: stopped while retrying
IGN_DNS = ["INFO     : Stage: fetch",
           f"INFO     : GET {_URL}: attempt #1",
           "INFO     : " + _DNS_ERR.format(port=48343),
           f"INFO     : GET {_URL}: attempt #2",
           "INFO     : " + _DNS_ERR.format(port=34004),
           f"INFO     : GET {_URL}: attempt #3",
           "INFO     : " + _DNS_ERR.format(port=49508),
           f"INFO     : GET {_URL}: attempt #4"]
_PUT = "INFO     : PUT http://169.254.169.254/latest/api/token: attempt #{n}"
_PUT_ERR = ('INFO     : PUT error: Put "http://169.254.169.254/latest/api/token": dial tcp 169.254.169.254:80: '
            "connect: network is unreachable")
#: -platform aws with no route to the metadata service for the whole run
IGN_AWS = ["INFO     : Stage: fetch", _PUT.format(n=1), _PUT_ERR, _PUT.format(n=2), _PUT_ERR, _PUT.format(n=3)]
#: -platform aws, the metadata address and a route added 1.2 s after Ignition started: a healthy fetch
IGN_AWS_OK = ["INFO     : Stage: fetch", _PUT.format(n=1), _PUT_ERR, _PUT.format(n=2), _PUT_ERR, _PUT.format(n=3),
              _PUT_ERR, _PUT.format(n=4), "INFO     : PUT result: OK",
              "INFO     : no config URL provided", _PUT.format(n=1), "INFO     : PUT result: OK",
              "INFO     : GET http://169.254.169.254/2019-10-01/user-data: attempt #1", "INFO     : GET result: OK",
              "INFO     : fetch: fetch complete", "INFO     : fetch: fetch passed",
              "INFO     : Ignition finished successfully"]
#: -platform file, merging from a loopback server that closes every connection unanswered
IGN_EOF = ["INFO     : GET http://127.0.0.1:8080/master: attempt #1",
           'INFO     : GET error: Get "http://127.0.0.1:8080/master": EOF',
           "INFO     : GET http://127.0.0.1:8080/master: attempt #2",
           'INFO     : GET error: Get "http://127.0.0.1:8080/master": EOF']
#: synthetic: systemd's line for a target reached while Ignition retries (the boot going on)
REACHED = "[  OK  ] Reached target Network."
#: samples/kvm-centos7-no-network-cloudinit-datasource-none/console.log (github.com/backendcloud/backendcloud-3-hexo,
#: macvtap-lab.md): cloud-init 18.2's first retries of a wait limited to 120 s, and the login prompt it ends on
CLOUDINIT_120 = [
    "[  312.369095] cloud-init[2214]: 2022-06-06 08:00:13,972 - url_helper.py[WARNING]: Calling "
    "'http://169.254.169.254/2009-04-04/meta-data/instance-id' failed [0/120s]: request error "
    "[('Connection aborted.', error(101, 'Network is unreachable'))]",
    "[  313.383786] cloud-init[2214]: 2022-06-06 08:00:14,987 - url_helper.py[WARNING]: Calling "
    "'http://169.254.169.254/2009-04-04/meta-data/instance-id' failed [1/120s]: request error "
    "[('Connection aborted.', error(101, 'Network is unreachable'))]"]
LOGIN = "localhost login: "
#: synthetic: cloud-init cloudinit/url_helper.py wait_for_url() with no max_wait ("unlimited"), search-index
#: file id 24122502569, in cloud-init's log format
CLOUDINIT_UNLIMITED = ["2024-03-02 10:00:05,123 - url_helper.py[WARNING]: Calling 'http://192.0.2.5/latest/meta-data/' "
                       "failed [5/unlimited]: request error [timed out]"]
#: synthetic: coreos-installer src/install.rs's context over http_get()'s (search-index file ids 23240724228, 312609694)
COREOS_INSTALLER = ["Error: downloading source Ignition config http://192.0.2.20/ignition/worker.ign",
                    "Caused by: fetching 'http://192.0.2.20/ignition/worker.ign'"]


def _provisioning(a) -> list:
    return [f for f in a.findings() if f.category == "cloudinit.error"]


def test_ignition_still_retrying_when_the_capture_ends_is_a_provisioning_stall(catalog):
    a = run_lines(catalog, IGN_DNS)
    assert a.outcome == "stall"
    [f] = _provisioning(a)
    assert (f.rule, f.severity, f.verdict) == ("ignition-fetch-retrying", "error", "stall")
    assert a.boots[-1].reason.startswith("cloudinit.error: Ignition is still retrying")
    # the first failed attempt and the latest one: the error it is stuck on now
    assert [e.text for e in f.evidence] == [IGN_DNS[2], IGN_DNS[6]]
    assert _URL in f.remediation and "lookup config.example.test" in f.remediation
    assert "{" not in f.remediation
    assert run_lines(catalog, IGN_EOF).outcome == "stall"


def test_ignition_retries_that_ended_in_a_fetch_report_nothing(catalog):
    a = run_lines(catalog, IGN_AWS_OK)
    assert _provisioning(a) == []
    assert a.outcome not in ("stall", "failure")
    # the first attempts found no route: at most a warning, no error (metadata-no-route saw the fetch)
    assert [f.rule for f in a.findings() if f.severity in ("error", "critical")] == []


def test_the_metadata_service_out_of_reach_while_ignition_retries_names_both(catalog):
    a = run_lines(catalog, IGN_AWS)
    assert a.outcome == "stall"
    assert {f.category for f in a.findings()} >= {"cloudinit.error", "network.metadata-unreachable"}


def test_the_boot_going_on_ends_the_wait_and_a_later_failure_starts_a_new_one(catalog):
    assert _provisioning(run_lines(catalog, [*IGN_EOF[:2], REACHED])) == []
    a = run_lines(catalog, [*IGN_EOF[:2], REACHED, *IGN_EOF[2:]])
    [f] = _provisioning(a)
    assert f.evidence[0].text == IGN_EOF[3]  # the wait that was still on when the capture ended
    assert a.outcome == "stall"


def test_a_bounded_cloud_init_wait_cut_off_by_the_capture_is_no_stall(catalog):
    a = run_lines(catalog, CLOUDINIT_120)
    assert a.outcome != "stall"
    assert "cloudinit-metadata-wait-cut-off" not in {f.rule for f in a.findings()}


def test_cloud_init_waiting_with_no_limit_is_a_stall_and_after_a_login_prompt_leaves_the_boot_unknown(catalog):
    a = run_lines(catalog, CLOUDINIT_UNLIMITED)
    [f] = _provisioning(a)
    assert (f.rule, a.outcome) == ("cloudinit-metadata-wait-cut-off", "stall")
    up = run_lines(catalog, [LOGIN, *CLOUDINIT_UNLIMITED])
    assert up.outcome == "unknown"  # up, but its agent still waits: not as it was asked to be
    assert "not as it was asked" in up.boots[-1].reason


def test_coreos_installer_giving_up_on_the_ignition_config_leaves_the_install_undone(catalog):
    a = run_lines(catalog, COREOS_INSTALLER)
    [f] = _provisioning(a)
    assert (f.rule, f.severity) == ("coreos-installer-failed", "error")
    assert "worker.ign" in f.remediation
    assert a.outcome == "unknown"
    assert run_lines(catalog, [*COREOS_INSTALLER, LOGIN]).outcome == "unknown"


def _absent_rule(**absent):
    return {"rules": [{
        "id": "x-retrying", "title": "t", "category": "cloudinit.error", "severity": "error",
        "verdict": "stall", "description": "d", "remediation": {"default": "r"},
        "match": {"absent_after": {"first": {"regex": "A"}, **absent}},
        "samples": {"match": [{"line": "A", "source": "x"}], "no_match": [{"line": "B", "source": "x"}]}}]}


def test_absent_after_takes_a_list_of_expects_and_a_boolean_latest():
    [r], problems = parse_rules_file(_absent_rule(expect=[{"regex": "B"}, {"format": "systemd.started"}],
                                                  latest=True), "t.yaml")
    assert not problems and len(r.condition.expect) == 2 and r.condition.latest
    for bad in ({"expect": {"regex": "B"}, "latest": "yes"}, {"expect": []}):
        _, problems = parse_rules_file(_absent_rule(**bad), "t.yaml")
        assert problems, bad
