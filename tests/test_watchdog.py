"""User rules cannot hang the process beyond reach (issue 12 item 5).

Catastrophic regexes are refused when definitions load, with file:line (`regexlint`); one the
linter does not recognise (polynomial backtracking) still leaves Ctrl-C, SIGTERM and --timeout
working while it runs (`watchdog`). The rule files and console lines here are synthetic.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from consolewatch.normalize.regexlint import check

ROOT = Path(__file__).resolve().parents[1]

RULE = """rules:
  - id: user-rule
    title: A user's rule
    category: kernel.panic
    severity: error
    description: synthetic
    match:
      line: {{regex: '{regex}'}}
    remediation:
      default: none
    samples:
      match:
        - line: '{sample}'
          source: synthetic
      no_match:
        - line: 'unrelated'
          source: synthetic
"""


def _rules(tmp_path, regex: str, sample: str):
    folder = tmp_path / "parsers"
    (folder / "detectors").mkdir(parents=True)
    (folder / "detectors" / "user.yaml").write_text(RULE.format(regex=regex, sample=sample))
    return folder


@pytest.mark.parametrize("regex", [r"(a+)+$", r"(\w+\s?)*$", r"(.+,)*x", r"(a|aa)*b", r"(?:\s*\w+)+$",
                                   r"^(([a-z])+.)+[A-Z]([a-z])+$"])
def test_catastrophic_patterns_are_named(regex):
    assert check(regex, re.ASCII)
    t0 = time.process_time()  # what refusing them avoids: exponential time on a short line
    if regex == r"(a+)+$":
        with pytest.raises(TimeoutError):
            _bounded(lambda: re.search(regex, "a" * 28 + "!"), 0.5)
    assert time.process_time() - t0 < 5


def _bounded(fn, seconds):
    def alarm(*_):
        raise TimeoutError
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("regex", [r"(\d+\.)+\d+", r"([a-z]+-)+x", r"(foo|foobar)+", r"(?:[^\n]*\n)+",
                                   r"\d{1,3}(\.\d{1,3}){3}", r"Kernel panic - not syncing: ?(?P<reason>.*)"])
def test_ordinary_patterns_pass(regex):
    assert check(regex, re.ASCII) is None


def test_every_built_in_definition_passes_the_linter(defs):
    assert not defs.problems  # the linter runs on every regex as definitions load


def test_a_catastrophic_user_rule_is_refused_with_its_location(cli, tmp_path):
    folder = _rules(tmp_path, r"Kernel (a+)+$", "Kernel aaaa")
    log = tmp_path / "evil.log"
    log.write_text("Kernel " + "a" * 40 + "!\n")
    r = cli("analyze", "--parsers", str(folder), str(log), timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 2
    assert f"{folder / 'detectors' / 'user.yaml'}:8: regex 'Kernel (a+)+$'" in err and "backtracking" in err


@pytest.mark.parametrize("how, status", [("timeout", 3), (signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signals_and_timeout_work_while_a_slow_regex_runs(tmp_path, how, status):
    """`x(\\w*){5}$` backtracks polynomially (the linter lets it pass): on a 3,000-character
    line it runs for hours. The follow still ends on --timeout, SIGTERM and SIGINT, at once."""
    folder = _rules(tmp_path, r"Kernel x(\w*){5}$", "Kernel xaaaa")
    log = tmp_path / "slow.log"
    log.write_text("Kernel x" + "a" * 3000 + "!\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CONSOLEWATCH_")},
           "CONSOLEWATCH_DATA_DIR": str(tmp_path / "data"), "CONSOLEWATCH_CONFIG_DIR": str(tmp_path / "cfg")}
    args = [sys.executable, "-m", "consolewatch", "tail", "--parsers", str(folder), f"file:{log}", "--json"]
    if how == "timeout":
        args += ["--timeout", "5"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        if how != "timeout":
            time.sleep(5)  # started, and stuck in the regex
            sent = time.monotonic()
            proc.send_signal(how)
        else:
            sent = time.monotonic()
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == status, err.decode()
    assert "while rules were matching a line" in err.decode()
    assert time.monotonic() - sent < 30


def test_a_timeout_while_waiting_for_output_is_a_plain_timeout_and_the_capture_is_recorded(cli, tmp_path):
    """The deadline is for a core stuck in a regex. A follow waiting for more output ends by its
    own --timeout: said as a timeout, its open boot judged and the capture recorded (the
    deadline firing first had reported a stuck regex and left the capture unfinished)."""
    log = tmp_path / "console.log"
    healthy = (ROOT / "samples/qemu/healthy/serial.log").read_bytes()
    log.write_bytes(healthy[: healthy.index(b"Run /init")])  # a boot still going
    r = cli("tail", f"file:{log}", "--json", "--timeout", "3", "--stall-after", "0", timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 3, err
    assert "timed out after 3 s" in err and "while rules were matching" not in err
    captures = json.loads(cli("captures", "list", "--json").stdout)["captures"]
    assert [c["boots"] for c in captures] == [1]  # the follow's summary was written
