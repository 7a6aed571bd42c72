"""`consolewatch analyze PATH...`: diagnose a captured console."""

from __future__ import annotations

import argparse
import sys

from consolewatch.cli.common import analyze, console, exit_status, narrow, write_atomically


def run(args: argparse.Namespace) -> int:
    analysis, scope = narrow(analyze(args), args.boot)
    as_json = args.json or bool(args.output and args.output.lower().endswith(".json"))
    if as_json:
        from consolewatch.sinks.jsonout import analysis_dict, dumps

        doc = analysis_dict(analysis, scope)
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
            render(analysis, console(file=buf, width=100, color_system=None, quiet=False), scope)
            write_atomically(args.output, buf.getvalue())
        else:
            render(analysis, console(), scope)
    return exit_status(analysis, scope, args.fail_on)
