"""Capture exports: one JSON file with every stored event, readable by analyze on any machine.

`{"schema": "consolewatch.capture/1", "target": ..., "created": ..., "events": [{"source",
"kind", "received_at", "cursor", "data" (base64), "info"}]}`. Bytes travel base64-encoded;
nothing in an export is interpreted until it is replayed through the normaliser.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Iterator

from consolewatch.safetext import utf8_text
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


#: The `info` keys each kind may carry, with the type each must have (None always allowed).
_INFO: dict[str, dict[str, tuple[type, ...]]] = {
    "chunk": {},
    "frame": {"media_type": (str,)},
    "gap": {"lost_bytes": (int,), "reason": (str,)},
    "unavailable": {"reason": (str,), "hint": (str,)},
    "context": {"cloud": (str,), "hypervisor": (str,), "fields": (dict,)},
    "status": {"state": (str,), "detail": (str,), "poll_interval": (int, float)},
}
_SUMMARY = {"outcome": (str,), "boots": (int,), "cloud": (str,), "hypervisor": (str,)}
#: Longest string an export may give a target, a source or an info field (console bytes are data).
MAX_FIELD = 4096


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{what} must be a finite number")
    return float(value)


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be text")
    if len(value) > MAX_FIELD:
        raise ValueError(f"{what} is longer than {MAX_FIELD} characters")
    return utf8_text(value)  # JSON may hold a lone surrogate; the store (UTF-8) cannot


def _checked(value: Any, types: tuple[type, ...], what: str) -> Any:
    if value is None:
        return None
    if types == (str,):
        return _string(value, what)
    if isinstance(value, bool) or not isinstance(value, types):
        raise TypeError(f"{what} must be {' or '.join(t.__name__ for t in types)}")
    if isinstance(value, float):
        _number(value, what)
    if isinstance(value, int) and value < 0:
        raise ValueError(f"{what} must not be negative")
    if isinstance(value, dict):  # context fields: short text to short text
        return {_string(k, f"{what} key"): _string(v if isinstance(v, str) else str(v), f"{what}.{k}")
                for k, v in value.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    return value


def _info(kind: str, info: Any, at: str) -> dict[str, Any]:
    """An event's `info`, each known key of the type the core expects (unknown keys dropped)."""
    if info is None:
        return {}
    if not isinstance(info, dict):
        raise TypeError(f"{at}: `info` must be an object")
    out = {}
    for key, types in _INFO[kind].items():
        if key in info:
            out[key] = _checked(info[key], types, f"{at}: `info.{key}`")
    if kind == "status" and out.get("state") == "stalled":
        try:  # a recorded stall carries the quiet seconds the rule engine is told
            _number(float(out.get("detail") or 0), f"{at}: `info.detail`")
        except ValueError:
            raise ValueError(f"{at}: `info.detail` of a stalled status must be seconds") from None
    return out


def events_from_export(doc: dict[str, Any]) -> Iterator[Any]:
    """Source events of an export; ValueError/KeyError/TypeError on a malformed document.

    An export comes from another machine: every field is checked for the type the core
    expects (a list where text belongs, NaN where a time belongs) and refused with the event's
    position, never passed on to fail later."""
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"unsupported schema {doc.get('schema')!r} (expected {SCHEMA})")
    events = doc["events"]
    if not isinstance(events, list):
        raise TypeError("`events` must be a list")
    for i, e in enumerate(events):
        if not isinstance(e, dict) or e.get("kind") not in KINDS or not isinstance(e.get("source"), str):
            raise ValueError(f"event {i} is not a capture event")
        at = f"event {i}"
        source = _string(e["source"], f"{at}: `source`")
        data = e.get("data")
        if data is not None and not isinstance(data, str):
            raise TypeError(f"{at}: `data` must be base64 text")
        raw = base64.b64decode(data, validate=True) if data is not None else None
        info = _info(e["kind"], e.get("info"), at)
        received = _number(e.get("received_at") or 0.0, f"{at}: `received_at`")
        yield decode_event(source, e["kind"], received, e.get("cursor"), raw, info)


def export_target(doc: dict[str, Any]) -> str:
    return _string(doc.get("target", "import"), "`target`")


def export_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The known keys of an export's summary, each of its type; anything else is dropped."""
    summary = doc.get("summary")
    if not isinstance(summary, dict):
        return {}
    out = {}
    for key, types in _SUMMARY.items():
        try:
            out[key] = _checked(summary.get(key), types, key)
        except (TypeError, ValueError):
            out[key] = None
    return out


def digest(doc: dict[str, Any]) -> str:
    """What identifies an export: its target, start and events (the same export imported twice)."""
    import hashlib

    key = json.dumps([doc.get("target"), doc.get("created"), doc.get("events")], sort_keys=True, default=str)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def import_capture(store: Store, doc: dict[str, Any]) -> tuple[int, bool]:
    """Store an export; (capture id, True) — or (the id it already has, False) when it was imported before."""
    events = list(events_from_export(doc))
    target = export_target(doc)
    summary = export_summary(doc)
    mark = digest(doc)
    known = store.find_import(mark)
    if known is not None:
        return known, False
    capture_id, _ = store.open_capture(target, resume=False)
    for ev in events:
        store.append(capture_id, ev)
    store.finish(capture_id, {**summary, "imported_digest": mark}, ended=True)
    return capture_id, True


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc)
