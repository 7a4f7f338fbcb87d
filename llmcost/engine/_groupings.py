"""The groupings, in one place: which record fields make the key of a group, for the live engine and the reports.

- ``GROUP_KEYS``: the attribution dimensions of a record, and the machine that recorded it (``host``). The live
  engine (``llmcost-top``) can regroup by any of them at any time, because it keeps cells that fold into each.
- ``REPORT_KEYS``: ``llmcost report --by``: the same dimensions plus ``day`` (the UTC day of the call).
- ``SCAN_KEYS``: what the fast scan behind the report can group by: the report's groupings plus ``day_model`` (keys
  ``"YYYY-MM-DD\\nmodel"``, the day alone for a record without a model), for the monitor's history screen.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter, itemgetter
from typing import Any, Literal

from llmcost.log import day_of, epoch

__all__ = [
    "DAY_MODEL_SEP",
    "GROUP_KEYS",
    "REPORT_KEYS",
    "SCAN_KEYS",
    "GroupBy",
    "ReportBy",
    "ScanBy",
    "day_key",
    "key_of",
    "keys_of",
]

GroupBy = Literal["agent", "model", "provider", "user", "session", "workflow", "host"]
GROUP_KEYS: tuple[GroupBy, ...] = ("agent", "model", "provider", "user", "session", "workflow", "host")
ReportBy = Literal[GroupBy, "day"]
REPORT_KEYS: tuple[ReportBy, ...] = (*GROUP_KEYS, "day")
ScanBy = Literal[ReportBy, "day_model"]
SCAN_KEYS: tuple[ScanBy, ...] = (*REPORT_KEYS, "day_model")
DAY_MODEL_SEP = "\n"

#: The record field holding the value of each plain dimension (``model`` is the model that answered, else the one
#: asked for; ``day`` comes from ``ts``).
FIELD: dict[str, str] = {
    "agent": "agent",
    "provider": "provider",
    "user": "user_id",
    "session": "session_id",
    "workflow": "workflow",
    "host": "host",
}
_TS = attrgetter("ts")
_DATE = itemgetter(slice(0, 10))
_RESPONSE_MODEL = attrgetter("response_model")
_REQUEST_MODEL = attrgetter("request_model")


def model_of(r: Any) -> str | None:
    """The model that answered, else the one asked for."""
    model: str | None = r.response_model or r.request_model
    return model


def day_key(ts: str) -> str:
    """The UTC day (``YYYY-MM-DD``) of a valid stamp: its first ten characters in the recorder's form, else computed
    (``2026-03-03T00:30:00+01:00`` is a call of 2026-03-02)."""
    if len(ts) == 24 and ts[23] == "Z":  # the only 24-character form with a zone: the recorder's, in UTC
        return ts[:10]
    return day_of(epoch(ts)).isoformat()


def _day(r: Any) -> str:
    return day_key(r.ts)


def _day_model(r: Any) -> str:
    day = day_key(r.ts)
    model = r.response_model or r.request_model
    return day if model is None else day + DAY_MODEL_SEP + model


def key_of(by: str) -> Callable[[Any], str | None]:
    """The group key of one record (a :class:`~llmcost.log.Record` or anything with its fields) for grouping ``by``."""
    if by == "model":
        return model_of
    if by == "day":
        return _day
    if by == "day_model":
        return _day_model
    return attrgetter(FIELD[by])


def keys_of(by: str, records: list[Any], canonical: bool) -> list[str | None]:
    """The keys of many records at once, at C speed where the grouping allows; ``canonical``: every ``ts`` is in the
    recorder's form (then a day is the first ten characters of it)."""
    if by in FIELD:
        return list(map(attrgetter(FIELD[by]), records))
    if by == "day" and canonical:
        return list(map(_DATE, map(_TS, records)))
    if by == "model":
        return [a or b for a, b in zip(map(_RESPONSE_MODEL, records), map(_REQUEST_MODEL, records))]
    if by == "day_model" and canonical:
        return [
            day if model is None else day + DAY_MODEL_SEP + model
            for day, model in zip(
                map(_DATE, map(_TS, records)),
                (a or b for a, b in zip(map(_RESPONSE_MODEL, records), map(_REQUEST_MODEL, records))),
            )
        ]
    return list(map(key_of(by), records))
