"""The source adapters (genai-prices, LiteLLM, OpenRouter) on small fixtures in each source's shape, and the
catalog writer."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pricing
from pricing._model import RATE_KEYS
from pricing._sources import dump, genai_prices, litellm, openrouter
from pricing._sources._doc import number, per_mtok
from tests._catalog_docs import model, provider

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

FIX = Path(__file__).parent / "fixtures" / "sources"
TODAY = dt.date(2026, 8, 21)


def ids(doc: dict[str, Any]) -> set[str]:
    return {f"{p['id']}/{m['id']}" for p in doc["providers"] for m in p["models"]}


def round_trips(doc: dict[str, Any]) -> None:
    text = dump(doc)
    assert tomllib.loads(text, parse_float=Decimal) == doc
    assert dump(tomllib.loads(text, parse_float=Decimal)) == text
    assert pricing.validate_document(doc) == []
    pricing.Catalog(doc)  # loads, and no name is ambiguous


# -- genai-prices ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def genai() -> tuple[dict[str, Any], list[str]]:
    return genai_prices.convert((FIX / "genai_prices.json").read_bytes(), today=TODAY)


def test_genai_dated_prices_become_windows(genai: tuple[dict[str, Any], list[str]]) -> None:
    o3 = model(genai[0], "openai", "o3")
    assert o3["aliases"] == ["o3-2025-04-16"]
    assert o3["context_window"] == 200000
    first, second = o3["prices"]
    assert "effective_from" not in first
    assert first["effective_until"] == second["effective_from"] == dt.date(2025, 6, 10)
    assert (first["input_mtok"], first["output_mtok"], first["cache_read_mtok"]) == (10, 40, Decimal("2.5"))
    assert (second["input_mtok"], second["output_mtok"]) == (2, 8)
    assert first["source"] == "https://openai.com/api/pricing/"
    assert first["checked"] == TODAY


def test_genai_tiers_and_cache_write(genai: tuple[dict[str, Any], list[str]]) -> None:
    (window,) = model(genai[0], "google", "gemini-2.5-pro")["prices"]
    assert (window["input_mtok"], window["cache_write_5m_mtok"]) == (Decimal("1.25"), Decimal("0.375"))
    # Every rate is written in the tier: the untiered cache write keeps its base rate rather than falling back.
    assert window["tiers"] == [
        {
            "above_input_tokens": 200000,
            "input_mtok": Decimal("2.5"),
            "cache_read_mtok": Decimal("0.25"),
            "output_mtok": 15,
            "cache_write_5m_mtok": Decimal("0.375"),
        }
    ]
    catalog = pricing.Catalog(genai[0])
    # The starts_with rule became a prefix: it covers the model's dated snapshots.
    assert catalog.price(pricing.Usage(input_tokens=200_001), "gemini-2.5-pro-20250605").cost_usd == Decimal(
        "0.5000025"
    )


def test_genai_match_rules(genai: tuple[dict[str, Any], list[str]]) -> None:
    doc, warnings = genai
    gpt = model(doc, "openai", "gpt-4o")
    assert gpt["match_prefix"] == ["gpt-4o-2024"]
    assert "aliases" not in gpt  # "equals gpt-4o" is the id itself
    assert model(doc, "xai", "grok-4-0709")["aliases"] == ["grok-4"]  # GROK-4 is the same name
    assert any("'regex' cannot be represented" in w and "openai/gpt-4o" in w for w in warnings)


def test_genai_unmapped_keys_bad_entries_and_time_of_day_are_warnings(
    genai: tuple[dict[str, Any], list[str]],
) -> None:
    doc, warnings = genai
    (window,) = model(doc, "openai", "gpt-4o")["prices"]
    assert window["request_fee"] == Decimal("0.0015")  # requests_kcount is per thousand requests
    assert any("'input_audio_mtok' not mapped" in w for w in warnings)
    assert any("broken-model" in w and "skipped" in w for w in warnings)
    assert "openai/broken-model" not in ids(doc)
    assert any("not a provider" in w for w in warnings)
    assert any("no token prices" in w and "openai/moderation" in w for w in warnings)
    # The time-of-day discount cannot be represented: the standard (higher) rate is kept.
    (chat,) = model(doc, "deepseek", "deepseek-chat")["prices"]
    assert (chat["input_mtok"], chat["output_mtok"]) == (Decimal("0.27"), Decimal("1.1"))
    assert any("time-of-day" in w and "deepseek-chat" in w for w in warnings)


def test_genai_provider_ids_and_hosts(genai: tuple[dict[str, Any], list[str]]) -> None:
    doc = genai[0]
    assert [p["id"] for p in doc["providers"]] == ["deepseek", "google", "openai", "xai"]
    assert provider(doc, "xai")["hosts"] == ["api.x.ai"]
    assert provider(doc, "deepseek")["hosts"] == ["api.deepseek.com"]
    round_trips(doc)


def test_genai_accepts_parsed_data_and_text() -> None:
    text = (FIX / "genai_prices.json").read_text()
    from_text = genai_prices.convert(text, today=TODAY)
    from_obj = genai_prices.convert(json.loads(text), today=TODAY)
    assert from_text == from_obj


# -- LiteLLM --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lite() -> tuple[dict[str, Any], list[str]]:
    return litellm.convert((FIX / "litellm.json").read_bytes(), today=TODAY)


def test_litellm_per_token_to_per_mtok_exactly(lite: tuple[dict[str, Any], list[str]]) -> None:
    gpt = model(lite[0], "openai", "gpt-4o")
    assert gpt["context_window"] == 128000
    (window,) = gpt["prices"]
    assert (window["input_mtok"], window["output_mtok"], window["cache_read_mtok"]) == (
        Decimal("2.5"),
        Decimal(10),
        Decimal("1.25"),
    )
    assert window["source"] == "https://openai.com/api/pricing/"
    (o3,) = model(lite[0], "openai", "o3")["prices"]
    assert o3["reasoning_mtok"] == 8


def test_litellm_tiers_cache_ttl_and_batch(lite: tuple[dict[str, Any], list[str]]) -> None:
    doc = lite[0]
    (window,) = model(doc, "anthropic", "claude-sonnet-4-5")["prices"]
    assert (window["cache_write_5m_mtok"], window["cache_write_1h_mtok"]) == (Decimal("3.75"), 6)
    assert window["tiers"] == [
        {
            "above_input_tokens": 200000,
            "input_mtok": 6,
            "output_mtok": Decimal("22.5"),
            "cache_read_mtok": Decimal("0.6"),
            "cache_write_5m_mtok": Decimal("7.5"),
            "cache_write_1h_mtok": 12,
        }
    ]
    assert provider(doc, "anthropic")["batch"] == Decimal("0.5")
    assert provider(doc, "openai")["batch"] == Decimal("0.5")
    # Priority is 1.7x on one model, 1.75x on the other: each model's published rates, in its window.
    assert "service_tiers" not in provider(doc, "openai")
    (gpt_4o,) = model(doc, "openai", "gpt-4o")["prices"]
    assert gpt_4o["service_tiers"] == {
        "priority": {"input_mtok": Decimal("4.25"), "output_mtok": 17, "cache_read_mtok": Decimal("1.25")}
    }


def test_litellm_providers_names_and_skips(lite: tuple[dict[str, Any], list[str]]) -> None:
    doc, warnings = lite
    assert ids(doc) == {
        "anthropic/claude-sonnet-4-5",
        "bedrock/us.meta.llama3-3-70b-instruct-v1:0",
        "google/gemini-2.5-flash",
        "openai/gpt-4o",
        "openai/o3",
    }
    assert any("mode 'embedding'" in w and "text-embedding-3-small" in w for w in warnings)
    assert any("region-pinned" in w and "bedrock/us-east-1/" in w for w in warnings)
    assert any("'input_cost_per_audio_token' not mapped" in w for w in warnings)
    assert any(w.startswith("litellm: broken: skipped") for w in warnings)
    assert any(w.startswith("litellm: not-an-object: skipped") for w in warnings)
    round_trips(doc)


def test_litellm_tiered_pricing_list_is_a_cliff_like_the_above_keys() -> None:
    entry = {
        "litellm_provider": "dashscope",
        "mode": "chat",
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 6e-06,
        "tiered_pricing": [
            {"range": [0, 200000], "input_cost_per_token": 2e-06, "output_cost_per_token": 6e-06},
            {"range": [200000.0, 500000.0], "input_cost_per_token": 4e-06, "output_cost_per_token": 1.2e-05},
        ],
    }
    doc, _ = litellm.convert({"dashscope/qwen-max": entry}, today=TODAY)
    (window,) = model(doc, "dashscope", "qwen-max")["prices"]
    assert window["tiers"] == [{"above_input_tokens": 200000, "input_mtok": 4, "output_mtok": 12}]
    catalog = pricing.Catalog(doc)
    above = pricing.Usage(input_tokens=300_000, output_tokens=2_000)
    assert catalog.price(above, "qwen-max", "dashscope").cost_usd == Decimal("1.224")  # every token at the tier


def test_litellm_a_key_naming_its_provider_twice_is_another_entry() -> None:
    """``perplexity/sonar`` is Perplexity's ``sonar``; ``perplexity/perplexity/sonar`` is another entry (another
    product, other prices). Both are kept, and each name finds its own."""
    rates = {"litellm_provider": "perplexity", "mode": "chat"}
    data = {
        "perplexity/sonar": {**rates, "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
        "perplexity/perplexity/sonar": {**rates, "input_cost_per_token": 2.5e-07, "output_cost_per_token": 2.5e-06},
    }
    doc, _ = litellm.convert(data, today=TODAY)
    assert ids(doc) == {"perplexity/sonar", "perplexity/perplexity/perplexity/sonar"}
    catalog = pricing.Catalog(doc)
    mtok = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert catalog.price(mtok, "perplexity/sonar").cost_usd == Decimal(2)
    assert catalog.price(mtok, "perplexity/perplexity/sonar").cost_usd == Decimal("2.75")


def test_litellm_float_input_gives_the_same_decimals() -> None:
    data = json.loads((FIX / "litellm.json").read_text())  # floats, not Decimals
    assert litellm.convert(data, today=TODAY) == litellm.convert((FIX / "litellm.json").read_bytes(), today=TODAY)


# -- OpenRouter -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routed() -> tuple[dict[str, Any], list[str]]:
    return openrouter.convert((FIX / "openrouter.json").read_bytes(), today=TODAY)


def test_openrouter_prices(routed: tuple[dict[str, Any], list[str]]) -> None:
    doc = routed[0]
    haiku = model(doc, "openrouter", "openrouter/anthropic/claude-haiku-4.5")
    assert (haiku["billing"], haiku["context_window"], haiku["name"]) == (
        "tokens",
        200000,
        "Anthropic: Claude Haiku 4.5",
    )
    (window,) = haiku["prices"]
    assert window == {
        "input_mtok": 1,
        "output_mtok": 5,
        "cache_read_mtok": Decimal("0.1"),
        "cache_write_5m_mtok": Decimal("1.25"),
        "cache_write_1h_mtok": 2,
        "web_search_per_1k": 10,  # "0.01" per search
        "source": "https://openrouter.ai/models",
        "checked": TODAY,
    }  # "0" reasoning and request prices are not separate prices: left out
    (o3,) = model(doc, "openrouter", "openrouter/openai/o3")["prices"]
    assert o3["reasoning_mtok"] == 8


def test_openrouter_overrides_become_tiers_and_request_fee(routed: tuple[dict[str, Any], list[str]]) -> None:
    doc, warnings = routed
    (window,) = model(doc, "openrouter", "openrouter/google/gemini-2.5-pro")["prices"]
    assert window["request_fee"] == Decimal("0.0005")
    assert window["tiers"] == [
        {
            "above_input_tokens": 200000,
            "input_mtok": Decimal("2.5"),
            "output_mtok": 15,
            "cache_read_mtok": Decimal("0.25"),
        }
    ]
    assert any("time-of-day" in w and "google/gemini-2.5-pro" in w for w in warnings)


def test_openrouter_dynamic_price_and_bad_entries(routed: tuple[dict[str, Any], list[str]]) -> None:
    doc, warnings = routed
    auto = model(doc, "openrouter", "openrouter/auto")
    assert auto["billing"] == "dynamic"
    assert "prices" not in auto
    assert not any("'web_search' not mapped" in w for w in warnings)
    assert any(w.startswith("openrouter: broken/model: skipped") for w in warnings)
    assert any(w.startswith("openrouter: no/pricing: skipped") for w in warnings)
    assert "openrouter/openrouter/broken/model" not in ids(doc)
    round_trips(doc)
    catalog = pricing.Catalog(doc)
    mtok = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert catalog.price(mtok, "openrouter/anthropic/claude-haiku-4.5").cost_usd == 6
    assert catalog.resolve("anthropic/claude-haiku-4.5") is None  # the bare name stays the maker's own


def test_not_the_right_shape_raises_value_error() -> None:
    with pytest.raises(ValueError, match="list of providers"):
        genai_prices.convert("{}", today=TODAY)
    with pytest.raises(ValueError, match="JSON object"):
        litellm.convert("[]", today=TODAY)
    with pytest.raises(ValueError, match='"data" list'):
        openrouter.convert('{"models": []}', today=TODAY)


# -- numbers and the writer -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_token", "expected"),
    [(2.5e-06, "2.5"), (1e-05, "10"), (7.5e-08, "0.075"), (1.1e-06, "1.1"), ("0.000000125", "0.125"), (0, "0")],
)
def test_per_mtok_is_exact(per_token: object, expected: str) -> None:
    assert str(per_mtok(per_token)) == expected


@pytest.mark.parametrize("bad", ["abc", None, True, float("nan"), "inf", [1]])
def test_number_rejects_what_is_not_a_price(bad: object) -> None:
    with pytest.raises(ValueError, match="not a"):
        number(bad)


def test_dump_layout() -> None:
    doc = {
        "catalog_version": "2026.08.21",
        "schema_version": 1,
        "providers": [
            {"models": [], "id": "zeta", "billing": "free", "name": "Zeta"},
            {
                "id": "alpha",
                "name": "Alpha",
                "regions": {"us.": Decimal("1.1")},
                "service_tiers": {"priority": Decimal("1.70"), "flex": Decimal("0.5")},
                "models": [
                    {
                        "prices": [
                            {"checked": TODAY, "effective_from": dt.date(2025, 6, 10), "output_mtok": Decimal("8"),
                             "input_mtok": Decimal("2E+0"), "source": "s"},
                            {"effective_until": dt.date(2025, 6, 10), "input_mtok": Decimal("1E+1"),
                             "output_mtok": Decimal("0.0000015"), "source": "s", "checked": TODAY, "x_note": "kept"},
                        ],
                        "id": "m",
                        "aliases": ["m-1"],
                    },
                    {"id": "B", "billing": "dynamic"},
                ],
            },
        ],
    }  # fmt: skip
    text = dump(doc)
    assert text.startswith("# Price catalog")
    body = text[text.index("schema_version") :]
    assert body.index("schema_version") < body.index("catalog_version")
    assert body.index('id = "alpha"') < body.index('id = "zeta"')
    assert body.index('id = "B"') < body.index('id = "m"')
    assert 'regions = { "us." = 1.1 }' in body
    assert "service_tiers = { flex = 0.5, priority = 1.7 }" in body
    assert "input_mtok = 10\n" in body
    assert "output_mtok = 0.0000015\n" in body
    assert 'x_note = "kept"' in body
    assert body.index("effective_until = 2025-06-10") < body.index("effective_from = 2025-06-10")  # oldest first
    back = tomllib.loads(text, parse_float=Decimal)
    assert back["providers"][0]["models"][1]["prices"][1]["input_mtok"] == 2
    assert dump(back) == text


_RATE = st.decimals(min_value=0, max_value=10_000, places=7, allow_nan=False, allow_infinity=False)


@given(
    rates=st.lists(_RATE, min_size=1, max_size=6),
    name=st.text(min_size=1, max_size=20).filter(lambda s: s.strip() != ""),
)
def test_dump_round_trips_any_rates_and_names(rates: list[Decimal], name: str) -> None:
    window: dict[str, Any] = dict(zip(RATE_KEYS, rates))
    window.update(source="https://example.com", checked=TODAY)
    doc = {
        "schema_version": 1,
        "catalog_version": "2026.08.21",
        "providers": [{"id": "p", "name": name, "models": [{"id": name, "prices": [window]}]}],
    }
    text = dump(doc)
    for line in text.splitlines():
        if "_mtok = " in line:
            assert "e" not in line.partition(" = ")[2].lower(), line  # plain notation, never an exponent
    assert tomllib.loads(text, parse_float=Decimal) == doc


def test_genai_names_that_only_respell_the_id_are_dropped() -> None:
    data = json.loads((FIX / "genai_prices.json").read_text())
    names = {"gpt-4o": "gpt 4o", "gemini-2.5-pro": "Gemini 2.5 Pro", "o3": "o3 Mini High"}
    for prov in data:
        for entry in prov.get("models", []) if isinstance(prov, dict) else []:
            if isinstance(entry, dict) and entry.get("id") in names:
                entry["name"] = names[entry["id"]]
    doc, _ = genai_prices.convert(data, today=TODAY)
    assert "name" not in model(doc, "openai", "gpt-4o")  # shown as its id, "gpt-4o"
    assert "name" not in model(doc, "openai", "o3")  # "o3 Mini High" is not o3's name
    assert model(doc, "google", "gemini-2.5-pro")["name"] == "Gemini 2.5 Pro"
