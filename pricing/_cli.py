"""The ``pricing`` command: argument parsing and dispatch (the commands live in ``_commands`` and ``_update_cli``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from pricing import _commands, _update_cli

__all__ = ["main"]

PROG = "pricing"


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr (``pricing: error: ...``) and exit code 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see `{self.prog} --help`)"
        self.exit(2, f"{PROG}: error: {message}{hint}\n")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("llmcost-top")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The full ``pricing`` parser: catalog commands here, update/versions/diff/rollback/serve from ``_update_cli``."""
    parser = _Parser(
        prog=PROG,
        description="Exact, dated prices for LLM calls: look up rates, price a call, compare models, manage the catalog.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s (llmcost-top) {_version()}")
    parser.add_argument("--catalog", metavar="FILE", help="use this catalog file instead of the active one")
    parser.add_argument("--no-overrides", action="store_true", help="ignore the user and project override files")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    _add_show(sub)
    _add_cost(sub)
    _add_list(sub)
    _add_compare(sub)
    _add_validate(sub)
    _update_cli.register(sub)
    return parser


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a token count: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative: {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"cannot be negative: {text!r}")
    return value


def _common(p: argparse.ArgumentParser, *, at: bool = True, json: bool = True) -> None:
    p.add_argument("--provider", metavar="P", help="provider id (openai, anthropic, bedrock, ollama, ...)")
    if at:
        p.add_argument("--at", metavar="DATE", help="price on this date or time, ISO-8601 UTC (default: now)")
    if json:
        p.add_argument("--json", action="store_true", help="print JSON")


def _add_show(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("show", help="show a model's rates, rate windows and tiers", description="Show one model.")
    p.add_argument("model", metavar="MODEL", help="model name (aliases, provider prefixes and dated snapshots work)")
    _common(p)
    p.set_defaults(func=_commands.cmd_show)


def _add_usage(p: argparse.ArgumentParser, *, full: bool) -> None:
    p.add_argument("--input", type=_count, required=True, metavar="N", help="input tokens, cached ones included")
    p.add_argument("--output", type=_count, required=True, metavar="N", help="output tokens, reasoning included")
    p.add_argument("--cache-read", type=_count, default=0, metavar="N", help="input tokens read from the cache")
    if full:
        p.add_argument("--cache-write", type=_count, default=0, metavar="N", help="input tokens written (5 min)")
        p.add_argument("--cache-write-1h", type=_count, default=0, metavar="N", help="input tokens written (1 hour)")
    p.add_argument("--reasoning", type=_count, default=0, metavar="N", help="output tokens spent on reasoning")


def _add_cost(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "cost",
        help="price one call from its token counts",
        description="Price one call. Counts are inclusive: --input includes cached tokens, --output reasoning.",
    )
    p.add_argument("model", metavar="MODEL", help="model name")
    _add_usage(p, full=True)
    p.add_argument("--gpu-seconds", type=_seconds, metavar="S", help="GPU time, for models billed by GPU hour")
    p.add_argument("--batch", action="store_true", help="apply the batch discount")
    p.add_argument("--service-tier", metavar="T", help="service tier (for example flex or priority)")
    _common(p)
    p.set_defaults(func=_commands.cmd_cost)


def _add_list(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("list", help="list models with their current rates", description="List the catalog's models.")
    _common(p, at=False)
    p.set_defaults(func=_commands.cmd_list)


def _add_compare(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "compare",
        help="rank models by the cost of a token mix, cheapest first",
        description="Rank every priced model by what this token mix costs, with the ratio to the cheapest. Models "
        "with no output rate (embeddings) are left out when the mix has output tokens.",
    )
    _add_usage(p, full=False)
    p.add_argument("--limit", type=_count, default=25, metavar="K", help="show the K cheapest (0: all; default 25)")
    p.add_argument("--include-free", action="store_true", help="include free (local) models")
    _common(p)
    p.set_defaults(func=_commands.cmd_compare)


def _add_validate(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "validate",
        help="check a catalog file: schema, windows, name conflicts",
        description="Check a catalog (or, with --override, an override file). Exit 1 when a problem is found.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--override", action="store_true", help="FILE is an override file (no version, sources optional)")
    p.set_defaults(func=_commands.cmd_validate)


def main(argv: list[str] | None = None) -> int:
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
