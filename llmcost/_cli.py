"""Command line: ``llmcost <command>``; each command's module registers its own subparser."""

from __future__ import annotations

import argparse
import sys

from llmcost import _demo


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmcost", description="Record, price and watch every LLM call.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _demo.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_usage(sys.stderr)
        print("llmcost: error: a command is required", file=sys.stderr)
        return 2
    return int(func(args))
