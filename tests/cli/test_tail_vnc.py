"""`consolewatch tail do:ID` and `tail vnc://...` end to end: the CLI process, the RFB client,
the simulated DigitalOcean API and the simulated VNC console playing a real failed boot
(samples/qemu/dhcp-no-lease: a Debian kernel whose udhcpc got no lease), read back by the OCR."""

from __future__ import annotations

import json
import sqlite3
import sys

import pytest
from rapidfuzz.distance import Levenshtein

from consolewatch.sim.digitalocean import start_do_sim
from consolewatch.sim.gce import sample_log
from consolewatch.sim.player import ConsolePlayer
from consolewatch.sim.vnc import start_vnc_sim
from consolewatch.sim.vnc_screen import SimScreen

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "qemu"))
from guestkit.boot import sanitize_lines

LOG = sample_log("qemu/dhcp-no-lease")
LOG_LINES = [line.rstrip() for line in sanitize_lines(LOG) if line.strip()]
RATE = 4000  # bytes per second: the boot scrolls by for about 6 s
STANZA = ("auto eth0\niface eth0 inet static\n    address 104.236.32.182\n    netmask 255.255.192.0\n"
          "    gateway 104.236.0.1\n")


def events(stdout: bytes) -> list[dict]:
    return [json.loads(x) for x in stdout.decode().splitlines() if x.strip()]


def accuracy(lines: list[str]) -> tuple[float, int]:
    """(character accuracy of the lines read off the screen against the closest log line, how
    many log lines were read exactly)."""
    from rapidfuzz import process

    errors = total = 0
    for text in lines:
        best = process.extractOne(text, LOG_LINES, scorer=Levenshtein.normalized_distance)[0]
        errors += Levenshtein.distance(text, best)
        total += max(len(text), len(best))
    return 1 - errors / max(total, 1), len(set(lines) & set(LOG_LINES))


def playing_console(**kw):
    """The failed boot, starting once consolewatch is connected (as a droplet powered on then)."""
    player = ConsolePlayer(LOG, bytes_per_second=RATE, start=float("inf"))
    return start_vnc_sim(SimScreen(player), boot_on_connect=True, **kw)


def test_tail_do_reads_the_droplets_screen_and_explains_dhcp_with_its_static_addresses(cli):
    with start_do_sim() as api, playing_console() as console:
        api.add_droplet(123, name="unikernel-test")
        r = cli("tail", "do:123", "--console-url", console.ws_url, "--json", "--until", "outcome",
                "--timeout", "60", env=api.env())
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    assert evs[0]["type"] == "context" and evs[0]["fields"]["public_ipv4"] == "104.236.32.182"
    assert any(e["type"] == "unavailable" and e["source"] == "serial" and "no serial output" in e["reason"]
               for e in evs)
    lines = [e for e in evs if e["type"] == "line"]
    assert lines and all(e["origin"] == "ocr" and e["source"] == "screen" for e in lines)
    assert lines[-1]["text"] == "udhcpc: no lease, failing"
    found = {e["category"]: e for e in evs if e["type"] == "finding"}
    static = found["network.static-config-missing"]
    assert static["evidence"][0]["text"] == "udhcpc: no lease, failing"
    assert STANZA in static["remediation"] and "auto eth1" in static["remediation"]
    assert [e["outcome"] for e in evs if e["type"] == "outcome"][-1] == "failure"
    assert all(e["target"] == "do:123" for e in evs)
    chars, exact = accuracy([e["text"] for e in lines])
    print(f"\ndo:123 at {RATE} B/s: {len(lines)} screen lines for {len(LOG_LINES)} log lines, "
          f"{exact} exact, character accuracy {chars:.4f}")
    assert chars > 0.9 and exact >= 40


def test_tail_vnc_over_tcp_with_a_password_survives_a_dropped_connection(cli, tmp_path):
    password_file = tmp_path / "vnc-password"
    password_file.write_text("Kq8-not-shown\n")
    with playing_console(password="Kq8-not-shown") as console:
        console.inject("disconnect")
        r = cli("tail", console.tcp_url, "--vnc-password-file", str(password_file), "--json", "--until", "outcome",
                "--timeout", "60")
        connections = console.stats["connections"]
    assert r.returncode == 1, r.stderr
    evs = events(r.stdout)
    assert connections >= 2
    (gap,) = [e for e in evs if e["type"] == "gap"]
    assert gap["source"] == "screen" and gap["lost_bytes"] is None and "closed the connection" in gap["reason"]
    streaming = [e for e in evs if e["type"] == "status" and e["state"] == "streaming"]
    assert len(streaming) == 2 and "VNC Authentication" in streaming[0]["detail"]
    assert {e["category"] for e in evs if e["type"] == "finding"} >= {"network.dhcp.no-lease"}
    assert [e["outcome"] for e in evs if e["type"] == "outcome"][-1] == "failure"
    assert all(e["target"] == console.tcp_url for e in evs)
    store = (tmp_path / "data" / "captures.sqlite3").read_bytes()
    for where in (r.stdout, r.stderr, store):
        assert b"Kq8-not-shown" not in where
    with sqlite3.connect(tmp_path / "data" / "captures.sqlite3") as db:
        assert db.execute("select target from captures").fetchall() == [(console.tcp_url,)]


def test_a_wrong_password_is_one_line_and_exit_2(cli):
    with playing_console(password="right") as console:
        r = cli("tail", console.ws_url.replace("ws://", "vnc+ws://"), "--until", "outcome",
                env={"CONSOLEWATCH_VNC_PASSWORD": "wrong-guess"})
    err = r.stderr.decode()
    assert r.returncode == 2 and "VNC authentication failed" in err and len(err.strip().splitlines()) == 1
    assert "wrong-guess" not in err and b"wrong-guess" not in r.stdout


def test_do_without_a_console_url_says_what_it_cannot_see_and_what_to_pass(cli):
    with start_do_sim() as api:
        api.add_droplet(123)
        r = cli("tail", "do:123", "--json", env=api.env())
    assert r.returncode == 2
    gone = {e["source"]: e for e in events(r.stdout) if e["type"] == "unavailable"}
    assert "no serial output" in gone["serial"]["reason"] and "--console-url" in gone["screen"]["hint"]
    assert "--console-url" in r.stderr.decode() and "not supported" not in r.stderr.decode()


@pytest.mark.parametrize("words", ["--vnc-password-file", "--console-url", "vnc+wss://"])
def test_help_names_the_vnc_options(cli, words):
    assert words in cli("tail", "--help").stdout.decode()
