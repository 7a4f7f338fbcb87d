"""The one binding table: the footer, the help screen and the command palette all read it."""

from __future__ import annotations

from textual.binding import Binding, BindingType

__all__ = ["APP_KEYS", "MONITOR_KEYS", "SCREEN_KEYS"]

# Keys every screen answers (htop/k9s/btop habits).
APP_KEYS: list[BindingType] = [
    Binding("q", "app.quit", "Quit"),
    Binding("question_mark,f1", "app.help", "Help", key_display="?"),
]

# The main screen.
MONITOR_KEYS: list[BindingType] = [
    Binding("enter", "detail", "Detail", show=False),
    Binding("slash", "filter", "Filter", key_display="/"),
    Binding("g", "cycle_group", "Group"),
    Binding("s", "next_sort", "Sort"),
    Binding("less_than_sign", "sort_left", "Sort left", show=False, key_display="<"),
    Binding("greater_than_sign", "sort_right", "Sort right", show=False, key_display=">"),
    Binding("r", "reverse", "Reverse"),
    Binding("p,Z", "pause", "Pause"),
    Binding("space", "refresh", "Refresh", show=False),
    Binding("h", "history", "History"),
    Binding("escape", "clear_filter", "Clear filter", show=False),
]

# Detail, history and help.
SCREEN_KEYS: list[BindingType] = [
    Binding("escape", "app.pop_screen", "Back"),
    Binding("space", "refresh", "Refresh", show=False),
]
