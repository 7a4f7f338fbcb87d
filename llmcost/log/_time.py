"""Timestamps of the wire format as epoch seconds, fast, and the rule of which timestamps exist.

Records carry ``2026-01-31T12:00:00.123Z`` (the recorder's form). Other writers may use another ISO-8601 extended
form: ``YYYY-MM-DDTHH:MM:SS``, then optionally 3 or 6 fraction digits, then optionally ``Z`` or ``±HH:MM`` (no zone
means UTC). Anything else, a time that does not exist (hour 25, February 30) and a time outside 1970-01-01 to
9999-12-30 (the range every date function of every platform handles, with a day to spare for windows and periods)
is not a time: :func:`epoch` raises ``ValueError``. The form is spelled out here rather than left to
``datetime.fromisoformat``, whose rules differ between Python versions, so every reader on every version agrees.

Parsing every stamp with ``datetime`` would cost more than decoding the line, so the part up to the second is parsed
once and cached (consecutive records share it), and the milliseconds are added as a number. :func:`canonical` checks
a whole batch of stamps at once with one regular expression.
"""

from __future__ import annotations

import datetime as dt
import re
from operator import itemgetter

__all__ = ["canonical", "day_of", "epoch", "iso", "times_exist"]

_cache: dict[str, float] = {}
_CACHE_MAX = 4096
_MILLIS = {f"{ms:03d}": ms / 1000 for ms in range(1000)}
_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}(?:\d{3})?)?(?:[Zz]|[+-]\d\d:\d\d)?", re.ASCII)
_FIRST = 0.0  # 1970-01-01T00:00:00Z
_END = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc).timestamp()  # exclusive
# The recorder's form with every digit made 0, for a whole block of stamps at once (``str.translate``).
_ZERO_DIGITS = str.maketrans("123456789", "000000000")
_SHAPE = "0000-00-00T00:00:00.000Z"
_SHAPES = _SHAPE * 4096
_DATE = itemgetter(slice(0, 10))
_dates: set[str] = set()  # dates of canonical stamps already found to exist and be in range


def _slow(ts: str) -> float:
    if _FORM.fullmatch(ts) is None:
        raise ValueError(f"not an ISO-8601 time: {ts[:40]!r}")
    text = ts[:-1] + "+00:00" if ts[-1] in "Zz" else ts
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    seconds = value.timestamp()
    if not _FIRST <= seconds < _END:
        raise ValueError(f"time out of range: {ts[:40]!r}")
    return seconds


def epoch(ts: str) -> float:
    """Epoch seconds of an ISO-8601 UTC timestamp; raises ``ValueError`` for anything that is not one (see above)."""
    if len(ts) == 24 and ts[19] == "." and ts[23] == "Z":
        head = ts[:19]
        base = _cache.get(head)
        if base is None:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            base = _cache[head] = _slow(head + "Z")
        fraction = _MILLIS.get(ts[20:23])  # (int() would take "-12", "1_2" or digits of other scripts)
        if fraction is None:
            raise ValueError(f"not an ISO-8601 time: {ts!r}")
        return base + fraction
    return _slow(ts)


def canonical(stamps: list[str]) -> bool:
    """Whether every stamp is in the recorder's form and exists (so :func:`epoch` takes each); ``False`` says
    nothing about a single stamp. Many times faster than calling :func:`epoch` on each: the stamps are joined, their
    shape checked in one pass (digits made 0), and the ranges of a character position for all of them at once
    (``text[position::24]``)."""
    n = len(stamps)
    if not n:
        return True
    if list(map(len, stamps)).count(24) != n:  # else the positions of the joined text would not line up
        return False
    text = "".join(stamps)
    shape = text.translate(_ZERO_DIGITS)  # separators where they belong, ASCII digits everywhere else
    if shape != (_SHAPES[: len(text)] if n <= 4096 else _SHAPE * n):
        return False
    if max(text[14::24]) > "5" or max(text[17::24]) > "5" or max(text[11::24]) > "2":  # minutes, seconds, hours
        return False
    if "2" in text[11::24] and any(tens == "2" and units > "3" for tens, units in set(zip(text[11::24], text[12::24]))):
        return False  # hour 24 to 29
    first = stamps[0][:10]
    if all(text[at::24].count(first[at]) == n for at in range(10)):  # one date (the usual block)
        return _date_exists(first)
    dates = set(map(_DATE, stamps))
    return dates <= _dates or all(map(_date_exists, dates))


def _date_exists(date: str) -> bool:
    if date in _dates:
        return True
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        return False
    if not "1970-01-01" <= date < "9999-12-31":
        return False
    if len(_dates) >= _CACHE_MAX:
        _dates.clear()
    _dates.add(date)
    return True


def times_exist(stamps: list[str]) -> bool:
    """Whether :func:`epoch` takes every stamp (in any allowed form)."""
    if canonical(stamps):
        return True
    try:
        for ts in stamps:
            epoch(ts)
    except (ValueError, TypeError):
        return False
    return True


def iso(seconds: float) -> str:
    """``2026-01-31T12:00:00.123Z`` for epoch seconds (millisecond precision, as the recorder writes)."""
    ms = round(seconds * 1000)
    value = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def day_of(seconds: float) -> dt.date:
    """The UTC date of epoch seconds."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(seconds // 86400))
