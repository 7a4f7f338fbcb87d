"""Properties that hold for every model of the shipped catalog and of the test catalog."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import Catalog, Model, Usage, format_usd, load_catalog
from pricing._model import BUCKETS

FIXTURE = Path(__file__).parent / "fixtures" / "mini_catalog.toml"


def _shipped() -> Catalog:
    return load_catalog(overrides=False)  # the autouse home fixture hides any updated catalog: this is the bundled one


def _mini() -> Catalog:
    return load_catalog(FIXTURE, overrides=False)


def _token_models(catalog: Catalog) -> list[Model]:
    return [m for m in catalog.models if m.billing == "tokens" and m.windows]


CATALOGS = {"shipped": _shipped, "mini": _mini}

counts = st.integers(min_value=0, max_value=3_000_000)


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    """Inclusive usage: cache and reasoning counts are subsets of their totals."""
    cr, cw, cw1 = draw(counts), draw(counts), draw(counts)
    uncached = draw(counts)
    rs, visible = draw(counts), draw(counts)
    return Usage(
        input_tokens=uncached + cr + cw + cw1,
        output_tokens=visible + rs,
        cache_read_tokens=cr,
        cache_write_tokens=cw,
        cache_write_1h_tokens=cw1,
        reasoning_tokens=rs,
    )


def _day_inside(model: Model, data: st.DataObject) -> dt.date:
    """A day inside one of the model's windows (so the price is defined)."""
    window = data.draw(st.sampled_from(model.windows))
    start = window.effective_from or dt.date(2020, 1, 1)
    end = window.effective_until or dt.date(2030, 1, 1)
    return data.draw(st.dates(min_value=start, max_value=end - dt.timedelta(days=1)))


def _cost(catalog: Catalog, usage: Usage, model: Model, day: dt.date) -> Decimal:
    result = catalog.price(usage, model.key, model.provider, at=day)
    assert result.status == "priced", (model.key, result)
    assert result.cost_usd is not None
    return result.cost_usd


@pytest.mark.parametrize("which", CATALOGS)
@given(data=st.data(), usage=usages(), bucket=st.sampled_from(BUCKETS[:6]), extra=st.integers(1, 500_000))
def test_cost_never_falls_when_a_bucket_grows(
    which: str, data: st.DataObject, usage: Usage, bucket: str, extra: int
) -> None:
    catalog = CATALOGS[which]()
    model = data.draw(st.sampled_from(_token_models(catalog)))
    day = _day_inside(model, data)
    more = _grow(usage, bucket, extra)
    assert _cost(catalog, more, model, day) >= _cost(catalog, usage, model, day)


def _grow(u: Usage, bucket: str, n: int) -> Usage:
    """Add ``n`` tokens to one exclusive bucket, keeping the inclusive totals consistent."""
    field, total = {
        "input": (None, "input_tokens"),
        "cache_read": ("cache_read_tokens", "input_tokens"),
        "cache_write_5m": ("cache_write_tokens", "input_tokens"),
        "cache_write_1h": ("cache_write_1h_tokens", "input_tokens"),
        "output": (None, "output_tokens"),
        "reasoning": ("reasoning_tokens", "output_tokens"),
    }[bucket]
    changes = {total: getattr(u, total) + n}
    if field:
        changes[field] = getattr(u, field) + n
    return u._replace(**changes)


@pytest.mark.parametrize("which", CATALOGS)
def test_zero_usage_costs_zero(which: str) -> None:
    catalog = CATALOGS[which]()
    for model in _token_models(catalog):
        for window in model.windows:
            day = window.effective_from or dt.date(2020, 1, 1)
            if not window.request_fee:
                assert _cost(catalog, Usage(), model, day) == 0, model.key


@pytest.mark.parametrize("which", CATALOGS)
@given(data=st.data(), usage=usages())
def test_cost_is_exactly_tokens_times_rates(which: str, data: st.DataObject, usage: Usage) -> None:
    catalog = CATALOGS[which]()
    model = data.draw(st.sampled_from(_token_models(catalog)))
    day = _day_inside(model, data)
    window = catalog.window_for(model, day)
    assert window is not None
    rates = window.rates_for(usage.input_tokens).as_tuple()
    with decimal.localcontext() as ctx:
        ctx.prec = 60  # wide enough that nothing below rounds
        expected = sum(
            (Decimal(n) * r / Decimal(1_000_000) for n, r in zip(usage.exclusive(), rates)), window.request_fee
        )
    result = catalog.price(usage, model.key, model.provider, at=day)
    assert result.cost_usd == expected
    assert sum(result.breakdown.values()) == expected


@pytest.mark.parametrize("which", CATALOGS)
def test_windows_never_overlap(which: str) -> None:
    for model in CATALOGS[which]().models:
        for before, after in zip(model.windows, model.windows[1:]):
            assert before.effective_until is not None, model.key
            assert after.effective_from is not None, model.key
            assert before.effective_until <= after.effective_from, model.key
        for w in model.windows:
            if w.effective_from and w.effective_until:
                assert w.effective_from < w.effective_until, model.key


@pytest.mark.parametrize("which", CATALOGS)
def test_no_name_matches_two_models(which: str) -> None:
    catalog = CATALOGS[which]()
    assert catalog.name_conflicts() == []
    owners: dict[str, str] = {}
    for model in catalog.models:
        for name in model.names():
            assert owners.setdefault(name.lower(), model.key) == model.key
            assert catalog.resolve(name) is model


@pytest.mark.parametrize("which", CATALOGS)
@given(data=st.data())
def test_decorated_names_resolve_to_the_same_model(which: str, data: st.DataObject) -> None:
    catalog = CATALOGS[which]()
    model = data.draw(st.sampled_from(catalog.models))
    name = data.draw(st.sampled_from(model.names()))
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in name)
    decorated = data.draw(st.sampled_from([cased, f"{model.provider}/{cased}", f"openrouter-free/{cased}"]))
    assert catalog.resolve(decorated, model.provider) is model


def test_format_usd_is_exact_beyond_the_decimal_context_precision() -> None:
    # 47 significant digits: more than the default context's 28, which abs() or + would round to.
    amount = Decimal("11111111111111111111111111111111111.123456789012")
    assert format_usd(amount) == "$11,111,111,111,111,111,111,111,111,111,111,111.123456789012"
    assert format_usd(amount.copy_negate()) == "-$11,111,111,111,111,111,111,111,111,111,111,111.123456789012"
