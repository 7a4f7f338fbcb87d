"""Service tiers, batch and tool fees, priced by hand from ``tests/fixtures/tiers_catalog.toml``.

Each expected figure is the arithmetic a person does with the provider's price table: tokens × USD per million
tokens at the tier's rates (or the standard rates × the stated multiplier), plus uses × the tool fee.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pricing
from pricing import Catalog, ImpossibleUsage, Usage
from pricing._load import parse_document, validate_document
from pricing._sources import dump

FIXTURE = Path(__file__).parent / "fixtures" / "tiers_catalog.toml"
M = Decimal(1_000_000)
K = Decimal(1000)


def usd(*terms: tuple[int, str]) -> Decimal:
    """Sum of tokens × rate (USD per million tokens)."""
    return sum((Decimal(tokens) * Decimal(rate) / M for tokens, rate in terms), Decimal(0))


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return pricing.load_catalog(FIXTURE, overrides=False)


NOW = "2026-12-01"
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Decimal]] = [
    # (case, model, usage, price() options, expected USD)
    (
        "OpenAI priority: the model's own published rates",
        "gpt-4o",
        {"input_tokens": 10_000, "output_tokens": 1_000, "cache_read_tokens": 4_000},
        {"tier": "priority"},
        usd((6_000, "4.25"), (4_000, "2.125"), (1_000, "17")),
    ),
    (
        "OpenAI flex: the model's own rates win over the provider's multiplier",
        "gpt-5",
        {"input_tokens": 10_000, "output_tokens": 1_000, "cache_read_tokens": 4_000},
        {"tier": "flex"},
        usd((6_000, "0.625"), (4_000, "0.0625"), (1_000, "5")),
    ),
    (
        "OpenAI flex where the model publishes none: the provider's 50 %",
        "o3",
        {"input_tokens": 10_000, "output_tokens": 1_000},
        {"tier": "flex"},
        usd((10_000, "2"), (1_000, "8")) / 2,
    ),
    (
        "tier names are read case-insensitively",
        "gpt-4o",
        {"input_tokens": 1_000, "output_tokens": 100},
        {"tier": " Priority "},
        usd((1_000, "4.25"), (100, "17")),
    ),
    (
        "default is the standard rates",
        "gpt-4o",
        {"input_tokens": 1_000, "output_tokens": 100},
        {"tier": "default"},
        usd((1_000, "2.5"), (100, "10")),
    ),
    (
        "scale is declared at the standard rates",
        "gpt-4o",
        {"input_tokens": 1_000, "output_tokens": 100},
        {"tier": "scale"},
        usd((1_000, "2.5"), (100, "10")),
    ),
    (
        "batch with rates of its own: cached input keeps its standard rate",
        "o3",
        {"input_tokens": 10_000, "output_tokens": 1_000, "cache_read_tokens": 4_000},
        {"batch": True},
        usd((6_000, "1"), (4_000, "0.5"), (1_000, "4")),
    ),
    (
        "batch as the provider's multiplier",
        "gpt-4o",
        {"input_tokens": 10_000, "output_tokens": 1_000, "cache_read_tokens": 4_000},
        {"batch": True},
        usd((6_000, "2.5"), (4_000, "1.25"), (1_000, "10")) / 2,
    ),
    (
        "Anthropic reports batch requests as a service tier",
        "claude-sonnet-4-5",
        {"input_tokens": 10_000, "output_tokens": 1_000, "cache_write_tokens": 2_000},
        {"tier": "batch"},
        usd((8_000, "3"), (2_000, "3.75"), (1_000, "15")) / 2,
    ),
    (
        "Anthropic fast mode: rates of its own",
        "claude-opus-5",
        {"input_tokens": 10_000, "output_tokens": 1_000, "cache_write_1h_tokens": 2_000},
        {"tier": "fast"},
        usd((8_000, "10"), (2_000, "20"), (1_000, "50")),
    ),
    (
        "Gemini priority: 1.8 × standard, long-context tier included",
        "gemini-2.5-pro",
        {"input_tokens": 300_000, "output_tokens": 1_000},
        {"tier": "priority"},
        usd((300_000, "2.5"), (1_000, "15")) * Decimal("1.8"),
    ),
    (
        "a tier's own long-context rates",
        "gpt-5.4",
        {"input_tokens": 300_000, "output_tokens": 1_000},
        {"tier": "priority"},
        usd((300_000, "10"), (1_000, "45")),
    ),
    (
        "below the threshold a tier's base rates",
        "gpt-5.4",
        {"input_tokens": 272_000, "output_tokens": 1_000},
        {"tier": "priority"},
        usd((272_000, "5"), (1_000, "30")),
    ),
    (
        "batch on top of a tier's own rates multiplies them",
        "gpt-4o",
        {"input_tokens": 1_000, "output_tokens": 100},
        {"tier": "priority", "batch": True},
        usd((1_000, "4.25"), (100, "17")) / 2,
    ),
    (
        "region × tier multipliers",
        "us.anthropic.claude-3-haiku-20240307-v1:0",
        {"input_tokens": 1_000, "output_tokens": 100},
        {"tier": "flex"},
        usd((1_000, "0.25"), (100, "1.25")) * Decimal("0.55"),
    ),
    (
        "OpenAI web search: per 1,000 calls, per model",
        "gpt-5",
        {"input_tokens": 1_000, "output_tokens": 100, "web_search_requests": 3},
        {},
        usd((1_000, "1.25"), (100, "10")) + 3 * Decimal(10) / K,
    ),
    (
        "OpenAI file search and code interpreter: the provider's fees",
        "gpt-4o",
        {"input_tokens": 1_000, "output_tokens": 100, "file_search_calls": 2, "code_interpreter_sessions": 1},
        {"at": "2026-06-30"},
        usd((1_000, "2.5"), (100, "10")) + 2 * Decimal("2.5") / K + Decimal("0.03"),
    ),
    (
        "the provider's fee in force on the call's day",
        "gpt-4o",
        {"input_tokens": 1_000, "output_tokens": 100, "code_interpreter_sessions": 1},
        {"at": "2026-07-01"},
        usd((1_000, "2.5"), (100, "10")) + Decimal("0.05"),
    ),
    (
        "Anthropic web search and free web fetch",
        "claude-sonnet-4-5",
        {"input_tokens": 1_000, "output_tokens": 100, "web_search_requests": 2, "web_fetch_requests": 5},
        {},
        usd((1_000, "3"), (100, "15")) + 2 * Decimal(10) / K,
    ),
    (
        "tool fees are not multiplied by batch",
        "claude-sonnet-4-5",
        {"input_tokens": 1_000, "output_tokens": 100, "web_search_requests": 2},
        {"batch": True},
        usd((1_000, "3"), (100, "15")) / 2 + 2 * Decimal(10) / K,
    ),
    (
        "Gemini 2.5 grounding: per grounded prompt, searches not billed",
        "gemini-2.5-pro",
        {"input_tokens": 1_000, "output_tokens": 100, "grounded_prompts": 1, "web_search_requests": 4},
        {},
        usd((1_000, "1.25"), (100, "10")) + Decimal(35) / K,
    ),
    (
        "Gemini 3 grounding: per search query",
        "gemini-3-pro-preview",
        {"input_tokens": 1_000, "output_tokens": 100, "grounded_prompts": 1, "web_search_requests": 4},
        {},
        usd((1_000, "2"), (100, "12")) + 4 * Decimal(14) / K,
    ),
]


@pytest.mark.parametrize(("case", "model", "usage", "options", "expected"), CASES, ids=[c[0] for c in CASES])
def test_priced_by_hand(
    cat: Catalog, case: str, model: str, usage: dict[str, Any], options: dict[str, Any], expected: Decimal
) -> None:
    options = {"at": NOW, **options}
    result = cat.price(Usage(**usage), model, **options)
    assert (result.status, result.notes) == ("priced", ()), case
    assert result.cost_usd == expected, case


@pytest.mark.parametrize(("case", "model", "usage", "options", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_breakdown_adds_up(
    cat: Catalog, case: str, model: str, usage: dict[str, Any], options: dict[str, Any], expected: Decimal
) -> None:
    """Token, request and GPU lines × the multiplier, plus the tool lines, is the cost."""
    result = cat.price(Usage(**usage), model, **{"at": NOW, **options})
    lines = result.breakdown
    tools = [t.bucket for t in pricing.TOOLS]
    used = {t.bucket for t in pricing.TOOLS if usage.get(t.counter)}
    assert {k for k in lines if k in tools} == used
    tokens = sum((v for k, v in lines.items() if k not in tools), Decimal(0))
    assert tokens * result.multiplier + sum((lines[k] for k in used), Decimal(0)) == result.cost_usd


def test_the_price_says_which_tier_and_batch_it_applied(cat: Catalog) -> None:
    u = Usage(input_tokens=1000, output_tokens=100)
    priority = cat.price(u, "gpt-4o", at=NOW, tier="priority")
    assert (priority.service_tier, priority.batch) == ("priority", False)
    assert priority.price_ref == "2026.12.01:openai/gpt-4o@2024-08-06#priority"
    both = cat.price(u, "gpt-4o", at=NOW, tier="priority", batch=True)
    assert (both.service_tier, both.batch, both.multiplier) == ("priority", True, Decimal("0.5"))
    assert both.price_ref.endswith("#priority#batch")  # type: ignore[union-attr]
    standard = cat.price(u, "gpt-4o", at=NOW, tier="default")
    assert (standard.service_tier, standard.batch, standard.price_ref) == (
        None,
        False,
        "2026.12.01:openai/gpt-4o@2024-08-06",
    )


def test_an_unknown_tier_is_priced_at_standard_rates_and_says_so(cat: Catalog) -> None:
    u = Usage(input_tokens=1000, output_tokens=100)
    result = cat.price(u, "gpt-4o", at=NOW, tier="ultra")
    assert result.cost_usd == cat.price(u, "gpt-4o", at=NOW).cost_usd
    assert (result.status, result.service_tier) == ("priced", None)
    assert result.notes == ("service tier 'ultra' has no published price for openai/gpt-4o: priced at standard rates",)
    assert result.to_dict()["notes"] == list(result.notes)


def test_a_tier_the_model_does_not_publish_is_noted(cat: Catalog) -> None:
    """Anthropic publishes no per-token Priority Tier price: standard rates, with a note."""
    result = cat.price(Usage(input_tokens=1000, output_tokens=100), "claude-sonnet-4-5", at=NOW, tier="priority")
    assert result.cost_usd == usd((1000, "3"), (100, "15"))
    assert "priced at standard rates" in result.notes[0]


def test_batch_where_none_is_published_is_noted(cat: Catalog) -> None:
    result = cat.price(Usage(input_tokens=1000, output_tokens=100), "claude-3-haiku", "aws", at=NOW, batch=True)
    assert result.status == "unknown_model"
    result = cat.price(
        Usage(input_tokens=1000, output_tokens=100), "anthropic.claude-3-haiku-20240307-v1:0", at=NOW, batch=True
    )
    assert result.cost_usd == usd((1000, "0.25"), (100, "1.25"))
    assert (result.batch, result.notes) == (
        False,
        ("no batch price published for aws/anthropic.claude-3-haiku-20240307-v1:0: priced at standard rates",),
    )


def test_a_long_input_beyond_the_tiers_own_rates_is_noted(cat: Catalog) -> None:
    """gpt-5.4 flex publishes no long-context rates: above 272k the standard long-context rates, with a note."""
    long = cat.price(Usage(input_tokens=300_000, output_tokens=1000), "gpt-5.4", at=NOW, tier="flex")
    assert long.cost_usd == usd((300_000, "5"), (1000, "22.5"))
    assert long.notes
    assert "no long-context price published for the flex rates" in long.notes[0]
    short = cat.price(Usage(input_tokens=1000, output_tokens=1000), "gpt-5.4", at=NOW, tier="flex")
    assert (short.cost_usd, short.notes) == (usd((1000, "1.25"), (1000, "7.5")), ())


def test_a_tool_without_a_published_fee_is_not_counted_and_is_noted(cat: Catalog) -> None:
    result = cat.price(Usage(input_tokens=1000, output_tokens=100, web_search_requests=2), "o3", at="2025-05-01")
    assert result.cost_usd == usd((1000, "10"), (100, "40")) + 2 * Decimal(10) / K  # o3's window states a fee
    result = cat.price(
        Usage(input_tokens=1000, output_tokens=100, code_interpreter_sessions=1), "gpt-4o", at="2025-01-01"
    )
    assert result.cost_usd == usd((1000, "2.5"), (100, "10"))  # before the provider's first tool window
    assert result.notes == ("1 code_interpreter_sessions with no published fee for openai/gpt-4o: not priced",)
    assert result.breakdown["code_interpreter"] == 0


def test_a_fee_of_zero_is_a_price_not_a_gap(cat: Catalog) -> None:
    result = cat.price(Usage(input_tokens=10, output_tokens=1, web_fetch_requests=3), "claude-sonnet-4-5", at=NOW)
    assert (result.notes, result.breakdown["web_fetch"]) == ((), Decimal(0))


@pytest.mark.parametrize("counter", [t.counter for t in pricing.TOOLS])
def test_a_negative_tool_count_is_impossible(cat: Catalog, counter: str) -> None:
    with pytest.raises(ImpossibleUsage, match=counter):
        cat.price(Usage(input_tokens=10, output_tokens=1, **{counter: -1}), "gpt-5", at=NOW)


def test_tool_fees_of_a_model(cat: Catalog) -> None:
    fees = cat.tool_fees(cat.find("gpt-5"), "2026-12-01")
    assert fees == {
        "web_search_requests": Decimal("0.01"),
        "file_search_calls": Decimal("0.0025"),
        "code_interpreter_sessions": Decimal("0.05"),
    }


# -- the rate plan the recorder memoises agrees with Catalog.price -----------------------------------------------

counts = st.integers(min_value=0, max_value=400_000)
tools = st.integers(min_value=0, max_value=5)
instants = st.floats(min_value=1_704_067_200.0, max_value=1_798_761_600.0)  # 2024-01-01 .. 2027-01-01
TIERS = [None, "flex", "priority", "scale", "default", "fast", "batch", "ultra"]


def _names(catalog: Catalog) -> list[tuple[str, str | None]]:
    return [(m.id, m.provider) for m in catalog.models if m.billing == "tokens" and m.windows]


@pytest.mark.parametrize("which", ["fixture", "shipped"])
@given(data=st.data(), at=instants)
def test_rate_plan_prices_tiers_and_tools_like_catalog_price(which: str, data: st.DataObject, at: float) -> None:
    catalog = pricing.load_catalog(FIXTURE if which == "fixture" else None, overrides=False)
    name, provider = data.draw(st.sampled_from(_names(catalog)))
    tier, batch = data.draw(st.sampled_from(TIERS)), data.draw(st.booleans())
    cr, cw, cw1, uncached, rs, visible = (data.draw(counts) for _ in range(6))
    used = [data.draw(tools) for _ in pricing.TOOLS]
    usage = Usage(uncached + cr + cw + cw1, visible + rs, cr, cw, cw1, rs, None, 1, *used)
    plan, since, until = catalog.rate_plan(name, provider, at, tier=tier, batch=batch)
    price = catalog.price(usage, name, provider, at=at, tier=tier, batch=batch)
    assert since <= at < until
    if plan is None:
        return
    total = plan.pico_total(usage.input_tokens, usage.output_tokens, cr, cw + cw1, cw1, rs, *used)
    if total == -1:  # Catalog.price has something to say: a tool without a fee, a long input without tier rates
        assert price.notes
        return
    assert price.notes == ()
    assert Decimal(total).scaleb(-12) == price.cost_usd
    assert plan.ref == price.price_ref
    for edge in (since, math.nextafter(until, -math.inf)):
        if math.isfinite(edge):
            assert catalog.rate_plan(name, provider, edge, tier=tier, batch=batch)[0] is plan


def test_rate_plan_declines_what_needs_a_note(cat: Catalog) -> None:
    at = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc).timestamp()
    assert cat.rate_plan("gpt-4o", "openai", at, tier="priority")[0] is not None
    assert cat.rate_plan("gpt-4o", "openai", at, tier="ultra")[0] is None
    assert cat.rate_plan("anthropic.claude-3-haiku-20240307-v1:0", "aws", at, batch=True)[0] is None


def test_rate_plan_range_ends_where_the_providers_tool_fee_changes(cat: Catalog) -> None:
    change = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc).timestamp()
    before, _, until = cat.rate_plan("gpt-4o", "openai", change - 1)
    after, since, _ = cat.rate_plan("gpt-4o", "openai", change)
    assert (until, since) == (change, change)
    assert before is not None
    assert after is not None
    assert before.pico_total(10, 1, 0, 0, 0, 0, 0, 0, 0, 1) != after.pico_total(10, 1, 0, 0, 0, 0, 0, 0, 0, 1)


# -- schema ------------------------------------------------------------------------------------------------------


def test_the_fixture_round_trips_through_the_writer() -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    doc = parse_document(text)
    assert validate_document(doc) == []
    assert parse_document(dump(doc)) == doc


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("service_tiers = { flex = -0.5 }", "service tier 'flex' must be a non-negative multiplier"),
        ('service_tiers = { flex = "half" }', "service tier 'flex' must be a non-negative multiplier"),
        ("batch = -1", "batch must be a non-negative"),
    ],
)
def test_bad_provider_multipliers_are_refused(snippet: str, problem: str) -> None:
    doc = parse_document(f'schema_version = 1\ncatalog_version = "2026.01.01"\n[[providers]]\nid = "x"\n{snippet}\n')
    assert any(problem in e for e in validate_document(doc)), validate_document(doc)


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("web_search_per_1k = -10", "web_search_per_1k cannot be negative"),
        ('code_interpreter_per_session = "0.03"', "code_interpreter_per_session must be a number"),
        ("[providers.models.prices.service_tiers.flex]\ninput_mtok = -1", "input_mtok cannot be negative"),
        ("[providers.models.prices.service_tiers.flex]\nsource = 'x'", "a table of rates needs at least one rate"),
        ("batch = -0.5", "must be a non-negative multiplier or a table of rates"),
        (
            "[providers.models.prices.batch]\ninput_mtok = 1\n[[providers.models.prices.batch.tiers]]\n"
            "above_input_tokens = 'big'\ninput_mtok = 2",
            "needs an ascending integer above_input_tokens",
        ),
    ],
)
def test_bad_window_prices_are_refused(snippet: str, problem: str) -> None:
    text = (
        'schema_version = 1\ncatalog_version = "2026.01.01"\n[[providers]]\nid = "x"\n[[providers.models]]\n'
        'id = "m"\n[[providers.models.prices]]\nsource = "s"\nchecked = 2026-01-01\ninput_mtok = 1\n'
        f"output_mtok = 2\n{snippet}\n"
    )
    errors = validate_document(parse_document(text))
    assert any(problem in e for e in errors), errors


def test_tool_windows_must_not_overlap() -> None:
    text = (
        'schema_version = 1\ncatalog_version = "2026.01.01"\n[[providers]]\nid = "x"\n'
        "[[providers.tools]]\neffective_from = 2026-01-01\nsource = 's'\nchecked = 2026-01-01\nweb_search_per_1k = 10\n"
        "[[providers.tools]]\neffective_from = 2026-02-01\nsource = 's'\nchecked = 2026-01-01\nweb_search_per_1k = 5\n"
    )
    errors = validate_document(parse_document(text))
    assert any("window 0 is open-ended but window 1 follows it" in e for e in errors), errors
