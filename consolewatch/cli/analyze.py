"""`consolewatch analyze PATH...`: diagnose a captured console."""

from __future__ import annotations

import argparse
import sys

from consolewatch.cli.common import analyze_against_baseline, console, exit_status, write_atomically


def run(args: argparse.Namespace) -> int:
    # --boot last prints the verdict's boots only: the other boots' context lines and fixes are not written
    analysis, scope, baseline = analyze_against_baseline(args, "verdict" if args.boot == "last" else "all")
    as_json = args.json or bool(args.output and args.output.lower().endswith(".json"))
    if as_json:
        from consolewatch.sinks.jsonout import analysis_dict, dumps

        doc = analysis_dict(analysis, scope, baseline)
        doc["boot_scope"] = str(args.boot)
        text = dumps(doc) + "\n"
        if args.output:
            write_atomically(args.output, text)
        else:
            sys.stdout.write(text)
    else:
        from consolewatch.sinks.terminal import render

        if args.output:
            import io

            buf = io.StringIO()
            out = console(file=buf, width=100, color_system=None, quiet=False)
            render(analysis, out, scope)
            _baseline(baseline, out)
            write_atomically(args.output, buf.getvalue())
        else:
            out = console()
            render(analysis, out, scope)
            _baseline(baseline, out)
    return exit_status(analysis, scope, args.fail_on)


def _baseline(comparison, out) -> None:
    if comparison is not None:
        from consolewatch.sinks.baseline_view import render_comparison

        render_comparison(comparison, out)
