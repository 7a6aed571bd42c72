"""`consolewatch completion bash|zsh`: the shell completion script (argcomplete's).

bash: `eval "$(consolewatch completion bash)"` in ~/.bashrc; zsh: the same line with `zsh` in
~/.zshrc. The script asks `consolewatch` itself for completions (commands, options, choices,
file names), so it stays right as the commands change.
"""

from __future__ import annotations

import argparse
import sys

from consolewatch.cli import EXIT_OK


def run(args: argparse.Namespace) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["consolewatch"], shell=args.shell))
    return EXIT_OK
