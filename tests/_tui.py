"""Shared by the monitor's tests: the fixed traffic, a frozen clock, building the app and waiting for it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from llmcost import Record, encode_record
from llmcost.engine import AlarmConfig
from pricing import load_catalog
from tui import LlmcostTop, make_app

TRAFFIC = Path(__file__).parent / "fixtures" / "tui"
CATALOG = Path(__file__).parent / "fixtures" / "mini_catalog.toml"
NOON = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.timezone.utc).timestamp()


def frozen() -> float:
    return NOON


def fixed_app(budget: float | None = 3.0, config: AlarmConfig | None = None, **kwargs: object) -> LlmcostTop:
    """The monitor over the fixed traffic at noon of its day, with the small test catalog (``config`` replaces the
    day ``budget``)."""
    config = config or AlarmConfig(budget_day_usd=budget)
    catalog = load_catalog(CATALOG, overrides=False)
    return make_app([str(TRAFFIC)], catalog=catalog, clock=frozen, config=config, **kwargs)  # type: ignore[arg-type]


async def until(check: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> None:
    """Wait (on the app's loop) until ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the monitor")
        await asyncio.sleep(step)


async def ready(app: LlmcostTop) -> None:
    """The history is read and a frame painted from it."""
    await until(lambda: app.feed.replayed)
    await asyncio.sleep(0.05)
    app.paint_now()
    await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(app: LlmcostTop, size: tuple[int, int]) -> AsyncIterator[Pilot[Any]]:
    """The app running headless at ``size``, its history read and painted (see :func:`ready`)."""
    async with app.run_test(size=size) as pilot:
        await ready(app)
        yield pilot


def iso(t: float) -> str:
    value = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


_serial = iter(range(1, 10**9))


def call(agent: str, cost: float, at: float | None = None, **extra: object) -> Record:
    """One recorded call, now (or at ``at``)."""
    t = time.time() if at is None else at
    fields: dict[str, object] = {
        "ts": iso(t),
        "id": f"{next(_serial) + 0x7E57_0000_0000:016x}",
        "provider": "openai",
        "request_model": "gpt-4o",
        "response_model": "gpt-4o",
        "input_tokens": 1000,
        "output_tokens": 100,
        "usage_source": "provider",
        "cost_usd": cost,
        "cost_status": "priced",
        "latency_ms": 800.0,
        "agent": agent,
    }
    fields.update(extra)
    return Record(**fields)  # type: ignore[arg-type]


def append(directory: Path, *records: Record, at: float | None = None) -> Path:
    """Append records to the day file of ``at`` (today by default), as the recorder does."""
    day = dt.datetime.fromtimestamp(time.time() if at is None else at, dt.timezone.utc).date()
    path = directory / f"llm_trace_{day}.jsonl"
    with path.open("ab") as f:
        f.write(b"".join(encode_record(r) for r in records))
    return path
