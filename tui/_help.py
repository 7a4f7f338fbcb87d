"""Help (``?`` or F1): generated from the binding table, so it never disagrees with the keys."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui._keys import APP_KEYS, MONITOR_KEYS, SCREEN_KEYS

__all__ = ["HelpScreen", "key_rows"]

_ABOUT = (
    "One row per agent (g: model, provider, session, user, workflow). Figures since start-up; $/min over the last "
    "minute; TTFT and latency percentiles over the last 5 minutes. A cost ending in '?' has calls to models the "
    "catalog does not know. Alarms: burst, repeat, error streak, spend rate, call cost, budget, context growth."
)


def key_rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) of each binding, keys as people type them."""
    rows = []
    for b in bindings:
        if not isinstance(b, Binding):
            continue
        keys = b.key_display or b.key
        if "," in b.key:
            keys = " ".join(_pretty(k) for k in b.key.split(","))
        rows.append((_pretty(keys), b.description))
    return rows


def _pretty(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "space": "space", "enter": "Enter", "escape": "Esc", "f1": "F1"}.get(
        key, key
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for title, bindings in (
            ("Everywhere", APP_KEYS),
            ("Main screen", MONITOR_KEYS),
            ("Other screens", SCREEN_KEYS),
        ):
            table.add_row(Text(title, style="underline"), "")
            for keys, description in key_rows(bindings):
                table.add_row(keys, description)
        table.add_row("ctrl+p", "Command palette (themes, grouping, screens)")
        with VerticalScroll(id="help-box"):
            yield Static(Text("llmcost-top keys", style="bold"))
            yield Static(table)
            yield Static(Text(_ABOUT, style="dim"), id="help-about")
