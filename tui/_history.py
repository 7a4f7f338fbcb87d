"""History (``h``): daily cost of the last 30 days as bars per model, and the models compared."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, Static

from llmcost.engine import History, history
from tui._format import millis, tokens, usd
from tui._keys import SCREEN_KEYS
from tui._table import Cell, KeyedTable

if TYPE_CHECKING:
    from tui._source import Feed

__all__ = ["HistoryScreen", "bars"]

DAYS = 30
# Glyphs as well as colours, so the models stay apart without colour (NO_COLOR).
_PENS = (("█", "blue"), ("▓", "magenta"), ("▒", "green"), ("░", "yellow"), ("▚", "cyan"))
_OTHER = ("·", "white")
_COMPARE = (
    ("model", "model"),
    ("calls", "calls"),
    ("cost", "cost"),
    ("share", "share"),
    ("per1k", "$/1k tok"),
    ("input", "input"),
    ("output", "output"),
    ("ttft", "TTFT p50"),
    ("lat50", "lat p50"),
    ("lat95", "lat p95"),
    ("errors", "err"),
)


def bars(history: History, width: int) -> Text:
    """One line per day: a bar split by model (the five most expensive; the rest as 'other'), then a legend."""
    ranked = [row.key for row in history.models if row.cost_usd > 0][: len(_PENS)]
    pens = dict(zip(ranked, _PENS))
    peak = max((sum(m.values(), Decimal(0)) for _, m in history.days), default=Decimal(0))
    out = Text()
    for day, models in history.days:
        out.append_text(_day_line(day, models, pens, peak, width))
        out.append("\n")
    legend = [Text.assemble((pen * 2, style), f" {name}") for name, (pen, style) in pens.items()]
    if any(v for _, models in history.days for m, v in models.items() if m not in pens):
        legend.append(Text.assemble((_OTHER[0] * 2, _OTHER[1]), " other"))
    out.append_text(Text("   ").join(legend) if legend else Text("no spend in this period", style="dim"))
    return out


def _day_line(
    day: dt.date, models: dict[str, Decimal], pens: dict[str, tuple[str, str]], peak: Decimal, width: int
) -> Text:
    total = sum(models.values(), Decimal(0))
    line = Text(f"{day:%a %d %b} ", style="dim" if not total else "")
    used = 0
    for name in [*pens, None]:
        amount = (
            models.get(name, Decimal(0)) if name else sum((v for k, v in models.items() if k not in pens), Decimal(0))
        )
        if not amount or not peak:
            continue
        cells = max(1, round(float(amount / peak) * width))
        pen, style = pens.get(name, _OTHER) if name else _OTHER
        line.append(pen * cells, style=style)
        used += cells
    line.append(" " * max(1, width - used + 1))
    line.append(usd(total) if total else "–", style="bold" if total else "dim")
    return line


class HistoryScreen(Screen[None]):
    """Reads the period once on a worker thread (with a spinner); ``space`` reads it again."""

    BINDINGS = SCREEN_KEYS

    def __init__(self, feed: Feed) -> None:
        super().__init__()
        self.feed = feed
        self.history: History | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"daily cost, last {DAYS} days (UTC)", style="bold"), id="history-title")
        yield LoadingIndicator()
        with VerticalScroll(id="history-body"):
            yield Static(id="bars")
            yield Static(Text("models compared over the period", style="bold"), classes="section")
            yield KeyedTable(_COMPARE, id="compare")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one(LoadingIndicator).display = True
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        found = history(self.feed.paths, self.feed.now(), DAYS)
        self.app.call_from_thread(self._show, found)

    def _show(self, history: History) -> None:
        self.history = history
        self.query_one(LoadingIndicator).display = False
        width = max(10, self.size.width - 30)
        self.query_one("#bars", Static).update(bars(history, width))
        self.query_one("#compare", KeyedTable).sync(_compare_rows(history))
        self.query_one("#history-title", Static).update(
            Text.assemble((f"daily cost, last {DAYS} days (UTC)", "bold"), f"   total {usd(history.total)}")
        )


def _compare_rows(history: History) -> list[tuple[str, list[Cell]]]:
    total = sum((m.cost_usd for m in history.models), Decimal(0))
    rows: list[tuple[str, list[Cell]]] = []
    for m in history.models:
        per_1k = m.cost_per_1k_tokens
        lat, ttft = m.latency.percentiles(), m.ttft.percentiles()
        cells: list[Cell] = [
            m.key,
            Text(f"{m.calls:,}", justify="right"),
            Text(usd(m.cost_usd), justify="right", style="bold"),
            Text(f"{m.cost_usd / total * 100:.0f}%" if total else "–", justify="right"),
            Text(usd(per_1k) if per_1k is not None else "–", justify="right"),
            Text(tokens(m.input_tokens), justify="right"),
            Text(tokens(m.output_tokens), justify="right"),
            Text(millis(ttft.p50), justify="right"),
            Text(millis(lat.p50), justify="right"),
            Text(millis(lat.p95), justify="right"),
            Text(str(m.errors), justify="right", style="red" if m.errors else ""),
        ]
        rows.append((m.key, cells))
    return rows
