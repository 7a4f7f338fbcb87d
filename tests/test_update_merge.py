"""Folding a partial source into the catalog: windows are closed and appended, never rewritten."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pricing
from pricing._diff import diff_documents, past_kept
from pricing._load import load_document, validate_document
from pricing._merge import merge_rates
from tests._catalog_docs import model

FIX = Path(__file__).parent / "fixtures" / "update"
DAY = dt.date(2026, 3, 1)
ORIGIN = "https://prices.example/map.json"


@pytest.fixture
def base() -> dict[str, Any]:
    return load_document(FIX / "base.toml")


def source(*models: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A converted source document: (provider, model id, window) triples."""
    providers: dict[str, dict[str, Any]] = {}
    for provider, mid, window in models:
        prov = providers.setdefault(provider, {"id": provider, "name": provider.title(), "models": []})
        prov["models"].append({"id": mid, "prices": [window]})
    return {"providers": list(providers.values())}


def rates(inp: str, out: str, **more: Any) -> dict[str, Any]:
    return {"input_mtok": Decimal(inp), "output_mtok": Decimal(out), **more}


def windows(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = model(doc, *key.split("/"))["prices"]
    return result


def merge(base: dict[str, Any], src: dict[str, Any], day: dt.date = DAY) -> tuple[dict[str, Any], list[str]]:
    merged, report = merge_rates(base, src, day=day, version="2026.03.01", origin=ORIGIN)
    assert validate_document(merged) == []
    pricing.Catalog(merged)  # no ambiguous names
    return merged, report.warnings


def test_unchanged_rates_keep_the_windows_untouched(base: dict[str, Any]) -> None:
    # Same rates, written differently: cache_read stated where the catalog implies it.
    src = source(("openai", "gpt-4o", rates("2.50", "10.0", cache_read_mtok=Decimal("1.25"))))
    merged, _ = merge(base, src)
    assert windows(merged, "openai/gpt-4o") == windows(base, "openai/gpt-4o")
    assert diff_documents(base, merged).empty


def test_a_changed_rate_closes_the_window_and_opens_one(base: dict[str, Any]) -> None:
    before = copy.deepcopy(base)
    merged, _ = merge(base, source(("openai", "gpt-4o", rates("2", "8"))))
    old, new = windows(merged, "openai/gpt-4o")
    assert old == {**windows(base, "openai/gpt-4o")[0], "effective_until": DAY}
    # The source states no cache read rate: the one in force is kept, not cleared.
    cached = windows(base, "openai/gpt-4o")[0]["cache_read_mtok"]
    assert new == {
        "effective_from": DAY,
        "input_mtok": 2,
        "output_mtok": 8,
        "source": ORIGIN,
        "checked": DAY,
        "cache_read_mtok": cached,
    }
    assert base == before  # the current document is not modified
    assert past_kept(windows(base, "openai/gpt-4o"), windows(merged, "openai/gpt-4o"), DAY)
    usage = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=400_000)
    old_catalog, new_catalog = pricing.Catalog(base), pricing.Catalog(merged)
    for day in ("2024-08-06", "2025-12-31", "2026-02-28"):
        assert (
            new_catalog.price(usage, "gpt-4o", at=day).cost_usd == old_catalog.price(usage, "gpt-4o", at=day).cost_usd
        )
    expected = (600_000 * Decimal(2) + 400_000 * Decimal(cached) + 1_000_000 * Decimal(8)) / 1_000_000
    assert new_catalog.price(usage, "gpt-4o", at="2026-03-01").cost_usd == expected


def test_history_is_kept_for_models_with_several_windows(base: dict[str, Any]) -> None:
    merged, _ = merge(base, source(("openai", "o3", rates("1", "4"))))
    o3 = windows(merged, "openai/o3")
    assert o3[:1] == windows(base, "openai/o3")[:1]
    assert [(w.get("effective_from"), w.get("effective_until")) for w in o3] == [
        (dt.date(2025, 4, 16), dt.date(2025, 6, 10)),
        (dt.date(2025, 6, 10), DAY),
        (DAY, None),
    ]


def test_the_source_date_is_the_effective_date(base: dict[str, Any]) -> None:
    dated = rates("2", "8", effective_from=dt.date(2026, 2, 15))
    merged, _ = merge(base, source(("openai", "gpt-4o", dated)))
    assert [w.get("effective_from") for w in windows(merged, "openai/gpt-4o")] == [
        dt.date(2024, 8, 6),
        dt.date(2026, 2, 15),
    ]
    # A date older than the window in force is not believed: the change starts on the update's day.
    stale = rates("2", "8", effective_from=dt.date(2023, 1, 1))
    merged, _ = merge(base, source(("openai", "gpt-4o", stale)))
    assert windows(merged, "openai/gpt-4o")[-1]["effective_from"] == DAY


def test_a_second_update_on_the_same_day_replaces_todays_window(base: dict[str, Any]) -> None:
    first, _ = merge(base, source(("openai", "gpt-4o", rates("2", "8"))))
    second, _ = merge(first, source(("openai", "gpt-4o", rates("2.2", "8.8"))))
    got = windows(second, "openai/gpt-4o")
    assert len(got) == 2
    assert got[0] == windows(first, "openai/gpt-4o")[0]
    assert (got[1]["effective_from"], got[1]["input_mtok"]) == (DAY, Decimal("2.2"))
    assert past_kept(windows(first, "openai/gpt-4o"), got, DAY)


def test_models_missing_from_a_partial_source_are_kept(base: dict[str, Any]) -> None:
    merged, _ = merge(base, source(("openai", "gpt-4o", rates("2", "8"))))
    diff = diff_documents(base, merged)
    counts = diff.counts()
    assert (counts["added"], counts["removed"], counts["changed"]) == (0, 0, 1)
    assert diff.unchanged == diff.before_models - 1


def test_new_models_and_providers_are_added_with_provenance(base: dict[str, Any]) -> None:
    src = source(("openai", "o4-mini", rates("1.1", "4.4")), ("mistral", "mistral-small", rates("0.1", "0.3")))
    merged, warnings = merge(base, src)
    assert warnings == []
    assert windows(merged, "openai/o4-mini") == [{**rates("1.1", "4.4"), "source": ORIGIN, "checked": DAY}]
    assert windows(merged, "mistral/mistral-small")[0]["output_mtok"] == Decimal("0.3")
    assert [c.key for c in diff_documents(base, merged).of_kind("added")] == ["mistral/mistral-small", "openai/o4-mini"]


def test_the_same_model_from_another_provider_gets_an_entry_of_its_own(base: dict[str, Any]) -> None:
    src = source(
        ("azure", "gpt-4o", rates("5", "15")),  # the bare name belongs to openai/gpt-4o
        ("azure", "gpt-4o-2024-08-06", rates("5", "15")),  # an alias of openai/gpt-4o
        ("azure", "gpt-35-turbo", rates("0.5", "1.5")),
    )
    merged, warnings = merge(base, src)
    assert warnings == []
    azure = [m["id"] for p in merged["providers"] if p["id"] == "azure" for m in p["models"]]
    assert azure == ["azure/gpt-4o", "azure/gpt-4o-2024-08-06", "gpt-35-turbo"]
    catalog = pricing.Catalog(merged)
    mtok = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert catalog.price(mtok, "azure/gpt-4o").cost_usd == Decimal(20)
    assert catalog.price(mtok, "gpt-4o", "azure").cost_usd == Decimal(20)
    assert catalog.price(mtok, "gpt-4o-2024-08-06", "azure").cost_usd == Decimal(20)
    assert catalog.price(mtok, "gpt-4o").cost_usd == Decimal("12.5")  # the bare name keeps its meaning
    assert catalog.price(mtok, "gpt-4o", "openai").cost_usd == Decimal("12.5")


def test_an_alias_the_source_prices_differently_becomes_a_model_of_its_own(base: dict[str, Any]) -> None:
    src = source(("openai", "gpt-4o", rates("2.5", "10", cache_read_mtok=Decimal("1.25"))))
    src["providers"][0]["models"].append({"id": "gpt-4o-2024-08-06", "prices": [rates("5", "15")]})
    merged, _ = merge(base, src)
    assert windows(merged, "openai/gpt-4o") == windows(base, "openai/gpt-4o")
    assert windows(merged, "openai/gpt-4o-2024-08-06") == [{**rates("5", "15"), "source": ORIGIN, "checked": DAY}]
    catalog = pricing.Catalog(merged)
    assert catalog.find("gpt-4o-2024-08-06").id == "gpt-4o-2024-08-06"
    assert catalog.find("gpt-4o").aliases == ()
    # An alias entry at its model's rates changes nothing; alone and different, it speaks for its own name only.
    same, _ = merge(base, source(("openai", "gpt-4o-2024-08-06", rates("2.5", "10"))))
    assert diff_documents(base, same).empty
    assert pricing.Catalog(same).find("gpt-4o-2024-08-06").id == "gpt-4o"
    alone, _ = merge(base, source(("openai", "gpt-4o-2024-08-06", rates("2", "8"))))
    assert windows(alone, "openai/gpt-4o") == windows(base, "openai/gpt-4o")
    assert windows(alone, "openai/gpt-4o-2024-08-06")[-1]["input_mtok"] == Decimal(2)


def test_a_model_a_prefix_covered_by_mistake_is_added(base: dict[str, Any]) -> None:
    covered = copy.deepcopy(base)
    anthropic = next(p for p in covered["providers"] if p["id"] == "anthropic")
    sonnet = next(m for m in anthropic["models"] if m["id"] == "claude-sonnet-4-5")
    sonnet["match_prefix"] = ["claude-sonnet-4"]
    merged, warnings = merge(covered, source(("anthropic", "claude-sonnet-4-6", rates("2", "10"))))
    assert warnings == []
    assert windows(merged, "anthropic/claude-sonnet-4-6")[0]["input_mtok"] == Decimal(2)
    usage = pricing.Usage(input_tokens=1_000_000)
    assert pricing.Catalog(merged).price(usage, "claude-sonnet-4-6").cost_usd == Decimal(2)
    # A dated snapshot the prefix covers at the same rates adds nothing; at other rates it is a model of its own.
    same, _ = merge(covered, source(("anthropic", "claude-sonnet-4-20260101", rates("3", "15"))))
    assert diff_documents(covered, same).empty
    other, _ = merge(covered, source(("anthropic", "claude-sonnet-4-20260101", rates("1", "5"))))
    assert pricing.Catalog(other).price(usage, "claude-sonnet-4-20260101").cost_usd == Decimal(1)
    assert pricing.Catalog(other).price(usage, "claude-sonnet-4-20260202").cost_usd == Decimal(3)


def test_a_name_only_this_provider_can_have_is_left_out_with_a_warning(base: dict[str, Any]) -> None:
    taken = copy.deepcopy(base)
    openai = next(p for p in taken["providers"] if p["id"] == "openai")
    gpt4o = next(m for m in openai["models"] if m["id"] == "gpt-4o")
    gpt4o["aliases"] = [*gpt4o["aliases"], "copy/gpt-4o"]  # both the bare and the qualified name are taken
    merged, warnings = merge(taken, source(("copy", "gpt-4o", rates("5", "15"))))
    assert [p["id"] for p in merged["providers"]] == [p["id"] for p in taken["providers"]]
    assert warnings == ["copy/gpt-4o: not added, its name already belongs to openai/gpt-4o"]


def test_a_rate_the_source_leaves_out_is_kept(base: dict[str, Any]) -> None:
    # Same input and output, no cache rates: nothing changed (the cache rates were not cleared).
    merged, _ = merge(base, source(("anthropic", "claude-sonnet-4-5", rates("3", "15"))))
    assert diff_documents(base, merged, at=DAY).empty
    merged, _ = merge(base, source(("anthropic", "claude-sonnet-4-5", rates("2", "10"))))
    new = windows(merged, "anthropic/claude-sonnet-4-5")[-1]
    old = windows(base, "anthropic/claude-sonnet-4-5")[-1]
    assert [new[k] for k in ("cache_read_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok")] == [
        old[k] for k in ("cache_read_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok")
    ]
    usage = pricing.Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert pricing.Catalog(merged).price(usage, "claude-sonnet-4-5", at=DAY).cost_usd == Decimal(old["cache_read_mtok"])


def test_a_scheduled_price_change_the_source_does_not_know_is_kept(base: dict[str, Any]) -> None:
    scheduled = copy.deepcopy(base)
    openai = next(p for p in scheduled["providers"] if p["id"] == "openai")
    mini = next(m for m in openai["models"] if m["id"] == "gpt-4o-mini")
    later = dt.date(2027, 1, 1)
    mini["prices"] = [
        {**mini["prices"][0], "effective_until": later},
        {**mini["prices"][0], "effective_from": later, "input_mtok": Decimal("0.3"), "output_mtok": Decimal("1.2")},
    ]
    merged, _ = merge(scheduled, source(("openai", "gpt-4o-mini", rates("0.15", "0.6"))))
    assert windows(merged, "openai/gpt-4o-mini") == mini["prices"]
    merged, _ = merge(scheduled, source(("openai", "gpt-4o-mini", rates("0.1", "0.4"))))
    spans = [
        (w.get("effective_from"), w.get("effective_until"), w["input_mtok"])
        for w in windows(merged, "openai/gpt-4o-mini")
    ]
    assert spans == [(None, DAY, Decimal("0.15")), (DAY, later, Decimal("0.1")), (later, None, Decimal("0.3"))]
    change = diff_documents(scheduled, merged, at=DAY).of_kind("changed")
    assert [(c.key, c.effective_from, c.rewrites_past) for c in change] == [("openai/gpt-4o-mini", DAY, False)]


def test_a_bare_name_goes_to_a_provider_the_catalog_has_before_a_new_one(base: dict[str, Any]) -> None:
    # Sources list providers alphabetically: Azure's resale of a new OpenAI model comes first.
    src = source(("azure", "gpt-9", rates("6", "24")), ("openai", "gpt-9", rates("5", "20")))
    merged, warnings = merge(base, src)
    assert warnings == []
    catalog = pricing.Catalog(merged)
    mtok = pricing.Usage(input_tokens=1_000_000)
    assert (catalog.find("gpt-9").provider, catalog.price(mtok, "gpt-9").cost_usd) == ("openai", 5)
    assert catalog.price(mtok, "azure/gpt-9").cost_usd == 6


def test_a_gateway_id_naming_another_provider_does_not_take_that_providers_name(base: dict[str, Any]) -> None:
    src = source(
        ("kyma", "glm-4.5-air", rates("0.18", "1.1")),
        ("vercel_ai_gateway", "zai/glm-4.5-air", rates("0.2", "1.1")),
        ("zai", "glm-4.5-air", rates("0.25", "1.1")),
    )
    merged, warnings = merge(base, src)
    assert warnings == []
    catalog = pricing.Catalog(merged)
    mtok = pricing.Usage(input_tokens=1_000_000)
    assert catalog.price(mtok, "zai/glm-4.5-air").cost_usd == Decimal("0.25")
    assert catalog.price(mtok, "glm-4.5-air", "zai").cost_usd == Decimal("0.25")
    assert catalog.price(mtok, "zai/glm-4.5-air", "vercel_ai_gateway").cost_usd == Decimal("0.2")
    assert catalog.price(mtok, "vercel_ai_gateway/zai/glm-4.5-air").cost_usd == Decimal("0.2")


def test_a_price_change_the_source_dates_like_the_catalog_is_no_change(base: dict[str, Any]) -> None:
    later = dt.date(2027, 1, 1)
    scheduled = copy.deepcopy(base)
    openai = next(p for p in scheduled["providers"] if p["id"] == "openai")
    mini = next(m for m in openai["models"] if m["id"] == "gpt-4o-mini")
    mini["prices"] = [
        {**mini["prices"][0], "effective_until": later},
        {**mini["prices"][0], "effective_from": later, "input_mtok": Decimal("0.3"), "output_mtok": Decimal("1.2")},
    ]
    dated = source(("openai", "gpt-4o-mini", rates("0.3", "1.2", effective_from=later)))
    merged, _ = merge(scheduled, dated)
    assert windows(merged, "openai/gpt-4o-mini") == mini["prices"]
    usage = pricing.Usage(input_tokens=1_000_000)
    assert pricing.Catalog(merged).price(usage, "gpt-4o-mini", at=DAY).cost_usd == Decimal("0.15")


def test_rates_listed_under_a_router_are_table_prices(base: dict[str, Any]) -> None:
    routed = copy.deepcopy(base)
    routed["providers"].append({"id": "openrouter", "name": "OpenRouter", "billing": "dynamic", "models": []})
    merged, _ = merge(routed, source(("openrouter", "ai21/jamba-large", rates("2", "8"))))
    result = pricing.Catalog(merged).price(pricing.Usage(input_tokens=1_000_000), "ai21/jamba-large", "openrouter")
    assert (result.status, result.cost_usd) == ("priced", Decimal(2))
    unlisted = pricing.Catalog(merged).price(pricing.Usage(input_tokens=1), "ai21/other", "openrouter")
    assert unlisted.status == "dynamic"


def test_the_sources_other_names_for_a_model_become_its_aliases(base: dict[str, Any]) -> None:
    src = source(("openai", "gpt-4o-mini-2", rates("0.15", "0.6")))
    src["providers"][0]["models"][0]["aliases"] = ["gpt-4o-mini", "gpt-4o-mini-next"]
    merged, _ = merge(base, src)
    catalog = pricing.Catalog(merged)
    assert catalog.find("gpt-4o-mini-2").id == "gpt-4o-mini"
    assert catalog.find("gpt-4o-mini-next").id == "gpt-4o-mini"
