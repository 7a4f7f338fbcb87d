"""What the benchmarks share: the command line of a sized run, and how latencies are summed up."""

from __future__ import annotations

import argparse
import statistics
from typing import TypeVar

_N = TypeVar("_N", int, float)


def size_parser(doc: str | None, option: str, default: float, quick: str) -> argparse.ArgumentParser:
    """A command line with the size of the run (``--<option>``, ``default``) and ``--quick`` (``quick`` says what it
    runs instead); add the benchmark's own options to it."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument(f"--{option}", type=type(default), default=default)
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (seconds), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def latency_summary(values: list[float]) -> str:
    """p50, p99, max and mean of ``values`` (seconds), in milliseconds."""
    return (
        f"p50 {pct(values, 0.5):6.1f} ms  p99 {pct(values, 0.99):6.1f} ms  max {max(values) * 1000:6.1f} ms  "
        f"mean {statistics.fmean(values) * 1000:6.1f} ms"
    )
