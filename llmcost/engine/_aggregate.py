"""The live aggregator: records in, snapshots out.

One cell per (agent, model, provider, workflow, host) combination, plus one cell per session and one per user: a
snapshot grouped by any of the seven folds the cells, so switching the grouping never re-reads anything. Hosts are
few (the machines of a fleet), so crossing them into the main cells multiplies it little. Sessions and users are
many and short-lived, so they live in their own least-recently-used tables whose overflow folds into ``(other)``;
crossing them into the main cells would multiply its size. Recent calls are kept in fixed rings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.engine._alarms import AlarmConfig, Alarms
from llmcost.engine._cells import SLICE_S, Cell
from llmcost.engine._groupings import GroupBy, key_of
from llmcost.engine._sketch import Sketch
from llmcost.engine._snapshot import AlarmEvent, BudgetStatus, GroupStats, IngestStats, Overall, Snapshot
from llmcost.engine._sums import pico_usd, ranked
from llmcost.log import Record, day_of, epoch

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["NONE", "OTHER", "Engine"]

NONE = "(none)"  # the group of records without a value for the dimension
OTHER = "(other)"  # sessions and users folded away to bound memory
_WINDOWS = (60, 300, 900)
_DIM = {"agent": 0, "model": 1, "provider": 2, "workflow": 3, "host": 4}
_SIDE = ("session", "user")
_RECENT = 50
_CellKey = tuple[str | None, str | None, str | None, str | None, str | None]


def _no_usage(r: Record) -> bool:
    """No tokens and no GPU time: nothing the catalog could price."""
    return r.input_tokens is None and r.output_tokens is None and r.gpu_seconds is None


def _no_usage_pico(r: Record) -> int | None:
    """Pico-dollars of a record without usage or cost.

    A request refused with an error (429, 500, ...) is not billed: it costs nothing, it is not "unpriced". A stream
    that failed or was cancelled after it started may have been billed for what it produced: unpriced.
    """
    return 0 if r.status == "error" and not r.stream else None


class Engine:
    """Aggregates records (from a :class:`Follower` or anywhere) and runs the alarm rules on them.

    ``clock`` gives the current time in epoch seconds (tests freeze it). Records are priced with ``catalog`` when they
    arrive without a cost (loaded lazily with ``pricing.load_catalog()``).
    """

    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        config: AlarmConfig | None = None,
        clock: Callable[[], float] = time.time,
        max_cells: int = 20_000,
        max_sessions: int = 20_000,
        percentile_window_s: int = 300,
    ) -> None:
        self._catalog = catalog
        self._clock = clock
        self.alarms = Alarms(config)
        self.max_cells = max_cells
        self.percentile_window_s = percentile_window_s
        self.follower: Any = None  # anything with stats() -> IngestStats, shown in snapshots
        self._cells: dict[_CellKey, Cell] = {}
        self.max_sessions = max_sessions
        self._side: dict[str, OrderedDict[str | None, Cell]] = {name: OrderedDict() for name in _SIDE}
        self._days: OrderedDict[int, dict[str, int]] = OrderedDict()  # day number -> model -> pico
        self._minutes: dict[int, int] = {}  # minute number -> pico (the sparkline)
        self._by_agent: OrderedDict[str | None, deque[Record]] = OrderedDict()
        self._recent: deque[Record] = deque(maxlen=2000)
        self._windows: dict[str | None, int | None] = {}  # model -> context window
        self._session = False
        self.records = 0
        self.invalid = 0
        self.session_pico = 0
        self.priced_here = 0
        self.unknown_models: dict[str, int] = {}

    # -- ingest ---------------------------------------------------------------------------------------------------

    def start_session(self) -> None:
        """From now on records count into the session total (call it when history replay is done)."""
        self._session = True

    def ingest(self, records: Iterable[Record]) -> list[AlarmEvent]:
        """Add records; returns the alarm episodes that were opened, escalated or ended by them."""
        horizon = self._clock() - _WINDOWS[-1] - SLICE_S
        cells = self._cells
        sessions, users = self._side["session"], self._side["user"]
        alarms = self.alarms
        for r in records:
            try:
                t = epoch(r.ts)
            except (ValueError, TypeError):
                self.invalid += 1
                continue
            model = r.response_model or r.request_model
            cost = r.cost_usd
            pico = round(cost * 1e12) if cost is not None else self._price(r, model)
            key = (r.agent, model, r.provider, r.workflow, r.host)
            cell = cells.get(key)
            if cell is None:
                cell = self._new_cell(key, t)
            _add(cell, r, t, pico)
            session = self._side_cell(sessions, r.session_id, t)
            _add(session, r, t, pico)
            user = self._side_cell(users, r.user_id, t)
            _add(user, r, t, pico)
            if pico is None:
                self._unknown(cell, r, model)
            elif pico:
                self._spend(model, t, pico)
            if t >= horizon:
                _add_recent(cell, r, t, pico)
                _add_recent(session, r, t, pico, False)
                _add_recent(user, r, t, pico, False)
            alarms.observe(r, t, pico, self._context_window(model) if r.session_id is not None else None)
            self._remember(r)
        return alarms.take_changes()

    def _new_cell(self, key: _CellKey, t: float) -> Cell:
        if len(self._cells) >= self.max_cells:
            self._evict()
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = Cell(t)
        return cell

    def _evict(self) -> None:
        """Fold the least recently active quarter of the cells into agent, workflow and host ``(other)`` (machines
        that come and go, as containers do, are many too)."""
        by_age = sorted(self._cells.items(), key=lambda kv: kv[1].last)
        for key, cell in by_age[: max(1, len(by_age) // 4)]:
            folded = (OTHER, key[1], key[2], OTHER, OTHER)
            if folded == key:
                continue
            del self._cells[key]
            target = self._cells.get(folded)
            if target is None:
                self._cells[folded] = cell
            else:
                target.merge(cell)

    def _side_cell(self, table: OrderedDict[str | None, Cell], name: str | None, t: float) -> Cell:
        """The cell of a session or user; past ``max_sessions`` the least recently seen folds into ``(other)``."""
        cell = table.get(name)
        if cell is not None:
            if cell.last < t:
                table.move_to_end(name)
            return cell
        cell = table[name] = Cell(t)
        if len(table) > self.max_sessions:
            old_name, old = table.popitem(last=False)
            if old_name == OTHER:  # keep the fold target itself
                table[OTHER] = old
                old_name, old = table.popitem(last=False)
            target = table.get(OTHER)
            if target is None:
                table[OTHER] = old
            else:
                target.merge(old)
        return cell

    def _price(self, r: Record, model: str | None) -> int | None:
        """Pico-dollars of a record that came without a cost; marks the record with what the catalog said."""
        if _no_usage(r):
            return _no_usage_pico(r)
        if model is None:
            return None
        from pricing import ImpossibleUsage, Usage

        usage = Usage.from_wire(
            r.input_tokens,
            r.output_tokens,
            r.cache_read_input_tokens,
            r.cache_creation_input_tokens,
            r.cache_creation_1h_input_tokens,
            r.reasoning_output_tokens,
            r.gpu_seconds,
            (
                r.web_search_requests,
                r.web_fetch_requests,
                r.file_search_calls,
                r.code_interpreter_sessions,
                r.grounded_prompts,
            ),
        )
        try:
            price = self.catalog.price(usage, model, r.provider, at=r.ts, tier=r.service_tier, batch=r.batch)
        except ImpossibleUsage:
            return None
        r.cost_status = price.status
        if price.cost_usd is None:
            return None
        r.cost_usd = float(price.cost_usd)
        r.price_ref = price.price_ref
        self.priced_here += 1
        return int(price.cost_usd.scaleb(12).to_integral_value())

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from pricing import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    def _context_window(self, model: str | None) -> int | None:
        if model in self._windows:
            return self._windows[model]
        window = None
        if model is not None:
            try:
                found = self.catalog.resolve(model)
            except Exception:  # a broken catalog must not stop the engine; context alarms just go quiet
                found = None
            window = found.context_window if found is not None else None
        if len(self._windows) > 4096:
            self._windows.clear()
        self._windows[model] = window
        return window

    def _unknown(self, cell: Cell, r: Record, model: str | None) -> None:
        """Keep the names of models the catalog does not know visible (bounded)."""
        if r.cost_status != "unknown_model":
            return
        name = model or NONE
        if cell.unknown is None:
            cell.unknown = set()
        if len(cell.unknown) < 20:
            cell.unknown.add(name)
        if name in self.unknown_models or len(self.unknown_models) < 1000:
            self.unknown_models[name] = self.unknown_models.get(name, 0) + 1

    def _spend(self, model: str | None, t: float, pico: int) -> None:
        day = int(t // 86400)
        models = self._days.get(day)
        if models is None:
            models = self._days[day] = {}
            if len(self._days) > 400:
                self._days.popitem(last=False)
        name = model or NONE
        models[name] = models.get(name, 0) + pico
        minute = int(t // 60)
        minutes = self._minutes
        if minute not in minutes and len(minutes) >= 60:
            for k in sorted(minutes)[: len(minutes) - 59]:
                del minutes[k]
        minutes[minute] = minutes.get(minute, 0) + pico
        if self._session:
            self.session_pico += pico

    def _remember(self, r: Record) -> None:
        self.records += 1
        self._recent.append(r)
        ring = self._by_agent.get(r.agent)
        if ring is None:
            ring = self._by_agent[r.agent] = deque(maxlen=_RECENT)
            if len(self._by_agent) > 2000:
                self._by_agent.popitem(last=False)
        ring.append(r)

    # -- views ----------------------------------------------------------------------------------------------------

    def snapshot(self, group_by: GroupBy = "agent", now: float | None = None, filter: str | None = None) -> Snapshot:
        """The state grouped by one dimension, rows sorted by cost (highest first); ``filter`` matches keys."""
        now = self._clock() if now is None else now
        self.alarms.expire(now)
        needle = filter.lower() if filter else None
        groups = self._fold(group_by)
        severity = self.alarms.active_severity() if group_by == "agent" else {}
        rows = ranked(
            _stats(key, cells, now, self.percentile_window_s, severity.get(None if key == NONE else key))
            for key, cells in groups.items()
            if needle is None or needle in key.lower()
        )
        ingest = self.follower.stats() if self.follower is not None else IngestStats(records=self.records)
        if self.invalid:
            ingest = _with_invalid(ingest, self.invalid)
        catalog = self._catalog.version if self._catalog is not None else ""
        return Snapshot(now, group_by, tuple(rows), self._totals(now), tuple(self.alarms.events()), ingest, catalog)

    def _fold(self, group_by: GroupBy, where: Callable[[_CellKey], bool] | None = None) -> dict[str, list[Cell]]:
        if group_by in _SIDE:
            return {NONE if k is None else k: [c] for k, c in self._side[group_by].items()}
        index = _DIM[group_by]
        groups: dict[str, list[Cell]] = {}
        for key, cell in self._cells.items():
            if where is not None and not where(key):
                continue
            name = key[index]
            groups.setdefault(NONE if name is None else name, []).append(cell)
        return groups

    def _totals(self, now: float) -> Overall:
        cells = list(self._cells.values())
        minute = int(now // 60)
        spark = tuple(pico_usd(self._minutes.get(m, 0)) for m in range(minute - 29, minute + 1))
        last_min = _window_sum(cells, now, 60)
        day = self._days.get(int(now // 86400), {})
        budgets = tuple(sorted(self.alarms.budgets(day_of(now).isoformat(), now), key=_urgency))
        return Overall(
            calls=sum(c.calls for c in cells),
            errors=sum(c.errors for c in cells),
            unpriced_calls=sum(c.unpriced_calls for c in cells),
            cost_today=pico_usd(sum(day.values())),
            cost_session=pico_usd(self.session_pico),
            cost_per_min=pico_usd(last_min[1]),
            projected_per_hour=pico_usd(last_min[1] * 60),
            calls_per_sec=last_min[0] / 60,
            spend_per_minute=spark,
            budgets=budgets,
        )

    def recent_calls(self, group_by: GroupBy, key: str, limit: int = 50) -> list[Record]:
        """The latest calls of one group, oldest first (agents keep their own ring; other groupings the global one)."""
        if group_by == "agent":
            ring = self._by_agent.get(None if key == NONE else key, deque())
            return list(ring)[-limit:]
        key_of_record = key_of(group_by)
        out = [r for r in self._recent if (key_of_record(r) or NONE) == key]
        return out[-limit:]

    def group_split(
        self, group_by: GroupBy, key: str, by: GroupBy = "model", now: float | None = None
    ) -> list[GroupStats]:
        """One group split by another dimension (the models of one agent, for the detail view).

        Sessions and users are kept apart from the other dimensions: splitting them, or splitting by them, gives the
        group's own row."""
        now = self._clock() if now is None else now
        if group_by in _SIDE or by in _SIDE:
            return [row for row in self.snapshot(group_by, now).rows if row.key == key]
        index = _DIM[group_by]
        want = None if key == NONE else key
        groups = self._fold(by, lambda k: k[index] == want)
        return ranked(_stats(name, cells, now, self.percentile_window_s, None) for name, cells in groups.items())

    def daily_costs(self, days: int = 30, now: float | None = None) -> dict[dt.date, dict[str, Decimal]]:
        """Spend per UTC day and model over the last ``days`` days (days without spend are left out)."""
        now = self._clock() if now is None else now
        first = int(now // 86400) - days + 1
        return {
            day_of(d * 86400.0): {m: pico_usd(p) for m, p in models.items()}
            for d, models in sorted(self._days.items())
            if d >= first
        }

    def alarms_for(self, agent: str | None) -> list[AlarmEvent]:
        """The alarm episodes of one agent, active first."""
        return self.alarms.events(agent)

    def tick(self, now: float | None = None) -> list[AlarmEvent]:
        """End the episodes whose quiet period is over at ``now`` (wall clock by default); returns the changes."""
        self.alarms.expire(self._clock() if now is None else now)
        return self.alarms.take_changes()


def _add(cell: Cell, r: Record, t: float, pico: int | None) -> None:
    cell.add(r, pico)
    if t > cell.last:
        cell.last = t
    elif t < cell.first:
        cell.first = t


def _add_recent(cell: Cell, r: Record, t: float, pico: int | None, sketches: bool = True) -> None:
    s = cell.slice_at(int(t // SLICE_S), sketches)
    s.calls += 1
    if pico:
        s.pico += pico
    if s.latency is not None and r.latency_ms is not None:
        s.latency.add(r.latency_ms)
    if s.ttft is not None and r.ttft_ms is not None:
        s.ttft.add(r.ttft_ms)


def _window_sum(cells: Iterable[Cell], now: float, span: int) -> tuple[int, int]:
    """(calls, pico) over the last ``span`` seconds, at slice granularity."""
    first = int((now - span) // SLICE_S) + 1
    last = int(now // SLICE_S)
    calls = pico = 0
    for cell in cells:
        for index, s in cell.slices.items():
            if first <= index <= last:
                calls += s.calls
                pico += s.pico
    return calls, pico


def _stats(key: str, cells: list[Cell], now: float, pct_window: int, alarm: Any) -> GroupStats:
    rates = [_window_sum(cells, now, span) for span in _WINDOWS]
    first = int((now - pct_window) // SLICE_S) + 1
    last = int(now // SLICE_S)
    latency, ttft = Sketch(), Sketch()
    unknown: set[str] = set()
    for cell in cells:
        for index, s in cell.slices.items():
            if first <= index <= last and s.latency is not None and s.ttft is not None:
                latency.merge(s.latency)
                ttft.merge(s.ttft)
        if cell.unknown:
            unknown |= cell.unknown
    row = GroupStats(
        key,
        unknown_models=tuple(sorted(unknown)),
        cost_per_min=tuple(pico_usd(p) * 60 / span for (_, p), span in zip(rates, _WINDOWS)),  # type: ignore[arg-type]
        calls_per_min=tuple(n * 60 / span for (n, _), span in zip(rates, _WINDOWS)),  # type: ignore[arg-type]
        ttft_ms=ttft.percentiles(),
        latency_ms=latency.percentiles(),
        first_seen=min(c.first for c in cells),
        last_seen=max(c.last for c in cells),
        alarm=alarm,
    )
    for cell in cells:
        row.merge(cell)
    return row


def _urgency(b: BudgetStatus) -> tuple[bool, float, float]:
    """Reached first, then the soonest to be reached, then the fullest."""
    return (not b.reached, b.eta if b.eta is not None else float("inf"), -b.fraction)


def _with_invalid(ingest: IngestStats, invalid: int) -> IngestStats:
    from dataclasses import replace

    malformed = dict(ingest.malformed)
    malformed["(bad timestamp)"] = invalid
    return replace(ingest, malformed=malformed)
