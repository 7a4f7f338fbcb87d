"""The aggregator: groupings, exact money, pricing of unpriced records, windows, bounded memory."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from llmcost.engine import NONE, OTHER, Engine
from pricing import load_catalog
from tests._traces import T0, rec


@pytest.fixture
def engine(mini_catalog_path: Path) -> Engine:
    return Engine(catalog=load_catalog(mini_catalog_path, overrides=False), clock=lambda: T0 + 60)


def test_groupings_switch_without_rereading(engine: Engine) -> None:
    engine.ingest(
        [
            rec(T0, agent="a", request_model="gpt-4o-mini", user_id="u1", cost_usd=0.1),
            rec(T0 + 1, agent="a", request_model="gpt-4o", user_id="u2", cost_usd=0.2, status="error"),
            rec(T0 + 2, agent="b", request_model="gpt-4o", cost_usd=0.35, attempt=1, cache_read_input_tokens=400),
        ]
    )
    by_agent = engine.snapshot("agent")
    assert [(g.key, g.calls, g.cost_usd) for g in by_agent.rows] == [
        ("b", 1, Decimal("0.35")),
        ("a", 2, Decimal("0.3")),
    ]
    a = by_agent.rows[1]
    assert (a.errors, a.retries, a.input_tokens, a.output_tokens) == (1, 0, 2000, 200)
    assert by_agent.rows[0].cache_read_tokens == 400
    assert [(g.key, g.cost_usd) for g in engine.snapshot("model").rows] == [
        ("gpt-4o", Decimal("0.55")),
        ("gpt-4o-mini", Decimal("0.1")),
    ]
    assert {g.key for g in engine.snapshot("user").rows} == {"u1", "u2", NONE}
    assert [g.key for g in engine.snapshot("agent", filter="B").rows] == ["b"]
    assert [g.key for g in engine.group_split("agent", "a")] == ["gpt-4o", "gpt-4o-mini"]
    assert engine.snapshot().totals.calls == 3


def test_money_is_exact_over_many_small_costs(engine: Engine) -> None:
    engine.ingest([rec(T0 + i * 0.001, cost_usd=0.1) for i in range(1000)])
    assert engine.snapshot().rows[0].cost_usd == Decimal(100)


def test_records_without_cost_are_priced_at_their_own_date(engine: Engine) -> None:
    june1, july1 = 1748736000.0, 1751328000.0  # 2025-06-01 and 2025-07-01: two rate windows of o3
    engine.ingest(
        [
            rec(
                june1,
                request_model="o3",
                cost_usd=None,
                cost_status="no_usage",
                input_tokens=1_000_000,
                output_tokens=0,
            ),
            rec(
                july1,
                request_model="o3",
                cost_usd=None,
                cost_status="no_usage",
                input_tokens=1_000_000,
                output_tokens=0,
            ),
            rec(july1, request_model="mystery-model", cost_usd=None, cost_status="unknown_model", agent="x"),
        ]
    )
    rows = {g.key: g for g in engine.snapshot("model").rows}
    assert rows["o3"].cost_usd == Decimal(12)  # $10 + $2 per million input tokens
    assert rows["mystery-model"].unpriced_calls == 1
    assert rows["mystery-model"].unknown_models == ("mystery-model",)
    assert engine.unknown_models == {"mystery-model": 1}
    assert engine.snapshot().totals.unpriced_calls == 1
    recent = engine.recent_calls("model", "o3")
    assert [r.cost_status for r in recent] == ["priced", "priced"]


def test_a_refused_request_costs_nothing_but_a_broken_stream_is_unpriced(engine: Engine) -> None:
    failed = {"cost_usd": None, "cost_status": "no_usage", "input_tokens": None, "output_tokens": None}
    failed["status"] = "error"
    engine.ingest(
        [
            rec(agent="refused", http_status=429, **failed),
            rec(agent="broken-stream", stream=True, **failed),
            rec(agent="cancelled", **{**failed, "status": "cancelled"}),
        ]
    )
    rows = {g.key: g for g in engine.snapshot("agent").rows}
    assert (rows["refused"].unpriced_calls, rows["refused"].cost_usd) == (0, Decimal(0))
    assert rows["broken-stream"].unpriced_calls == 1
    assert rows["cancelled"].unpriced_calls == 1


def test_windows_rates_and_percentiles(engine: Engine) -> None:
    now = T0 + 60
    engine.ingest([rec(now - 600 + i, cost_usd=0.01, latency_ms=100.0 + i, ttft_ms=50.0) for i in range(600)])
    row = engine.snapshot(now=now).rows[0]
    assert row.calls_per_min[0] == pytest.approx(60, rel=0.2)
    assert row.calls_per_min[2] == pytest.approx(40, rel=0.05)  # 600 calls over a 15-minute window
    assert row.cost_per_min[0] == pytest.approx(Decimal("0.6"), rel=Decimal("0.2"))
    assert row.latency_ms.count == pytest.approx(300, abs=10)  # the 5-minute percentile window
    assert row.latency_ms.p50 == pytest.approx(550, rel=0.05)
    assert row.ttft_ms.p99 == pytest.approx(50, rel=0.03)
    totals = engine.snapshot(now=now).totals
    assert totals.cost_today == Decimal(6)
    assert len(totals.spend_per_minute) == 30


def test_session_totals_count_only_live_records(engine: Engine) -> None:
    engine.ingest([rec(T0, cost_usd=1.0)])
    engine.start_session()
    engine.ingest([rec(T0 + 1, cost_usd=0.25)])
    totals = engine.snapshot().totals
    assert (totals.cost_today, totals.cost_session) == (Decimal("1.25"), Decimal("0.25"))


def test_memory_is_bounded_by_folding_idle_sessions(engine: Engine) -> None:
    small = Engine(clock=lambda: T0, max_cells=10, max_sessions=100)
    small.ingest(
        [rec(T0 + i, agent=f"a{i % 50}", session_id=f"s{i}", user_id=f"u{i}", cost_usd=0.001) for i in range(1000)]
    )
    assert len(small._cells) <= 10
    assert len(small._side["session"]) <= 101
    assert OTHER in {g.key for g in small.snapshot("agent").rows}
    sessions = {g.key: g for g in small.snapshot("session").rows}
    assert OTHER in sessions
    assert sum(g.calls for g in sessions.values()) == 1000
    assert sum(g.cost_usd for g in small.snapshot().rows) == Decimal(1)


def test_recent_calls_daily_costs_and_alarms_for(engine: Engine) -> None:
    engine.ingest([rec(T0 - 86400 + i, cost_usd=0.5, request_model="gpt-4o") for i in range(2)])
    engine.ingest([rec(T0 + i * 0.2, cost_usd=0.001, agent="loop") for i in range(70)])
    calls = engine.recent_calls("agent", "loop", limit=10)
    assert len(calls) == 10
    assert calls[-1].ts > calls[0].ts
    days = engine.daily_costs(days=7, now=T0)
    assert [sum(d.values()) for d in days.values()] == [Decimal(1), Decimal("0.07")]
    assert [e.kind for e in engine.alarms_for("loop")] == ["burst"]
    assert engine.alarms_for("nobody") == []
    assert {g.key: g.alarm for g in engine.snapshot().rows}["loop"] == "critical"


def test_a_time_that_does_not_exist_makes_no_record() -> None:
    """The wire format's rule: ``ts`` is a real UTC time, so a record with another one cannot be made (nor decoded)."""
    for bad in ("yesterday", "2026-01-02T25:00:00.000Z", "2026-02-30T10:00:00.000Z"):
        with pytest.raises(ValueError, match=r"ISO-8601|must be in|out of range"):
            rec(T0, ts=bad)


def test_engine_api_is_sorted_and_light() -> None:
    import subprocess
    import sys

    import llmcost.engine as api

    names = list(api.__all__)
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert all(hasattr(api, n) for n in names)
    code = "import sys, llmcost.engine; print([m for m in ('textual', 'watchfiles', 'httpx') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
