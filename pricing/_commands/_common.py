"""What every command shares: the one-line error, JSON output, and reading the catalog, date and provider options."""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pricing import _load
from pricing._catalog import Catalog, load_catalog
from pricing._dates import parse_timestamp, utc_day
from pricing._format import format_decimal
from pricing._model import ImpossibleUsage, Modifier, Rates, RateTable, RateWindow

__all__ = [
    "BUCKET_LABELS",
    "PROG",
    "Fail",
    "catalog_of",
    "day_text",
    "error",
    "guarded",
    "modifier_dict",
    "print_json",
    "provider_of",
    "rates_dict",
    "span_text",
    "timestamp_of",
    "unknown_model_message",
    "window_dict",
]

PROG = "pricing"
#: How each exclusive bucket is named in tables.
BUCKET_LABELS = {
    "input": "input",
    "cache_read": "cache read",
    "cache_write_5m": "cache write 5m",
    "cache_write_1h": "cache write 1h",
    "output": "output",
    "reasoning": "reasoning",
    "request": "request fee",
    "gpu": "gpu time",
}


class Fail(Exception):
    """Stops a command with a one-line error and an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``command`` with :class:`Fail`, impossible usage and unusable catalogs turned into one-line errors."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Fail as exc:
            return error(str(exc), exc.code)
        except ImpossibleUsage as exc:
            return error(f"impossible usage: {exc}", 2)
        except _load.CatalogError as exc:
            return error(str(exc), 1)

    run.__doc__ = command.__doc__
    return run


def error(message: str, code: int = 1) -> int:
    """Print ``pricing: error: MESSAGE`` on stderr and return ``code``."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def print_json(data: Any) -> None:
    """Indented JSON on stdout; values JSON cannot hold (paths, dates) as text."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def catalog_of(args: argparse.Namespace) -> Catalog:
    """The catalog ``--catalog`` and ``--no-overrides`` ask for (the active one by default)."""
    path = getattr(args, "catalog", None)
    if path is not None and not Path(path).is_file():
        raise Fail(f"catalog file not found: {path}")
    return load_catalog(path, overrides=not getattr(args, "no_overrides", False))


def timestamp_of(args: argparse.Namespace) -> dt.datetime | None:
    """``--at`` as an aware UTC datetime, ``None`` (now) when it is not given."""
    text = getattr(args, "at", None)
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise Fail(f"--at: not an ISO-8601 date or time (YYYY-MM-DD[THH:MM[:SS]][Z]): {text!r}") from None


def provider_of(catalog: Catalog, args: argparse.Namespace) -> str | None:
    """``--provider`` as a provider id of the catalog; an unknown one is bad input."""
    name = getattr(args, "provider", None)
    if name is None:
        return None
    pid = catalog.provider_id(name)
    if pid is None:
        raise Fail(f"unknown provider {name!r} (known: {', '.join(sorted(catalog.providers))})")
    return pid


def unknown_model_message(catalog: Catalog, name: str) -> str:
    """``unknown model 'x' (did you mean: a, b?)`` with close matches over every declared name."""
    candidates = catalog.model_names()
    close = difflib.get_close_matches(name.strip().lower(), candidates, n=3, cutoff=0.6)
    if not close and "/" in name:
        close = difflib.get_close_matches(name.rpartition("/")[2].lower(), candidates, n=3, cutoff=0.6)
    hint = f" (did you mean: {', '.join(close)}?)" if close else " (see `pricing list`)"
    return f"unknown model {name!r}{hint}"


def day_text(at: dt.datetime | None) -> str:
    """The UTC day of ``at`` (today when ``None``), ``YYYY-MM-DD``."""
    return utc_day(at).isoformat()


def rates_dict(rates: Rates) -> dict[str, str]:
    """The rates under their catalog keys, as exact decimal text."""
    return {key: format_decimal(value) for key, value in rates.by_key().items()}


def window_dict(w: RateWindow) -> dict[str, Any]:
    """A rate window as JSON data: dates, provenance, rates, tiers, unit prices, tool fees, service tiers, batch."""
    return {
        "effective_from": w.effective_from.isoformat() if w.effective_from else None,
        "effective_until": w.effective_until.isoformat() if w.effective_until else None,
        "source": w.source,
        "checked": w.checked.isoformat() if w.checked else None,
        "rates": rates_dict(w.rates),
        "tiers": [{"above_input_tokens": t, "rates": rates_dict(r)} for t, r in w.tiers],
        "request_fee": format_decimal(w.request_fee),
        "gpu_hour": None if w.gpu_hour is None else format_decimal(w.gpu_hour),
        "tool_fees": {k: format_decimal(v) for k, v in w.tool_fees.items()},
        "service_tiers": {name: modifier_dict(m) for name, m in sorted(w.service_tiers.items())},
        "batch": None if w.batch is None else modifier_dict(w.batch),
    }


def modifier_dict(m: Modifier) -> Any:
    """A service tier's or batch's price as JSON data: a multiplier as text, rates as a table."""
    if not isinstance(m, RateTable):
        return {"multiplier": format_decimal(m)}
    return {
        "rates": rates_dict(m.rates),
        "tiers": None if m.tiers is None else [{"above_input_tokens": t, "rates": rates_dict(r)} for t, r in m.tiers],
        "source": m.source,
        "checked": m.checked.isoformat() if m.checked else None,
    }


def span_text(w: RateWindow) -> str:
    """When a window is in force: ``2024-08-06 .. 2025-06-10``, ``since 2024-08-06``, ``undated``."""
    start = w.effective_from.isoformat() if w.effective_from else None
    end = w.effective_until.isoformat() if w.effective_until else None
    if start and end:
        return f"{start} .. {end}"
    return f"since {start}" if start else (f"until {end}" if end else "undated")
