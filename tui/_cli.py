"""The ``llmcost-top`` command line. ``main(argv)`` is what the entry point and the tests call.

``--once`` never imports Textual: it reads, prints and exits, so it fits cron jobs and CI steps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from typing import NoReturn

from llmcost.alerts import AlertConfig, AlertConfigError, load_alert_config
from llmcost.cli import UsageError, add_alarm_flags, add_dir_flag, alarm_config, os_error, resolve_paths
from llmcost.engine import Engine, Follower

__all__ = ["build_parser", "main"]

PROG = "llmcost-top"
MAX_SPEED = 10_000  # a day of traffic in under 9 s: faster is no replay
GROUPS = ("agent", "model", "provider", "session", "user", "workflow", "host")


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see `{PROG} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Live terminal monitor of LLM calls: cost per agent, TTFT, latency, runaway-loop alarms.",
        epilog="Keys: q quit, ? help, / filter, g group, s < > sort, r reverse, p pause, h history, Enter detail.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="log directories, files or globs (default: the log directory)"
    )
    add_dir_flag(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true", help="simulated agents in a temporary directory (try this first)")
    mode.add_argument("--replay", metavar="PATH", help="play a recorded log back in time order")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X", help="replay speed factor (default 1)")
    parser.add_argument("--since", metavar="DATE", help="read history from this UTC date (default: today)")
    parser.add_argument("--all", action="store_true", help="read all history at start-up")
    parser.add_argument("--group", choices=GROUPS, default="agent", help="first grouping (default: agent)")
    parser.add_argument("--once", action="store_true", help="print the current state once and exit")
    parser.add_argument("--json", action="store_true", help="with --once: print JSON")
    parser.add_argument("--bell", action="store_true", help="ring the terminal bell on a new alarm")
    parser.add_argument(
        "--otlp-listen",
        metavar="HOST:PORT",
        help="also receive OpenTelemetry traces (OTLP/HTTP) here, e.g. 127.0.0.1:4318 (needs llmcost-top[otel])",
    )
    parser.add_argument(
        "--no-alerts",
        action="store_true",
        help="send no alerts (the [alerts] webhooks, command and bell of the config)",
    )
    add_alarm_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.paths = [*args.paths, *args.more_dirs]
    try:
        _check(args)
        if args.once:
            return _once(args)
        return _interactive(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # for exit_with: the reader went away, nothing to say
        raise
    except OSError as exc:  # a log the system refuses to read (EIO, EACCES): one line, not a traceback
        print(f"{PROG}: error: {os_error(exc)}", file=sys.stderr)
        return 1


def _check(args: argparse.Namespace) -> None:
    if args.json and not args.once:
        raise UsageError("--json needs --once")
    if not (math.isfinite(args.speed) and 0 < args.speed <= MAX_SPEED):
        raise UsageError(f"--speed must be a number more than 0 and at most {MAX_SPEED:,}, not {args.speed:g}")
    if args.replay is not None and args.paths:
        raise UsageError("--replay takes one PATH; give no other paths")
    if args.since is not None and not _is_date(args.since):
        raise UsageError(f"--since: not a date: {args.since!r}")
    args.config = alarm_config(args)
    args.otlp = _otlp_listen(args)
    args.alerts = None if args.once or args.no_alerts else _alerts()


def _is_date(text: str) -> bool:
    """A UTC date (``2026-01-31``) or a date and time: the whole text, not only its first ten characters."""
    for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
        try:
            parse(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        return True
    return False


def _otlp_listen(args: argparse.Namespace) -> tuple[str, int] | None:
    if args.otlp_listen is None:
        return None
    if args.once or args.replay is not None or args.demo:
        raise UsageError("--otlp-listen goes with the live monitor (not --once, --replay or --demo)")
    try:
        from llmcost.integrations.otel import parse_listen
    except ImportError:
        raise UsageError("--otlp-listen needs OpenTelemetry: pip install 'llmcost-top[otel]'") from None
    try:
        return parse_listen(args.otlp_listen)
    except ValueError as exc:
        raise UsageError(f"--otlp-listen: {exc}") from None


def _alerts() -> AlertConfig:
    try:
        return load_alert_config()
    except AlertConfigError as exc:
        raise UsageError(str(exc)) from None


def _once(args: argparse.Namespace) -> int:
    from tui._once import run_once

    if args.demo:
        import tempfile

        from llmcost.demo import write_demo

        with tempfile.TemporaryDirectory(prefix="llmcost-demo-") as directory:
            write_demo(directory, duration=60.0, seed=2)
            follower = Follower([directory])
            return run_once(Engine(config=args.config), follower, args.group, as_json=args.json)
    paths = resolve_paths([args.replay] if args.replay else args.paths)
    follower = Follower(paths, since=args.since, all=args.all or args.replay is not None)
    return run_once(Engine(config=args.config), follower, args.group, as_json=args.json)


def _interactive(args: argparse.Namespace) -> int:
    if args.replay is not None:
        resolve_paths([args.replay])  # a trace to replay must exist; a live log directory may come later
    from tui._app import make_app  # Textual: ~150 ms of imports, only for the interactive screen

    try:
        app = make_app(
            args.paths,
            config=args.config,
            since=args.since,
            all=args.all,
            demo=args.demo,
            replay=args.replay,
            speed=args.speed,
            group_by=args.group,
            alerts=args.alerts,
            bell=args.bell,
            otlp_listen=args.otlp,
        )
    except OSError as exc:  # the OTLP port is taken, or not ours to bind
        print(f"{PROG}: error: cannot listen on {args.otlp_listen}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    app.run()
    return app.return_code or 0
