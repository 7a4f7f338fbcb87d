"""The ``llmcost`` command line: ``report``, ``alarms``, ``export``, ``demo``, ``alerts``, ``import`` and
``serve-otlp``, one module each.

Each subcommand sets ``func(args) -> int``. ``main(argv)`` is what tests call in-process; the entry point runs it
through :func:`exit_with` (a closed pipe or Ctrl-C ends it quietly). ``llmcost-top`` shares the PATH, period and
alarm flags and their checks (:func:`add_alarm_flags`, :func:`alarm_config`, :func:`resolve_paths`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from llmcost.cli import _alarms, _demo, _export, _import, _report, _serve_otlp
from llmcost.cli._common import (
    UsageError,
    alarm_config,
    exit_with,
    os_error,
    printable,
    resolve_paths,
    say_skipped,
)
from llmcost.engine import REPORT_KEYS

__all__ = [
    "UsageError",
    "add_alarm_flags",
    "add_dir_flag",
    "alarm_config",
    "build_parser",
    "exit_with",
    "main",
    "os_error",
    "printable",
    "resolve_paths",
    "say_skipped",
]

PROG = "llmcost"


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr (``llmcost: error: ...``) and exit code 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see `{self.prog} --help`)\n")


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="log directories, files or globs (default: the log directory)"
    )
    add_dir_flag(parser)


def add_dir_flag(parser: argparse.ArgumentParser) -> None:
    """``--dir DIR``, repeatable: one more PATH (the log directories of several machines read as one); shared with
    ``llmcost-top``. :func:`main` adds them to ``args.paths``."""
    parser.add_argument(
        "--dir",
        action="append",
        default=[],
        metavar="DIR",
        dest="more_dirs",
        help="a log directory to read, like a PATH (repeat it for the logs of several machines)",
    )


def _period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", metavar="WHEN", help="only calls at or after this UTC date or time (2026-01-31[T12:00])"
    )
    parser.add_argument("--until", metavar="WHEN", help="only calls before this UTC date or time")


def _report_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "report",
        help="totals per agent, model, provider, user, session, workflow, host or day",
        description="Totals over the logs: calls, tokens by bucket, cost, cost per 1k tokens, latency and TTFT percentiles, errors.",
    )
    _paths(p)
    p.add_argument("--by", choices=REPORT_KEYS, default="agent", help="grouping (default: agent)")
    _period(p)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON array")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--reprice", action="store_true", help="price every call again with the rates in force on its date")
    p.set_defaults(func=_report.run_report)


def _alarms_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "alarms",
        help="runaway-loop alarm episodes in the logs",
        description="Run the alarm rules over the logs and list the episodes.",
    )
    _paths(p)
    _period(p)
    p.add_argument("--json", action="store_true", help="print a JSON array")
    add_alarm_flags(p)
    p.set_defaults(func=_alarms.run_alarms)


def add_alarm_flags(parser: argparse.ArgumentParser) -> None:
    """``--budget USD`` and ``--set NAME=VALUE`` (any :class:`AlarmConfig` threshold); shared with ``llmcost-top``."""
    parser.add_argument("--budget", type=float, metavar="USD", help="daily budget (alarm at 80 %% and 100 %%)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="alarm_settings",
        help="override an alarm threshold, e.g. --set burst_calls=30",
    )


def _export_parser(sub: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="the calls as CSV, SQLite or OpenTelemetry spans",
        description="Export every call to a CSV file, a SQLite database (table calls, indexed by time, model, agent "
        "and user) or, as OpenTelemetry GenAI spans, to an OTLP/HTTP collector (needs llmcost-top[otel]).",
    )
    _paths(p)
    _period(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--csv", metavar="FILE", help="write a CSV file (- for standard output)")
    target.add_argument("--sqlite", metavar="FILE", help="write (or add to) a SQLite database")
    target.add_argument(
        "--otlp", metavar="URL", help="send spans to this OTLP/HTTP collector (http://host:4318 or its /v1/traces URL)"
    )
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --otlp: an HTTP header for the collector (repeatable; OTEL_EXPORTER_OTLP_HEADERS is read too)",
    )
    p.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="with --otlp: time allowed per request, retries included"
    )
    p.set_defaults(func=_export.run_export)
    return p


def _alerts_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """``llmcost alerts``; the alerts package is imported only when the command runs (not on every ``llmcost``)."""
    parser = sub.add_parser(
        "alerts",
        help="where alarm alerts go ([alerts] in the config file); --test sends one",
        description="Check the [alerts] table of the config file and list its destinations. llmcost-top sends an "
        "alert there when an alarm episode opens, escalates or ends.",
    )
    parser.add_argument(
        "--test", action="store_true", help="send a sample alert to every destination; exit 1 if one fails"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="with --test: how long to wait (default 30)"
    )
    parser.set_defaults(func=_run_alerts)


def _run_alerts(args: argparse.Namespace) -> int:
    from llmcost.cli._alerts import run_alerts  # the alerts package, only when the command runs

    return run_alerts(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="Record, price and watch every LLM call: reports, alarms and exports over the logs."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _report_parser(sub)
    _alarms_parser(sub)
    _export_parser(sub)
    _demo.register(sub)
    _alerts_parser(sub)
    _import.register(sub)
    _serve_otlp.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    if getattr(args, "more_dirs", None):
        args.paths = [*args.paths, *args.more_dirs]
    try:
        return int(func(args))
    except UsageError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # for exit_with: the reader went away, nothing to say
        raise
    except OSError as exc:  # the system refused a read or a write the checks could not foresee (EIO, EACCES)
        print(f"{PROG} {args.command}: error: {os_error(exc)}", file=sys.stderr)
        return 1
