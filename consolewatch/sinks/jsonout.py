"""The analyze JSON document (schema consolewatch.analysis/1) and tail JSON Lines events."""

from __future__ import annotations

import json
import re
from typing import Any

from consolewatch.model import Finding, Gap, Line, MachineContext, SourceUnavailable
from consolewatch.session import Analysis

SCHEMA = "consolewatch.analysis/1"


def analysis_dict(a: Analysis, scope: str = "last", baseline: Any = None) -> dict[str, Any]:
    """The document `consolewatch analyze --json` prints (design.md contract, extra keys added);
    with a `baseline.Comparison`, its `baseline` object."""
    boots = a.boots if scope == "all" else a.boots[-1:]
    doc = {
        "schema": SCHEMA,
        "cloud": a.cloud,
        "hypervisor": a.hypervisor,
        "outcome": a.outcome,
        "lines": a.lines,
        "boot_scope": scope,
        "boot_count": len(a.boots) + a.boots_dropped,
        "boots": [b.as_dict() for b in boots],
        "findings": [f.as_dict() for f in a.findings(scope)],
        "notes": [note_dict(n) for n in a.notes],
    }
    if baseline is not None:
        doc["baseline"] = baseline.as_dict()
    return doc


def note_dict(n: Any) -> dict[str, Any]:
    if isinstance(n, Gap):
        return {"type": "gap", "source": n.source, "lost_bytes": n.lost_bytes, "reason": n.reason}
    if isinstance(n, SourceUnavailable):
        return {"type": "unavailable", "source": n.source, "reason": n.reason, "hint": n.hint}
    if isinstance(n, MachineContext):
        return {"type": "context", "source": n.source, "cloud": n.cloud, "hypervisor": n.hypervisor,
                "fields": dict(n.fields)}
    return {"type": type(n).__name__.lower()}


#: MachineContext fields that are the cloud's own verdict on the machine (OpenStack's `fault`).
CLOUD_VERDICT = ("status", "fault", "fault_code", "fault_created")


def cloud_verdict(ctx: MachineContext | None) -> dict[str, str] | None:
    """What the cloud's API says went wrong, to show beside the console's verdict; None when
    it reports no fault."""
    if ctx is None or not ctx.fields.get("fault"):
        return None
    return {k: str(ctx.fields[k]) for k in CLOUD_VERDICT if ctx.fields.get(k)}


def line_event(line: Line, target: str) -> dict[str, Any]:
    return {
        "type": "line", "target": target, "source": line.source, "seq": line.seq, "text": line.text,
        "boot": line.boot, "guest_time": line.guest_time, "observed_at": line.observed_at,
        "origin": line.origin, "confidence": line.confidence,
    }


def seen_event(line: Line, target: str) -> dict[str, Any]:
    """Line `seq` of the timeline also shown by `source`: a screen repeating the text console, or
    (`exact`) the text console printing a line first read off a screen; its text now stands for
    the line (what detectors read)."""
    return {
        "type": "seen", "target": target, "source": line.source, "seq": line.seq, "text": line.text,
        "origin": line.origin, "confidence": line.confidence, "observed_at": line.observed_at,
        "exact": line.origin == "text",
    }


def finding_event(f: Finding, target: str, source: str) -> dict[str, Any]:
    return {"type": "finding", "target": target, "source": source, **f.as_dict()}


def ocr_dict(path: str, result: Any) -> dict[str, Any]:
    """What `consolewatch ocr --json` prints for one image (an `OcrResult`): the design.md shape
    `{"path", "engine", "lines": [{"text", "confidence"}]}` plus each line's screen row and the
    text grid when the engine knows it."""
    return {
        "path": path, "engine": result.engine,
        "lines": [{"text": line.text, "confidence": round(line.confidence, 4), "row": line.row}
                  for line in result.lines],
        "cols": result.cols, "rows": result.rows, "width": result.width, "height": result.height,
    }


# Characters JSON may carry raw but a terminal, pager or `jq -r` would act on: C1 controls,
# bidi and invisible format characters, line separators, lone surrogates.
_RAW_HAZARD = re.compile("[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                         "\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")


def _u(m: re.Match[str]) -> str:
    n = ord(m.group())
    if n < 0x10000:
        return "\\u%04x" % n
    n -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (n >> 10), 0xDC00 + (n & 0x3FF))


def dumps(doc: Any) -> str:
    """JSON with non-ASCII kept readable; console text is data here, never markup. Characters
    that could act on a terminal showing the JSON are written as `\\uXXXX` escapes: the values
    parse back exactly, the bytes on screen stay inert."""
    return _RAW_HAZARD.sub(_u, json.dumps(doc, ensure_ascii=False))
