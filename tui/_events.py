"""The events pane: alarm episodes, newest first; a new one flashes for a moment."""

from __future__ import annotations

import time
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from rich.text import Text

from llmcost.engine import AlarmEvent
from llmcost.log import epoch
from tui._format import clock_time, duration, peak_text
from tui._table import Cell, KeyedTable, badge

__all__ = ["EventsTable", "alarm_cells"]

FLASH_S = 2.0
_COLUMNS = (("sev", "sev"), ("kind", "alarm"), ("agent", "agent"), ("started", "started"), ("for", "for"))
_WIDE = (("peak", "peak"), ("message", "what"))
_SHOWN = 100
_ID = attrgetter("id")
# Fixed widths: the pane never re-measures (and never jitters) as episodes come and go.
_WIDTHS = {"sev": 6, "kind": 14, "agent": 12, "started": 8, "for": 7, "peak": 16, "message": 38}


def alarm_cells(event: AlarmEvent, now: float, wide: bool = True, room: int = 200) -> list[Cell]:
    """One episode as table cells; an active one says so in its duration."""
    start = epoch(event.started_at)
    end = epoch(event.ended_at) if event.ended_at else now
    length = duration(end - start) + ("+" if event.active else "")
    cells: list[Cell] = [
        badge(event.severity) if event.active else Text("○ " + event.severity[:4], style="dim"),
        Text(event.kind, style="bold" if event.active else ""),
        event.agent or "(all)",
        clock_time(event.started_at),
        Text(length, justify="right"),
    ]
    if wide:
        message = event.message if len(event.message) <= room else event.message[: room - 1] + "…"
        cells += [peak_text(event.kind, event.peak), message]
    return cells


class EventsTable(KeyedTable):
    """Alarm episodes keyed by id, the newest first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compact = False
        self.flash_until: dict[str, float] = {}
        self.rebuild()  # columns exist before the first rows can arrive

    def rebuild(self) -> None:
        self.set_columns(_COLUMNS if self.compact else _COLUMNS + _WIDE, _WIDTHS)

    def flash(self, events: Sequence[AlarmEvent]) -> None:
        until = time.monotonic() + FLASH_S
        for event in events:
            self.flash_until[event.id] = until

    def show(self, alarms: Sequence[AlarmEvent], now: float) -> None:
        newest = sorted(alarms, key=lambda a: (a.detected_at, a.id), reverse=True)[:_SHOWN]
        clock = time.monotonic()
        room = _WIDTHS["message"]

        def cells(event: AlarmEvent) -> list[Cell]:
            made = alarm_cells(event, now, not self.compact, room)
            if self.flash_until.get(event.id, 0.0) > clock:
                made[1] = Text(str(made[1]), style="bold reverse red")
            return made

        self.sync_made(newest, _ID, cells)  # episodes scrolled out of sight get their cells when scrolled to
        active = sum(1 for a in alarms if a.active)
        title = f"alarms · {active} active · {len(alarms)} episodes" if alarms else "alarms · none"
        if title != self.border_title:  # setting it costs a layout pass, even to the same text
            self.border_title = title
