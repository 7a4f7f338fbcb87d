"""Argument types and the options several commands share (token counts, provider, date, JSON)."""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = ["add_lookup_options", "add_usage_options", "date", "positive_seconds", "seconds", "token_count"]


def token_count(text: str) -> int:
    """A non-negative token count; ``1_000`` and ``1,000`` are accepted."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a token count: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative: {text!r}")
    return value


def _number_of_seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds."""
    value = _number_of_seconds(text)
    if not value >= 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"cannot be negative: {text!r}")
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a finite number of seconds: {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A finite number of seconds above zero (a time limit)."""
    value = _number_of_seconds(text)
    if not 0 < value < float("inf"):  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be a number of seconds above zero: {text!r}")
    return value


def date(text: str) -> dt.date:
    """A calendar date, ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_lookup_options(p: argparse.ArgumentParser, *, at: bool = True, json: bool = True) -> None:
    """``--provider``, ``--at`` (unless ``at`` is off) and ``--json`` (unless ``json`` is off)."""
    p.add_argument("--provider", metavar="P", help="provider id (openai, anthropic, bedrock, ollama, ...)")
    if at:
        p.add_argument("--at", metavar="DATE", help="price on this date or time, ISO-8601 UTC (default: now)")
    if json:
        p.add_argument("--json", action="store_true", help="print JSON")


def add_usage_options(p: argparse.ArgumentParser, *, cache_writes: bool) -> None:
    """The token counts of one call; ``cache_writes`` adds ``--cache-write`` and ``--cache-write-1h``."""
    p.add_argument("--input", type=token_count, required=True, metavar="N", help="input tokens, cached ones included")
    p.add_argument("--output", type=token_count, required=True, metavar="N", help="output tokens, reasoning included")
    p.add_argument("--cache-read", type=token_count, default=0, metavar="N", help="input tokens read from the cache")
    if cache_writes:
        p.add_argument("--cache-write", type=token_count, default=0, metavar="N", help="input tokens written (5 min)")
        p.add_argument(
            "--cache-write-1h", type=token_count, default=0, metavar="N", help="input tokens written (1 hour)"
        )
    p.add_argument("--reasoning", type=token_count, default=0, metavar="N", help="output tokens spent on reasoning")
