"""The `consolewatch` command: thin subcommands over the library.

Data goes to stdout, the human summary to stderr; exit status 0 (nothing reached --fail-on),
1 (a finding did, or a boot failed or stalled), 2 (bad usage or unusable input), 3 (timeout),
130 / 143 (interrupted by SIGINT / SIGTERM). Heavy imports happen inside each command so
`--help` and shell completion stay fast.
"""

# PYTHON_ARGCOMPLETE_OK

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
from collections.abc import Sequence

from consolewatch.model import CLOUDS, SEVERITIES

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM


class UsageError(Exception):
    """Bad usage or unusable input: one line on stderr, exit status 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is (like Ctrl-C's KeyboardInterrupt): exit status 143."""


class Options:
    """Global options every command honours (set once by `main`)."""

    quiet = False
    debug = False
    no_color = False


class Parser(argparse.ArgumentParser):
    """argparse, plus "did you mean ...?" for a mistyped command, action or choice; every command
    and action parser (subparsers are made of this class too) takes the global options."""

    def __init__(self, *args, main: bool = False, **kw) -> None:
        super().__init__(*args, **kw)
        _global_options(self, False if main else argparse.SUPPRESS)

    def error(self, message: str):
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            import difflib

            choices = re.findall(r"'([^']*)'", m.group(2))
            close = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
        super().error(message)


def _global_options(p: argparse.ArgumentParser, default) -> None:
    """--no-color, -q, --debug: on the main parser and on every command (before or after it)."""
    g = p.add_argument_group("output")
    g.add_argument("--no-color", action="store_true", default=default,
                   help="no colour or styles (as NO_COLOR=1 does)")
    g.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="no human-readable output, only errors (--json and -o still write their data)")
    g.add_argument("--debug", action="store_true", default=default,
                   help="print a traceback for internal errors")


def boot_choice(text: str) -> str | int:
    """--boot: last, all, or N as `journalctl -b` counts (1 the first boot, 0 the last, -1 the one before)."""
    if text in ("last", "all"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not last, all or a boot number") from None


class _Version(argparse.Action):
    """--version: the version in the package metadata, looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kw: object) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
                         help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kw: object) -> None:
        from consolewatch import __version__

        print(f"consolewatch {__version__}")
        parser.exit()


def add_baseline_option(p) -> None:
    p.add_argument("--baseline", action="append", default=[], metavar="GOOD",
                   help="a known-good boot of the same image (a log, an export or capture:ID; repeat for "
                        "its other sources): list the lines and milestones that differ")


#: Commands whose arguments their own modules add (imported only to build their parser).
_MODULE_COMMANDS = ("watch", "demo", "report", "captures", "alerts", "ocr", "netcfg")
_COMMANDS = ("analyze", "tail", *_MODULE_COMMANDS, "rules", "completion")
_GLOBAL_FLAGS = ("--no-color", "-q", "--quiet", "--debug")


def _named_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names, when only global flags come before it (else None: --help,
    --version and mistakes need every command's parser)."""
    for arg in argv:
        if arg not in _GLOBAL_FLAGS:
            return arg if arg in _COMMANDS else None
    return None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `command` (a command argv names), the other commands whose
    arguments live in their own modules are left out, so `analyze` does not import (and compile)
    the modules of `watch`, `report`, `alerts` and the rest: `command`'s arguments, help and
    errors are the same."""

    def wanted(name: str) -> bool:
        return command is None or command == name

    p = Parser(
        prog="consolewatch", main=True,
        description="Tells you why a cloud VM did not boot: reads its console, names the failure, says the fix.",
    )
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    a = sub.add_parser("analyze", help="diagnose a captured console (log, screenshot, EC2/GCE output, export)")
    a.add_argument("paths", nargs="+", metavar="PATH",
                   help="inputs of one machine's capture; - reads stdin; a target (gce:..., aws:...) is read once")
    a.add_argument("--cloud", choices=[c for c in CLOUDS if c != "unknown"], help="where the machine ran")
    a.add_argument("--hypervisor", choices=["xen", "nitro", "kvm", "hyperv", "tcg"], help="if known")
    a.add_argument("--json", action="store_true", help="print the consolewatch.analysis/1 JSON document")
    a.add_argument("--fail-on", choices=[*SEVERITIES, "never"], default="error",
                   help="exit 1 when a finding reaches this severity (default: error)")
    a.add_argument("--boot", type=boot_choice, default="last", metavar="last|all|N",
                   help="the last boot (default), all, or boot N (1 the first, 0 the last, -1 the one before)")
    a.add_argument("-o", "--output", metavar="FILE",
                   help="write the output to FILE instead of stdout (JSON when FILE ends in .json)")
    a.add_argument("--parsers", action="append", default=[], metavar="DIR", help="extra definitions directory")
    add_baseline_option(a)

    if wanted("tail"):
        t = sub.add_parser("tail", help="follow a machine's console live (a CI gate with --until)")
        t.add_argument("target", help="aws:[REGION/]i-..., gce:PROJECT/ZONE/NAME, do:ID, vnc://HOST:PORT, "
                                      "vnc+ws://HOST:PORT/PATH, vnc+wss://..., openstack:SERVER, file:PATH, qemu:SOCKET_OR_PTY")
        t.add_argument("--json", action="store_true", help="JSON Lines, one event per line")
        t.add_argument("--no-follow", action="store_true", help="fetch what exists and exit")
        t.add_argument("--until", choices=["success", "failure", "outcome"], help="end when the boot reaches this")
        t.add_argument("--timeout", type=float, metavar="SECONDS", help="end the follow after this long (exit 3)")
        from consolewatch.cli.tail import add_target_options

        add_target_options(t)

    for name in _MODULE_COMMANDS:  # consolewatch.cli.<name>.add_parser(sub), in this order
        if wanted(name):
            importlib.import_module(f"consolewatch.cli.{name}").add_parser(sub)

    r = sub.add_parser("rules", help="list, show and check detector rules")
    rs = r.add_subparsers(dest="rules_command", metavar="ACTION")
    rl = rs.add_parser("list", help="every rule with its category and severity")
    rl.add_argument("--json", action="store_true")
    rsh = rs.add_parser("show", help="one rule in full")
    rsh.add_argument("rule_id")
    rc = rs.add_parser("check", help="load every definition, run every sample; exit 1 on any failure; "
                       "or score the catalog on a folder of annotated cases (--cases)")
    which = rc.add_mutually_exclusive_group()
    which.add_argument("--samples", nargs="?", const="samples", default=None, metavar="DIR",
                       help="also replay the cases in DIR (default: samples/, without samples/blind/) "
                            "and print recall/precision")
    which.add_argument("--cases", metavar="DIR",
                       help="score the catalog on the annotated case folders in DIR (meta.yaml + "
                            "expected.yaml each): recall/precision per category and per family, "
                            "outcome accuracy, false alarms on healthy cases; exit 0, 2 on unusable cases")
    rc.add_argument("--misses", action="store_true", help="with --cases: also list each case's misses")
    rc.add_argument("--json", action="store_true", help="with --cases: print one JSON document")
    for q in (rl, rsh, rc):
        q.add_argument("--parsers", action="append", default=[], metavar="DIR", help="extra definitions directory")

    c = sub.add_parser("completion", help="print the shell completion script (bash or zsh)",
                       description="Print a completion script: eval \"$(consolewatch completion bash)\" in "
                                   "~/.bashrc, or the zsh line in ~/.zshrc.")
    c.add_argument("shell", choices=["bash", "zsh"])
    return p


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion (argcomplete): only when the shell asks, so normal runs never import it."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def _terminate(signum, frame) -> None:
    raise Terminated()


def _shown(exc: BaseException) -> str:
    """An error message as it may be printed: it can quote file names, targets and API answers,
    so controls are escaped and URL credentials replaced."""
    from consolewatch.safetext import redact_urls, visible

    return visible(redact_urls(str(exc)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(None if "_ARGCOMPLETE" in os.environ else _named_command(argv))
    _complete(parser)
    args = parser.parse_args(argv)
    Options.quiet, Options.debug, Options.no_color = bool(args.quiet), bool(args.debug), bool(args.no_color)
    if args.no_color:
        os.environ["NO_COLOR"] = "1"  # rich (every console we make) honours it
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "analyze":
            from consolewatch.cli.analyze import run
        elif args.command == "tail":
            from consolewatch.cli.tail import run
        elif args.command == "watch":
            from consolewatch.cli.watch import run
        elif args.command == "demo":
            from consolewatch.cli.demo import run
        elif args.command == "report":
            from consolewatch.cli.report import run
        elif args.command == "captures":
            from consolewatch.cli.captures import run
        elif args.command == "alerts":
            from consolewatch.cli.alerts import run
        elif args.command == "ocr":
            from consolewatch.cli.ocr import run
        elif args.command == "netcfg":
            from consolewatch.cli.netcfg import run
        elif args.command == "rules":
            if args.rules_command is None:
                parser.parse_args(["rules", "--help"])
            from consolewatch.cli.rules import run
        elif args.command == "completion":
            from consolewatch.cli.completion import run
        else:  # pragma: no cover - argparse rejects unknown commands
            return EXIT_USAGE
        return run(args)
    except UsageError as exc:
        print(f"consolewatch: {_shown(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        return EXIT_SIGTERM
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: say so in one line; --debug shows the traceback
        import sqlite3

        from consolewatch.store import StoreError, explain

        if isinstance(exc, (StoreError, sqlite3.Error)):  # the store's environment, not a bug
            print(f"consolewatch: {_shown(explain(exc))}", file=sys.stderr)
            return EXIT_USAGE
        if Options.debug or os.environ.get("CONSOLEWATCH_DEBUG"):
            import traceback

            traceback.print_exc()
            return EXIT_USAGE
        print(f"consolewatch: internal error: {type(exc).__name__}: {_shown(exc)} "
              "(--debug shows the traceback; please report it)", file=sys.stderr)
        return EXIT_USAGE
