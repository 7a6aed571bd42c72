"""Capture exports: one JSON file with every stored event, readable by analyze on any machine.

`{"schema": "consolewatch.capture/1", "target": ..., "created": ..., "events": [{"source",
"kind", "received_at", "cursor", "data" (base64), "info"}]}`. Bytes travel base64-encoded;
nothing in an export is interpreted until it is replayed through the normaliser.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterator

from consolewatch.store import Store, decode_event, encode_event

SCHEMA = "consolewatch.capture/1"
KINDS = ("chunk", "frame", "gap", "unavailable", "context", "status")


def export_capture(store: Store, capture_id: int) -> dict[str, Any]:
    info = store.capture(capture_id)
    if info is None:
        raise KeyError(capture_id)
    events = []
    for ev in store.events(capture_id):
        source, kind, received_at, cursor, data, extra = encode_event(ev)
        events.append({"source": source, "kind": kind, "received_at": received_at, "cursor": cursor,
                       "data": base64.b64encode(data).decode("ascii") if data is not None else None,
                       "info": extra})
    return {"schema": SCHEMA, "target": info.target, "created": info.created, "summary": info.summary,
            "events": events}


def events_from_export(doc: dict[str, Any]) -> Iterator[Any]:
    """Source events of an export; ValueError/KeyError/TypeError on a malformed document."""
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"unsupported schema {doc.get('schema')!r} (expected {SCHEMA})")
    events = doc["events"]
    if not isinstance(events, list):
        raise TypeError("`events` must be a list")
    for i, e in enumerate(events):
        if not isinstance(e, dict) or e.get("kind") not in KINDS or not isinstance(e.get("source"), str):
            raise ValueError(f"event {i} is not a capture event")
        data = e.get("data")
        raw = base64.b64decode(data, validate=True) if isinstance(data, str) else None
        info = e.get("info") or {}
        if not isinstance(info, dict):
            raise TypeError(f"event {i}: `info` must be an object")
        received = e.get("received_at") or 0.0
        if not isinstance(received, (int, float)):
            raise TypeError(f"event {i}: `received_at` must be a number")
        yield decode_event(e["source"], e["kind"], float(received), e.get("cursor"), raw, info)


def digest(doc: dict[str, Any]) -> str:
    """What identifies an export: its target, start and events (the same export imported twice)."""
    import hashlib

    key = json.dumps([doc.get("target"), doc.get("created"), doc.get("events")], sort_keys=True, default=str)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def import_capture(store: Store, doc: dict[str, Any]) -> tuple[int, bool]:
    """Store an export; (capture id, True) — or (the id it already has, False) when it was imported before."""
    events = list(events_from_export(doc))
    mark = digest(doc)
    known = store.find_import(mark)
    if known is not None:
        return known, False
    capture_id, _ = store.open_capture(str(doc.get("target", "import")), resume=False)
    for ev in events:
        store.append(capture_id, ev)
    summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    store.finish(capture_id, {**summary, "imported_digest": mark}, ended=True)
    return capture_id, True


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc)
