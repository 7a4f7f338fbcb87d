"""Timestamps of the wire format as epoch seconds, fast.

Records carry ``2026-01-31T12:00:00.123Z``. Parsing every one with ``datetime`` would cost more than decoding the
line, so the part up to the second is parsed once and cached (consecutive records share it), and the milliseconds
are added as a number. Other ISO-8601 spellings take the slow path.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["day_of", "epoch", "iso"]

_cache: dict[str, float] = {}
_CACHE_MAX = 4096


def _slow(ts: str) -> float:
    text = ts[:-1] + "+00:00" if ts.endswith(("Z", "z")) else ts
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def epoch(ts: str) -> float:
    """Epoch seconds of an ISO-8601 UTC timestamp; raises ``ValueError`` on garbage."""
    if len(ts) == 24 and ts[19] == "." and ts[23] == "Z":
        head = ts[:19]
        base = _cache.get(head)
        if base is None:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            base = _cache[head] = _slow(head + "Z")
        return base + int(ts[20:23]) / 1000
    return _slow(ts)


def iso(seconds: float) -> str:
    """``2026-01-31T12:00:00.123Z`` for epoch seconds (millisecond precision, as the recorder writes)."""
    ms = round(seconds * 1000)
    value = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def day_of(seconds: float) -> dt.date:
    """The UTC date of epoch seconds."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(seconds // 86400))
