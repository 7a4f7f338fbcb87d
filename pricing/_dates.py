"""Timestamps: reading ISO-8601 text, and the UTC day that selects a rate window."""

from __future__ import annotations

import datetime as dt
import time

__all__ = ["EPOCH", "EPOCH_ORDINAL", "parse_timestamp", "utc_day"]

EPOCH = dt.date(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()


def parse_timestamp(text: str) -> dt.datetime:
    """ISO-8601 (``Z`` accepted, date only accepted) to an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO-8601 date or time: {text!r}") from None
    return parsed.replace(tzinfo=dt.timezone.utc) if parsed.tzinfo is None else parsed.astimezone(dt.timezone.utc)


def utc_day(at: object) -> dt.date:
    """UTC day of a timestamp given as datetime, date, ISO string or epoch seconds; ``None`` is now."""
    if at is None:
        return dt.datetime.fromtimestamp(time.time(), dt.timezone.utc).date()
    if isinstance(at, dt.datetime):
        return at.astimezone(dt.timezone.utc).date() if at.tzinfo else at.date()
    if isinstance(at, dt.date):
        return at
    if isinstance(at, str):
        return parse_timestamp(at).date()
    if isinstance(at, (int, float)):
        return dt.datetime.fromtimestamp(at, dt.timezone.utc).date()
    raise TypeError(f"cannot read a timestamp from {at!r}")
