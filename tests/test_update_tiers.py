"""``pricing update`` with service-tier, batch and tool prices: folded like rates, dated, the past kept."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pricing
from pricing._cli import cli_logic
from pricing._diff import diff_documents
from pricing._load import load_document, validate_document
from pricing._merge import merge_rates
from tests._catalog_docs import model

FIX = Path(__file__).parent / "fixtures" / "update"
DAY = dt.date(2026, 3, 1)
D = Decimal


@pytest.fixture
def base() -> dict[str, Any]:
    return load_document(FIX / "base.toml")


def source(*models: tuple[str, str, dict[str, Any]], tools: dict[str, Any] | None = None) -> dict[str, Any]:
    providers: dict[str, dict[str, Any]] = {}
    for provider, mid, window in models:
        prov = providers.setdefault(provider, {"id": provider, "name": provider.title(), "models": []})
        prov["models"].append({"id": mid, "prices": [window]})
    if tools is not None:
        providers.setdefault("openai", {"id": "openai", "name": "OpenAI", "models": []})["tools"] = [tools]
    return {"providers": list(providers.values())}


def merge(base: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    merged, _ = merge_rates(base, src, day=DAY, version="2026.03.01", origin="https://prices.example/map.json")
    assert validate_document(merged) == []
    return merged


def windows(doc: dict[str, Any], provider: str, mid: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = model(doc, provider, mid)["prices"]
    return result


PRIORITY = {"input_mtok": D("4.25"), "output_mtok": D(17), "cache_read_mtok": D("2.125")}


def test_tier_rates_new_to_the_catalog_take_effect_on_the_update_day(base: dict[str, Any]) -> None:
    """Append-only: a tier price learnt today prices tier calls from today; older ones keep their price (standard
    rates, with a note)."""
    src = source(
        ("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10, "service_tiers": {"priority": PRIORITY}})
    )
    merged = merge(base, src)
    old, new = windows(merged, "openai", "gpt-4o")
    assert (old["effective_until"], new["effective_from"]) == (DAY, DAY)
    assert "service_tiers" not in old
    assert new["service_tiers"] == {"priority": PRIORITY}
    assert new["cache_read_mtok"] == D("1.25")  # kept: the source does not state it
    catalog = pricing.Catalog(merged)
    u = pricing.Usage(1_000_000, 0)
    assert catalog.price(u, "gpt-4o", at="2026-03-01", tier="priority").cost_usd == D("4.25")
    assert catalog.price(u, "gpt-4o", at="2026-02-28", tier="priority").notes


def test_a_source_without_tiers_keeps_the_catalogs(base: dict[str, Any]) -> None:
    first = merge(
        base,
        source(
            ("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10, "service_tiers": {"priority": PRIORITY}})
        ),
    )
    again = merge(first, source(("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10})))
    assert windows(again, "openai", "gpt-4o") == windows(first, "openai", "gpt-4o")


def test_tier_rates_of_old_standard_rates_are_not_carried_into_new_ones(base: dict[str, Any]) -> None:
    """A price cut from a source that says nothing of tiers: the priority rates published with the old prices are
    not the new priority prices. Multipliers are relative, so they stay."""
    first = merge(
        base,
        source(
            (
                "openai",
                "gpt-4o",
                {"input_mtok": D("2.5"), "output_mtok": 10, "service_tiers": {"priority": PRIORITY, "flex": D("0.5")}},
            )
        ),
    )
    later, _ = merge_rates(
        first,
        source(("openai", "gpt-4o", {"input_mtok": D(2), "output_mtok": 8})),
        day=dt.date(2026, 5, 1),
        version="2026.05.01",
        origin="x",
    )
    last = windows(later, "openai", "gpt-4o")[-1]
    assert last["service_tiers"] == {"flex": D("0.5")}


def test_tool_fees_are_folded_like_rates(base: dict[str, Any]) -> None:
    merged = merge(
        base, source(("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10, "web_search_per_1k": 25}))
    )
    old, new = windows(merged, "openai", "gpt-4o")
    assert ("web_search_per_1k" not in old, new["web_search_per_1k"]) == (True, 25)
    again = merge(merged, source(("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10})))
    assert windows(again, "openai", "gpt-4o") == windows(merged, "openai", "gpt-4o")  # a fee left out is kept


def test_provider_tool_fees_are_folded_and_shown(base: dict[str, Any]) -> None:
    merged = merge(base, source(tools={"code_interpreter_per_session": D("0.03")}))
    (prov,) = [p for p in merged["providers"] if p["id"] == "openai"]
    assert prov["tools"][0]["code_interpreter_per_session"] == D("0.03")
    assert prov["tools"][0]["source"] == "https://prices.example/map.json"
    diff = diff_documents(base, merged, at=DAY)
    assert [c.key for c in diff.changes] == ["openai/(tools)"]
    assert "code_interpreter_per_session — → 0.03" in diff.changes[0].describe()
    changed, _ = merge_rates(
        merged,
        source(tools={"code_interpreter_per_session": D("0.05")}),
        day=dt.date(2026, 6, 1),
        version="v",
        origin="y",
    )
    (prov,) = [p for p in changed["providers"] if p["id"] == "openai"]
    assert [w.get("effective_until") for w in prov["tools"]] == [dt.date(2026, 6, 1), None]


def test_the_diff_shows_tier_moves_and_guards_their_jumps(base: dict[str, Any]) -> None:
    first = merge(
        base,
        source(
            ("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10, "service_tiers": {"priority": PRIORITY}})
        ),
    )
    moved = {**PRIORITY, "input_mtok": D(4250)}
    later, _ = merge_rates(
        first,
        source(("openai", "gpt-4o", {"input_mtok": D("2.5"), "output_mtok": 10, "service_tiers": {"priority": moved}})),
        day=dt.date(2026, 5, 1),
        version="2026.05.01",
        origin="x",
    )
    (change,) = diff_documents(first, later, at=dt.date(2026, 5, 1)).changes
    assert "priority.input 4.25 → 4250" in change.describe()
    assert change.suspicious == ("priority.input_mtok 4.25 → 4250 (×1000)",)


def test_update_from_litellm_with_tiers_and_tools_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {
        "gpt-4o": {
            "litellm_provider": "openai",
            "mode": "chat",
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
            "input_cost_per_token_priority": 4.25e-06,
            "output_cost_per_token_priority": 1.7e-05,
            "search_context_cost_per_query": {"search_context_size_medium": 0.025},
        }
    }
    path = tmp_path / "litellm.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "catalog.toml"
    out.write_bytes((FIX / "base.toml").read_bytes())
    assert cli_logic(["update", "--from", str(path), "--date", "2026-03-01", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "priority — → 1.7" in printed  # one model, so one fraction: the multiplier, dated in the window
    catalog = pricing.load_catalog(out, overrides=False)
    u = pricing.Usage(1_000_000, 0, web_search_requests=2)
    assert catalog.price(u, "gpt-4o", at="2026-03-02", tier="priority").cost_usd == D("4.25") + D("0.05")
