"""The monitor's modes and edge cases: live following, no logs yet, missing or unreadable paths, small terminals,
compact layout, NO_COLOR, replay, the demo, new alarms (flash and bell)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from textual.widgets import Static

from llmcost.engine import AlarmConfig
from tests._tui import TRAFFIC, append, call, fixed_app, running, until
from tui import make_app
from tui._history import HistoryScreen

SIZE = (120, 40)


def notice(app: object) -> str:
    screen = app.monitor  # type: ignore[attr-defined]
    widget = screen.query_one("#notice", Static)
    return str(widget.render()) if widget.display else ""


async def test_live_rows_update_in_place_and_the_cursor_follows_its_row(tmp_path: Path) -> None:
    append(tmp_path, call("alpha", 0.30), call("beta", 0.20), call("gamma", 0.10))
    app = make_app([str(tmp_path)])
    async with running(app, SIZE) as pilot:
        table = app.monitor.table
        assert table.row_keys == ["alpha", "beta", "gamma"]
        await pilot.press("down", "down")
        assert table.cursor_key() == "gamma"
        append(tmp_path, call("gamma", 1.00), call("delta", 0.05))  # gamma becomes the most expensive
        await until(lambda: table.row_keys == ["gamma", "alpha", "beta", "delta"])
        assert table.cursor_key() == "gamma"  # the cursor moved with its row
        assert "$1.10" in str(table.get_cell("gamma", "cost"))


async def test_no_logs_yet_says_so_and_keeps_watching(tmp_path: Path) -> None:
    app = make_app([str(tmp_path)])
    async with running(app, SIZE):
        assert "No LLM calls recorded yet" in notice(app)
        append(tmp_path, call("late", 0.01))
        await until(lambda: app.monitor.table.row_count == 1)
        await until(lambda: notice(app) == "")


async def test_missing_directory_is_waited_for(tmp_path: Path) -> None:
    later = tmp_path / "not-yet"
    app = make_app([str(later)])
    async with running(app, SIZE):
        assert "does not exist yet" in notice(app)
        later.mkdir()
        append(later, call("arrived", 0.01))
        await until(lambda: app.monitor.table.row_count == 1, timeout=15)


async def test_unreadable_directory_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real(p, mode))
    app = make_app([str(locked)])
    async with running(app, SIZE):
        assert f"cannot read {locked}: permission denied" in notice(app)


async def test_terminal_too_small_says_so() -> None:
    app = fixed_app()
    async with running(app, (30, 8)) as pilot:
        message = app.monitor.query_one("#too-small", Static)
        assert message.display
        assert "Terminal too small: 30×8" in str(message.render())
        assert not app.monitor.table.display or app.monitor.has_class("-too-small")
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not app.monitor.has_class("-too-small")


async def test_compact_layout_under_80_columns() -> None:
    app = fixed_app()
    async with running(app, (70, 30)) as pilot:
        compact = [c.key for c in app.monitor.table.columns]
        assert compact == ["name", "calls", "cost", "rate", "lat95", "errors", "alarm"]
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        app.paint_now()
        assert len(app.monitor.table.columns) == 13
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        app.paint_now()
        assert len(app.monitor.table.columns) == 15
        assert app.monitor.table.row_count == 6


async def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = fixed_app()
    async with app.run_test(size=SIZE):
        assert app.no_color
    monkeypatch.delenv("NO_COLOR")
    assert not fixed_app().no_color


async def test_budget_bars_show_spend_against_the_limit() -> None:
    app = fixed_app(budget=2.0)
    async with running(app, SIZE):
        bars = str(app.monitor.query_one("#budgets", Static).render())
        assert "day" in bars
        assert " 83%" in bars
        assert "$1.66 of $2.00" in bars


async def test_replay_plays_records_in_time_order() -> None:
    trace = TRAFFIC / "llm_trace_2026-01-15.jsonl"
    app = make_app(replay=str(trace), speed=600.0)  # ten minutes of traffic in about a second
    async with app.run_test(size=SIZE):
        await until(lambda: app.feed.replayed)
        first = app.feed.engine.records
        assert first < 210
        await until(lambda: app.feed.engine.records == 210, timeout=10)
        app.paint_now()
        assert app.monitor.table.row_count == 6
        assert "replay ×600" in str(app.monitor.query_one("#title", Static).render())


async def test_new_alarm_flashes_and_rings_the_bell(tmp_path: Path) -> None:
    append(tmp_path, call("steady", 0.01))
    app = make_app([str(tmp_path)], bell=True, config=AlarmConfig(burst_calls=5, burst_window_s=10))
    rings: list[float] = []
    app.bell = lambda: rings.append(time.monotonic())  # type: ignore[method-assign]
    async with running(app, SIZE):
        append(tmp_path, *[call("looper", 0.001) for _ in range(6)])
        await until(lambda: bool(rings))
        await until(lambda: "looper" in app.monitor.flash_until)
        events = app.monitor.events_table
        await until(lambda: events.row_count == 1)
        assert "burst" in str(events.get_row_at(0)[1])


async def test_a_row_already_shown_flashes_its_name_on_a_new_alarm(tmp_path: Path) -> None:
    append(tmp_path, call("steady", 0.01))
    app = make_app([str(tmp_path)], config=AlarmConfig(burst_calls=5, burst_window_s=10))
    async with running(app, SIZE):
        table = app.monitor.table
        assert "reverse" not in str(table.get_cell("steady", "name").style)
        append(tmp_path, *[call("steady", 0.001) for _ in range(6)])
        await until(lambda: "reverse" in str(table.get_cell("steady", "name").style))


async def test_demo_runs_headless_with_a_runaway_loop_alarm() -> None:
    app = make_app(demo=True)
    async with app.run_test(size=SIZE):
        await until(lambda: app.feed.replayed, timeout=20)
        app.paint_now()
        snap = app.monitor.last
        assert snap is not None
        agents = {row.key for row in snap.rows}
        assert {"retry-bot", "analyst", "local-coder", "planner"} <= agents
        loops = [a for a in snap.alarms if a.agent == "retry-bot" and a.kind in ("burst", "repeat", "error_streak")]
        assert loops, "the demo's retry loop raised no alarm"
        slow = next(row for row in snap.rows if row.key == "analyst")
        assert slow.ttft_ms.p50 is not None
        assert slow.ttft_ms.p50 > 2000
        written = app.feed.engine.records
        await until(lambda: app.feed.engine.records > written, timeout=10)  # live traffic keeps coming
        directory = Path(app.feed.paths[0])
    await asyncio.sleep(0.3)
    assert not directory.exists()  # the temporary directory is removed on exit


async def test_the_demo_opens_with_a_month_of_history() -> None:
    app = make_app(demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.feed.replayed, timeout=20)
        await pilot.press("h")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await until(lambda: screen.history is not None)
        assert screen.history is not None
        spent = [day for day, models in screen.history.days if models]
        assert len(spent) >= 29  # the real clock: just after midnight, today may have only the live minute
        assert screen.query_one("#compare").row_count >= 5
