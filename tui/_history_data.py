"""The last 30 days for the history screen: spend per day and model, and the models side by side. No Textual.

The live engine keeps only what it read since start-up (today by default), so the history screen reads the
logs of the period itself, once, on a worker thread; ``report()`` prices records that came without a cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from llmcost._record import Record
from llmcost.engine._report import ReportRow, read_history, report

__all__ = ["History", "gather"]


@dataclass(frozen=True, slots=True)
class History:
    """``days`` oldest first, every day of the period (empty days included)."""

    days: tuple[tuple[dt.date, dict[str, Decimal]], ...]
    models: tuple[ReportRow, ...]

    @property
    def total(self) -> Decimal:
        return sum((sum(m.values(), Decimal(0)) for _, m in self.days), Decimal(0))


def gather(paths: Sequence[str], now: float, days: int = 30) -> History:
    """Read the last ``days`` UTC days of ``paths`` (ending with the day of ``now``)."""
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    spend: dict[dt.date, dict[str, Decimal]] = {}
    batches = read_history(paths, since=since, until=until)
    models = report(_tally(batches, spend), by="model")
    ordered = tuple((day, spend.get(day, {})) for day in (first + dt.timedelta(days=i) for i in range(days)))
    return History(ordered, tuple(models))


def _tally(batches: Iterable[list[Record]], spend: dict[dt.date, dict[str, Decimal]]) -> Iterator[list[Record]]:
    """Pass the batches on to ``report()`` and count each one after it (by then ``report`` has priced it)."""
    for batch in batches:
        yield batch
        for r in batch:
            if r.cost_usd is None:
                continue
            day = dt.date.fromisoformat(r.ts[:10])
            model = r.response_model or r.request_model or "(none)"
            per_model = spend.setdefault(day, {})
            per_model[model] = per_model.get(model, Decimal(0)) + Decimal(str(r.cost_usd))
