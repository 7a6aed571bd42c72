"""`consolewatch report INPUT...`: a post-mortem of a boot that outlives the machine.

INPUT is anything `analyze` takes (files, `-`, a target read once such as `gce:P/Z/N`) or
`capture:ID`, a stored capture. The report is Markdown (default), one self-contained HTML page,
or the consolewatch.analysis/1 JSON document; `-o FILE` writes it (the format then follows the
file's extension unless --format says otherwise) and prints a one-line summary on stderr.
Exit status as for analyze: 0, 1 when a finding reaches --fail-on, 2 on bad usage or input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from consolewatch.cli import add_baseline_option, boot_choice
from consolewatch.model import CLOUDS, SEVERITIES

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
    p.add_argument("--boot", type=boot_choice, default="last", metavar="last|all|N",
                   help="the last boot (default), all, or boot N (1 the first, 0 the last, -1 the one before)")
    p.add_argument("--parsers", action="append", default=[], metavar="DIR", help="extra definitions directory")
    add_baseline_option(p)


def report_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output:
        return _EXTENSIONS.get(Path(args.output).suffix.lower(), "md")
    return "md"


def build(args: argparse.Namespace):
    """Analyse the inputs and return the Report (UsageError for unusable input)."""
    from consolewatch import __version__
    from consolewatch.cli.common import analyze_against_baseline
    from consolewatch.sinks.report import Report

    analysis, scope, baseline = analyze_against_baseline(args)
    return Report(analysis, scope=scope, inputs=tuple(input_label(p) for p in args.paths), version=__version__,
                  baseline=baseline, baseline_inputs=tuple(input_label(p) for p in args.baseline))


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


def run(args: argparse.Namespace) -> int:
    from consolewatch.cli.common import exit_status, say, write_atomically
    from consolewatch.sinks.report import render

    fmt = report_format(args)
    report = build(args)
    text = render(report, fmt)
    if args.output:
        write_atomically(args.output, text)
        a = report.analysis
        say(f"wrote {args.output} ({len(text.encode('utf-8')):,} bytes, {fmt}): {a.outcome.upper()}: "
            f"{report.headline}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return exit_status(report.analysis, report.scope, args.fail_on)
