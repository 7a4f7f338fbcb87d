"""The meters at the top: spend, rate with its sparkline, projection, budgets, call rate, errors, catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from llmcost.engine import BudgetStatus, Overall, Snapshot
from tui._format import reached_text, usd

__all__ = ["Meters", "budget_bar", "budget_lines", "budget_style", "update_static"]

_METERS = (
    ("today", "spend today"),
    ("run", "this run"),
    ("rate", "$/min now"),
    ("hour", "projected"),
    ("cps", "calls/s"),
    ("errors", "errors"),
    ("unpriced", "unpriced"),
    ("catalog", "catalog"),
)


class Meters(Widget):
    """Two rows of figures plus the budget bars (hidden when no budget is set).

    A figure is updated only when its text changed: each update of a ``Static`` costs a layout pass."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="meter-row"):
            for name, label in _METERS:
                yield Static(Text(label, style="dim"), id=f"m-{name}", classes="meter")
                if name == "rate":
                    yield Sparkline([0.0], id="spark")
        yield Static("", id="budgets")

    def show(self, snap: Snapshot) -> None:
        t = snap.totals
        unknown = any(row.unknown_models for row in snap.rows)
        values = {
            "today": usd(t.cost_today),
            "run": usd(t.cost_session),
            "rate": usd(t.cost_per_min),
            "hour": f"{usd(t.projected_per_hour)}/h",
            "cps": f"{t.calls_per_sec:.1f}",
            "errors": str(t.errors),
            "unpriced": str(t.unpriced_calls),
            "catalog": snap.catalog_version or "–",
        }
        for name, label in _METERS:
            style = _style(name, t, unknown)
            self._update(f"m-{name}", Text.assemble((label, "dim"), "\n", (values[name], style)))
        self.query_one("#spark", Sparkline).data = _trim([float(v) for v in t.spend_per_minute])
        budgets = self.query_one("#budgets", Static)
        if budgets.display != bool(t.budgets):
            budgets.display = bool(t.budgets)
        if t.budgets:
            self._update("budgets", budget_lines(t.budgets, snap.at, self.size.width - 2))

    def _update(self, id: str, text: Text) -> None:
        self._shown[id] = update_static(self.query_one(f"#{id}", Static), self._shown.get(id), text)


def update_static(static: Static, shown: Text | None, text: Text) -> Text:
    """Show ``text`` in ``static`` unless it is already ``shown``; a layout pass only when its lines change width."""
    if shown is not None and text == shown:
        return shown
    static.update(text, layout=shown is None or _shape(shown) != _shape(text))
    return text


def _shape(text: Text) -> list[int]:
    return [cell_len(line) for line in text.plain.split("\n")]


def _trim(minutes: list[float], keep: int = 10) -> list[float]:
    """The minutes from the first one with spend (at least the last ``keep``): a fresh run fills the line."""
    first = next((i for i, v in enumerate(minutes) if v), len(minutes))
    return minutes[min(first, max(0, len(minutes) - keep)) :] or [0.0]


def _style(name: str, t: Overall, unknown: bool) -> str:
    if name == "errors" and t.errors:
        return "bold red"
    if name == "unpriced" and unknown:  # calls to models the catalog does not know (failed calls are not news)
        return "bold yellow"
    return "bold"


def budget_style(fraction: float) -> str:
    """Green under 50 %, yellow from 50 %, orange-red from 80 %, red and bold at 100 %."""
    if fraction >= 1:
        return "bold red"
    if fraction >= 0.8:
        return "red"
    if fraction >= 0.5:
        return "yellow"
    return "green"


def budget_bar(budget: BudgetStatus, now: float, width: int = 20) -> Text:
    """``day ▕████████░░░░▏  72% $7.20 of $10 reached ~15:40``: the percentage is printed so the bar reads without
    colour, and the time the budget will be reached at its burn rate (the last five minutes' spend) follows."""
    fraction = budget.fraction
    filled = min(width, round(fraction * width))
    style = budget_style(fraction)
    text = Text.assemble(
        (f"{budget.name} ", "dim"),
        "▕",
        ("█" * filled, style),
        ("░" * (width - filled), "dim"),
        "▏ ",
        (f"{fraction * 100:3.0f}%", style),
        f" {usd(budget.spent_usd)} of {usd(budget.limit_usd)}",
    )
    when = reached_text(budget.reached, budget.eta, now)
    if when:
        text.append(f" {when}", style="bold red" if budget.reached else "bold yellow")
    return text


def budget_lines(budgets: Sequence[BudgetStatus], now: float, width: int) -> Text:
    """The first budgets (the engine orders them: reached, soonest reached, fullest), side by side, as many as fit in
    ``width`` cells (at least one)."""
    out = Text()
    for b in budgets:
        bar = budget_bar(b, now, 14)
        gap = 3 if out else 0
        if out and out.cell_len + gap + bar.cell_len > width:
            break
        out.append(" " * gap)
        out.append_text(bar)
    return out
