"""The shipped ``pricing_catalog.toml``: names never ambiguous, windows in order, rates checked against published
prices by hand."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pricing

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

import itertools

from pricing._model import RATE_KEYS, UNIT_KEYS
from pricing._sources import dump

PRICE_KEYS = (*RATE_KEYS, *UNIT_KEYS)
TEXT = pricing.bundled_catalog_path().read_text(encoding="utf-8")
DOC: dict[str, Any] = tomllib.loads(TEXT, parse_float=Decimal)
PROVIDERS = {p["id"]: p for p in DOC["providers"]}


def models() -> list[tuple[str, dict[str, Any]]]:
    return [(p["id"], m) for p in DOC["providers"] for m in p.get("models", [])]


def window(provider: str, model_id: str, index: int = -1) -> dict[str, Any]:
    found = [m for m in PROVIDERS[provider]["models"] if m["id"] == model_id]
    assert len(found) == 1, model_id
    result: dict[str, Any] = found[0]["prices"][index]
    return result


def test_enough_models_across_the_providers() -> None:
    assert len(models()) >= 150
    for pid in ("openai", "anthropic", "google", "mistral", "deepseek", "xai", "bedrock", "together", "groq"):
        assert len(PROVIDERS[pid]["models"]) >= 5, pid


def test_the_engine_loads_it() -> None:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    assert len(catalog.models) == len(models())
    assert catalog.name_conflicts() == []
    assert pricing.validate_document(DOC) == []


def test_written_by_the_deterministic_writer() -> None:
    assert dump(DOC) == TEXT


def test_every_name_is_unique_across_the_catalog() -> None:
    owners: dict[str, str] = {}
    for pid, model in models():
        for name in (model["id"], *model.get("aliases", [])):
            owner = owners.setdefault(name.lower(), f"{pid}/{model['id']}")
            assert owner == f"{pid}/{model['id']}", f"{name!r} names {owner} and {pid}/{model['id']}"


def test_no_prefix_declared_twice() -> None:
    prefixes: dict[str, str] = {}
    for _pid, model in models():
        for prefix in model.get("match_prefix", []):
            assert prefixes.setdefault(prefix.lower(), model["id"]) == model["id"], prefix


def test_a_prefix_covers_only_the_snapshots_of_its_model() -> None:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    for model in catalog.models:
        for prefix in model.match_prefix:
            base = prefix.rstrip("-@")
            assert catalog.resolve(f"{base}-20990101", model.provider) is model, prefix
            assert catalog.resolve(f"{base}-99", model.provider) is not model, prefix  # another version


def test_every_name_and_decorated_name_resolves_to_its_model() -> None:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    for model in catalog.models:
        for name in model.names():
            assert catalog.resolve(name) is model, name
            assert catalog.resolve(name.upper()) is model, name
            assert catalog.resolve(f"{model.provider}/{name}", model.provider) is model, name


#: The data the bundled catalog is built from, and the day each was taken (scripts/build_catalog.py).
SOURCE_DAYS = {
    "genai-prices@47df840": dt.date(2026, 8, 21),
    "litellm@1.109.1": dt.date(2026, 8, 21),
    "genai-prices@0.2.3": dt.date(2026, 12, 1),
}


def _tables(window: dict[str, Any]) -> list[dict[str, Any]]:
    """A window, its long-context tiers, and its service-tier and batch rate tables with theirs."""
    found = [window, *window.get("tiers", [])]
    for table in [*window.get("service_tiers", {}).values(), window.get("batch")]:
        if isinstance(table, dict):
            found += [table, *table.get("tiers", [])]
    return found


def test_every_window_says_where_its_rates_come_from_and_when() -> None:
    """Each window keeps its source's name and date: not one build date stamped on everything."""
    for pid, model in models():
        for w in model["prices"]:
            label = str(w["source"]).split(" (")[0].split(" + ")[0]
            if label in SOURCE_DAYS:
                assert w["checked"] == SOURCE_DAYS[label], (pid, model["id"], w["source"])
                assert "(https://" in w["source"], (pid, model["id"])  # and the provider's page it cites
            else:
                assert str(w["source"]).startswith("https://") or pid == "vllm", (pid, model["id"])
            assert isinstance(w["checked"], dt.date), (pid, model["id"])
    checked = {w["checked"] for _, m in models() for w in m["prices"]}
    assert checked >= set(SOURCE_DAYS.values())


def test_no_negative_price() -> None:
    for pid, model in models():
        for w in model["prices"]:
            for table in _tables(w):
                for key in PRICE_KEYS:
                    if key in table:
                        assert table[key] >= 0, (pid, model["id"], key)


def test_windows_are_ordered_and_never_overlap() -> None:
    for pid, model in models():
        windows = model["prices"]
        assert windows, (pid, model["id"])
        for before, after in itertools.pairwise(windows):
            assert before["effective_until"] <= after["effective_from"], (pid, model["id"])
        for w in windows:
            if "effective_from" in w and "effective_until" in w:
                assert w["effective_from"] < w["effective_until"]
        for w in windows:
            thresholds = [t["above_input_tokens"] for t in w.get("tiers", [])]
            assert thresholds == sorted(set(thresholds))


def test_sorted_for_people() -> None:
    ids = [p["id"] for p in DOC["providers"]]
    assert ids == sorted(ids)
    for prov in DOC["providers"]:
        names = [m["id"].lower() for m in prov.get("models", [])]
        assert names == sorted(names), prov["id"]


# -- spot checks against the providers' published prices ----------------------------------------------------------


def test_gpt_4o() -> None:
    w = window("openai", "gpt-4o")
    assert (w["input_mtok"], w["output_mtok"], w["cache_read_mtok"]) == (Decimal("2.5"), 10, Decimal("1.25"))


@pytest.mark.parametrize(
    ("provider", "name", "input_mtok", "output_mtok", "like"),
    [
        # OpenAI bills the first GPT-4o snapshot at $5/$15; gpt-4o itself and its later snapshots at $2.50/$10.
        ("openai", "gpt-4o-2024-05-13", "5", "15", "gpt-4o-2024-08-06"),
        # GPT-3.5 Turbo snapshots kept their launch prices: 1106 at $1/$2, 0613 at $1.50/$2 (0125 is $0.50/$1.50).
        ("openai", "gpt-3.5-turbo-1106", "1", "2", "gpt-3.5-turbo-0125"),
        ("openai", "gpt-3.5-turbo-0613", "1.5", "2", "gpt-3.5-turbo-0125"),
        # Groq's safeguard model is a 20B model at half the price of gpt-oss-120b, not one of its names.
        ("groq", "openai/gpt-oss-safeguard-20b", "0.075", "0.3", "openai/gpt-oss-120b"),
    ],
)
def test_dated_snapshots_priced_apart_have_entries_of_their_own(
    provider: str, name: str, input_mtok: str, output_mtok: str, like: str
) -> None:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    model = catalog.find(name, provider)
    assert model.id == name
    rates = model.windows[-1].rates
    assert (rates.input, rates.output) == (Decimal(input_mtok), Decimal(output_mtok))
    assert catalog.find(like, provider) is not model


def test_claude_sonnet_4_5_cache_rates_and_long_context_tier() -> None:
    w = window("anthropic", "claude-sonnet-4-5")
    assert (w["input_mtok"], w["output_mtok"], w["cache_read_mtok"]) == (3, 15, Decimal("0.3"))
    assert (w["cache_write_5m_mtok"], w["cache_write_1h_mtok"]) == (Decimal("3.75"), 6)
    (tier,) = w["tiers"]
    assert tier["above_input_tokens"] == 200_000
    assert (tier["input_mtok"], tier["output_mtok"], tier["cache_read_mtok"]) == (6, Decimal("22.5"), Decimal("0.6"))


def test_gemini_2_5_pro_tier_above_200k() -> None:
    w = window("google", "gemini-2.5-pro")
    assert (w["input_mtok"], w["output_mtok"], w["cache_read_mtok"]) == (Decimal("1.25"), 10, Decimal("0.125"))
    (tier,) = w["tiers"]
    assert tier == {"above_input_tokens": 200_000, "input_mtok": Decimal("2.5"), "output_mtok": 15,
                    "cache_read_mtok": Decimal("0.25")}  # fmt: skip
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    at, above = pricing.Usage(input_tokens=200_000), pricing.Usage(input_tokens=200_001)
    assert catalog.price(at, "gemini-2.5-pro").cost_usd == Decimal("0.25")
    assert catalog.price(above, "gemini-2.5-pro").cost_usd == Decimal("0.5000025")


def test_o3_launch_window_and_price_cut() -> None:
    launch, cut = window("openai", "o3", 0), window("openai", "o3", 1)
    assert (launch["effective_from"], launch["effective_until"]) == (dt.date(2025, 4, 16), dt.date(2025, 6, 10))
    assert (launch["input_mtok"], launch["output_mtok"], launch["cache_read_mtok"]) == (10, 40, Decimal("2.5"))
    assert cut["effective_from"] == dt.date(2025, 6, 10)
    assert "effective_until" not in cut
    assert (cut["input_mtok"], cut["output_mtok"], cut["cache_read_mtok"]) == (2, 8, Decimal("0.5"))
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    mtok = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert catalog.price(mtok, "o3", at="2025-06-09").cost_usd == 50
    assert catalog.price(mtok, "o3", at="2025-06-10").cost_usd == 10


def test_batch_multipliers_where_published() -> None:
    for pid in ("openai", "anthropic", "google", "mistral", "bedrock"):
        assert PROVIDERS[pid]["batch"] == Decimal("0.5"), pid
    assert PROVIDERS["xai"]["batch"] == Decimal("0.8")
    assert PROVIDERS["openai"]["service_tiers"] == PROVIDERS["google"]["service_tiers"] == {"flex": Decimal("0.5")}


CATALOG = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
MTOK = pricing.Usage(input_tokens=1_000_000, output_tokens=1_000_000)


@pytest.mark.parametrize(
    ("model", "tier", "batch", "expected"),
    [
        # OpenAI publishes priority (and "fast") and flex prices per model; batch where the model publishes none
        # is the stated 50 %.
        ("gpt-4o", "priority", False, "21.25"),
        ("gpt-4o", "fast", False, "21.25"),
        ("gpt-5", "priority", False, "22.5"),
        ("gpt-5", "flex", False, "5.625"),
        ("o3", "flex", False, "5"),
        ("o3", "priority", False, "17.5"),
        ("gpt-4o", None, True, "6.25"),
        ("o3", None, True, "5"),
        # Anthropic: batch at half, fast mode at its own rates (100k in and out: below the long-context tiers).
        ("claude-sonnet-4-5", None, True, "0.9"),
        ("claude-opus-5", "fast", False, "6"),
        ("claude-sonnet-4-5", "batch", False, "0.9"),
        # Gemini: per-model priority rates; flex and batch at half.
        ("gemini-2.5-pro", "priority", False, "2.025"),
        ("gemini-2.5-pro", "flex", False, "0.5625"),
        ("gemini-2.5-pro", None, True, "0.5625"),
    ],
)
def test_service_tiers_and_batch(model: str, tier: str | None, batch: bool, expected: str) -> None:
    usage = MTOK if model.startswith(("gpt", "o3")) else pricing.Usage(input_tokens=100_000, output_tokens=100_000)
    price = CATALOG.price(usage, model, at="2026-12-01", tier=tier, batch=batch)
    assert (price.cost_usd, price.notes) == (Decimal(expected), ())


def test_a_tier_no_one_publishes_is_standard_with_a_note() -> None:
    """OpenAI's Scale Tier and Anthropic's Priority Tier are bought by commitment: no per-token price."""
    for model, tier in (("gpt-4o", "scale"), ("claude-sonnet-4-5", "priority")):
        price = CATALOG.price(MTOK, model, at="2026-12-01", tier=tier)
        assert price.cost_usd == CATALOG.price(MTOK, model, at="2026-12-01").cost_usd
        assert price.notes, model


@pytest.mark.parametrize(
    ("model", "counter", "fee"),
    [
        ("gpt-5", "web_search_requests", "0.01"),
        ("gpt-5", "file_search_calls", "0.0025"),
        ("gpt-5", "code_interpreter_sessions", "0.03"),
        ("claude-sonnet-4-5", "web_search_requests", "0.01"),
        ("claude-sonnet-4-5", "web_fetch_requests", "0"),
        ("gemini-2.5-pro", "grounded_prompts", "0.035"),
        ("gemini-2.5-pro", "web_search_requests", "0"),
        ("gemini-3-pro-preview", "web_search_requests", "0.014"),
        ("gemini-3-pro-preview", "grounded_prompts", "0"),
    ],
)
def test_tool_fees(model: str, counter: str, fee: str) -> None:
    fees = CATALOG.tool_fees(CATALOG.find(model), "2026-12-01")
    assert fees[counter] == Decimal(fee)
    price = CATALOG.price(pricing.Usage(input_tokens=0, **{counter: 2}), model, at="2026-12-01")
    assert (price.cost_usd, price.notes) == (2 * Decimal(fee), ())


def test_dated_history_of_every_model_a_source_dates() -> None:
    dated = {f"{p}/{m['id']}" for p, m in models() if len(m["prices"]) > 1}
    assert len(dated) >= 20
    assert {"openai/o3", "mistral/mistral-small", "deepseek/deepseek-v4-flash", "xai/grok-4.20"} <= dated
    small = [(w.get("effective_from"), w["input_mtok"]) for w in window_list("mistral", "mistral-small")]
    assert small == [(None, Decimal("0.1")), (dt.date(2026, 3, 16), Decimal("0.15"))]
    assert CATALOG.price(MTOK, "deepseek-v4-flash", at="2026-08-01").cost_usd == Decimal("1.5")
    assert CATALOG.price(MTOK, "deepseek-v4-flash", at="2026-12-01").cost_usd == Decimal("0.75")


def test_a_change_the_later_snapshot_does_not_have_never_happened() -> None:
    """The August data announced Claude Sonnet 5 at $3/$15 from 2026-09-01; the December data has $2/$10 throughout."""
    (only,) = window_list("anthropic", "claude-sonnet-5")
    assert (only["input_mtok"], only["output_mtok"]) == (2, 10)


def window_list(provider: str, model_id: str) -> list[dict[str, Any]]:
    (found,) = [m for m in PROVIDERS[provider]["models"] if m["id"] == model_id]
    result: list[dict[str, Any]] = found["prices"]
    return result


def test_local_and_router_providers() -> None:
    expected = {"ollama": "localhost:11434", "llamacpp": "localhost:8080", "lmstudio": "localhost:1234"}
    for pid, host in expected.items():
        assert PROVIDERS[pid]["billing"] == "free"
        assert host in PROVIDERS[pid]["hosts"]
    assert {"llama.cpp", "llama_cpp"} <= set(PROVIDERS["llamacpp"]["prefixes"])
    assert PROVIDERS["openrouter"]["billing"] == "dynamic"
    assert PROVIDERS["openrouter"]["prefixes"] == ["openrouter"]
    (gpu,) = PROVIDERS["vllm"]["models"]
    assert (gpu["id"], gpu["billing"], gpu["prices"][0]["gpu_hour"]) == (
        "example/gpu-deployment",
        "gpu_time",
        Decimal("1.2"),
    )


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("https://api.openai.com/v1", "openai"),
        ("https://api.anthropic.com", "anthropic"),
        ("https://generativelanguage.googleapis.com/v1beta", "google"),
        ("https://api.mistral.ai/v1", "mistral"),
        ("https://api.deepseek.com", "deepseek"),
        ("https://api.x.ai/v1", "xai"),
        ("https://api.together.xyz/v1", "together"),
        ("https://api.groq.com/openai/v1", "groq"),
        ("https://openrouter.ai/api/v1", "openrouter"),
        ("https://bedrock-runtime.us-east-1.amazonaws.com", "bedrock"),
        ("http://localhost:11434", "ollama"),
    ],
)
def test_hosts_detect_the_provider(host: str, provider: str) -> None:
    catalog = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
    assert catalog.provider_for_host(host) == provider


# -- the build script --------------------------------------------------------------------------------------------


def _build_script() -> Any:
    path = Path(pricing.__file__).resolve().parents[1] / "scripts" / "build_catalog.py"
    spec = importlib.util.spec_from_file_location("build_catalog", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry(mid: str, inp: str, out: str, **more: Any) -> dict[str, Any]:
    return {"id": mid, **more, "prices": [{"input_mtok": Decimal(inp), "output_mtok": Decimal(out)}]}


def _openai(*models: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "catalog_version": "2026.01.01",
        "providers": [{"id": "openai", "models": list(models)}],
    }


def test_the_build_gives_a_snapshot_a_source_prices_apart_an_entry_of_its_own() -> None:
    build = _build_script()
    doc = _openai(_entry("gpt-4o", "2.5", "10", aliases=["gpt-4o-2024-05-13", "gpt-4o-2024-08-06"]))
    genai = {("openai", "gpt-4o"): _entry("gpt-4o", "2.5", "10")}
    lite = {
        ("openai", "gpt-4o"): _entry("gpt-4o", "2.5", "10"),
        ("openai", "gpt-4o-2024-05-13"): _entry("gpt-4o-2024-05-13", "5", "15"),
        ("openai", "gpt-4o-2024-08-06"): _entry("gpt-4o-2024-08-06", "2.5", "10"),
        ("openai", "gpt-4o-2024-11-20"): _entry("gpt-4o-2024-11-20", "2.5", "10"),  # resolves by its snapshot suffix
    }
    build._split_snapshots(doc, genai, lite)
    catalog = pricing.Catalog(doc)
    assert catalog.find("gpt-4o-2024-05-13").windows[-1].rates.input == Decimal(5)
    assert catalog.find("gpt-4o").aliases == ("gpt-4o-2024-08-06",)
    assert catalog.find("gpt-4o-2024-11-20").id == "gpt-4o"


def test_the_build_does_not_split_on_a_lone_entry() -> None:
    """A source that lists the snapshot but not the model may only be stale: it proves no price difference."""
    build = _build_script()
    doc = _openai(_entry("mistral-nemo", "0.15", "0.15", aliases=["open-mistral-nemo"]))
    build._split_snapshots(doc, {}, {("openai", "open-mistral-nemo"): _entry("open-mistral-nemo", "0.3", "0.3")})
    assert [m["id"] for m in doc["providers"][0]["models"]] == ["mistral-nemo"]


def _windowed(mid: str, *windows: dict[str, Any]) -> dict[str, Any]:
    return {"id": mid, "prices": [{"source": "s", "checked": dt.date(2026, 8, 21), **w} for w in windows]}


def _later(*models: dict[str, Any]) -> dict[str, Any]:
    for model in models:
        for w in model["prices"]:
            w.update(source="later", checked=dt.date(2026, 12, 1))
    return _openai(*models)


def test_the_build_folds_a_later_snapshot_in() -> None:
    """A change the later snapshot dates keeps its date; one it does not date takes effect on the snapshot's date;
    a change the earlier snapshot scheduled that the later one does not have is dropped; tier rates attach to the
    windows with the standard rates they were published with."""
    build = _build_script()
    d = dt.date
    doc = _openai(
        _windowed("dated", {"input_mtok": Decimal(1), "output_mtok": Decimal(2)}),
        _windowed("undated", {"input_mtok": Decimal(1), "output_mtok": Decimal(2)}),
        _windowed(
            "scheduled",
            {"effective_until": d(2026, 10, 1), "input_mtok": Decimal(1), "output_mtok": Decimal(2)},
            {"effective_from": d(2026, 10, 1), "input_mtok": Decimal(3), "output_mtok": Decimal(6)},
        ),
    )
    later = _later(
        _windowed(
            "dated",
            {"effective_until": d(2026, 9, 5), "input_mtok": Decimal(1), "output_mtok": Decimal(2)},
            {"effective_from": d(2026, 9, 5), "input_mtok": Decimal(2), "output_mtok": Decimal(4),
             "service_tiers": {"priority": {"input_mtok": Decimal(4), "output_mtok": Decimal(8)}}},
        ),
        _windowed("undated", {"input_mtok": Decimal(5), "output_mtok": Decimal(9)}),
        _windowed("scheduled", {"input_mtok": Decimal(1), "output_mtok": Decimal(2), "web_search_per_1k": Decimal(10)}),
    )  # fmt: skip
    folded = build._fold_later(doc, later, {})
    catalog = pricing.Catalog(folded)
    mtok = pricing.Usage(input_tokens=1_000_000)
    assert catalog.price(mtok, "dated", at="2026-09-04").cost_usd == 1
    assert catalog.price(mtok, "dated", at="2026-09-05").cost_usd == 2
    assert catalog.price(mtok, "dated", at="2026-09-05", tier="priority").cost_usd == 4
    assert catalog.price(mtok, "dated", at="2026-09-04", tier="priority").notes  # not published with $1
    assert catalog.price(mtok, "undated", at="2026-11-30").cost_usd == 1
    assert catalog.price(mtok, "undated", at="2026-12-01").cost_usd == 5
    (kept,) = catalog.find("scheduled").windows
    assert (kept.rates.input, kept.tool_fees) == (1, {"web_search_per_1k": 10})


def test_the_build_corrects_what_the_later_snapshot_and_litellm_both_state_otherwise() -> None:
    build = _build_script()
    doc = _openai(
        _windowed("m", {"input_mtok": Decimal(1), "output_mtok": Decimal(2), "cache_read_mtok": Decimal("0.5")})
    )
    later = _later(
        _windowed("m", {"input_mtok": Decimal(1), "output_mtok": Decimal(2), "cache_read_mtok": Decimal("0.3")})
    )
    lite = {
        ("openai", "m"): _windowed(
            "m", {"input_mtok": Decimal(1), "output_mtok": Decimal(2), "cache_read_mtok": Decimal("0.3")}
        )
    }
    (window,) = build._fold_later(doc, later, lite)["providers"][0]["models"][0]["prices"]
    assert "effective_from" not in window  # the whole window, not from the later date on
    assert window["cache_read_mtok"] == Decimal("0.3")
    assert window["source"] == f"later + {build.LITELLM.label}"
