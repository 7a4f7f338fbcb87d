"""How the monitor looks: SVG snapshots over the fixed traffic at noon of its day (frozen clock, UTC, in colour).

Regenerate after a deliberate change with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the
SVG files in ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from tests._tui import fixed_app, ready, until
from tui._history import HistoryScreen


@pytest.fixture(autouse=True)
def utc_in_colour(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _ready(pilot: Pilot[Any]) -> None:
    await ready(pilot.app)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(120, 36), (160, 48)])
def test_main_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(), terminal_size=size, run_before=_ready)


def test_compact_side_pane(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), terminal_size=(70, 30), run_before=_ready)


def test_detail_screen(snap_compare: Any) -> None:
    async def open_detail(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(120, 36), run_before=open_detail)


def test_history_screen(snap_compare: Any) -> None:
    async def open_history(pilot: Pilot[Any]) -> None:
        await _ready(pilot)
        await pilot.press("h")
        screen = pilot.app.screen
        assert isinstance(screen, HistoryScreen)
        await until(lambda: screen.history is not None)
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=(120, 40), run_before=open_history)


def test_grouped_by_model_sorted_by_latency(snap_compare: Any) -> None:
    assert snap_compare(
        fixed_app(), terminal_size=(120, 36), press=["g", "s", "s", "s", "s", "s", "r"], run_before=_ready
    )
