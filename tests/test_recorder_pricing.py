"""The recorder's memoised rate plans price exactly as ``Catalog.price`` does, and follow a changed catalog."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmcost
import llmcost.recorder._call
import llmcost.recorder._line
import pricing
from llmcost.log._writer import reset_warnings
from llmcost.recorder._usage import ReportedUsage

FIXTURE = Path(__file__).parent / "fixtures" / "mini_catalog.toml"
counts = st.integers(min_value=0, max_value=3_000_000)
#: 2024-01-01 .. 2027-01-01: before, inside and after the dated windows of both catalogs.
instants = st.floats(min_value=1_704_067_200.0, max_value=1_798_761_600.0)


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


def _catalogs() -> dict[str, pricing.Catalog]:
    return {"shipped": pricing.load_catalog(overrides=False), "mini": pricing.load_catalog(FIXTURE, overrides=False)}


def _names(catalog: pricing.Catalog) -> list[tuple[str, str | None]]:
    """Every token-priced model under its id, its id with provider, and its aliases (the names callers send)."""
    out: list[tuple[str, str | None]] = []
    for m in catalog.models:
        if m.billing == "tokens" and m.windows:
            out += [(m.id, None), (m.id, m.provider), *((alias, m.provider) for alias in m.aliases)]
    return out


@st.composite
def usages(draw: st.DrawFn) -> tuple[ReportedUsage, pricing.Usage]:
    """The same inclusive usage as the recorder holds it and as ``pricing.Usage`` (one-hour cache writes in about
    half of them: the recorder prices the others with its own arithmetic)."""
    cr, cw, uncached, rs, visible = (draw(counts) for _ in range(5))
    cw1 = draw(st.one_of(st.just(0), counts))
    u = ReportedUsage()
    u.input_tokens, u.output_tokens = uncached + cr + cw + cw1, visible + rs
    u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning = cr, cw + cw1, cw1, rs
    u.source = "provider"
    return u, pricing.Usage(uncached + cr + cw + cw1, visible + rs, cr, cw, cw1, rs)


@pytest.mark.parametrize("which", ["shipped", "mini"])
@given(data=st.data(), at=instants)
def test_rate_plan_prices_like_catalog_price(which: str, data: st.DataObject, at: float) -> None:
    catalog = _catalogs()[which]
    name, provider = data.draw(st.sampled_from(_names(catalog)))
    extracted, usage = data.draw(usages())
    plan, since, until = catalog.rate_plan(name, provider, at)
    price = catalog.price(usage, name, provider, at=at)
    assert since <= at < until
    if plan is None:  # no window at ``at``, or rates beyond whole pico-dollars: Catalog.price decides
        return
    u = extracted
    total = plan.pico_total(u.input_tokens, u.output_tokens, u.cache_read, u.cache_write, u.cache_write_1h, u.reasoning)
    assert Decimal(total).scaleb(-12) == price.cost_usd
    assert total / 10**12 == float(price.cost_usd)  # the float on the wire: correctly rounded either way
    assert plan.ref == price.price_ref


@pytest.mark.parametrize("which", ["shipped", "mini"])
@given(data=st.data())
def test_recorded_cost_is_catalog_price_for_any_usage(which: str, data: st.DataObject) -> None:
    """The line says what ``Catalog.price`` says, whichever way the recorder priced it: its own arithmetic for the
    common case, the plan's ``pico_total`` (one-hour writes, long-context tiers), ``Catalog.price`` otherwise."""
    catalog = _catalogs()[which]
    name, provider = data.draw(st.sampled_from(_names(catalog)))
    reported, usage = data.draw(usages())
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog)
    for _ in range(2):  # the second call takes the memoised plan
        with tracker.trace(name, provider) as call:
            call.set_usage(
                reported.input_tokens,
                reported.output_tokens,
                cache_read_input_tokens=reported.cache_read,
                cache_creation_input_tokens=reported.cache_write,
                cache_creation_1h_input_tokens=reported.cache_write_1h,
                reasoning_output_tokens=reported.reasoning,
            )
    for rec in tracker.records:
        price = catalog.price(usage, name, provider, at=llmcost.log.epoch(rec.ts))
        assert rec.cost_usd == (None if price.cost_usd is None else float(price.cost_usd))
        assert (rec.cost_status, rec.price_ref) == (price.status, price.price_ref)


@pytest.mark.parametrize("which", ["shipped", "mini"])
@given(data=st.data(), at=instants)
def test_rate_plan_holds_over_its_whole_range(which: str, data: st.DataObject, at: float) -> None:
    catalog = _catalogs()[which]
    name, provider = data.draw(st.sampled_from(_names(catalog)))
    plan, since, until = catalog.rate_plan(name, provider, at)
    for edge in (since, math.nextafter(until, -math.inf)):
        if math.isfinite(edge):
            assert catalog.rate_plan(name, provider, edge)[0] is plan


def test_window_change_is_seen_on_the_day_it_happens() -> None:
    catalog = pricing.load_catalog(FIXTURE, overrides=False)
    change = 1_749_513_600.0  # 2025-06-10T00:00:00Z: o3's second window starts
    before, _, until = catalog.rate_plan("o3", "openai", change - 1)
    after, since, _ = catalog.rate_plan("o3", "openai", change)
    assert (until, since) == (change, change)
    assert before is not None
    assert after is not None
    assert before.ref != after.ref


def test_region_multiplier_and_unknown_take_catalog_price() -> None:
    catalog = pricing.load_catalog(FIXTURE, overrides=False)
    at = time.time()
    assert catalog.rate_plan("gpt-4o-mini", "openai", at)[0] is not None
    assert catalog.rate_plan("us.anthropic.claude-3-haiku-20240307-v1:0", "aws", at)[0] is None
    assert catalog.rate_plan("no-such-model", "openai", at)[0] is None


@pytest.fixture
def mini() -> pricing.Catalog:
    return pricing.load_catalog(FIXTURE, overrides=False)


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o-mini", "openai"),
        ("claude-sonnet-4-5", "anthropic"),
        ("gemini-2.5-pro", "google"),
        ("us.anthropic.claude-3-haiku-20240307-v1:0", "aws"),
    ],
)
@pytest.mark.parametrize("tokens", [1_000, 250_000])
def test_recorded_cost_equals_catalog_price(mini: pricing.Catalog, model: str, provider: str, tokens: int) -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=mini)
    with tracker.scope() as scope:
        for _ in range(3):  # the first call fills the memo, the next ones use it
            with tracker.trace(model, provider) as call:
                call.set_usage(
                    tokens,
                    700,
                    cache_read_input_tokens=tokens // 4,
                    cache_creation_input_tokens=tokens // 5,
                    cache_creation_1h_input_tokens=tokens // 10,
                    reasoning_output_tokens=70,
                )
    usage = pricing.Usage(tokens, 700, tokens // 4, tokens // 5 - tokens // 10, tokens // 10, 70)
    expected = mini.price(usage, model, provider)
    records = tracker.records
    assert [r.cost_usd for r in records] == [float(expected.cost_usd)] * 3  # type: ignore[arg-type]
    assert {(r.cost_status, r.price_ref) for r in records} == {("priced", expected.price_ref)}
    assert scope.cost_usd == 3 * expected.cost_usd  # type: ignore[operator]


def test_impossible_usage_is_counted_not_priced(mini: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=mini)

    def impossible() -> None:
        with tracker.trace("gpt-4o-mini", "openai") as call:
            call.set_usage(10, 5, cache_read_input_tokens=20)

    with pytest.warns(llmcost.RecorderWarning, match="cannot price"):
        impossible()
    impossible()  # warned once, counted every time
    assert [r.cost_usd for r in tracker.records] == [None, None]
    assert tracker.stats.pricing_errors == 2


@pytest.mark.parametrize(
    "counts",
    [
        {"input_tokens": -1, "output_tokens": 5},
        {"input_tokens": 10, "output_tokens": -1},
        {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": -1},
        {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": -1},
        {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_creation_input_tokens": 4,
            "cache_creation_1h_input_tokens": -1,
        },
        {"input_tokens": 10, "output_tokens": 5, "reasoning_output_tokens": -1},
        {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 6, "cache_creation_input_tokens": 6},
        {"input_tokens": 10, "output_tokens": 5, "reasoning_output_tokens": 6},
    ],
)
def test_every_impossible_count_is_refused(mini: pricing.Catalog, counts: dict[str, Any]) -> None:
    """A negative count is refused as it comes in (recorded as unknown); a subset larger than its total when the call
    is priced. Either way the call is not priced: an unknown count priced as zero would understate the cost."""
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=mini)
    with (
        pytest.warns(llmcost.RecorderWarning, match="cannot price|not a whole number"),
        tracker.trace("gpt-4o-mini", "openai") as call,
    ):
        call.set_usage(**counts)
    (rec,) = tracker.records
    assert (rec.cost_usd, rec.cost_status) == (None, "no_usage")
    negative = [name for name, value in counts.items() if value < 0 and name != "cache_creation_1h_input_tokens"]
    for name in negative:
        assert getattr(rec, name) is None
    if negative:
        assert rec.usage_source == "partial"


def test_catalog_change_reaches_the_memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalog.toml"
    text = FIXTURE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    clock = [1000.0]
    # One clock for the calls and the recorder: a call's latency and the catalog's re-check both read it.
    monkeypatch.setattr(llmcost.recorder._line, "_perf", lambda: clock[0])
    monkeypatch.setattr(llmcost.recorder._call, "_perf", lambda: clock[0])
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=path)

    def cost() -> float | None:
        with tracker.trace("gpt-4o-mini", "openai") as call:
            call.set_usage(1_000_000, 0)
        return tracker.records[-1].cost_usd

    assert cost() == 0.15
    path.write_text(text.replace("input_mtok = 0.15", "input_mtok = 0.175"), encoding="utf-8")
    assert cost() == 0.15  # re-checked every 30 s, not on every call
    clock[0] += 31
    assert cost() == 0.175


def test_set_usage_fills_every_usage_field(mini: pricing.Catalog) -> None:
    """``set_usage`` builds its usage without ``ReportedUsage.__init__``: every field must still be readable."""
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=mini)
    call = tracker.trace("gpt-4o-mini", "openai")
    call.set_usage(10, 5)
    usage = call.usage
    assert usage is not None
    assert {name: getattr(usage, name) for name in ReportedUsage.FIELDS} == {
        "billing": None,
        "cache_read": None,
        "cache_write": None,
        "cache_write_1h": None,
        "gpu_seconds": None,
        "input_tokens": 10,
        "output_tokens": 5,
        "reasoning": None,
        "response_id": None,
        "response_model": None,
        "source": "provider",
    }


def test_a_call_begun_with_only_some_attribution_gets_defaults_for_the_rest(mini: pricing.Catalog) -> None:
    """Integrations hand ``begin`` the attribution they have and set no request details: the line gets the
    defaults for the rest."""
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=mini)
    call = tracker.begin("gpt-4o-mini", "openai", llmcost.Attribution(agent="a1"))
    call.set_usage(10, 5)
    call.finish()
    (rec,) = tracker.records
    assert (rec.agent, rec.source, rec.operation, rec.stream, rec.attempt, rec.tags) == (
        "a1",
        "sdk",
        "chat",
        False,
        0,
        None,
    )
    assert tracker.stats.internal_errors == 0
