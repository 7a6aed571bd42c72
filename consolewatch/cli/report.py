"""`consolewatch report INPUT...`: a post-mortem of a boot that outlives the machine.

INPUT is anything `analyze` takes (files, `-`, a target read once such as `gce:P/Z/N`) or
`capture:ID`, a stored capture. The report is Markdown (default), one self-contained HTML page,
or the consolewatch.analysis/1 JSON document; `-o FILE` writes it (the format then follows the
file's extension unless --format says otherwise) and prints a one-line summary on stderr.
Exit status as for analyze: 0, 1 when a finding reaches --fail-on, 2 on bad usage or input.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from consolewatch.cli import EXIT_FINDINGS, EXIT_OK, UsageError
from consolewatch.model import CLOUDS, SEVERITIES, Frame, severity_rank
from consolewatch.session import Session

_EXTENSIONS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="write a post-mortem of a boot (Markdown, self-contained HTML or JSON)",
        description="Write a post-mortem of a failed (or any) boot: the verdict, what happened, each "
                    "boot's milestones and findings with their console evidence, the fix and notes.",
    )
    p.add_argument("paths", nargs="+", metavar="INPUT",
                   help="inputs of one machine's capture: files, - (stdin), a target read once "
                        "(gce:..., aws:...), or capture:ID (a stored capture)")
    p.add_argument("--format", choices=["md", "html", "json"],
                   help="report format (default: from -o's extension, else md)")
    p.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    p.add_argument("--cloud", choices=[c for c in CLOUDS if c != "unknown"], help="where the machine ran")
    p.add_argument("--hypervisor", choices=["xen", "nitro", "kvm", "hyperv", "tcg"], help="if known")
    p.add_argument("--fail-on", choices=[*SEVERITIES, "never"], default="error",
                   help="exit 1 when a finding reaches this severity (default: error)")
    p.add_argument("--boot", choices=["last", "all"], default="last", help="report the last boot or all")
    p.add_argument("--parsers", action="append", default=[], metavar="DIR", help="extra definitions directory")


class FrameKeepingSession(Session):
    """A Session that also keeps the last frame of each screen source, for the report's screenshots."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.frames: dict[str, Frame] = {}

    def feed(self, event: Any):
        if isinstance(event, Frame):
            self.frames[event.source] = event
        return super().feed(event)


def report_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output:
        return _EXTENSIONS.get(Path(args.output).suffix.lower(), "md")
    return "md"


def build(args: argparse.Namespace):
    """Analyse the inputs and return the Report (UsageError for unusable input)."""
    from consolewatch.cli.analyze import analyze_paths
    from consolewatch.cli.common import load_catalog
    from consolewatch.sinks.report import Report

    catalog = load_catalog(args.parsers)
    session = FrameKeepingSession(catalog, cloud=args.cloud or "unknown", hypervisor=args.hypervisor or "unknown")
    analysis = analyze_paths(args.paths, session)
    from consolewatch import __version__

    return Report(analysis, scope=args.boot, inputs=tuple(input_label(p) for p in args.paths),
                  frames=session.frames, version=__version__)


def input_label(path: str) -> str:
    """How the report names an input: a stored capture also says its target and when it was taken;
    URLs lose their credentials and query (a console URL's token)."""
    from consolewatch.sinks.report import redact

    if not path.startswith("capture:") or Path(path).exists():
        return redact(path)
    import sqlite3
    import time

    from consolewatch.store import Store, StoreError, default_path

    try:
        store = Store(default_path(), readonly=True)
        try:
            info = store.capture(int(path.partition(":")[2]))
        finally:
            store.close()
    except (sqlite3.Error, OSError, ValueError, StoreError):
        return path
    if info is None:
        return path
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.created))
    return f"{path} ({redact(info.target)}, taken {when})"


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder (no half reports)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    from consolewatch.sinks.report import render

    fmt = report_format(args)
    report = build(args)
    text = render(report, fmt)
    if args.output:
        write_atomically(args.output, text)
        a = report.analysis
        print(f"wrote {args.output} ({len(text.encode('utf-8')):,} bytes, {fmt}): {a.outcome.upper()}: "
              f"{report.headline}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.fail_on == "never":
        return EXIT_OK
    worst = report.analysis.worst(args.boot)
    failed = worst is not None and severity_rank(worst) >= severity_rank(args.fail_on)
    return EXIT_FINDINGS if failed else EXIT_OK
