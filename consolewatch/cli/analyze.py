"""`consolewatch analyze PATH...`: diagnose a captured console."""

from __future__ import annotations

import argparse
import sys

from consolewatch.cli import EXIT_FINDINGS, EXIT_OK
from consolewatch.cli.common import analyze
from consolewatch.model import severity_rank


def run(args: argparse.Namespace) -> int:
    analysis = analyze(args)
    if args.json:
        from consolewatch.sinks.jsonout import analysis_dict, dumps

        sys.stdout.write(dumps(analysis_dict(analysis, args.boot)) + "\n")
    else:
        from rich.console import Console

        from consolewatch.sinks.terminal import render

        render(analysis, Console(highlight=False, emoji=False), args.boot)
    if args.fail_on == "never":
        return EXIT_OK
    worst = analysis.worst(args.boot)
    failed = worst is not None and severity_rank(worst) >= severity_rank(args.fail_on)
    return EXIT_FINDINGS if failed else EXIT_OK
