"""Every key of the monitor, driven with Textual's Pilot over the fixed traffic."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from tests._tui import fixed_app, running, until
from tui import LlmcostTop
from tui._detail import DetailScreen
from tui._help import HelpScreen
from tui._history import HistoryScreen
from tui._monitor import MonitorScreen
from tui._table import COLUMNS, DEFAULT_SORT, GroupTable

SIZE = (120, 40)


def keys(app: MonitorScreen) -> list[str]:
    table = app.query_one(GroupTable)
    return table.row_keys


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Press the keys and wait until the app has handled them."""
    await pilot.press(*keys)
    await pilot.pause()


async def back_to_monitor(app: LlmcostTop, pilot: Pilot[Any]) -> None:
    """Escape closes the screen on top: the monitor is back."""
    await press(pilot, "escape")
    assert isinstance(app.screen, MonitorScreen)


async def test_rows_sorted_by_cost_with_alarm_badge() -> None:
    app = fixed_app()
    async with running(app, SIZE):
        table = app.monitor.table
        assert keys(app.monitor) == ["planner", "researcher", "analyst", "support-bot", "local-coder", "tinkerer"]
        assert "CRIT" in str(table.get_cell("researcher", "alarm"))
        assert str(table.get_cell("tinkerer", "cost")).endswith("?")  # unknown model: loud


async def test_q_quits() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        await press(pilot, "q")
        assert not app.is_running
    assert app.feed.stop_event.is_set()


async def test_help_from_question_mark_and_f1() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        for key in ("question_mark", "f1"):
            await press(pilot, key)
            assert isinstance(app.screen, HelpScreen)
            shown = app.export_screenshot()
            assert all(word in shown for word in ("Pause", "Group", "History", "Filter", "palette"))
            await back_to_monitor(app, pilot)


async def test_filter_keeps_matching_rows_and_escape_clears() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        await pilot.press("slash")
        assert app.screen.query_one("#filter", Input).has_focus
        await press(pilot, "p", "l", "a", "n")
        assert keys(app.monitor) == ["planner"]
        await press(pilot, "enter")  # keep the filter, back to the table
        assert app.monitor.table.has_focus
        assert keys(app.monitor) == ["planner"]
        await press(pilot, "escape")
        assert len(keys(app.monitor)) == 6


async def test_sort_keys_move_and_reverse() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        table = app.monitor.table
        assert table.sort_index == DEFAULT_SORT
        await pilot.press("s")
        assert COLUMNS[table.sort_index].key == "rate"
        await pilot.press("less_than_sign", "less_than_sign")
        assert COLUMNS[table.sort_index].key == "output"  # cached and reasoning columns: only from 132 wide
        await pilot.press("greater_than_sign")
        assert COLUMNS[table.sort_index].key == "cost"
        await press(pilot, "less_than_sign", "less_than_sign", "less_than_sign", "less_than_sign")  # name, A to Z
        assert keys(app.monitor) == sorted(keys(app.monitor))
        await press(pilot, "r")
        assert keys(app.monitor) == sorted(keys(app.monitor), reverse=True)
        assert "▼" in str(table.columns[0].label)


async def test_pause_stops_painting_and_space_paints_once() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        monitor = app.monitor
        for key in ("p", "Z"):
            await pilot.press(key)
            assert monitor.paused
            before = monitor.paints
            await asyncio.sleep(0.8)  # three ticks at 4 Hz
            assert monitor.paints == before
            await pilot.press("space")
            assert monitor.paints == before + 1
            await pilot.press(key)  # resume
            assert not monitor.paused
            await until(lambda b=before: monitor.paints > b + 1)


async def test_g_cycles_the_grouping() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        seen = []
        for _ in range(7):
            await press(pilot, "g")
            seen.append((app.monitor.group_by, sorted(keys(app.monitor))))
        assert [g for g, _ in seen] == ["model", "provider", "session", "user", "workflow", "host", "agent"]
        assert seen[0][1] == ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "house-model-x", "llama3.2", "o3"]
        assert seen[1][1] == ["anthropic", "custom", "ollama", "openai"]
        assert seen[3][1] == ["(none)"]
        assert seen[4][1] == ["fixture"]
        assert seen[5][1] == ["gpu-box-1", "laptop-ann"]


async def test_enter_opens_detail_and_escape_returns() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        await pilot.press("down")  # researcher
        await press(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.key == "researcher"
        calls = screen.query_one("#calls")
        assert calls.row_count == 50  # the agent's recent-call ring
        alarms = screen.query_one("#detail-alarms")
        assert alarms.row_count == 3
        title = str(screen.query_one("#detail-title").render())
        assert "60 calls" in title
        await back_to_monitor(app, pilot)


async def test_h_opens_history_with_thirty_days() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        await pilot.press("h")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(lambda: screen.history is not None)
        assert screen.history is not None
        assert len(screen.history.days) == 30
        spent = [day for day, models in screen.history.days if models]
        assert [d.isoformat() for d in spent] == [
            "2026-01-03", "2026-01-08", "2026-01-11", "2026-01-13", "2026-01-14", "2026-01-15"
        ]  # fmt: skip
        assert screen.query_one("#compare").row_count == 6  # every model called, the unknown one included
        await back_to_monitor(app, pilot)


async def test_command_palette_groups_by_model() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"group by model")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        assert app.monitor.group_by == "model"


async def test_cursor_stays_on_its_row_when_the_order_changes() -> None:
    app = fixed_app()
    async with running(app, SIZE) as pilot:
        await pilot.press("down", "down")
        table = app.monitor.table
        assert table.cursor_key() == "analyst"
        await pilot.press("r")  # cheapest first: analyst moves from third to fourth
        await until(lambda: keys(app.monitor).index("analyst") == 3)
        assert table.cursor_key() == "analyst"
        assert table.cursor_row == 3
