"""Alarm scenarios: each rule fires at the record it should, normal traffic raises nothing, episodes do not flap."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from llmcost.engine import AlarmConfig, AlarmEvent, Engine, load_alarm_config
from llmcost.log._record import Record
from pricing import load_catalog
from tests._traces import T0, rec


@pytest.fixture
def engine(mini_catalog_path: Path) -> Engine:
    return Engine(catalog=load_catalog(mini_catalog_path, overrides=False), clock=lambda: T0)


def feed(engine: Engine, records: list[Record]) -> list[AlarmEvent]:
    """Feed one record at a time; every event as it was reported."""
    events: list[AlarmEvent] = []
    for r in records:
        events.extend(engine.ingest([r]))
    return events


def opened(events: list[AlarmEvent], kind: str) -> list[AlarmEvent]:
    """The first report of each episode of a kind."""
    seen: dict[str, AlarmEvent] = {}
    for e in events:
        if e.kind == kind:
            seen.setdefault(e.id, e)
    return list(seen.values())


def test_burst_fires_on_the_20th_call_within_10_seconds(engine: Engine) -> None:
    calm = [rec(T0 + i * 2.0, prompt_hash=f"h{i}") for i in range(10)]
    loop = [rec(T0 + 30 + i * 0.4, prompt_hash=f"l{i}") for i in range(25)]
    events = opened(feed(engine, calm + loop), "burst")
    assert len(events) == 1
    assert events[0].detected_at == loop[19].ts
    assert events[0].started_at == loop[0].ts
    assert events[0].agent == "planner"


def test_repeat_fires_on_the_5th_identical_request(engine: Engine) -> None:
    trace = [rec(T0 + i * 7.0, prompt_hash="same" if i % 2 else f"other{i}") for i in range(12)]
    same = [r for r in trace if r.prompt_hash == "same"]
    events = opened(feed(engine, trace), "repeat")
    assert [e.detected_at for e in events] == [same[4].ts]
    assert events[0].started_at == same[0].ts


def test_error_streak_fires_on_the_5th_failure_and_on_a_third_retry(engine: Engine) -> None:
    ok = [rec(T0 + i) for i in range(3)]
    failures = [rec(T0 + 3 + i, status="error", error_type="RateLimitError") for i in range(6)]
    events = opened(feed(engine, ok + failures), "error_streak")
    assert [e.detected_at for e in events] == [failures[4].ts]
    assert events[0].started_at == failures[0].ts

    other = Engine(clock=lambda: T0)
    retries = [rec(T0 + i, agent="r", attempt=i, status="error" if i < 3 else "ok") for i in range(4)]
    events = opened(feed(other, retries), "error_streak")
    assert [e.detected_at for e in events] == [retries[3].ts]


def test_spend_rate_fires_when_the_projection_passes_the_limit(engine: Engine) -> None:
    # $0.04 a call every 3 s: $0.80 per minute projects to $48/h after 11 calls (limit $25/h: $0.4167 per minute)
    trace = [rec(T0 + i * 3.0, cost_usd=0.04, agent="spender") for i in range(15)]
    events = opened(feed(engine, trace), "spend_rate")
    per_agent = [e for e in events if e.agent == "spender"]
    assert [e.detected_at for e in per_agent] == [trace[10].ts]  # 11 x 0.04 = 0.44 > 0.4167
    assert per_agent[0].peak["usd_per_hour"] > 25


def test_call_cost_fires_on_the_expensive_call(engine: Engine) -> None:
    trace = [rec(T0 + i * 30.0, cost_usd=0.01) for i in range(5)]
    trace[3] = rec(T0 + 90.0, cost_usd=0.07)
    events = opened(feed(engine, trace), "call_cost")
    assert [e.detected_at for e in events] == [trace[3].ts]
    assert events[0].severity == "warning"
    assert events[0].peak["cost_usd"] == pytest.approx(0.07)


def test_budget_warns_at_80_percent_then_turns_critical(mini_catalog_path: Path) -> None:
    engine = Engine(config=AlarmConfig(budget_day_usd=1.0), clock=lambda: T0)
    trace = [rec(T0 + i * 60.0, cost_usd=0.03) for i in range(40)]  # crosses $0.80 at #27, $1.00 at #34
    events = [e for e in feed(engine, trace) if e.kind == "budget"]
    assert events[0].detected_at == trace[26].ts
    assert events[0].severity == "warning"
    assert events[-1].severity == "critical"
    assert len({e.id for e in events}) == 1
    budgets = engine.snapshot(now=T0 + 40 * 60).totals.budgets
    assert (budgets[0].name, budgets[0].spent_usd, budgets[0].reached) == ("day", Decimal("1.2"), True)


def test_context_growth_needs_20_growths_in_a_row(engine: Engine) -> None:
    chat = [rec(T0 + i * 20.0, session_id="chat", input_tokens=1000 + 500 * i) for i in range(19)]
    restart = [rec(T0 + 400 + i * 20.0, session_id="chat", input_tokens=800 + 900 * i) for i in range(22)]
    events = opened(feed(engine, chat + restart), "context_growth")
    assert [e.detected_at for e in events] == [restart[20].ts]
    assert events[0].started_at == restart[0].ts


def test_context_growth_fires_near_the_context_window(engine: Engine) -> None:
    trace = [
        rec(T0, session_id="big", request_model="gemini-2.5-pro", input_tokens=500_000),
        rec(T0 + 10, session_id="big", request_model="gemini-2.5-pro", input_tokens=400_000),
        rec(T0 + 20, session_id="big", request_model="gemini-2.5-pro", input_tokens=900_000),
    ]
    events = opened(feed(engine, trace), "context_growth")
    assert [e.detected_at for e in events] == [trace[2].ts]
    assert events[0].peak["context_fill"] > 0.8


def test_a_long_normal_trace_raises_nothing(engine: Engine) -> None:
    rng = random.Random(7)
    trace: list[Record] = []
    t = T0
    for _ in range(5000):
        t += rng.expovariate(1 / 3.0)  # a call every 3 s on average, 8 agents
        agent = f"agent-{rng.randrange(8)}"
        session = f"{agent}-s{rng.randrange(40)}"
        trace.append(
            rec(
                t,
                agent=agent,
                session_id=session,
                prompt_hash=f"{rng.getrandbits(64):016x}",
                input_tokens=rng.randint(200, 8000),
                cost_usd=rng.uniform(0.0001, 0.02),
                status="error" if rng.random() < 0.03 else "ok",
                attempt=1 if rng.random() < 0.03 else 0,
            )
        )
    assert feed(engine, trace) == []
    assert engine.alarms.events() == []


def test_hysteresis_one_episode_no_flapping(engine: Engine) -> None:
    # a retry loop that pauses for 30 s twice (less than the quiet period) is one episode
    t, trace = T0, []
    for _ in range(3):
        trace += [rec(t + i * 0.3) for i in range(30)]
        t += 9 + 30
    events = feed(engine, trace)
    bursts = {e.id for e in events if e.kind == "burst"}
    assert len(bursts) == 1
    assert engine.alarms.events()[0].active
    # quiet for longer than quiet_s: the episode ends, at last trigger + quiet_s
    ended = engine.tick(T0 + 10_000)
    assert [e.kind for e in ended] == ["burst"]
    assert ended[0].ended_at is not None
    # a new loop later is a new episode
    later = [rec(T0 + 20_000 + i * 0.3) for i in range(25)]
    assert len(opened(feed(engine, later), "burst")) == 1
    assert len({e.id for e in engine.alarms.events() if e.kind == "burst"}) == 2


def test_thresholds_come_from_the_config_file(isolated_home: Path) -> None:
    config = isolated_home / ".llmcost" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[alarms]\nburst_calls = 5\nbudget_day_usd = 12.5\n")
    loaded = load_alarm_config()
    assert (loaded.burst_calls, loaded.budget_day_usd, loaded.repeat_calls) == (5, 12.5, 5)
    engine = Engine(config=loaded, clock=lambda: T0)
    events = opened(feed(engine, [rec(T0 + i * 0.5) for i in range(6)]), "burst")
    assert len(events) == 1
    config.write_text("[alarms]\nburst_callz = 5\n")
    with pytest.raises(ValueError, match="burst_callz"):
        load_alarm_config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[alarms\nburst_calls = 5\n", "cannot read the configuration"),
        ("alarms = 3\n", r"\[alarms\] must be a table"),
        ('[alarms]\nburst_calls = "many"\n', "burst_calls must be a whole number"),
        ("[alarms]\nburst_calls = 2.5\n", "burst_calls must be a whole number"),
        ("[alarms]\ncall_cost_usd = true\n", "call_cost_usd must be an amount in USD"),
        ("[alarms]\nbudget_day_usd = -1\n", r"budget_day_usd must be an amount in USD from 0 \(off\)"),
    ],
)
def test_a_bad_config_file_is_one_clear_error_naming_it(isolated_home: Path, text: str, message: str) -> None:
    config = isolated_home / ".llmcost" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_alarm_config()
    assert str(info.value).startswith(str(config))


def test_whole_numbers_are_taken_where_a_number_is_expected(isolated_home: Path) -> None:
    config = isolated_home / ".llmcost" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[alarms]\ncall_cost_usd = 1\nbudget_day_usd = 20\n")
    assert (load_alarm_config().call_cost_usd, load_alarm_config().budget_day_usd) == (1, 20)
