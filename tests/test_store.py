"""The capture store on real SQLite: events round-trip, cursors, retention, exports."""

from __future__ import annotations

import base64
import json

import pytest

from consolewatch.capture_file import events_from_export, export_capture, import_capture
from consolewatch.model import Chunk, Frame, Gap, MachineContext, SourceStatus, SourceUnavailable
from consolewatch.store import Store

EVENTS = [
    MachineContext("api", "gce", "kvm", {"machine_type": "e2-small"}),
    Chunk("serial-1", b"SeaBIOS (version 1.8.2-google)\r\n", 33, 100.0),
    Gap("serial-1", 4096, 101.0, "ring wrapped"),
    Chunk("serial-1", b"\xff\x00 bytes kept as they came\n", 70, 102.0),
    Frame("screen", b"\x89PNG fake", "image/png", 1, 103.0),
    SourceUnavailable("screen", "no display device", "gcloud compute instances update --enable-display-device"),
    SourceStatus("serial-1", "idle", "no change", 10.0, 104.0),
]


def test_events_round_trip_in_order(tmp_path):
    store = Store(tmp_path / "s.db")
    cid, resumed = store.open_capture("gce:p/z/vm")
    assert not resumed
    for ev in EVENTS:
        store.append(cid, ev)
    assert list(store.events(cid)) == EVENTS
    assert store.cursors(cid) == {"serial-1": 70, "screen": 1}
    assert store.open_capture("gce:p/z/vm") == (cid, True)  # unfinished: resumed
    store.finish(cid, {"outcome": "failure", "boots": 1}, ended=True)
    new, resumed = store.open_capture("gce:p/z/vm")
    assert new != cid and not resumed
    [info] = store.list(capture_id=cid)
    assert info.summary["outcome"] == "failure" and set(info.sources) == {"api", "serial-1", "screen"}


def test_a_second_connection_sees_committed_events(tmp_path):
    a = Store(tmp_path / "s.db")
    cid, _ = a.open_capture("file:x")
    a.append(cid, EVENTS[1])
    b = Store(tmp_path / "s.db")
    assert list(b.events(cid)) == [EVENTS[1]]


def test_retention_by_age_and_size(tmp_path):
    store = Store(tmp_path / "s.db")
    ids = []
    for i in range(3):
        cid, _ = store.open_capture(f"file:{i}", resume=False)
        store.append(cid, Chunk("c", b"x" * 1000))
        ids.append(cid)
    store.db.execute("UPDATE captures SET updated=0 WHERE id=?", (ids[0],))
    assert store.prune(older_than=3600) == [ids[0]]
    assert store.prune(max_bytes=1500) == [ids[1]]
    assert [i.id for i in store.list()] == [ids[2]]


def test_export_import_round_trip(tmp_path):
    a = Store(tmp_path / "a.db")
    cid, _ = a.open_capture("gce:p/z/vm")
    for ev in EVENTS:
        a.append(cid, ev)
    doc = json.loads(json.dumps(export_capture(a, cid)))
    b = Store(tmp_path / "b.db")
    new, _ = import_capture(b, doc)
    assert list(b.events(new)) == EVENTS


@pytest.mark.parametrize("doc", [
    {"schema": "consolewatch.capture/2", "events": []},
    {"schema": "consolewatch.capture/1"},
    {"schema": "consolewatch.capture/1", "events": "nope"},
    {"schema": "consolewatch.capture/1", "events": [{"kind": "rm -rf", "source": "x"}]},
    {"schema": "consolewatch.capture/1", "events": [{"kind": "chunk", "source": "x", "data": "not base64!"}]},
    {"schema": "consolewatch.capture/1", "events": [{"kind": "chunk", "source": 3}]},
    {"schema": "consolewatch.capture/1", "events": [{"kind": "gap", "source": "x", "info": [1]}]},
])
def test_malformed_exports_are_rejected(doc):
    with pytest.raises((ValueError, KeyError, TypeError)):
        list(events_from_export(doc))


def test_hostile_bytes_in_an_export_stay_data(tmp_path, cli):
    payload = b"\x1b]52;c;ZXZpbA==\x07Kernel panic - not syncing: \x1b[31mboom\n"
    doc = {"schema": "consolewatch.capture/1", "target": "file:x", "events": [
        {"source": "console", "kind": "chunk", "received_at": 1.0, "cursor": None,
         "data": base64.b64encode(payload).decode(), "info": {}}]}
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(doc))
    r = cli("analyze", "--json", str(path))
    out = json.loads(r.stdout)
    [f] = [f for f in out["findings"] if f["category"] == "kernel.panic"]
    assert f["evidence"][0]["text"] == "Kernel panic - not syncing: boom"
