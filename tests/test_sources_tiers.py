"""Service tiers, batch and tool prices from each source (small fixtures in the sources' own shapes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pricing
from pricing._load import parse_document
from pricing._sources import dump, genai_prices, litellm
from tests._catalog_docs import model, provider

FIX = Path(__file__).parent / "fixtures" / "sources"
TODAY = dt.date(2026, 12, 4)
D = Decimal


def loads(doc: dict[str, Any]) -> pricing.Catalog:
    """The document is a valid catalog that survives the writer."""
    assert pricing.validate_document(doc) == []
    assert parse_document(dump(doc)) == parse_document(dump(parse_document(dump(doc))))
    return pricing.Catalog(parse_document(dump(doc)))


# -- genai-prices --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def genai() -> tuple[dict[str, Any], list[str]]:
    return genai_prices.convert((FIX / "genai_prices_variants.json").read_bytes(), today=TODAY)


def test_genai_tier_variants_become_tables_of_every_rate(genai: tuple[dict[str, Any], list[str]]) -> None:
    (window,) = model(genai[0], "openai", "gpt-5")["prices"]
    assert window["service_tiers"] == {
        "flex": {"input_mtok": D("0.625"), "cache_read_mtok": D("0.0625"), "output_mtok": 5},
        "priority": {"input_mtok": D("2.5"), "cache_read_mtok": D("0.25"), "output_mtok": 20},
    }  # "default" is the standard rates: nothing to add
    # A variant overrides key by key: the batch table keeps the standard cache read rate it does not state.
    assert window["batch"] == {"input_mtok": D("0.625"), "cache_read_mtok": D("0.125"), "output_mtok": 5}


def test_genai_tool_prices(genai: tuple[dict[str, Any], list[str]]) -> None:
    (window,) = model(genai[0], "openai", "gpt-5")["prices"]
    assert (window["web_search_per_1k"], window["file_search_per_1k"]) == (10, D("2.5"))
    (claude,) = model(genai[0], "anthropic", "claude-opus-5")["prices"]
    assert claude["web_search_per_1k"] == 10


def test_genai_google_grounding_per_prompt_before_gemini_3(genai: tuple[dict[str, Any], list[str]]) -> None:
    (old,) = model(genai[0], "google", "gemini-2.5-flash")["prices"]
    (new,) = model(genai[0], "google", "gemini-3-pro-preview")["prices"]
    assert (old.get("grounding_per_1k"), old.get("web_search_per_1k")) == (35, 0)
    assert (new.get("grounding_per_1k"), new.get("web_search_per_1k")) == (0, 14)


def test_genai_variant_verified_later_holds_over_its_window_only(genai: tuple[dict[str, Any], list[str]]) -> None:
    """o3's flex rates, verified in 2026, are published with the 2025-06-10 prices: not with the launch prices."""
    before, after = model(genai[0], "openai", "o3")["prices"]
    assert "service_tiers" not in before
    assert after["effective_from"] == dt.date(2025, 6, 10)
    assert after["service_tiers"]["flex"]["input_mtok"] == 1


def test_genai_a_later_variant_splits_the_window(genai: tuple[dict[str, Any], list[str]]) -> None:
    first, second = model(genai[0], "openai", "gpt-moving")["prices"]
    assert "effective_from" not in first
    assert first["effective_until"] == second["effective_from"] == dt.date(2026, 6, 1)
    assert first["service_tiers"]["priority"]["input_mtok"] == 2
    assert second["service_tiers"]["priority"]["input_mtok"] == 3
    assert first["input_mtok"] == second["input_mtok"] == 1


def test_genai_dated_variants_follow_dated_prices(genai: tuple[dict[str, Any], list[str]]) -> None:
    """Introductory rates until 2027 with their batch rates, then the list rates with theirs."""
    intro, listed = model(genai[0], "google", "gemini-3.8-flash")["prices"]
    assert intro["effective_until"] == listed["effective_from"] == dt.date(2027, 1, 1)
    assert (intro["batch"]["input_mtok"], listed["batch"]["input_mtok"]) == (D("0.375"), D("0.75"))


def test_genai_long_context_of_variants(genai: tuple[dict[str, Any], list[str]]) -> None:
    """A variant with tiered prices keeps its tiers; one with flat prices publishes none (the catalog then applies
    the standard long-context rates, with a note)."""
    (window,) = model(genai[0], "openai", "gpt-5.4")["prices"]
    assert "tiers" not in window["service_tiers"]["priority"]
    assert window["service_tiers"]["flex"]["tiers"] == [
        {"above_input_tokens": 272000, "input_mtok": D("2.5"), "cache_read_mtok": D("0.25"), "output_mtok": D("11.25")}
    ]
    catalog = loads(genai[0])
    long = catalog.price(pricing.Usage(300_000, 0), "gpt-5.4", tier="priority")
    assert long.cost_usd == D(300_000) * 5 / 1_000_000
    assert long.notes


def test_genai_anthropic_fast_mode_and_variants_it_cannot_represent(
    genai: tuple[dict[str, Any], list[str]],
) -> None:
    doc, warnings = genai
    (window,) = model(doc, "anthropic", "claude-opus-5")["prices"]
    assert window["service_tiers"]["fast"]["output_mtok"] == 50
    assert window["batch"]["cache_write_1h_mtok"] == 5
    assert any("when route='eu' cannot be represented" in w and "gpt-5.4" in w for w in warnings)


def test_genai_priced_with_the_catalog(genai: tuple[dict[str, Any], list[str]]) -> None:
    catalog = loads(genai[0])
    u = pricing.Usage(1_000_000, 1_000_000, 0, 0, 0, 0, None, 1, 1000)
    assert catalog.price(u, "gpt-5", tier="priority").cost_usd == 2 * D("2.5") / 2 + 20 + 10
    assert catalog.price(u, "gpt-5", batch=True).cost_usd == D("0.625") + 5 + 10


# -- LiteLLM -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lite() -> tuple[dict[str, Any], list[str]]:
    return litellm.convert((FIX / "litellm_tiers_tools.json").read_bytes(), today=TODAY)


def test_litellm_uniform_fractions_become_provider_multipliers(lite: tuple[dict[str, Any], list[str]]) -> None:
    doc = lite[0]
    assert provider(doc, "google")["service_tiers"] == {"flex": D("0.5"), "priority": D("1.8")}
    assert provider(doc, "openai")["service_tiers"] == {"flex": D("0.5")}
    assert provider(doc, "openai")["batch"] == D("0.5")


def test_litellm_per_model_rates_become_tables(lite: tuple[dict[str, Any], list[str]]) -> None:
    """OpenAI priority: 2x on gpt-5, 1.7x on gpt-4o, so each model's own rates."""
    doc = lite[0]
    (gpt_5,) = model(doc, "openai", "gpt-5")["prices"]
    (gpt_4o,) = model(doc, "openai", "gpt-4o")["prices"]
    assert gpt_5["service_tiers"]["priority"] == {
        "cache_read_mtok": D("0.25"),
        "input_mtok": D("2.5"),
        "output_mtok": 20,
    }
    assert gpt_4o["service_tiers"]["priority"]["input_mtok"] == D("4.25")
    # Gemini batch halves input and output but not cache reads: no one fraction, so a table.
    (pro,) = model(doc, "google", "gemini-2.5-pro")["prices"]
    assert pro["batch"]["cache_read_mtok"] == D("0.125")
    assert pro["batch"]["input_mtok"] == D("0.625")


def test_litellm_tool_prices(lite: tuple[dict[str, Any], list[str]]) -> None:
    doc, warnings = lite
    (gpt_5,) = model(doc, "openai", "gpt-5")["prices"]
    (gpt_4o,) = model(doc, "openai", "gpt-4o")["prices"]
    assert gpt_5["web_search_per_1k"] == 10
    assert (gpt_4o["web_search_per_1k"], gpt_4o["file_search_per_1k"]) == (35, D("2.5"))  # the medium size
    assert any("differ by context size" in w and "gpt-4o" in w for w in warnings)
    (tools,) = provider(doc, "openai")["tools"]
    assert tools["code_interpreter_per_session"] == D("0.03")
    assert "openai/container" not in {m["id"] for m in provider(doc, "openai")["models"]}
    (pro,) = model(doc, "google", "gemini-2.5-pro")["prices"]
    (three,) = model(doc, "google", "gemini-3-pro-preview")["prices"]
    assert (pro["grounding_per_1k"], pro["web_search_per_1k"]) == (35, 0)  # per grounded prompt
    assert (three["web_search_per_1k"], three["grounding_per_1k"]) == (14, 0)  # per search query
    assert any("free search allowance not modelled" in w for w in warnings)


def test_litellm_priced_with_the_catalog(lite: tuple[dict[str, Any], list[str]]) -> None:
    catalog = loads(lite[0])
    u = pricing.Usage(300_000, 1_000_000)
    assert catalog.price(u, "gemini-2.5-pro", tier="priority").cost_usd == D("0.3") * D("4.5") + 27
    assert catalog.price(u, "gemini-2.5-pro", tier="flex").cost_usd == (D("0.3") * D("2.5") + 15) / 2
    grounded = pricing.Usage(1000, 0, grounded_prompts=1, web_search_requests=3, code_interpreter_sessions=0)
    assert catalog.price(grounded, "gemini-2.5-pro").cost_usd == D("0.00125") + D("0.035")
