"""`llmcost.engine.history`: spend per day and model over the last 30 days, and the models side by side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from llmcost.engine import history
from llmcost.engine._report import read_history, report
from pricing import Usage, load_catalog
from tests._traces import T0, day_file, rec, write

DAY = 86400.0


@pytest.fixture
def logs(tmp_path: Path, isolated_home: Path) -> Path:
    directory = tmp_path / "logs"
    no_usage = {"input_tokens": None, "output_tokens": None, "cost_usd": None, "cost_status": "no_usage"}
    for d in range(4):
        t = T0 + d * DAY
        write(
            day_file(directory, t),
            [
                rec(t + 60, request_model="gpt-4o", cost_usd=0.01 * (d + 1)),
                rec(t + 120, request_model="gpt-4o", response_model="gpt-4o-2024-08-06", cost_usd=0.002),
                rec(t + 180, request_model="claude-sonnet-4-5", cost_usd=0.0305),
                rec(t + 240, request_model=None, cost_usd=0.5),  # no model: the "(none)" row
                # no cost on the line: priced with the catalog at its own date, as the report prices it
                rec(
                    t + 300, request_model="gpt-4o-mini", provider="openai", cost_usd=None, cost_status="unknown_model"
                ),
                rec(t + 360, request_model="gpt-4o", status="error", http_status=429, **no_usage),  # refused: $0
                rec(t + 420, request_model="o3", stream=True, status="error", **no_usage),  # unpriced
            ],
        )
    write(day_file(directory, T0 - 40 * DAY), [rec(T0 - 40 * DAY, request_model="gpt-4o", cost_usd=100.0)])  # too old
    return directory


def test_days_and_models_of_the_period(logs: Path) -> None:
    now = T0 + 3 * DAY + 3600
    found = history([str(logs)], now)
    assert len(found.days) == 30
    assert found.days[-1][0] == dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
    mini = load_catalog().price(Usage(input_tokens=1000, output_tokens=100), "gpt-4o-mini", "openai", at=T0 + 300)
    assert mini.status == "priced"
    spent = {day: models for day, models in found.days if models}
    assert len(spent) == 4
    for d in range(4):
        day = dt.datetime.fromtimestamp(T0 + d * DAY, dt.timezone.utc).date()
        assert set(spent[day]) == {"gpt-4o", "gpt-4o-2024-08-06", "claude-sonnet-4-5", "(none)", "gpt-4o-mini"}
        assert spent[day]["gpt-4o"] == Decimal("0.01") * (d + 1)  # the refused call adds $0
        assert spent[day]["claude-sonnet-4-5"] == Decimal("0.0305")
        assert spent[day]["(none)"] == Decimal("0.5")
        assert abs(spent[day]["gpt-4o-mini"] - mini.cost_usd) < Decimal("1e-12")
    # the models, as `llmcost report --by model` gives them over the same period
    since = dt.datetime.fromtimestamp(T0 - 26 * DAY, dt.timezone.utc).replace(hour=0, minute=0, second=0)
    expected = report(read_history([logs], since=since), "model")
    assert [m.as_dict() for m in found.models] == [m.as_dict() for m in expected]
    assert {m.key: m.unpriced_calls for m in found.models}["o3"] == 4
    # the chart and the table agree: every priced dollar is on a day
    assert found.total == sum((m.cost_usd for m in found.models), Decimal(0))
