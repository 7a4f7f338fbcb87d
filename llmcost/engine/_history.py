"""The last 30 days of the logs (the monitor's history screen): spend per day and model, and the models side by side. No Textual.

The live engine keeps only what it read since start-up (today by default), so the history screen reads the
logs of the period itself, once, on a worker thread, with the fast scan of ``llmcost report`` grouped by day and
model: the days come from its rows, and the models from its rows added up per model. Records that came without a
cost are priced with the catalog, as the report prices them, and count in both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from llmcost.engine._aggregate import NONE
from llmcost.engine._groupings import DAY_MODEL_SEP
from llmcost.engine._report import ReportRow
from llmcost.engine._scan import report_files
from llmcost.engine._sums import ranked

__all__ = ["History", "history"]


@dataclass(frozen=True, slots=True)
class History:
    """``days`` oldest first, every day of the period (empty days included)."""

    days: tuple[tuple[dt.date, dict[str, Decimal]], ...]
    models: tuple[ReportRow, ...]

    @property
    def total(self) -> Decimal:
        return sum((sum(m.values(), Decimal(0)) for _, m in self.days), Decimal(0))


def history(paths: Sequence[str], now: float, days: int = 30) -> History:
    """Read the last ``days`` UTC days of ``paths`` (ending with the day of ``now``)."""
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    spend: dict[dt.date, dict[str, Decimal]] = {}
    models: dict[str, ReportRow] = {}
    scan = report_files(paths, "day_model", since=since, until=until)
    for row in scan.rows:
        if row is scan.other:  # more (day, model) pairs than a report keeps: the rest, in the table only
            models[row.key] = row
            continue
        day_text, sep, model = row.key.partition(DAY_MODEL_SEP)
        name = model if sep else NONE
        per_model = models.get(name)
        if per_model is None:
            per_model = models[name] = ReportRow(name)
        per_model.merge(row)
        if row.calls > row.unpriced_calls:  # a day with only unpriced calls of a model shows no bar for it
            day = dt.date.fromisoformat(day_text)  # the UTC day of a valid stamp
            per_day = spend.setdefault(day, {})
            per_day[name] = per_day.get(name, Decimal(0)) + row.cost_usd
    ordered = tuple((day, spend.get(day, {})) for day in (first + dt.timedelta(days=i) for i in range(days)))
    return History(ordered, tuple(ranked(models.values())))
