"""``llmcost demo``: write sample traffic to the log directory."""

from __future__ import annotations

import argparse
import contextlib
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from llmcost.cli._common import UsageError
from llmcost.demo import demo_traffic, write_demo, write_history

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``demo`` subcommand to the ``llmcost`` parser (sets ``func``)."""
    parser = sub.add_parser(
        "demo",
        help="write realistic sample traffic to the log directory",
        description="Write simulated LLM calls (several agents and models, one retry loop) through the recorder.",
    )
    parser.add_argument("--dir", type=Path, default=None, help="log directory (default: the shared log directory)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic to write (default 60)")
    parser.add_argument("--rate", type=float, default=3.0, help="mean calls per second (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same traffic)")
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="DAYS",
        help="first write this many days of past traffic, today's included (default 0: none; llmcost-top --demo "
        "writes 30 in its own directory); a day that already has a log file is left alone",
    )
    parser.add_argument("--live", action="store_true", help="write in real time instead of all at once")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=_run_demo)


MAX_DURATION_S = 86_400.0
MAX_RATE = 1_000.0
MAX_HISTORY_DAYS = 366
MAX_AT_ONCE = 1_000_000  # calls written without --live: more is minutes of writing, and gigabytes


def _run_demo(args: argparse.Namespace) -> int:
    _check(args)
    if args.dir is None:
        from llmcost.paths import log_dir

        args.dir = log_dir()
    # The recorder never raises: it drops what it cannot write, so the directory is checked here, once.
    try:
        args.dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"--dir: not a directory: {args.dir}") from None
    except OSError as exc:
        raise UsageError(f"--dir: cannot create {args.dir}: {exc.strerror or exc}") from None
    try:  # there but read-only (or on a read-only file system): without this, "wrote 215 demo records" of none
        with tempfile.TemporaryFile(dir=args.dir):
            pass
    except OSError as exc:
        raise UsageError(f"--dir: cannot write to {args.dir}: {exc.strerror or exc}") from None
    # The past first, up to where the demo's own traffic starts.
    past = write_history(args.dir, args.history, now=time.time() - (0 if args.live else args.duration), seed=args.seed)
    if args.live:
        with demo_traffic(args.dir, rate=args.rate, seed=args.seed) as traffic, contextlib.suppress(KeyboardInterrupt):
            time.sleep(args.duration)
        count = traffic.written
    else:
        count = write_demo(args.dir, duration=args.duration, rate=args.rate, seed=args.seed)
    if args.json:
        import json

        print(json.dumps({"records": count, "history_records": past, "directory": str(args.dir)}))
    else:
        days = "day" if args.history == 1 else f"{args.history} days"
        history = f" (and {past} over the past {days})" if past else ""
        print(f"wrote {count} demo records{history} to {args.dir}")
    return 0


def _check(args: argparse.Namespace) -> None:
    """Numbers a demo can be made of: finite, and small enough to finish."""
    if not (math.isfinite(args.duration) and 0 < args.duration <= MAX_DURATION_S):
        raise UsageError(
            f"--duration must be a number of seconds more than 0 and at most 86,400, not {args.duration:g}"
        )
    if not (math.isfinite(args.rate) and 0 < args.rate <= MAX_RATE):
        raise UsageError(
            f"--rate must be a number of calls per second more than 0 and at most 1,000, not {args.rate:g}"
        )
    if not 0 <= args.history <= MAX_HISTORY_DAYS:
        raise UsageError(f"--history must be a number of days from 0 to 366, not {args.history}")
    if not args.live and args.duration * args.rate > MAX_AT_ONCE:
        calls = args.duration * args.rate
        raise UsageError(
            f"--duration × --rate is {calls:,.0f} calls: at most 1,000,000 at once (--live writes them in real time)"
        )
