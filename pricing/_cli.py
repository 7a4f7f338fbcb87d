"""The ``pricing`` command line: the parser, built from the command modules, and the entry points.

``cli_logic(argv)`` parses, runs one command and returns its exit code (tests call it in-process); ``cli()`` is
``sys.exit(cli_logic())``, plus the usual care for a reader that goes away: ``pricing list | head -1`` exits quietly
with status 141 (128 + SIGPIPE, what a shell reports for a writer the pipe stopped), never with a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pricing._commands import COMMANDS
from pricing._commands._common import PROG

__all__ = ["EXIT_BROKEN_PIPE", "build_parser", "cli", "cli_logic"]

#: The exit status when the reader of standard output went away (``| head``): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr (``pricing: error: ...``) and exit code 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see `{self.prog} --help`)"
        self.exit(2, f"{PROG}: error: {message}{hint}\n")


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for: reading the installed metadata costs tens of milliseconds."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from pricing._version import package_version

        print(f"{parser.prog} (llmcost-top) {package_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The full ``pricing`` parser: global options, then each command module's subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Exact, dated prices for LLM calls: look up rates, price a call, compare models, manage the catalog.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--catalog", metavar="FILE", help="use this catalog file instead of the active one")
    parser.add_argument("--no-overrides", action="store_true", help="ignore the user and project override files")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in COMMANDS:
        command.register(sub)
    return parser


def cli_logic(argv: Sequence[str] | None = None) -> int:
    """Run ``pricing`` with ``argv`` (default: the command line) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and bad arguments
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help()
        return 0
    code: int = args.func(args)
    sys.stdout.flush()
    return code


def cli() -> NoReturn:
    """The ``pricing`` console script."""
    try:
        code = cli_logic()
        sys.stdout.flush()  # inside the try: a pipe closed early fails here, not in the interpreter's exit
    except BrokenPipeError:
        # Whatever is still buffered can never be delivered: point stdout at /dev/null so the interpreter's final
        # flush does not fail again and print "Exception ignored ... BrokenPipeError".
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    sys.exit(code)
