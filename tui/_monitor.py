"""The main screen: title line, meters, the group table, the alarm events; painted by the app's tick."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, ProgressBar, Static

from llmcost.engine import AlarmEvent, GroupBy, Snapshot
from tui._detail import DetailScreen
from tui._events import EventsTable
from tui._header import Meters, update_static
from tui._history import HistoryScreen
from tui._keys import MONITOR_KEYS
from tui._table import COLUMNS, GroupTable, KeyedTable

if TYPE_CHECKING:
    from tui._source import Feed

__all__ = ["COMPACT_WIDTH", "GROUPS", "MIN_SIZE", "MonitorScreen"]

GROUPS: tuple[GroupBy, ...] = ("agent", "model", "provider", "session", "user", "workflow", "host")
COMPACT_WIDTH = 80  # below this the layout fits a side pane: fewer columns and meters
WIDE_WIDTH = 132  # from this width the table also shows cached and reasoning tokens
MIN_SIZE = (40, 12)
FLASH_S = 2.0
IDLE_REPAINT_S = 5.0  # with no new records, repaint only this often (rates decay, durations grow)


class MonitorScreen(Screen[None]):
    BINDINGS = MONITOR_KEYS

    def __init__(self, feed: Feed, group_by: GroupBy = "agent") -> None:
        super().__init__()
        self.feed = feed
        self.group_by: GroupBy = group_by
        self.filter_text = ""
        self.paused = False
        self.flash_until: dict[str, float] = {}
        self.last: Snapshot | None = None
        self.paints = 0
        self.seen: set[str] = set()
        self._seen_state: tuple[int, int] = (-1, -1)
        self._painted_at = 0.0
        self._title_text: Text | None = None
        self._progress_text: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Meters(id="meters")
        with Horizontal(id="loading"):
            yield Static("reading history", id="loading-label")
            yield ProgressBar(total=100, show_eta=False, id="progress")
        yield Static(id="notice")
        yield GroupTable(self.group_by, id="groups")
        yield EventsTable(id="events")
        yield Input(placeholder="filter rows (Enter keeps it, Esc clears)", id="filter")
        yield Static(id="too-small")
        yield Footer()

    @property
    def table(self) -> GroupTable:
        return self.query_one("#groups", GroupTable)

    @property
    def events_table(self) -> EventsTable:
        return self.query_one("#events", EventsTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._layout(self.size.width, self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        was_small = self.has_class("-too-small")
        self.set_class(small, "-too-small")
        if was_small and not small:
            self.paint(force=True)  # the notice and the progress bar come back at once
        if small:  # widgets shown from code carry their own display: hide them too
            self.query_one("#notice").display = False
            self.query_one("#loading").display = False
        if small:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width}×{height}. llmcost-top needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}; "
                "still watching."
            )
        compact = width < COMPACT_WIDTH
        self.set_class(compact, "-compact")
        level = 0 if compact else 2 if width >= WIDE_WIDTH else 1
        if self.table.level != level or self.events_table.compact != compact:
            self.table.level, self.events_table.compact = level, compact
            self.table.rebuild()
            self.events_table.rebuild()
            self.paint(force=True)

    # -- painting -----------------------------------------------------------------------------------------------------

    def paint(self, force: bool = False) -> None:
        """Show the engine's current state (the app calls this at its fixed paint rate)."""
        self.show_progress(*self.feed.progress)
        if self.paused and not force:
            return
        clock = time.monotonic()
        seen = (self.feed.engine.records, self.feed.alarm_changes)
        if not force and seen == self._seen_state and clock - self._painted_at < IDLE_REPAINT_S:
            return  # nothing new: an idle monitor costs next to nothing
        snap = self.feed.snapshot(self.group_by, self.filter_text, wait=force)
        if snap is None:  # the ingest thread is busy with a large batch: keep this frame
            return
        self.last, self.paints = snap, self.paints + 1
        self._seen_state, self._painted_at = seen, clock
        flashing = {k for k, until in self.flash_until.items() if until > clock}
        with self.app.batch_update():
            self.query_one(Meters).show(snap)
            self.table.show(snap.rows, flashing)
            self.events_table.show(snap.alarms, snap.at)
            self._title(snap)
            self._notice(snap)

    def _title(self, snap: Snapshot) -> None:
        sort = COLUMNS[self.table.sort_index]
        sort_name = sort.label or self.group_by
        arrow = "▲" if sort.descending == self.table.reverse else "▼"
        text = Text.assemble(("llmcost-top ", "bold"), (self.feed.label, "bold cyan"), " ")
        text.append(f"· by {self.group_by} · sort {sort_name} {arrow} · {len(snap.rows)} rows")
        text.append(f" · {snap.ingest.records:,} calls", style="dim")
        if self.filter_text:
            text.append(f" · filter “{self.filter_text}”", style="bold yellow")
        if self.paused:
            text.append("  PAUSED (p to resume)", style="bold reverse yellow")
        stamp = dt.datetime.fromtimestamp(snap.at).strftime("%H:%M:%S")
        text.append(f"  {stamp}", style="dim")
        self._title_text = update_static(self.query_one("#title", Static), self._title_text, text)

    def _notice(self, snap: Snapshot) -> None:
        problems = self.feed.problems()
        notice = self.query_one("#notice", Static)
        if not problems and snap.ingest.records == 0 and self.feed.replayed:
            where = " ".join(self.feed.paths)
            problems = [
                f"No LLM calls recorded yet in {where}. Record some with llmcost.track(client), "
                "or try `llmcost-top --demo`. Watching for new logs…"
            ]
        if snap.ingest.malformed:
            bad = sum(snap.ingest.malformed.values())
            problems.append(f"{bad} unreadable lines skipped")
        if snap.ingest.unreadable:
            path, reason = next(iter(snap.ingest.unreadable.items()))
            more = len(snap.ingest.unreadable) - 1
            problems.append(f"cannot read {path}: {reason}" + (f" (and {more} more files)" if more else ""))
        notice.display = bool(problems) and not self.has_class("-too-small")
        if problems:
            notice.update(Text(" · ".join(problems), style="bold yellow"))

    def show_progress(self, done: int, total: int) -> None:
        loading = self.query_one("#loading")
        finished = total <= 0 or done >= total or self.has_class("-too-small")
        if loading.display == finished:
            loading.display = not finished
        if not finished:
            self.query_one("#progress", ProgressBar).update(progress=done * 100 // total)
            label = Text(f"reading history {done >> 20} of {total >> 20} MB ")
            self._progress_text = update_static(self.query_one("#loading-label", Static), self._progress_text, label)

    def alarms_changed(self, changes: list[AlarmEvent]) -> list[AlarmEvent]:
        """Flash the rows of new alarm episodes; returns the new ones."""
        known = {a.id for a in self.last.alarms} if self.last else set()
        new = [a for a in changes if a.active and a.id not in known and a.id not in self.seen]
        self.seen.update(a.id for a in changes)
        until = time.monotonic() + FLASH_S
        for event in new:
            if event.agent is not None:
                self.flash_until[event.agent] = until
        self.events_table.flash(new)
        return new

    # -- actions ------------------------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.paint(force=True)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.paint(force=True)

    def action_cycle_group(self) -> None:
        self.set_group(GROUPS[(GROUPS.index(self.group_by) + 1) % len(GROUPS)])

    def set_group(self, group_by: GroupBy) -> None:
        self.group_by = group_by
        self.table.group_label = group_by
        self.table.rebuild()
        self.paint(force=True)

    def action_next_sort(self) -> None:
        self.table.step_sort(+1)
        self.paint(force=True)

    def action_sort_left(self) -> None:
        self.table.step_sort(-1)
        self.paint(force=True)

    def action_sort_right(self) -> None:
        self.table.step_sort(+1)
        self.paint(force=True)

    def action_reverse(self) -> None:
        self.table.reverse = not self.table.reverse
        self.table.rebuild()
        self.paint(force=True)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)  # at once, so keys typed right after '/' land in the box

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.filter_text = ""
        self.table.focus()
        self.paint(force=True)

    def action_detail(self) -> None:
        key = self.table.cursor_key()
        if key is not None:
            self.app.push_screen(DetailScreen(self.feed, self.group_by, key))

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.feed))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.paint(force=True)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(self.filter_text)
        self.table.focus()

    @on(KeyedTable.RowSelected, "#groups")
    def _row_selected(self) -> None:
        self.action_detail()

    @on(KeyedTable.RowSelected, "#events")
    def _event_selected(self, event: KeyedTable.RowSelected) -> None:
        """Enter on an alarm opens its agent."""
        alarm = next((a for a in (self.last.alarms if self.last else ()) if a.id == event.key), None)
        if alarm is not None and alarm.agent is not None:
            self.app.push_screen(DetailScreen(self.feed, "agent", alarm.agent))
