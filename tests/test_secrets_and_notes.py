"""Issue 12 item 9: credentials in a target URL never come back in output, and analyze's notes
are sentences, not Python reprs."""

from __future__ import annotations

import base64
import json

import pytest

from consolewatch.capture_file import SCHEMA

SECRET = "s3cr3t-pw"


@pytest.mark.parametrize("args", [
    ("tail", f"vnc://admin:{SECRET}@127.0.0.1:5999", "--no-follow"),
    ("analyze", f"vnc://admin:{SECRET}@127.0.0.1:5999"),
    ("tail", f"vnc+ws://admin:{SECRET}@127.0.0.1:5999/websockify?token={SECRET}", "--no-follow", "--json"),
    ("tail", f"vncx://admin:{SECRET}@127.0.0.1:5999", "--no-follow"),
    ("report", f"vnc+wss://admin:{SECRET}@127.0.0.1:1/x?token={SECRET}"),
])
def test_credentials_in_a_target_url_are_never_echoed(cli, args):
    r = cli(*args)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0 and out.strip()  # it did say something
    assert SECRET not in out, out


def test_a_target_names_itself_without_credentials():
    from consolewatch.fetchers import parse_target

    t = parse_target(f"vnc://admin:{SECRET}@127.0.0.1:5999")
    assert SECRET not in str(t) and "127.0.0.1:5999" in str(t)
    with pytest.raises(ValueError) as err:
        parse_target(f"nope://admin:{SECRET}@h")
    assert SECRET not in str(err.value)


def test_analyze_notes_are_readable_lines(cli, tmp_path):
    events = [
        {"source": "serial-1", "kind": "chunk", "received_at": 1.0, "cursor": None,
         "data": base64.b64encode(b"[    0.000000] Linux version 6.1.0\n").decode(), "info": {}},
        {"source": "serial-1", "kind": "gap", "received_at": 2.0, "cursor": None, "data": None,
         "info": {"lost_bytes": 4096, "reason": "GCE's 1 MB serial buffer wrapped between two reads"}},
        {"source": "screen", "kind": "unavailable", "received_at": 2.0, "cursor": None, "data": None,
         "info": {"reason": "no display device", "hint": "enable the display device"}},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"schema": SCHEMA, "target": "gce:p/z/vm", "events": events}))
    out = cli("analyze", "--fail-on", "never", str(path), env={"COLUMNS": "200"}).stdout.decode()
    assert "Gap(" not in out and "SourceUnavailable(" not in out
    assert "note: Gap in serial-1: 4096 bytes lost (GCE's 1 MB serial buffer wrapped between two reads)." in out
    assert "note: screen unavailable: no display device. enable the display device" in out
