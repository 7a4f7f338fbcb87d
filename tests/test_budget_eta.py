"""When each budget will be reached at the current burn rate (the spend of the last five minutes): in the engine's
snapshot, ``--once --json``, the monitor's header and detail screen, and the ``budget_eta`` alarm rule. Every clock
is frozen."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Static

from llmcost.cli import main as llmcost_main
from llmcost.engine import AlarmConfig, AlarmEvent, BudgetStatus, Engine, budget_eta
from llmcost.log import Record, iso
from tests._traces import day_file, rec, write
from tests._tui import fixed_app, running
from tui._detail import DetailScreen
from tui._once import snapshot_json

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc).timestamp()  # a multiple of ten seconds


def burning(per_minute: float, *, before: float = 0.0, agent: str = "planner", **fields: object) -> list[Record]:
    """``before`` dollars an hour ago, then ``per_minute`` dollars a minute over the five minutes up to ``NOW``."""
    early = [rec(NOW - 3600, agent=agent, cost_usd=before, **fields)] if before else []
    # ten calls, one every 30 s, all inside the window (NOW - 300, NOW]
    return early + [rec(NOW - 285 + 30 * i, agent=agent, cost_usd=per_minute / 2, **fields) for i in range(10)]


def budgets(records: list[Record], now: float = NOW, **config: float) -> tuple[BudgetStatus, ...]:
    engine = Engine(config=AlarmConfig(**config), clock=lambda: now)  # type: ignore[arg-type]
    engine.ingest(records)
    return engine.snapshot(now=now).totals.budgets


def episodes(records: list[Record], **config: float) -> list[AlarmEvent]:
    engine = Engine(config=AlarmConfig(**config), clock=lambda: NOW)  # type: ignore[arg-type]
    engine.ingest(records)
    return [e for e in engine.alarms.events() if e.kind == "budget_eta" and e.active]


# -- the estimate --------------------------------------------------------------------------------------------------


def test_the_eta_is_what_is_left_over_the_burn_rate() -> None:
    (day,) = budgets(burning(1.0, before=5.0), budget_day_usd=20)
    # $5 an hour ago and $5 in the last five minutes: $10 left at $1 a minute
    assert (day.name, day.spent_usd, day.limit_usd, day.usd_per_min) == ("day", Decimal(10), Decimal(20), Decimal(1))
    assert day.eta == pytest.approx(NOW + 600)
    assert not day.reached


def test_no_eta_without_spend_in_the_last_five_minutes() -> None:
    (day,) = budgets(burning(1.0, before=5.0), now=NOW + 301, budget_day_usd=20)
    assert (day.usd_per_min, day.eta, day.spent_usd) == (Decimal(0), None, Decimal(10))


def test_a_budget_reached_has_no_eta_and_says_reached() -> None:
    (day,) = budgets(burning(1.0, before=5.0), budget_day_usd=8)
    assert (day.reached, day.eta) == (True, None)


def test_no_eta_past_the_end_of_the_budgets_day() -> None:
    late = NOW + 11.5 * 3600  # 23:30 UTC: $20 left at $0.10 a minute would take past midnight
    records = [rec(late - 285 + 30 * i, cost_usd=0.05) for i in range(10)]
    (day,) = budgets(records, now=late, budget_day_usd=20.5)
    assert (day.usd_per_min, day.eta) == (Decimal("0.1"), None)
    assert budget_eta(0.5, 20.5, 0.1 / 60, late, None) == pytest.approx(late + 200 * 60)  # a session has no end


def test_agent_user_and_session_budgets_each_have_their_own_rate() -> None:
    records = [
        *burning(2.0, agent="crawler", user_id="ann", session_id="s1"),
        rec(NOW - 3000, agent="idle", user_id="bob", session_id="s2", cost_usd=0.5),
    ]
    found = {b.name: b for b in budgets(records, budget_agent_usd=30, budget_user_usd=50, budget_session_usd=40)}
    # every agent that spent today; users and sessions only while they spend (they are many)
    assert set(found) == {"agent crawler", "agent idle", "user ann", "session s1"}
    assert found["agent crawler"].eta == pytest.approx(NOW + (30 - 10) / 2 * 60)
    assert found["user ann"].eta == pytest.approx(NOW + 20 * 60)
    assert found["session s1"].eta == pytest.approx(NOW + 15 * 60)
    assert found["agent idle"].eta is None
    ordered = [b.name for b in budgets(records, budget_agent_usd=30, budget_user_usd=50, budget_session_usd=40)]
    assert ordered == ["agent crawler", "session s1", "user ann", "agent idle"]  # soonest first


# -- the alarm -----------------------------------------------------------------------------------------------------


def test_budget_eta_warns_when_the_budget_falls_inside_the_horizon() -> None:
    (episode,) = episodes(burning(1.0, before=5.0), budget_day_usd=50)  # $40 left at $1/min: 40 min
    assert (episode.severity, episode.agent) == ("warning", None)
    # renewed as the burn grew: at the last call, $40 left at $1/min is 40 minutes after 11:59:45 UTC
    assert episode.message == "day budget $50.00 reached ~12:39 UTC at $1.00/min ($10.00 spent)"
    assert episode.peak["usd_per_min"] == pytest.approx(1.0)
    assert episodes(burning(1.0, before=5.0), budget_day_usd=200) == []  # 190 min away
    assert len(episodes(burning(1.0, before=5.0), budget_day_usd=200, budget_eta_s=4 * 3600)) == 1
    assert episodes(burning(1.0, before=5.0), budget_day_usd=50, budget_eta_s=0) == []  # 0: off


def test_an_agents_budget_eta_names_the_agent() -> None:
    (episode,) = episodes(burning(2.0, agent="crawler"), budget_agent_usd=40)
    assert (episode.agent, episode.severity) == ("crawler", "warning")
    assert episode.message.startswith("agent crawler budget $40.00 reached ~12:")


def test_the_same_episodes_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``llmcost alarms`` runs the rule over the files on record time: the episodes the live engine had."""
    records = burning(1.0, before=5.0)
    engine = Engine(config=AlarmConfig(budget_day_usd=50), clock=lambda: NOW)
    engine.ingest(records)
    live = sorted((e.started_at, e.message) for e in engine.alarms.events() if e.kind == "budget_eta")
    assert len(live) == 2  # the $5 call an hour ago burned $1/min for five minutes too
    write(day_file(tmp_path, NOW), records)
    assert llmcost_main(["alarms", str(tmp_path), "--budget", "50", "--json"]) == 0
    offline = [
        (a["started_at"], a["message"]) for a in json.loads(capsys.readouterr().out) if a["kind"] == "budget_eta"
    ]
    assert sorted(offline) == live


# -- where it shows ------------------------------------------------------------------------------------------------


def test_once_json_lists_every_budget_with_its_eta() -> None:
    engine = Engine(config=AlarmConfig(budget_day_usd=20, budget_agent_usd=8), clock=lambda: NOW)
    engine.ingest(burning(1.0, before=5.0))
    data = snapshot_json(engine.snapshot())
    assert data["budgets"] == [
        {
            "name": "agent planner",
            "scope": "agent",
            "key": "planner",
            "limit_usd": "8",
            "spent_usd": "10",
            "usd_per_min": "1",
            "reached": True,
            "eta": None,
        },
        {
            "name": "day",
            "scope": "day",
            "key": None,
            "limit_usd": "20",
            "spent_usd": "10",
            "usd_per_min": "1",
            "reached": False,
            "eta": iso(NOW + 600),
        },
    ]
    assert "budgets" not in data["totals"]


async def test_the_header_says_when_each_budget_is_reached() -> None:
    app = fixed_app(budget=2.0)
    async with running(app, (140, 36)):
        (day,) = app.feed.engine.snapshot().totals.budgets
        assert day.eta is not None  # the fixed traffic spends in its last five minutes
        when = dt.datetime.fromtimestamp(day.eta).strftime("%H:%M")
        bars = str(app.monitor.query_one("#budgets", Static).render())
        assert "day ▕" in bars
        assert f"$1.66 of $2.00 reached ~{when}" in bars


async def test_the_header_says_reached() -> None:
    app = fixed_app(budget=1.0)
    async with running(app, (140, 36)):
        assert str(app.monitor.query_one("#budgets", Static).render()).endswith("of $1.00 reached")


async def test_the_detail_screen_shows_the_day_and_the_agents_budget() -> None:
    config = AlarmConfig(budget_day_usd=2.0, budget_agent_usd=1.0)
    app = fixed_app(config=config)
    async with running(app, (140, 40)) as pilot:
        app.push_screen(DetailScreen(app.feed, "agent", "researcher"))
        await pilot.pause()
        text = str(app.screen.query_one("#detail-budgets", Static).render())
        lines = text.splitlines()
        assert sorted(line.split(" ▕")[0] for line in lines) == ["agent researcher", "day"]
        assert all("/min" in line or "reached" in line for line in lines)
