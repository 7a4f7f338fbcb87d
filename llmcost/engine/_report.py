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
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal

from llmcost.engine._aggregate import NONE, Engine
from llmcost.engine._alarms import AlarmConfig
from llmcost.engine._cells import pico_usd
from llmcost.engine._follow import Follower, Progress
from llmcost.engine._sketch import Sketch
from llmcost.engine._snapshot import AlarmEvent, IngestStats
from llmcost.log import Record, epoch
from pricing import format_decimal

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["REPORT_KEYS", "ReportRow", "alarm_history", "read_history", "report"]

ReportBy = Literal["agent", "model", "provider", "user", "session", "workflow", "day"]
REPORT_KEYS: tuple[ReportBy, ...] = ("agent", "model", "provider", "user", "session", "workflow", "day")
#: The groupings of the fast scan: the report's, and ``day_model`` (keys ``"YYYY-MM-DD\nmodel"``, the day alone for a
#: record without a model) for the monitor's history screen.
ScanBy = Literal["agent", "model", "provider", "user", "session", "workflow", "day", "day_model"]
SCAN_KEYS: tuple[ScanBy, ...] = (*REPORT_KEYS, "day_model")
DAY_MODEL_SEP = "\n"

_KEY_FIELDS: dict[str, tuple[str, ...]] = {  # the record fields each grouping reads
    "agent": ("agent",),
    "model": ("response_model", "request_model"),
    "provider": ("provider",),
    "user": ("user_id",),
    "session": ("session_id",),
    "workflow": ("workflow",),
    "day": (),
    "day_model": ("response_model", "request_model"),
}


def _key_of(by: str) -> Callable[[Any], str | None]:
    """The group key of a record (a full :class:`Record` or a slimmer struct with the same fields)."""
    if by == "model":
        return lambda r: r.response_model or r.request_model
    if by == "day":
        return lambda r: r.ts[:10]
    if by == "day_model":
        return _day_model
    return attrgetter(_KEY_FIELDS[by][0])


def _day_model(r: Any) -> str:
    day: str = r.ts[:10]
    model = r.response_model or r.request_model
    return day if model is None else day + DAY_MODEL_SEP + model


@dataclass(slots=True)
class ReportRow:
    """Totals of one group over the whole history read."""

    key: str
    calls: int = 0
    errors: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    pico: int = 0
    unpriced_calls: int = 0
    latency: Sketch = field(default_factory=Sketch)
    ttft: Sketch = field(default_factory=Sketch)

    @property
    def cost_usd(self) -> Decimal:
        return pico_usd(self.pico)

    @property
    def cost_per_1k_tokens(self) -> Decimal | None:
        tokens = self.input_tokens + self.output_tokens
        return None if not tokens else (self.cost_usd * 1000 / tokens).quantize(Decimal("1e-9"))

    def merge(self, other: ReportRow) -> None:
        """Add the totals of the same group read elsewhere (another byte range of the history)."""
        for name in _SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latency.merge(other.latency)
        self.ttft.merge(other.ttft)

    def as_dict(self) -> dict[str, object]:
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


_SUMS = (
    "calls",
    "errors",
    "retries",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "pico",
    "unpriced_calls",
)


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
            if lo is None and hi is None:
                yield batch
            else:
                yield [r for r in batch if _within(r.ts, lo, hi)]
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
    return _ranked(rows.rows.values())


class _Rows:
    """The rows of a report by group, and records added to them priced the way the engine prices them."""

    def __init__(self, by: str, catalog: Catalog | None, reprice: bool) -> None:
        self.key_of = _key_of(by)
        self.rows: dict[str | None, ReportRow] = {}
        self.reprice = reprice
        self.pricer = _Pricer(catalog)

    def row(self, key: str | None) -> ReportRow:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = ReportRow(NONE if key is None else key)
        return row

    def add_priced(self, records: Iterable[Record]) -> None:
        """Records one by one, at the cost on the line, else (or with ``reprice``) at the catalog's price."""
        rows, key_of, pricer, reprice = self.rows, self.key_of, self.pricer, self.reprice
        for r in records:
            key = key_of(r)
            row = rows.get(key)
            if row is None:
                row = rows[key] = ReportRow(NONE if key is None else key)
            cost = None if reprice else r.cost_usd
            pico = round(cost * 1e12) if cost is not None else pricer.pico(r)
            _add(row, r, pico)


def _ranked(rows: Iterable[ReportRow]) -> list[ReportRow]:
    """Highest cost first (then most calls, then by key)."""
    return sorted(rows, key=lambda row: (-row.pico, -row.calls, row.key))


def _add(row: ReportRow, r: Record, pico: int | None) -> None:
    row.calls += 1
    if r.status == "error":
        row.errors += 1
    if r.attempt:
        row.retries += 1
    row.input_tokens += r.input_tokens or 0
    row.output_tokens += r.output_tokens or 0
    row.cache_read_tokens += r.cache_read_input_tokens or 0
    row.cache_write_tokens += r.cache_creation_input_tokens or 0
    row.reasoning_tokens += r.reasoning_output_tokens or 0
    if pico is None:
        row.unpriced_calls += 1
    else:
        row.pico += pico
    if r.latency_ms is not None:
        row.latency.add(r.latency_ms)
    if r.ttft_ms is not None:
        row.ttft.add(r.ttft_ms)


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
