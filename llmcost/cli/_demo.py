"""``llmcost demo``: write sample traffic to the log directory."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from llmcost.demo import demo_traffic, write_demo

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
    parser.add_argument("--live", action="store_true", help="write in real time instead of all at once")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    if args.duration <= 0 or args.rate <= 0:
        print("llmcost demo: error: --duration and --rate must be positive", file=sys.stderr)
        return 2
    if args.dir is None:
        from llmcost.paths import log_dir

        args.dir = log_dir()
    if args.live:
        with demo_traffic(args.dir, rate=args.rate, seed=args.seed) as traffic, contextlib.suppress(KeyboardInterrupt):
            time.sleep(args.duration)
        count = traffic.written
    else:
        count = write_demo(args.dir, duration=args.duration, rate=args.rate, seed=args.seed)
    if args.json:
        import json

        print(json.dumps({"records": count, "directory": str(args.dir)}))
    else:
        print(f"wrote {count} demo records to {args.dir}")
    return 0
