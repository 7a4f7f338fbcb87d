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


def test_every_window_has_source_and_checked_and_no_negative_rate() -> None:
    for pid, model in models():
        for w in model["prices"]:
            assert str(w["source"]).startswith("https://"), (pid, model["id"])
            assert isinstance(w["checked"], dt.date), (pid, model["id"])
            for table in (w, *w.get("tiers", [])):
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
    for pid in ("openai", "anthropic", "google"):
        assert PROVIDERS[pid]["batch"] == Decimal("0.5"), pid


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
