"""Costs computed by hand from the published rates in ``tests/fixtures/mini_catalog.toml``.

Each expected figure is written as the arithmetic a person would do (tokens × USD per million tokens), so a wrong
rate, bucket or fallback in the engine shows up as a mismatch.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pricing
from pricing import Catalog, CatalogError, ImpossibleUsage, Usage, load_catalog
from pricing._load import parse_document

M = Decimal(1_000_000)
UTC = dt.timezone.utc


def usd(*terms: tuple[int, str]) -> Decimal:
    """Sum of tokens × rate (USD per million tokens)."""
    return sum((Decimal(tokens) * Decimal(rate) / M for tokens, rate in terms), Decimal(0))


@pytest.fixture
def mini(mini_catalog_path: Path) -> Catalog:
    return load_catalog(mini_catalog_path, overrides=False)


# -- priced calls -------------------------------------------------------------------------------------------------

CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Decimal]] = [
    # (case, model, usage, price() options, expected USD)
    (
        "plain input and output",
        "gpt-4o",
        {"input_tokens": 1000, "output_tokens": 200},
        {},
        usd((1000, "2.5"), (200, "10")),
    ),
    (
        "cache read is part of input",
        "gpt-4o",
        {"input_tokens": 12000, "output_tokens": 800, "cache_read_tokens": 8000},
        {},
        usd((4000, "2.5"), (8000, "1.25"), (800, "10")),
    ),
    (
        "cache write falls back to input rate",
        "gpt-4o",
        {"input_tokens": 5000, "output_tokens": 0, "cache_write_tokens": 3000},
        {},
        usd((2000, "2.5"), (3000, "2.5")),
    ),
    (
        "anthropic cache read, 5m and 1h writes, reasoning",
        "claude-sonnet-4-5",
        {
            "input_tokens": 10000,
            "cache_read_tokens": 2000,
            "cache_write_tokens": 3000,
            "cache_write_1h_tokens": 1000,
            "output_tokens": 500,
            "reasoning_tokens": 100,
        },
        {},
        usd((4000, "3"), (2000, "0.3"), (3000, "3.75"), (1000, "6"), (400, "15"), (100, "15")),
    ),
    (
        "tier: exactly at the threshold keeps base rates",
        "claude-sonnet-4-5",
        {"input_tokens": 200000, "output_tokens": 1000},
        {},
        usd((200000, "3"), (1000, "15")),
    ),
    (
        "tier: one token above the threshold reprices every bucket",
        "claude-sonnet-4-5",
        {"input_tokens": 200001, "output_tokens": 1000},
        {},
        usd((200001, "6"), (1000, "22.5")),
    ),
    (
        "tier counts cached tokens toward the threshold",
        "gemini-2.5-pro",
        {"input_tokens": 300000, "cache_read_tokens": 100000, "output_tokens": 10},
        {},
        usd((200000, "2.5"), (100000, "0.25"), (10, "15")),
    ),
    (
        "gemini below its tier",
        "gemini-2.5-pro",
        {"input_tokens": 200000, "output_tokens": 0},
        {},
        usd((200000, "1.25")),
    ),
    (
        "o3 the day before the price cut",
        "o3",
        {"input_tokens": 1000, "output_tokens": 1000},
        {"at": "2025-06-09"},
        usd((1000, "10"), (1000, "40")),
    ),
    (
        "o3 on the day of the price cut",
        "o3",
        {"input_tokens": 1000, "output_tokens": 1000},
        {"at": "2025-06-10"},
        usd((1000, "2"), (1000, "8")),
    ),
    (
        "o3 one second before midnight UTC (datetime)",
        "o3",
        {"input_tokens": 1000, "output_tokens": 1000},
        {"at": dt.datetime(2025, 6, 9, 23, 59, 59, tzinfo=UTC)},
        usd((1000, "10"), (1000, "40")),
    ),
    (
        "o3 at 01:00+02:00 on the 10th is still the 9th in UTC",
        "o3",
        {"input_tokens": 1000, "output_tokens": 1000},
        {"at": "2025-06-10T01:00:00+02:00"},
        usd((1000, "10"), (1000, "40")),
    ),
    (
        "o3 at midnight UTC as epoch seconds",
        "o3",
        {"input_tokens": 1000, "output_tokens": 1000},
        {"at": dt.datetime(2025, 6, 10, tzinfo=UTC).timestamp()},
        usd((1000, "2"), (1000, "8")),
    ),
    (
        "o3 one second earlier as integer epoch seconds",
        "o3",
        {"input_tokens": 1000, "output_tokens": 1000},
        {"at": int(dt.datetime(2025, 6, 10, tzinfo=UTC).timestamp()) - 1},
        usd((1000, "10"), (1000, "40")),
    ),
    (
        "batch halves the cost",
        "gpt-4o",
        {"input_tokens": 1000, "output_tokens": 200},
        {"batch": True},
        usd((1000, "2.5"), (200, "10")) * Decimal("0.5"),
    ),
    (
        "provider batch discount applies to its models",
        "claude-sonnet-4-5",
        {"input_tokens": 1000, "output_tokens": 200},
        {"batch": True},
        usd((1000, "3"), (200, "15")) * Decimal("0.5"),
    ),
    (
        "flex service tier",
        "gpt-4o",
        {"input_tokens": 1000, "output_tokens": 200},
        {"service_tier": "flex"},
        usd((1000, "2.5"), (200, "10")) * Decimal("0.5"),
    ),
    (
        "priority service tier",
        "gpt-4o",
        {"input_tokens": 1000, "output_tokens": 200},
        {"service_tier": "priority"},
        usd((1000, "2.5"), (200, "10")) * 2,
    ),
    (
        "batch and flex multiply",
        "gpt-4o",
        {"input_tokens": 1000, "output_tokens": 200},
        {"batch": True, "service_tier": "flex"},
        usd((1000, "2.5"), (200, "10")) * Decimal("0.25"),
    ),
    (
        "bedrock us. region profile multiplier",
        "us.anthropic.claude-3-haiku-20240307-v1:0",
        {"input_tokens": 1000, "output_tokens": 100},
        {},
        usd((1000, "0.25"), (100, "1.25")) * Decimal("1.1"),
    ),
    (
        "gpu time: seconds × USD per hour / 3600",
        "example/gpu-deployment",
        {"input_tokens": 500, "output_tokens": 50, "gpu_seconds": 45},
        {},
        Decimal(45) * Decimal("1.20") / 3600,
    ),
]


@pytest.mark.parametrize(("case", "model", "usage", "options", "expected"), CASES, ids=[c[0] for c in CASES])
def test_priced_by_hand(
    mini: Catalog, case: str, model: str, usage: dict[str, Any], options: dict[str, Any], expected: Decimal
) -> None:
    result = mini.price(Usage(**usage), model, **options)
    assert result.status == "priced", case
    assert result.cost_usd == expected, case


def test_breakdown_sums_to_cost_before_multiplier(mini: Catalog) -> None:
    u = Usage(input_tokens=12000, output_tokens=800, cache_read_tokens=8000)
    result = mini.price(u, "gpt-4o", batch=True)
    assert result.breakdown["input"] == usd((4000, "2.5"))
    assert result.breakdown["cache_read"] == usd((8000, "1.25"))
    assert result.breakdown["output"] == usd((800, "10"))
    assert sum(result.breakdown.values()) * result.multiplier == result.cost_usd


def test_price_ref_names_catalog_version_and_window(mini: Catalog) -> None:
    old = mini.price(Usage(input_tokens=1, output_tokens=1), "o3", at="2025-05-01")
    new = mini.price(Usage(input_tokens=1, output_tokens=1), "o3", at="2025-07-01")
    assert old.price_ref == "2026.01.01:openai/o3@2025-04-16"
    assert new.price_ref == "2026.01.01:openai/o3@2025-06-10"


def test_before_the_first_window_is_unknown(mini: Catalog) -> None:
    result = mini.price(Usage(input_tokens=1000, output_tokens=1), "o3", at="2025-04-15")
    assert (result.status, result.cost_usd) == ("unknown_model", None)


def test_price_result_is_independent_of_the_callers_decimal_context(mini: Catalog) -> None:
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 3
        low = mini.price(Usage(input_tokens=123457, output_tokens=98765), "gpt-4o-mini", batch=True)
    assert low.cost_usd == usd((123457, "0.15"), (98765, "0.6")) * Decimal("0.5")


# -- states -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider"), [("llama3.1:8b", "ollama"), ("ollama/qwen2.5", None), ("anything", "vllm")]
)
def test_local_models_are_free(mini: Catalog, model: str, provider: str | None) -> None:
    result = mini.price(Usage(input_tokens=5000, output_tokens=500), model, provider)
    assert (result.status, result.cost_usd) == ("free", Decimal(0))


def test_gpu_time_without_seconds_has_no_cost(mini: Catalog) -> None:
    result = mini.price(Usage(input_tokens=10, output_tokens=10), "example/gpu-deployment")
    assert (result.status, result.cost_usd) == ("no_usage", None)


@pytest.mark.parametrize("seconds", [float("inf"), float("nan"), -1.0])
def test_gpu_seconds_that_are_no_duration_are_impossible_usage(mini: Catalog, seconds: float) -> None:
    with pytest.raises(ImpossibleUsage, match="gpu_seconds"):
        mini.price(Usage(gpu_seconds=seconds), "example/gpu-deployment", "vllm")


def test_gpu_time_is_exact_however_large(mini: Catalog) -> None:
    result = mini.price(Usage(gpu_seconds=1e100), "example/gpu-deployment", "vllm")
    rate = mini.find("example/gpu-deployment", "vllm").windows[-1].gpu_hour
    assert rate is not None
    wide = decimal.Context(prec=200)  # the default 28 digits would round the expected figure itself
    expected = wide.divide(wide.multiply(Decimal("1e100"), rate), Decimal(3600)).quantize(
        Decimal("1e-12"), context=wide
    )
    assert result.cost_usd == expected
    assert str(expected) == "3" * 97 + "." + "3" * 12


def test_unknown_model_has_no_cost(mini: Catalog) -> None:
    result = mini.price(Usage(input_tokens=10, output_tokens=10), "no-such-model-9")
    assert (result.status, result.cost_usd, result.price_ref) == ("unknown_model", None, None)
    assert result.breakdown == {}


@pytest.mark.parametrize(("model", "provider"), [("openrouter/openai/gpt-4o", None), ("openai/gpt-4o", "openrouter")])
def test_router_prices_are_dynamic(mini: Catalog, model: str, provider: str | None) -> None:
    result = mini.price(Usage(input_tokens=10, output_tokens=10), model, provider)
    assert (result.status, result.cost_usd, result.provider) == ("dynamic", None, "openrouter")


def test_provider_reported_cost_wins(mini: Catalog) -> None:
    result = mini.price(Usage(input_tokens=1000, output_tokens=200), "gpt-4o", provider_cost="0.0123")
    assert (result.status, result.cost_usd) == ("provider_reported", Decimal("0.0123"))
    routed = mini.price(Usage(input_tokens=1, output_tokens=1), "openrouter/x/y", provider_cost=0.5)
    assert (routed.status, routed.cost_usd, routed.provider) == ("provider_reported", Decimal("0.5"), "openrouter")


@pytest.mark.parametrize(
    "usage",
    [
        {"input_tokens": 10, "cache_read_tokens": 11},
        {"input_tokens": 10, "cache_read_tokens": 6, "cache_write_tokens": 5},
        {"input_tokens": 10, "cache_write_tokens": 5, "cache_write_1h_tokens": 6},
        {"output_tokens": 10, "reasoning_tokens": 11},
        {"input_tokens": -1},
        {"output_tokens": -5},
        {"input_tokens": 10, "cache_read_tokens": -1},
    ],
)
@pytest.mark.parametrize("model", ["gpt-4o", "claude-sonnet-4-5", "no-such-model", "llama3"])
def test_impossible_usage_raises(mini: Catalog, usage: dict[str, int], model: str) -> None:
    with pytest.raises(ImpossibleUsage):
        mini.price(Usage(**usage), model)


# -- resolution ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "provider", "expected"),
    [
        ("gpt-4o", None, "openai/gpt-4o"),
        ("GPT-4o", None, "openai/gpt-4o"),
        ("  gpt-4o ", None, "openai/gpt-4o"),
        ("openai/gpt-4o", None, "openai/gpt-4o"),
        ("azure/gpt-4o", None, "openai/gpt-4o"),
        ("gpt-4o", "openai", "openai/gpt-4o"),
        ("gpt-4o-2024-08-06", None, "openai/gpt-4o"),  # alias
        ("gpt-4o-2024-11-20", None, "openai/gpt-4o"),  # dated snapshot suffix
        ("gpt-4o-latest", None, "openai/gpt-4o"),
        ("gpt-4o-mini", None, "openai/gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", None, "openai/gpt-4o-mini"),  # prefix, not gpt-4o
        ("o3-2025-04-16", None, "openai/o3"),
        ("claude-sonnet-4-5-20250929", None, "anthropic/claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", None, "anthropic/claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4-5", None, "anthropic/claude-sonnet-4-5"),
        ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", None, "aws/anthropic.claude-3-haiku-20240307-v1:0"),
        ("us.anthropic.claude-3-haiku-20240307-v1:0", None, "aws/anthropic.claude-3-haiku-20240307-v1:0"),
    ],
)
def test_resolution(mini: Catalog, name: str, provider: str | None, expected: str) -> None:
    model = mini.resolve(name, provider)
    assert model is not None
    assert model.key == expected


@pytest.mark.parametrize("name", ["gpt-5-nonexistent", "claude", "4o", ""])
def test_unresolved_names(mini: Catalog, name: str) -> None:
    assert mini.resolve(name) is None


def _doc(models: str) -> dict[str, Any]:
    text = f"""
schema_version = 1
catalog_version = "2026.01.01"
[[providers]]
id = "acme"
name = "Acme"
{models}
"""
    return parse_document(text)


def _model(mid: str, extra: str = "") -> str:
    return f"""
[[providers.models]]
id = "{mid}"
{extra}
[[providers.models.prices]]
input_mtok = 1
output_mtok = 2
"""


def test_longest_match_prefix_wins() -> None:
    catalog = Catalog(_doc(_model("foo", 'match_prefix = ["foo"]') + _model("foo-pro", 'match_prefix = ["foo-pro"]')))
    assert catalog.find("foo-pro-2025-01-01").id == "foo-pro"
    assert catalog.find("foo-20250101").id == "foo"
    assert catalog.find("FOO-PRO").id == "foo-pro"


@pytest.mark.parametrize(
    "name",
    [
        "claude-opus-5",
        "claude-opus-5-20260101",
        "claude-opus-5-2026-01-01",
        "claude-opus-5@20260101",
        "claude-opus-5-latest",
        "claude-opus-5-0613",
        "claude-opus-5-20260101-v1:0",
        "CLAUDE-OPUS-5-20260101",
    ],
)
def test_a_prefix_covers_the_dated_snapshots_of_its_model(name: str) -> None:
    catalog = Catalog(_doc(_model("claude-opus-5", 'match_prefix = ["claude-opus-5"]')))
    assert catalog.find(name).id == "claude-opus-5"


@pytest.mark.parametrize(
    "name",
    ["claude-opus-5-5", "claude-opus-5.5", "claude-opus-5-mini", "claude-opus-5-5-20260101", "claude-opus-50", "c"],
)
def test_a_prefix_never_covers_another_version(name: str) -> None:
    catalog = Catalog(_doc(_model("claude-opus-5", 'match_prefix = ["claude-opus-5"]')))
    assert catalog.resolve(name) is None
    assert catalog.price(Usage(input_tokens=1000), name).status == "unknown_model"


@pytest.mark.parametrize("repeat", [30, 60])
def test_a_long_name_that_almost_looks_dated_resolves_at_once(repeat: int) -> None:
    """Names come from user data: a snapshot suffix is peeled piece by piece, never matched by a pattern that
    backtracks exponentially (30 pieces took hours with one)."""
    catalog = Catalog(_doc(_model("claude-opus-5", 'match_prefix = ["claude-opus-5"]')))
    name = "claude-opus-5" + "-2026-01-01" * repeat + "x"
    started = time.perf_counter()
    assert catalog.resolve(name) is None
    assert catalog.resolve(name[:-1]) is (catalog.find("claude-opus-5") if len(name) <= 256 else None)
    assert time.perf_counter() - started < 1


def test_a_prefix_ending_in_a_separator_reads_as_the_name_before_it() -> None:
    catalog = Catalog(_doc(_model("gpt-5-nano", 'match_prefix = ["gpt-5-nano-"]')))
    assert catalog.find("gpt-5-nano-2025-08-07").id == "gpt-5-nano"
    assert catalog.resolve("gpt-5-nano-pro") is None


def test_a_dated_snapshot_with_its_own_entry_wins_over_the_prefix() -> None:
    snapshot = _model("claude-opus-5-20260101").replace("input_mtok = 1", "input_mtok = 9")
    catalog = Catalog(_doc(_model("claude-opus-5", 'match_prefix = ["claude-opus-5"]') + snapshot))
    assert catalog.find("claude-opus-5-20260101").id == "claude-opus-5-20260101"
    assert catalog.find("claude-opus-5-20260202").id == "claude-opus-5"


_HOSTS = """
schema_version = 1
catalog_version = "2026.01.01"
[[providers]]
id = "together"
prefixes = ["together_ai"]
[[providers.models]]
id = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
[[providers.models.prices]]
input_mtok = 2
output_mtok = 2
[[providers]]
id = "nebius"
[[providers.models]]
id = "nebius/deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
[[providers.models.prices]]
input_mtok = 0.25
output_mtok = 0.75
[[providers]]
id = "groq"
[[providers.models]]
id = "llama-3.3-70b-versatile"
[[providers.models.prices]]
input_mtok = 0.59
output_mtok = 0.79
"""


@pytest.mark.parametrize(
    ("name", "provider", "expected"),
    [
        ("nebius/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", None, usd((1_000_000, "0.25"), (1_000_000, "0.75"))),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "nebius", usd((1_000_000, "0.25"), (1_000_000, "0.75"))),
        ("together/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", None, usd((1_000_000, "2"), (1_000_000, "2"))),
        ("together_ai/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", None, usd((1_000_000, "2"), (1_000_000, "2"))),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "together", usd((1_000_000, "2"), (1_000_000, "2"))),
        ("litellm_proxy/nebius/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", None, usd((1_000_000, "0.25"), (1_000_000, "0.75"))),
    ],
)  # fmt: skip
def test_the_same_model_from_two_providers_has_each_providers_price(
    name: str, provider: str | None, expected: Decimal
) -> None:
    catalog = Catalog(parse_document(_HOSTS))
    result = catalog.price(Usage(input_tokens=1_000_000, output_tokens=1_000_000), name, provider)
    assert (result.status, result.cost_usd) == ("priced", expected)


def test_a_snapshots_own_entry_wins_over_a_qualified_name_without_the_suffix() -> None:
    """``azure_ai/DeepSeek-V4-Flash-0731`` is the snapshot's own entry, not ``azure_ai/deepseek-v4-flash`` with its
    suffix stripped: every declared candidate is tried before any suffix is."""
    doc = parse_document(
        '[[providers]]\nid = "azure_ai"\n'
        '[[providers.models]]\nid = "azure_ai/deepseek-v4-flash"\n[[providers.models.prices]]\ninput_mtok = 1\n'
        '[[providers.models]]\nid = "DeepSeek-V4-Flash-0731"\n[[providers.models.prices]]\ninput_mtok = 2\n'
    )
    catalog = Catalog(doc)
    usage = Usage(input_tokens=1_000_000)
    assert catalog.price(usage, "azure_ai/DeepSeek-V4-Flash-0731").cost_usd == 2
    assert catalog.price(usage, "DeepSeek-V4-Flash-0731", "azure_ai").cost_usd == 2
    assert catalog.price(usage, "azure_ai/deepseek-v4-flash-0901").cost_usd == 1


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("groq/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", None),  # groq sells no such model
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "groq"),
        ("groq/deepseek-r1-distill-llama-70b", None),
        ("together/llama-3.3-70b-versatile", None),
        ("llama-3.3-70b-versatile", "nebius"),
        ("fireworks/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", None),  # a provider this catalog does not know
    ],
)
def test_a_provider_qualified_name_never_takes_another_providers_price(name: str, provider: str | None) -> None:
    catalog = Catalog(parse_document(_HOSTS))
    result = catalog.price(Usage(input_tokens=1000, output_tokens=1000), name, provider)
    assert (result.status, result.cost_usd) == ("unknown_model", None)
    assert catalog.resolve(name, provider) is None


@pytest.mark.parametrize(
    "models",
    [
        _model("a", 'aliases = ["shared"]') + _model("b", 'aliases = ["shared"]'),
        _model("a", 'aliases = ["b"]') + _model("b"),
        _model("a", 'match_prefix = ["x-"]') + _model("b", 'match_prefix = ["x-"]'),
        _model("a", 'match_prefix = ["x"]') + _model("b", 'match_prefix = ["X"]'),
    ],
    ids=["shared alias", "alias is another id", "shared prefix", "shared prefix, other case"],
)
def test_ambiguous_catalogs_are_rejected(models: str) -> None:
    with pytest.raises(CatalogError, match="ambiguous"):
        Catalog(_doc(models))


def test_every_declared_name_resolves_to_its_own_model(mini: Catalog) -> None:
    for model in mini.models:
        for name in model.names():
            assert mini.resolve(name) is model


# -- overrides and reloading --------------------------------------------------------------------------------------

_OVERRIDE = """
[[providers]]
id = "openai"
[[providers.models]]
id = "gpt-4o"
[[providers.models.prices]]
input_mtok = {rate}
output_mtok = 10
"""


def _gpt4o_input_rate(catalog: Catalog) -> Decimal:
    result = catalog.price(Usage(input_tokens=1_000_000), "gpt-4o")
    assert result.cost_usd is not None
    return result.cost_usd


def test_user_override_replaces_a_bundled_model(mini_catalog_path: Path, project_dir: Path) -> None:
    user = Path(os.environ["LLMCOST_HOME"]) / "pricing.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(_OVERRIDE.format(rate=5))
    assert _gpt4o_input_rate(load_catalog(mini_catalog_path)) == 5
    assert _gpt4o_input_rate(load_catalog(mini_catalog_path, overrides=False)) == Decimal("2.5")
    assert load_catalog(mini_catalog_path).find("o3").key == "openai/o3"  # the rest of the provider stays


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project checkout apart from the home directory (whose ``.llmcost`` is ``LLMCOST_HOME``)."""
    project = tmp_path / "project"
    (project / ".llmcost").mkdir(parents=True)
    monkeypatch.chdir(project)
    return project


def test_project_override_beats_user_override(mini_catalog_path: Path, project_dir: Path) -> None:
    user = Path(os.environ["LLMCOST_HOME"]) / "pricing.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(_OVERRIDE.format(rate=5))
    project = project_dir / ".llmcost" / "pricing.toml"
    project.write_text(_OVERRIDE.format(rate=7))
    assert _gpt4o_input_rate(load_catalog(mini_catalog_path)) == 7


def test_override_adds_a_self_hosted_deployment(mini_catalog_path: Path, project_dir: Path) -> None:
    project = project_dir / ".llmcost" / "pricing.toml"
    project.write_text(
        '[[providers]]\nid = "vllm"\n[[providers.models]]\nid = "team/llama-70b"\nbilling = "gpu_time"\n'
        "[[providers.models.prices]]\ngpu_hour = 3.6\n"
    )
    result = load_catalog(mini_catalog_path).price(Usage(gpu_seconds=10), "team/llama-70b", "vllm")
    assert (result.status, result.cost_usd) == ("priced", Decimal("0.01"))


def test_load_catalog_picks_up_a_modified_file(mini_catalog_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    shutil.copy(mini_catalog_path, path)
    first = load_catalog(path, overrides=False)
    assert load_catalog(path, overrides=False) is first  # cached while unchanged
    gpt4o = "input_mtok = 2.5\noutput_mtok = 10\ncache_read_mtok = 1.25"
    assert path.read_text().count(gpt4o) == 1
    path.write_text(path.read_text().replace(gpt4o, gpt4o.replace("2.5", "3.5")))
    second = load_catalog(path, overrides=False)
    assert second is not first
    assert _gpt4o_input_rate(second) == Decimal("3.5")


def test_module_level_price_uses_the_bundled_catalog() -> None:
    result = pricing.price(Usage(input_tokens=1000, output_tokens=200), "gpt-4o")
    assert result.status == "priced"
    assert result.cost_usd is not None
    assert result.cost_usd > 0


def test_a_tier_setting_only_input_keeps_the_other_base_rates() -> None:
    tiered = _model("long", "").replace(
        "output_mtok = 2\n",
        "output_mtok = 2\ncache_read_mtok = 0.5\n[[providers.models.prices.tiers]]\nabove_input_tokens = 1000\n"
        "input_mtok = 4\n",
    )
    catalog = Catalog(_doc(tiered))
    result = catalog.price(Usage(input_tokens=3000, cache_read_tokens=1000, output_tokens=100), "long")
    # Above the tier: input 4; cache read falls back inside the tier to its input rate; output keeps the base 2.
    assert result.cost_usd == usd((2000, "4"), (1000, "4"), (100, "2"))
