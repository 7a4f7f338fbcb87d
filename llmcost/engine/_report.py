"""Reports over history: totals per group, the alarm episodes of a trace.

``report()`` is a lean one-pass aggregation (one group per record, full-history percentile sketches), separate from
the live :class:`Engine`, whose cells and windows a one-shot report does not need. ``alarm_history()`` runs the
live engine's rules over the files in time order.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmcost.engine._aggregate import NONE, OTHER, Engine
from llmcost.engine._alarms import AlarmConfig
from llmcost.engine._follow import Follower, Progress
from llmcost.engine._groupings import ReportBy, key_of
from llmcost.engine._sketch import Sketch
from llmcost.engine._snapshot import AlarmEvent, IngestStats
from llmcost.engine._sums import Sums, ranked
from llmcost.log import Record, epoch
from pricing import format_decimal

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["ReportRow", "alarm_history", "read_history", "report", "report_total"]


@dataclass(slots=True)
class ReportRow(Sums):
    """Totals of one group over the whole history read (the counters of :class:`Sums`), with percentile sketches of
    latency and time to first token."""

    key: str
    latency: Sketch = field(default_factory=Sketch)
    ttft: Sketch = field(default_factory=Sketch)

    def add_timings(self, r: Any) -> None:
        """Count a call's latency and time to first token into the sketches."""
        if r.latency_ms is not None:
            self.latency.add(r.latency_ms)
        if r.ttft_ms is not None:
            self.ttft.add(r.ttft_ms)

    def merge(self, other: Sums) -> None:
        """Add the totals of the same group read elsewhere (another byte range of the history)."""
        Sums.merge(self, other)
        if isinstance(other, ReportRow):
            self.latency.merge(other.latency)
            self.ttft.merge(other.ttft)

    def as_dict(self) -> dict[str, object]:
        """The row as ``llmcost report --json`` prints it (money as exact decimal strings)."""
        lat, ttft = self.latency.percentiles(), self.ttft.percentiles()
        per_1k = self.cost_per_1k_tokens
        return {
            "key": self.key,
            "calls": self.calls,
            "errors": self.errors,
            "retries": self.retries,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_usd": format_decimal(self.cost_usd),
            "cost_per_1k_tokens": None if per_1k is None else format_decimal(per_1k),
            "unpriced_calls": self.unpriced_calls,
            "latency_p50_ms": _ms(lat.p50),
            "latency_p95_ms": _ms(lat.p95),
            "latency_p99_ms": _ms(lat.p99),
            "ttft_p50_ms": _ms(ttft.p50),
            "ttft_p95_ms": _ms(ttft.p95),
            "ttft_p99_ms": _ms(ttft.p99),
        }


def report_total(rows: Iterable[ReportRow], key: str = "total") -> ReportRow:
    """All the rows added up: their counters summed and their sketches merged, so the total's percentiles are the
    ones a report with a single group would give."""
    total = ReportRow(key)
    for row in rows:
        total.merge(row)
    return total


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def read_history(
    paths: Iterable[str | os.PathLike[str]],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    progress: Progress | None = None,
    batch_lines: int = 50_000,
    on_stats: Callable[[IngestStats], object] | None = None,
) -> Iterator[list[Record]]:
    """Batches of the records in the files, restricted to ``since <= ts < until`` (UTC datetimes). ``on_stats``
    receives the reading's counts (malformed lines per file, duplicates) once the last batch is out."""
    lo = since.timestamp() if since else None
    hi = until.timestamp() if until else None
    with Follower(paths, since=since.date() if since else None, all=since is None) as follower:
        for batch in follower.replay(batch_lines=batch_lines, progress=progress):
            follower.require_readable()
            if lo is None and hi is None:
                yield batch
            else:
                yield [r for r in batch if _within(r.ts, lo, hi)]
        follower.require_readable()
        if on_stats is not None:
            on_stats(follower.stats())


def _within(ts: str, lo: float | None, hi: float | None) -> bool:
    """Whether a record stamped ``ts`` falls in ``lo <= t < hi`` (an unreadable stamp never does)."""
    try:
        t = epoch(ts)
    except ValueError:
        return False
    return (lo is None or t >= lo) and (hi is None or t < hi)


def report(
    batches: Iterable[list[Record]], by: ReportBy = "agent", *, catalog: Catalog | None = None, reprice: bool = False
) -> list[ReportRow]:
    """Totals per group, highest cost first. ``reprice`` prices every record again at its own date."""
    rows = _Rows(by, catalog, reprice)
    for batch in batches:
        rows.add_priced(batch)
    return ranked(rows.rows.values())


class _Rows:
    """The rows of a report by group, and records added to them priced the way the engine prices them.

    ``fold``: the keys that keep a row of their own; any other adds into the row keyed ``folded_key`` (``(other)``).
    """

    def __init__(
        self,
        by: str,
        catalog: Catalog | None,
        reprice: bool,
        *,
        fold: frozenset[Any] | None = None,
        folded_key: Any = None,
    ) -> None:
        self.key_of = key_of(by)
        self.rows: dict[Any, ReportRow] = {}
        self.reprice = reprice
        self.pricer = _Pricer(catalog)
        self.fold = fold
        self.folded_key = folded_key
        self.sketches = True  # False once dropped to bound memory: the rows then share one empty sketch, never filled
        self._none = Sketch()

    def row(self, key: Any) -> ReportRow:
        row = self.rows.get(key)
        if row is None:
            name = NONE if key is None else OTHER if key == self.folded_key else key
            row = ReportRow(name) if self.sketches else ReportRow(name, self._none, self._none)
            self.rows[key] = row
        return row

    def drop_sketches(self) -> None:
        """Keep the exact totals of every row, and no percentile sketch any more (rows so stripped are for ranking
        only: they are never merged or shown)."""
        self.sketches = False
        for row in self.rows.values():
            row.latency = row.ttft = self._none

    def add_priced(self, records: Iterable[Record]) -> None:
        """Records one by one, at the cost on the line, else (or with ``reprice``) at the catalog's price."""
        rows, key_of, pricer, reprice, fold, sketches = (
            self.rows,
            self.key_of,
            self.pricer,
            self.reprice,
            self.fold,
            self.sketches,
        )
        for r in records:
            key = key_of(r)
            if fold is not None and key not in fold:
                key = self.folded_key
            row = rows.get(key)
            if row is None:
                row = self.row(key)
                sketches = self.sketches  # a subclass may drop them past a number of rows
            cost = None if reprice else r.cost_usd
            row.add(r, round(cost * 1e12) if cost is not None else pricer.pico(r))
            if sketches:
                row.add_timings(r)


class _Pricer:
    """Prices records with the catalog (loaded on first use), the way the engine does."""

    def __init__(self, catalog: Catalog | None) -> None:
        self._engine: Engine | None = None
        self._catalog = catalog

    def pico(self, r: Record) -> int | None:
        if self._engine is None:
            self._engine = Engine(catalog=self._catalog)
        return self._engine._price(r, r.response_model or r.request_model)


def alarm_history(
    batches: Iterable[list[Record]],
    *,
    config: AlarmConfig | None = None,
    catalog: Catalog | None = None,
    now: float | None = None,
) -> list[AlarmEvent]:
    """Every alarm episode of a trace, oldest first; episodes quiet at ``now`` (default: the trace's end) are ended."""
    # An infinite clock puts every record outside the live windows: only totals and alarm rules do any work.
    engine = Engine(catalog=catalog, config=config, clock=lambda: float("inf"))
    for batch in batches:
        engine.ingest(batch)
    engine.tick(now if now is not None else engine.alarms.latest)
    events = engine.alarms.events()
    return sorted(events, key=lambda e: (e.detected_at, e.id))
