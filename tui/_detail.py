"""Detail of one group (Enter on a row): recent calls, split per model, percentiles, its alarms."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from llmcost.engine import GroupBy, GroupStats, Percentiles
from llmcost.log import Record
from tui._events import alarm_cells
from tui._format import clock_time, millis, tokens, usd
from tui._header import budget_bar
from tui._keys import SCREEN_KEYS
from tui._table import Cell, KeyedTable

if TYPE_CHECKING:
    from tui._source import Detail, Feed

__all__ = ["DetailScreen"]

_SPLIT = (
    ("model", "model"),
    ("calls", "calls"),
    ("input", "input"),
    ("output", "output"),
    ("cost", "cost"),
    ("share", "share"),
    ("lat95", "lat p95"),
    ("errors", "err"),
)
_CALLS = (
    ("time", "time"),
    ("model", "model"),
    ("input", "input"),
    ("output", "output"),
    ("cached", "cached"),
    ("cost", "cost"),
    ("ttft", "TTFT"),
    ("latency", "latency"),
    ("status", "status"),
)
_ALARMS = (
    ("sev", "sev"),
    ("kind", "alarm"),
    ("agent", "agent"),
    ("started", "started"),
    ("for", "for"),
    ("peak", "peak"),
    ("message", "what"),
)


def _num(text: str) -> Text:
    return Text(text, justify="right")


def _pct(name: str, p: Percentiles) -> Text:
    return Text.assemble((f"{name} ", "dim"), f"p50 {millis(p.p50)}  p95 {millis(p.p95)}  p99 {millis(p.p99)}")


class DetailScreen(Screen[None]):
    """Everything about one agent (or model, provider, ...); refreshed once a second unless paused."""

    BINDINGS = SCREEN_KEYS

    def __init__(self, feed: Feed, group_by: GroupBy, key: str) -> None:
        super().__init__()
        self.feed, self.group_by, self.key = feed, group_by, key

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="detail-pct")
        yield Static(id="detail-budgets")
        yield Static(Text("per model", style="bold"), classes="section")
        yield KeyedTable(_SPLIT, id="split")
        yield Static(Text("recent calls, newest first", style="bold"), classes="section")
        yield KeyedTable(_CALLS, id="calls")
        yield Static(Text("alarms", style="bold"), classes="section")
        yield KeyedTable(_ALARMS, id="detail-alarms")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if not getattr(self.app, "paused", False):
            self.action_refresh()

    def action_refresh(self) -> None:
        detail = self.feed.detail(self.group_by, self.key)
        self._title(detail)
        self._budgets(detail)
        self.query_one("#split", KeyedTable).sync(_split_rows(detail.models))
        self.query_one("#calls", KeyedTable).sync([(r.id, _call_cells(r)) for r in detail.calls])
        now = self.feed.now()
        self.query_one("#detail-alarms", KeyedTable).sync([(a.id, alarm_cells(a, now)) for a in detail.alarms])

    def _title(self, detail: Detail) -> None:
        row = detail.row
        head = Text.assemble((f"{self.group_by} ", "dim"), (self.key, "bold"))
        if row is None:
            self.query_one("#detail-title", Static).update(head + Text("  (no calls)", style="dim"))
            return
        head.append(f"   {row.calls:,} calls · {usd(row.cost_usd)} · {row.errors} errors · {row.retries} retries")
        if row.unknown_models:
            head.append(f" · unpriced: {', '.join(row.unknown_models)}", style="bold yellow")
        self.query_one("#detail-title", Static).update(head)
        pct = Text("   ").join([_pct("TTFT", row.ttft_ms), _pct("latency", row.latency_ms)])
        self.query_one("#detail-pct", Static).update(pct + Text("  (last 5 min)", style="dim"))

    def _budgets(self, detail: Detail) -> None:
        """The day budget and the group's own, each with its burn rate and when it is reached at that rate."""
        budgets = self.query_one("#detail-budgets", Static)
        budgets.display = bool(detail.budgets)
        lines = []
        for b in detail.budgets:
            line = budget_bar(b, detail.at, 20)
            if b.usd_per_min and not b.reached:
                line.append(f" at {usd(b.usd_per_min)}/min", style="dim")
            lines.append(line)
        budgets.update(Text("\n").join(lines))


def _split_rows(models: tuple[GroupStats, ...]) -> list[tuple[str, list[Cell]]]:
    total = sum((m.cost_usd for m in models), Decimal(0))
    rows: list[tuple[str, list[Cell]]] = []
    for m in models:
        share = f"{m.cost_usd / total * 100:.0f}%" if total else "–"
        cells: list[Cell] = [
            m.key,
            _num(f"{m.calls:,}"),
            _num(tokens(m.input_tokens)),
            _num(tokens(m.output_tokens)),
            _num(usd(m.cost_usd)),
            _num(share),
            _num(millis(m.latency_ms.p95)),
            _num(str(m.errors)),
        ]
        rows.append((m.key, cells))
    return rows


def _call_cells(r: Record) -> list[Cell]:
    status = Text(
        r.status if r.status != "error" else f"error {r.error_type or ''}".strip(),
        style="red" if r.status == "error" else "",
    )
    if r.attempt:
        status.append(f" try {r.attempt}", style="yellow")
    cost = usd(Decimal(str(r.cost_usd))) if r.cost_usd is not None else Text(r.cost_status, style="yellow")
    return [
        clock_time(r.ts),
        r.response_model or r.request_model or "?",
        _num(tokens(r.input_tokens or 0)),
        _num(tokens(r.output_tokens or 0)),
        _num(tokens(r.cache_read_input_tokens or 0)),
        cost if isinstance(cost, Text) else _num(cost),
        _num(millis(r.ttft_ms)),
        _num(millis(r.latency_ms)),
        status,
    ]
