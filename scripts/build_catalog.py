"""Rebuild the bundled ``pricing_catalog.toml`` from public price data (maintainers only).

    python scripts/build_catalog.py GENAI_PRICES_V2_JSON LITELLM_JSON [--later GENAI_PRICES_V2_JSON|installed]
                                    [-o pricing_catalog.toml]

genai-prices (dated windows, long-context tiers, service-tier and batch variants, tool prices, match rules) is the
primary source; LiteLLM fills what it lacks (1-hour cache writes, long-context tiers, service-tier rates, tool
prices, context windows) and the providers genai-prices covers poorly (Together). Which models are kept is the
curation list below; everything else is dropped.

``--later`` folds a later genai-prices snapshot in the way ``pricing update`` does (``installed`` reads the data of
the installed ``genai-prices`` package): its dated prices become windows, a change it does not date takes effect on
the snapshot's date, so calls before it keep the earlier snapshot's price. Service-tier, batch and tool prices are
attached to every window whose standard rates are the ones they were published with.

Every window keeps its provenance: ``source`` names the data it comes from and the provider's page it cites
(``genai-prices@47df840 (https://openai.com/api/pricing/)``), ``checked`` the date of that data. The same inputs
give the same bytes. A name a source prices apart from the model it would resolve to (a dated snapshot, a
``-latest`` alias that moved on) gets an entry of its own. Names that would resolve to two models are pruned (the
pruning and the splits are printed) and the result is checked with the catalog loader before it is written.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from pricing._catalog import Catalog
from pricing._diff import window_signature
from pricing._load import validate_document
from pricing._merge import merge_rates
from pricing._model import RATE_KEYS, TOOL_KEYS, Rates
from pricing._sources import genai_prices, litellm
from pricing._sources._common import KNOWN_PROVIDERS
from pricing._sources._doc import dump


class Input(NamedTuple):
    """A source's data: how windows name it, and the date it was taken (each window's ``checked``)."""

    label: str
    day: dt.date


#: genai-prices commit 47df840 is dated 2026-08-21; the LiteLLM 1.109.1 map was taken with it.
GENAI = Input("genai-prices@47df840", dt.date(2026, 8, 21))
LITELLM = Input("litellm@1.109.1", dt.date(2026, 8, 21))
#: The data of the genai-prices 0.2.3 package: its latest dated price starts 2026-12-01.
LATER = Input("genai-prices@0.2.3", dt.date(2026, 12, 1))
CATALOG_VERSION = "2026.12.01"

# -- curation: our provider id -> genai-prices model ids kept (renamed where a clearer id exists) ----------------

GENAI_KEEP: dict[str, list[str]] = {
    "openai": [
        "chatgpt-4o-latest", "codex-mini", "gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "gpt-4.1", "gpt-4.1-mini",
        "gpt-4.1-nano", "gpt-4.5-preview", "gpt-4o", "gpt-4o-mini", "gpt-4o-search-preview", "gpt-4o-audio-preview",
        "gpt-4o-mini-audio-preview", "gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview", "gpt-5", "gpt-5-mini",
        "gpt-5-nano", "gpt-5-pro", "gpt-5.1", "gpt-5.1-codex-mini", "gpt-5.2", "gpt-5.2-pro", "gpt-5.3",
        "gpt-5.3-codex", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.4-pro", "gpt-5.5", "gpt-5.5-pro",
        "gpt-5.6-luna", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-chat-latest", "gpt-realtime", "gpt-realtime-mini",
        "gpt-audio", "gpt-audio-mini", "o1", "o1-mini", "o1-pro", "o3", "o3-deep-research", "o3-mini", "o3-pro",
        "o4-mini", "o4-mini-deep-research", "text-embedding-3-large", "text-embedding-3-small",
        "text-embedding-ada-002",
    ],
    "anthropic": [
        "claude-3-5-haiku-latest", "claude-3-5-sonnet", "claude-3-7-sonnet-latest", "claude-3-haiku",
        "claude-3-opus-latest", "claude-fable-5", "claude-haiku-4-5", "claude-opus-4-0", "claude-opus-4-1",
        "claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5",
        "claude-sonnet-4-0", "claude-sonnet-4-5", "claude-sonnet-4-6", "claude-sonnet-5",
    ],
    "google": [
        "gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-2.5-flash",
        "gemini-2.5-flash-image", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-3-flash-preview",
        "gemini-3-pro-image-preview", "gemini-3-pro-preview", "gemini-3.1-flash-image-preview",
        "gemini-3.1-flash-lite", "gemini-3.1-pro-preview", "gemini-3.5-flash", "gemini-3.5-flash-lite",
        "gemini-3.6-flash", "gemini-3.7-flash", "gemini-embedding-001", "gemma-4-26b-a4b-it", "gemma-4-31b-it",
    ],
    "mistral": [
        "codestral", "codestral-2508", "devstral-2512", "devstral-small", "magistral-medium", "magistral-small",
        "ministral-14b-2512", "ministral-3b", "ministral-3b-2512", "ministral-8b", "mistral-7b", "mistral-embed",
        "mistral-large", "mistral-large-2512", "mistral-medium-3", "mistral-nemo", "mistral-saba",
        "mistral-small-2603", "mistral-small-latest", "mixtral-8x22b-instruct", "mixtral-8x7b", "pixtral-12b",
        "pixtral-large", "voxtral-small-24b-2507",
    ],
    "deepseek": [
        "deepseek-chat", "deepseek-reasoner", "deepseek-v3.1-terminus", "deepseek-v3.2", "deepseek-v3.2-exp",
        "deepseek-v4-flash", "deepseek-v4-pro",
    ],
    "xai": [
        "grok-2-vision-1212", "grok-3", "grok-3-fast", "grok-3-mini", "grok-3-mini-fast", "grok-4-0709",
        "grok-4-1-fast-non-reasoning", "grok-4-1-fast-reasoning", "grok-4-fast-non-reasoning",
        "grok-4-fast-reasoning", "grok-4.20", "grok-4.20-multi-agent", "grok-4.3", "grok-4.5", "grok-build-0.1",
        "grok-code-fast-1",
    ],
    "bedrock": [
        "amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0", "amazon.nova-premier-v1:0", "amazon.nova-pro-v1:0",
        "deepseek.r1-v1:0", "google.gemma-3-12b-it", "google.gemma-3-27b-it", "google.gemma-3-4b-it",
        "meta.llama3-1-70b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0", "meta.llama3-2-11b-instruct-v1:0",
        "meta.llama3-2-1b-instruct-v1:0", "meta.llama3-2-3b-instruct-v1:0", "meta.llama3-2-90b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0", "meta.llama3-70b-instruct-v1:0", "meta.llama3-8b-instruct-v1:0",
        "meta.llama4-maverick-17b-instruct-v1:0", "meta.llama4-scout-17b-instruct-v1:0", "mistral.devstral-2-123b",
        "mistral.magistral-small-2509", "mistral.ministral-3-14b-instruct", "mistral.ministral-3-3b-instruct",
        "mistral.ministral-3-8b-instruct", "mistral.mistral-large-2402-v1:0", "mistral.mistral-large-3-675b-instruct",
        "mistral.mixtral-8x7b-instruct-v0:1", "mistral.pixtral-large-2502-v1:0", "nvidia.nemotron-nano-9b-v2:0",
        "nvidia.nemotron-super-3-120b:0", "openai.gpt-oss-120b-1:0", "openai.gpt-oss-20b-1:0", "qwen.qwen3-32b-v1:0",
        "qwen.qwen3-coder-30b-a3b-v1:0", "qwen.qwen3-coder-480b-a35b-v1:0", "qwen.qwen3-vl-235b-a22b-v1:0",
    ],
    "groq": [
        "deepseek-r1-distill-llama-70b", "gemma2-9b-it", "llama-3.1-8b-instant", "llama-3.3-70b-versatile",
        "llama3-70b-8192", "llama3-8b-8192", "meta-llama/llama-4-maverick-17b-128e-instruct",
        "meta-llama/llama-4-scout-17b-16e-instruct", "meta-llama/llama-guard-4-12b", "mistral-saba-24b",
        "moonshotai/kimi-k2-instruct", "openai/gpt-oss-120b", "openai/gpt-oss-20b", "qwen/qwen3-32b",
    ],
}  # fmt: skip

#: Models released after the earlier snapshot, kept from the later one (``--later``).
LATER_KEEP: dict[str, list[str]] = {
    "anthropic": ["claude-fable-5-1", "claude-fable-5-2", "claude-haiku-5-5", "claude-mythos-5-2", "claude-opus-5-5",
                  "claude-sonnet-5-5"],
    "deepseek": ["deepseek-flash"],
    "google": ["gemini-3.8-flash", "gemini-4-argon"],
    # mistral-medium-2312 is the first Mistral Medium ($2.70 / $8.10), not a snapshot of Mistral Medium 3.
    "mistral": ["ministral-8b-2512", "mistral-large-4", "mistral-medium-2312", "mistral-medium-3-5"],
    "openai": ["gpt-5.5-cyber", "gpt-6-astra", "gpt-6-luna", "gpt-6-sol", "gpt-6.1-sol", "gpt-6.1-terra"],
    "xai": ["grok-4.6", "grok-4.7"],
}  # fmt: skip

#: LiteLLM model ids (after the provider segment is dropped) kept for providers genai-prices covers poorly.
LITELLM_KEEP: dict[str, list[str]] = {
    "together": [
        "deepseek-ai/DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "deepseek-ai/DeepSeek-V3",
        "deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V4-Pro-0813",
        "meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo",
        "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "mistralai/Mistral-7B-Instruct-v0.3",
        "mistralai/Mistral-Small-24B-Instruct-2501", "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "moonshotai/Kimi-K2.6", "Qwen/Qwen2.5-72B-Instruct-Turbo",
        "Qwen/Qwen2.5-Coder-32B-Instruct", "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", "Qwen/Qwen3-Next-80B-A3B-Instruct",
        "Qwen/Qwen3.5-397B-A17B", "Qwen/QwQ-32B", "zai-org/GLM-4.6", "zai-org/GLM-4.7",
    ],
}  # fmt: skip

#: Clearer canonical ids; the old id stays as an alias.
RENAMES = {
    ("anthropic", "claude-3-5-haiku-latest"): "claude-3-5-haiku",
    ("anthropic", "claude-3-7-sonnet-latest"): "claude-3-7-sonnet",
    ("anthropic", "claude-3-opus-latest"): "claude-3-opus",
    ("mistral", "mistral-small-latest"): "mistral-small",
    ("xai", "grok-4-0709"): "grok-4",
}

#: genai-prices matches these with ``contains`` (not representable): the id itself becomes their prefix.
ID_AS_PREFIX = {"google": ("gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash-lite")}

#: Where the source data is known to be wrong. o3's launch window (2025-04-16) had cached input at $2.50, not the
#: $0.50 genai-prices carries over from the later window.
#: DeepSeek's single price for deepseek-chat and deepseek-reasoner since V3.1 (2025-09-05 16:00 UTC: no more
#: off-peak discount), and since V3.2-Exp halved it (2025-09-29); https://api-docs.deepseek.com/quick_start/pricing.
_DEEPSEEK_V3 = [
    {"effective_from": dt.date(2025, 9, 6), "effective_until": dt.date(2025, 9, 29), "input_mtok": Decimal("0.56"),
     "output_mtok": Decimal("1.68"), "cache_read_mtok": Decimal("0.07")},
    {"effective_from": dt.date(2025, 9, 29), "input_mtok": Decimal("0.28"), "output_mtok": Decimal("0.42"),
     "cache_read_mtok": Decimal("0.028")},
]  # fmt: skip

FIXES: dict[tuple[str, str], list[dict[str, Any]]] = {
    # genai-prices still carries DeepSeek's prices of early 2025 (with the off-peak discount of that time, which
    # cannot be represented: the peak rate is kept); LiteLLM has the current ones. Before them: the V3 launch
    # discount, until 2025-02-08 16:00 UTC, then the peak rates. A change during a day takes effect the next UTC day.
    ("deepseek", "deepseek-chat"): [
        {"effective_until": dt.date(2025, 2, 9), "input_mtok": Decimal("0.14"), "output_mtok": Decimal("0.28"),
         "cache_read_mtok": Decimal("0.014")},
        {"effective_from": dt.date(2025, 2, 9), "effective_until": dt.date(2025, 9, 6), "input_mtok": Decimal("0.27"),
         "output_mtok": Decimal("1.1"), "cache_read_mtok": Decimal("0.07")},
        *_DEEPSEEK_V3,
    ],
    ("deepseek", "deepseek-reasoner"): [
        {"effective_until": dt.date(2025, 9, 6), "input_mtok": Decimal("0.55"), "output_mtok": Decimal("2.19"),
         "cache_read_mtok": Decimal("0.14")},
        *_DEEPSEEK_V3,
    ],
    ("deepseek", "deepseek-v3.2"): [{k: v for k, v in _DEEPSEEK_V3[-1].items() if k != "effective_from"}],
    ("openai", "o3"): [
        {"effective_from": dt.date(2025, 4, 16), "effective_until": dt.date(2025, 6, 10), "input_mtok": Decimal(10),
         "output_mtok": Decimal(40), "cache_read_mtok": Decimal("2.5")},
        {"effective_from": dt.date(2025, 6, 10), "input_mtok": Decimal(2), "output_mtok": Decimal(8),
         "cache_read_mtok": Decimal("0.5")},
    ],
}  # fmt: skip

#: Models the later snapshot lists under another id: its id -> ours.
LATER_IDS = {("xai", "grok-4.20-multi-agent-0309"): "grok-4.20-multi-agent"}

#: A ``-latest`` name follows the newest model: where LiteLLM (2026-08-21) prices it like a newer model than the one
#: the name was declared for, it moves there (``mistral-large-latest`` is Mistral Large 3 at $0.50 / $1.50).
ALIAS_MOVES = {
    ("mistral", "codestral-latest"): "codestral-2508",
    # Magistral's -latest names are priced like Mistral Medium 3.5 and Mistral Small 4 (the reasoning models' prices
    # since those two reason too).
    ("mistral", "magistral-medium-latest"): "mistral-medium-3-5",
    ("mistral", "magistral-small-latest"): "mistral-small",
    ("mistral", "mistral-large-latest"): "mistral-large-2512",
    ("mistral", "mistral-medium-latest"): "mistral-medium-3-5",
    ("mistral", "ministral-3b-latest"): "ministral-3b-2512",
    ("mistral", "ministral-8b-latest"): "ministral-8b-2512",
}

#: Where the earlier genai-prices snapshot had a rate the later one corrects, with nothing to date a change: the
#: later snapshot's history is taken whole. Mistral has priced open-mixtral-8x22b at $2 in / $6 out since its API
#: launch; the earlier snapshot's $0.90 / $0.90 is another host's price. Ministral 8B (24.10) is $0.10 in and out;
#: the earlier snapshot's $1 output is a slip.
CORRECTED = {("mistral", "mixtral-8x22b-instruct"), ("mistral", "ministral-8b")}

#: Provider settings beyond the sources. Bedrock has no ``regions``: in this data only Claude 4.5+ profiles carry
#: the 10 % geo uplift, the open models cost the same under ``us.``/``eu.``/``apac.`` (their profile names are
#: aliases instead).
PROVIDER_EXTRA: dict[str, dict[str, Any]] = {
    "bedrock": {"prefixes": ["bedrock", "bedrock_converse", "aws"]},  # aws: genai-prices' and OpenTelemetry's name
    "google": {"prefixes": ["gemini"]},
    "together": {"prefixes": ["together_ai"]},
    "xai": {"prefixes": ["x-ai"]},
}

#: Batch multipliers the providers state for every model (a model's own batch rates win): LiteLLM's most common
#: fraction for OpenAI, Anthropic, Google, Bedrock and xAI (genai-prices' variants agree); Mistral: "a 50% discount
#: on batch API" (genai-prices' provider note, https://docs.mistral.ai/capabilities/batch/).
BATCH = {"mistral": Decimal("0.5")}
BATCH_FROM_LITELLM = ("openai", "anthropic", "google", "bedrock", "xai")
#: Service-tier multipliers the providers state for every model (a model's own tier rates win): OpenAI prices Flex
#: processing at Batch API rates; Google's Flex tier is 50 % of Standard. Priority is priced per model by both.
SERVICE_TIERS = {"openai": {"flex": Decimal("0.5")}, "google": {"flex": Decimal("0.5")}}

#: Tool fees of every model of a provider (a model's own fee wins), as published: Anthropic's pricing page lists web
#: search at $10 per 1,000 searches and web fetch at no cost beyond the tokens it reads; OpenAI's code interpreter
#: container session is LiteLLM's ``openai/container`` entry.
PROVIDER_TOOLS: dict[str, dict[str, Any]] = {
    "anthropic": {"source": "https://platform.claude.com/docs/en/about-claude/pricing", "checked": LATER.day,
                  "web_search_per_1k": Decimal(10), "web_fetch_per_1k": Decimal(0)},
    "openai": {"source": f"{LITELLM.label} (https://openai.com/api/pricing/)", "checked": LITELLM.day,
               "code_interpreter_per_session": Decimal("0.03")},
}  # fmt: skip

LOCAL_PROVIDERS: list[dict[str, Any]] = [
    {"id": "llamacpp", "name": "llama.cpp", "hosts": ["localhost:8080", "127.0.0.1:8080"],
     "prefixes": ["llama.cpp", "llama_cpp"], "billing": "free"},
    {"id": "lmstudio", "name": "LM Studio", "hosts": ["localhost:1234", "127.0.0.1:1234"], "billing": "free"},
    {"id": "ollama", "name": "Ollama", "hosts": ["localhost:11434", "127.0.0.1:11434"], "billing": "free"},
    {"id": "openrouter", "name": "OpenRouter", "hosts": ["openrouter.ai"], "prefixes": ["openrouter"],
     "billing": "dynamic"},
    # An example for override files: a self-hosted deployment priced by GPU time (gpu_seconds x gpu_hour / 3600).
    {"id": "vllm", "name": "vLLM", "billing": "free", "models": [
        {"id": "example/gpu-deployment", "name": "Example GPU deployment (copy into an override file)",
         "billing": "gpu_time", "prices": [
            {"source": "example: an hourly GPU price", "checked": GENAI.day, "gpu_hour": Decimal("1.20")}]}]},
]  # fmt: skip

_GEOS = ("us.", "eu.", "apac.", "jp.", "au.", "ca.")


def build(genai_path: Path, litellm_path: Path, later: bytes | None = None) -> dict[str, Any]:
    """The curated catalog document; ``later`` is a later genai-prices snapshot to fold in (see the module doc)."""
    genai = _tagged(genai_prices.convert(genai_path.read_bytes(), today=GENAI.day)[0], GENAI.label)
    lite = _tagged(litellm.convert(litellm_path.read_bytes(), today=LITELLM.day)[0], LITELLM.label)
    genai_models = {(p["id"], m["id"]): m for p in genai["providers"] for m in p["models"]}
    lite_models = {(p["id"], m["id"].lower()): m for p in lite["providers"] for m in p["models"]}
    lite_providers = {p["id"]: p for p in lite["providers"]}
    doc = _document(genai_models, lite_models, lite_providers)
    _split_snapshots(doc, genai_models, lite_models)
    if later is not None:
        newer = _tagged(genai_prices.convert(later, today=LATER.day)[0], LATER.label)
        newer_models = {(p["id"], m["id"]): m for p in newer["providers"] for m in p["models"]}
        for (pid, later_id), ours in LATER_IDS.items():
            if (pid, later_id) in newer_models:
                newer_models[(pid, ours)] = {**newer_models.pop((pid, later_id)), "id": ours}
        # Snapshots given entries of their own get the later snapshot's prices too (Together comes from LiteLLM:
        # genai-prices covers it poorly).
        split = {
            p["id"]: [m["id"] for m in p.get("models", [])] for p in doc["providers"] if p["id"] not in LITELLM_KEEP
        }
        doc = _fold_later(doc, _document(newer_models, {}, {}, partial=True, also=split), lite_models)
    for prov in doc["providers"]:
        for model in prov.get("models", []):
            _enrich_tiers(model, _lite_twin(prov["id"], model, lite_models))
    _move_aliases(doc)
    _prune_names(doc)
    return doc


def _document(
    genai_models: dict[tuple[str, str], Any],
    lite_models: dict[tuple[str, str], Any],
    lite_providers: dict[str, Any],
    *,
    partial: bool = False,
    also: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The curated providers and models of one genai-prices snapshot (with LiteLLM's additions unless ``partial``:
    a later snapshot only brings its own prices)."""
    providers: list[dict[str, Any]] = []
    for pid in sorted({*GENAI_KEEP, *LITELLM_KEEP}):
        name, hosts, _ = KNOWN_PROVIDERS[pid]
        prov: dict[str, Any] = {"id": pid, "name": name, "hosts": list(hosts), **PROVIDER_EXTRA.get(pid, {})}
        batch = BATCH.get(pid, lite_providers.get(pid, {}).get("batch") if pid in BATCH_FROM_LITELLM else None)
        if batch is not None:
            prov["batch"] = batch
        if pid in SERVICE_TIERS:
            prov["service_tiers"] = dict(SERVICE_TIERS[pid])
        if pid in PROVIDER_TOOLS:
            prov["tools"] = [dict(PROVIDER_TOOLS[pid])]
        models = []
        wanted = [*GENAI_KEEP.get(pid, []), *(LATER_KEEP.get(pid, []) if partial else [])]
        wanted += [m for m in (also or {}).get(pid, []) if m not in wanted and (pid, m) in genai_models]
        for mid in wanted:
            found = genai_models.get((pid, mid))
            if found is None and partial:
                continue  # no longer listed: the earlier snapshot's entry stays
            model = copy.deepcopy(found)
            if not partial:
                _enrich(model, _lite_twin(pid, model, lite_models))
            models.append(model)
        if not partial:
            models.extend(copy.deepcopy(lite_models[(pid, mid.lower())]) for mid in LITELLM_KEEP.get(pid, []))
        for model in models:
            # A later snapshot brings the service-tier, batch and tool prices of a model whose rates we fix by hand.
            _curate(pid, model, lite_models, fixes=not partial)
        prov["models"] = models
        providers.append(prov)
    if not partial:
        providers.extend(copy.deepcopy(LOCAL_PROVIDERS))
    return {"schema_version": 1, "catalog_version": CATALOG_VERSION, "providers": providers}


def _tagged(doc: dict[str, Any], label: str) -> dict[str, Any]:
    """Every window's (and rate table's) ``source`` names the data it comes from and the page that data cites."""
    for prov in doc["providers"]:
        for window in [w for m in prov.get("models", []) for w in m.get("prices", [])] + prov.get("tools", []):
            page = window.get("source")
            window["source"] = f"{label} ({page})" if page else label
    return doc


_TABLES = ("service_tiers", "batch", *TOOL_KEYS)


def _fold_later(doc: dict[str, Any], later: dict[str, Any], lite_models: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """``later``'s standard rates folded in, then its service-tier, batch and tool prices attached to every window
    with the standard rates they were published with.

    The later snapshot knows more than the earlier one about the time between them, so before anything is folded:

    * a model it gives a dated history (or one listed in :data:`CORRECTED`) takes that history whole;
    * where it and LiteLLM, taken on the earlier snapshot's date, agree on a rate the earlier snapshot states
      otherwise, the earlier value was an error: the window takes the corrected rate over its whole span;
    * a change the earlier snapshot announced for a date after its own, which the later snapshot (taken after that
      date) does not have, did not happen: that window goes, the one before it stays open;
    * prices it states that the earlier one left out, at the same rates (a long-context tier), fill the window.

    What still differs then is a change the later snapshot does not date: as ``pricing update`` does, it takes
    effect on the later snapshot's date, so calls before it keep the earlier price.
    """
    ours = {(p["id"], m["id"]): m for p in doc["providers"] for m in p.get("models", [])}
    for prov in later["providers"]:
        for model in prov["models"]:
            key = (prov["id"], model["id"])
            mine = ours.get(key)
            if mine is None or key in FIXES:
                continue
            names = {"id": mine["id"], "aliases": [*mine.get("aliases", []), model["id"], *model.get("aliases", [])]}
            twin = _lite_twin(prov["id"], names, lite_models)
            if len(model["prices"]) > 1 or key in CORRECTED:
                mine["prices"] = [_standard_only(w) for w in model["prices"]]
                _enrich(mine, twin)
                continue
            if _correct(f"{key[0]}/{key[1]}", mine, model["prices"][0], twin):
                _enrich(mine, twin)  # LiteLLM agrees with the corrected rates: what it adds fits them now
            _drop_unconfirmed(mine)
            _fill_gaps(mine, model["prices"][0])
    stripped = copy.deepcopy(later)
    declared = {n.lower() for m in ours.values() for n in (m["id"], *m.get("aliases", []))}
    for prov in stripped["providers"]:
        for key in ("batch", "service_tiers", "tools"):
            prov.pop(key, None)
        prov["models"] = [m for m in prov["models"] if (prov["id"], m["id"]) not in FIXES]  # rates fixed by hand
        for model in prov["models"]:
            model.pop("batch", None)
            model["prices"] = [_standard_only(w) for w in model["prices"]]
            if (prov["id"], model["id"]) not in ours:
                # A new model under a name one of ours has (a -latest alias that moved on to it) would be taken for
                # ours: the name keeps its meaning, the new model its own id.
                aliases = [a for a in model.get("aliases", []) if a.lower() not in declared]
                model.pop("aliases", None)
                if aliases:
                    model["aliases"] = aliases
    merged, report = merge_rates(doc, stripped, day=LATER.day, version=CATALOG_VERSION, origin=LATER.label)
    for line in report.warnings:
        print(f"later snapshot: {line}", file=sys.stderr)
    ours = {(p["id"], m["id"]): m for p in merged["providers"] for m in p.get("models", [])}
    for prov in later["providers"]:
        for model in prov["models"]:
            target = ours.get((prov["id"], model["id"]))
            for window in model["prices"] if target is not None else ():
                _attach(f"{prov['id']}/{model['id']}", target, window)
    return merged


def _standard_only(window: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in window.items() if k not in _TABLES}


def _correct(key: str, model: dict[str, Any], later: dict[str, Any], twin: dict[str, Any] | None) -> bool:
    """Rates of the earlier snapshot that the later one and LiteLLM both state otherwise, corrected in place."""
    window = _window_on(model["prices"], GENAI.day)
    theirs = None if twin is None else _window_on(twin["prices"], LITELLM.day)
    if window is None:
        return False
    wrong = [k for k in RATE_KEYS if k in window and k in later and window[k] != later[k]]
    # genai-prices comes first: a window LiteLLM gave (a snapshot it priced apart) takes its rates as they are.
    by_litellm = window["source"].startswith(LITELLM.label)
    if wrong and (by_litellm or (theirs is not None and all(theirs.get(k) == later[k] for k in wrong))):
        for k in wrong:
            print(
                f"corrected {key}: {k} {window[k]} -> {later[k]} ({LATER.label} and {LITELLM.label})", file=sys.stderr
            )
            window[k] = later[k]
        window["source"] = f"{later['source']} + {LITELLM.label}"
        window["checked"] = later["checked"]


def _drop_unconfirmed(model: dict[str, Any]) -> None:
    """Windows the earlier snapshot scheduled after its date that the later one does not have: they never came."""
    kept = [w for w in model["prices"] if not (w.get("effective_from") or GENAI.day) > GENAI.day]
    if len(kept) == len(model["prices"]):
        return
    print(
        f"dropped a change scheduled after {GENAI.day} that {LATER.label} does not have: {model['id']}", file=sys.stderr
    )
    kept[-1].pop("effective_until", None)
    model["prices"] = kept


def _fill_gaps(model: dict[str, Any], later: dict[str, Any]) -> None:
    """Prices the later snapshot states at the same rates where the earlier one said nothing (long-context tiers,
    cache rates), into the windows in force from the earlier snapshot's date on."""
    for window in model["prices"]:
        end = window.get("effective_until")
        if end is not None and end <= GENAI.day:
            continue
        stated = [k for k in RATE_KEYS if k in window and k in later]
        if not stated or any(window[k] != later[k] for k in stated):
            continue
        added = [k for k in (*RATE_KEYS, "tiers") if k in later and k not in window]
        if (
            "tiers" in window
            and "tiers" in later
            and window["tiers"] != later["tiers"]
            and LITELLM.label in window["source"]
        ):
            # Long-context rates taken from LiteLLM, which genai-prices now states itself (xAI's threshold is "200k
            # tokens or more": genai-prices writes it as above 199,999, LiteLLM as above 200,000).
            added.append("tiers")
        for k in added:
            window[k] = copy.deepcopy(later[k])
        if added:
            _also(window, LATER.label)


def _standard(window: dict[str, Any]) -> tuple[Any, ...]:
    """The standard token rates of a window (long-context tiers included), fallbacks applied."""
    return window_signature({k: v for k, v in window.items() if k in (*RATE_KEYS, "tiers")}, "")


def _same_standard(ours: dict[str, Any], published: dict[str, Any]) -> bool:
    """Whether ``ours`` has the standard rates ``published`` states (ours may state more: LiteLLM fills gaps)."""
    mine, theirs = Rates.build(ours).by_key(), Rates.build(published).by_key()
    if any(mine[k] != theirs[k] for k in RATE_KEYS if k in published):
        return False
    return "tiers" not in published or _standard({"tiers": ours.get("tiers", [])}) == _standard(
        {"tiers": published["tiers"]}
    )


def _attach(key: str, model: dict[str, Any], published: dict[str, Any]) -> None:
    """``published``'s service-tier, batch and tool prices on every window of ``model`` with its standard rates:
    tier prices are published with the standard rates of their time, not for the whole history."""
    for window in model["prices"]:
        if not _same_standard(window, published):
            continue
        for name, table in published.get("service_tiers", {}).items():
            window.setdefault("service_tiers", {}).setdefault(name, _provenance(table, published, window))
        if "batch" in published and "batch" not in window:
            window["batch"] = _provenance(published["batch"], published, window)
        for fee in TOOL_KEYS:
            if fee not in published:
                continue
            if fee in window and window[fee] != published[fee]:
                print(f"{key}: {fee} {window[fee]} ({window['source']}) kept over {published[fee]}", file=sys.stderr)
            window.setdefault(fee, published[fee])


def _provenance(table: Any, published: dict[str, Any], window: dict[str, Any]) -> Any:
    """A copied rate table says where it comes from when that is not where its window comes from."""
    if not isinstance(table, dict) or published.get("source") == window.get("source"):
        return copy.deepcopy(table)
    return {"source": published["source"], "checked": published["checked"], **copy.deepcopy(table)}


def _split_snapshots(
    doc: dict[str, Any], genai_models: dict[tuple[str, str], Any], lite_models: dict[tuple[str, str], Any]
) -> None:
    """Give a name an entry of its own where a source prices it apart from the model it resolves to.

    Each source is compared with itself: a name the source prices like its own entry for the model is that model,
    even where the two sources disagree on the price (a question for the model's entry, not for its names), and a
    name a source lists without an entry for the model proves nothing (it may only be stale).
    """
    catalog = Catalog(doc, check_names=False)
    providers = {p["id"]: p for p in doc["providers"]}
    sources = {
        "genai-prices": {(pid, mid.lower()): m for (pid, mid), m in genai_models.items()},
        "litellm": lite_models,
    }
    splits: dict[tuple[str, str], tuple[str, dict[str, Any], str]] = {}
    for source, index in sources.items():
        for (pid, name), found in sorted(index.items()):
            model = catalog.resolve(name, pid) if pid in providers else None
            if model is None or model.id.lower() == name or (pid, name) in splits:
                continue
            if source != "genai-prices" and (pid, name) in sources["genai-prices"]:
                continue  # the primary source has an entry under this very name: its own comparison decides
            twins = [index[(pid, n.lower())] for n in model.names() if n.lower() != name and (pid, n.lower()) in index]
            if twins and _rates_on(found) != _rates_on(twins[0]):
                splits[(pid, name)] = (source, found, model.id)
    for (pid, name), (source, found, owner_id) in sorted(splits.items()):
        owner = next(m for m in providers[pid]["models"] if m["id"] == owner_id)
        owner_aliases = [a for a in owner.get("aliases", []) if a.lower() != name]
        owner.pop("aliases", None)
        if owner_aliases:
            owner["aliases"] = owner_aliases
        model = {k: copy.deepcopy(v) for k, v in found.items() if k not in ("aliases", "match_prefix", "batch")}
        providers[pid]["models"].append(model)
        rates = "/".join(str(r) for r in _rates_on(model))
        print(f"split {pid}/{model['id']} from {owner_id}: {source} prices it {rates}", file=sys.stderr)


def _rates_on(model: dict[str, Any]) -> tuple[Any, Any]:
    """Input and output rates of the window in force on the day the sources were checked."""
    for window in reversed(model["prices"]):
        start, end = window.get("effective_from"), window.get("effective_until")
        if (start is None or start <= GENAI.day) and (end is None or end > GENAI.day):
            return window.get("input_mtok"), window.get("output_mtok")
    return None, None


def _lite_twin(pid: str, model: dict[str, Any], lite_models: dict[tuple[str, str], Any]) -> dict[str, Any] | None:
    """LiteLLM's entry for the same model, under its id or one of its aliases."""
    for name in (model["id"], *model.get("aliases", [])):
        found = lite_models.get((pid, name.lower()))
        if found is not None:
            return dict(found)
    return None


def _window_on(windows: list[dict[str, Any]], day: dt.date) -> dict[str, Any] | None:
    for window in reversed(windows):
        start, end = window.get("effective_from"), window.get("effective_until")
        if (start is None or start <= day) and (end is None or day < end):
            return window
    return None


def _also(window: dict[str, Any], label: str) -> None:
    """Say in the window's ``source`` that some of its prices come from another source too."""
    if label not in window["source"]:
        window["source"] = f"{window['source']} + {label}"


def _enrich(model: dict[str, Any], lite: dict[str, Any] | None) -> None:
    """Fill from LiteLLM what genai-prices does not say: context window, 1-hour cache writes, long-context tiers."""
    if lite is None:
        return
    if "context_window" not in model and "context_window" in lite:
        model["context_window"] = lite["context_window"]
    window, other = _window_on(model["prices"], LITELLM.day), lite["prices"][-1]
    if window is None or any(window.get(k) != other.get(k) for k in ("input_mtok", "output_mtok")):
        return  # the two sources disagree on the price of LiteLLM's date: take nothing from LiteLLM
    before = dict(window)
    for key in ("cache_read_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok", "reasoning_mtok"):
        if key not in window and key in other:
            window[key] = other[key]
    if "tiers" not in window and "tiers" in other:
        window["tiers"] = copy.deepcopy(other["tiers"])
    elif "tiers" in window:
        for mine, theirs in zip(window["tiers"], other.get("tiers", [])):
            if mine["above_input_tokens"] == theirs["above_input_tokens"] and "cache_write_1h_mtok" in theirs:
                mine.setdefault("cache_write_1h_mtok", theirs["cache_write_1h_mtok"])
    if window != before:
        _also(window, LITELLM.label)


def _enrich_tiers(model: dict[str, Any], lite: dict[str, Any] | None) -> None:
    """LiteLLM's service-tier and batch rates and tool prices where genai-prices has none, on the windows in force
    from LiteLLM's date on with the standard rates LiteLLM lists; and the long-context rates of a tier genai-prices
    lists without them, where both list the same base rates for it."""
    theirs = None if lite is None else _window_on(lite["prices"], LITELLM.day)
    if theirs is None:
        return
    for window in model["prices"]:
        end = window.get("effective_until")
        if (end is not None and end <= LITELLM.day) or _standard(window) != _standard(theirs):
            continue
        tiers = window.setdefault("service_tiers", {})
        for name, table in theirs.get("service_tiers", {}).items():
            mine = tiers.get(name)
            if mine is None:
                tiers[name] = _provenance(table, theirs, window)
            elif _longer(mine, table):
                mine["tiers"] = copy.deepcopy(table["tiers"])
                mine.setdefault("source", window["source"])
                mine["source"] = f"{mine['source']} + {LITELLM.label}"
        if not tiers:
            del window["service_tiers"]
        if "batch" in theirs and "batch" not in window:
            window["batch"] = _provenance(theirs["batch"], theirs, window)
        taken = [fee for fee in TOOL_KEYS if fee in theirs and fee not in window]
        for fee in taken:
            window[fee] = theirs[fee]
        if taken:
            _also(window, LITELLM.label)


def _longer(mine: Any, theirs: Any) -> bool:
    """Whether ``theirs`` adds long-context rates to ``mine``, a table with the same base rates."""
    if not isinstance(mine, dict) or not isinstance(theirs, dict) or "tiers" in mine or "tiers" not in theirs:
        return False
    return all(mine.get(k) == theirs.get(k) for k in RATE_KEYS if k in mine or k in theirs)


def _curate(pid: str, model: dict[str, Any], lite_models: dict[tuple[str, str], Any], *, fixes: bool = True) -> None:
    key = (pid, model["id"])
    if key in FIXES and fixes:
        page = KNOWN_PROVIDERS[pid][2]
        model["prices"] = [{**w, "source": page, "checked": GENAI.day} for w in FIXES[key]]
    new_id = RENAMES.get(key)
    if new_id:
        model["aliases"] = [model["id"], *(a for a in model.get("aliases", []) if a.lower() != new_id.lower())]
        model["id"] = new_id
    if model["id"] in ID_AS_PREFIX.get(pid, ()):
        model["match_prefix"] = [model["id"], *model.get("match_prefix", [])]
    if pid == "bedrock":
        geo = [g + model["id"] for g in _GEOS if _same_price(model, lite_models.get((pid, (g + model["id"]).lower())))]
        if geo:
            model["aliases"] = [*model.get("aliases", []), *geo]
    model.pop("batch", None)


def _move_aliases(doc: dict[str, Any]) -> None:
    """Each name of :data:`ALIAS_MOVES` taken from the model it names and given to the newer model."""
    models = {(p["id"], m["id"]): m for p in doc["providers"] for m in p.get("models", [])}
    for (pid, name), target in ALIAS_MOVES.items():
        for (owner_pid, _), model in models.items():
            if owner_pid == pid and name in model.get("aliases", []):
                model["aliases"] = [a for a in model["aliases"] if a != name]
                if not model["aliases"]:
                    del model["aliases"]
        new_owner = models[(pid, target)]
        new_owner["aliases"] = [*new_owner.get("aliases", []), name]


def _same_price(model: dict[str, Any], other: dict[str, Any] | None) -> bool:
    if other is None:
        return False
    mine, theirs = model["prices"][-1], other["prices"][-1]
    return all(mine.get(k) == theirs.get(k) for k in ("input_mtok", "output_mtok"))


def _prune_names(doc: dict[str, Any]) -> None:
    """Drop every alias or prefix that would let one name resolve to two models (first provider and model win)."""
    names: dict[str, str] = {}
    for prov in sorted(doc["providers"], key=lambda p: p["id"]):
        kept = []
        for model in sorted(prov.get("models", []), key=lambda m: m["id"].lower()):
            owner = f"{prov['id']}/{model['id']}"
            if model["id"].lower() in names:
                print(f"dropped {owner}: its id already names {names[model['id'].lower()]}", file=sys.stderr)
                continue
            names[model["id"].lower()] = owner
            aliases = []
            for alias in model.get("aliases", []):
                if alias.lower() in names:
                    print(f"dropped alias {alias!r} of {owner}: it names {names[alias.lower()]}", file=sys.stderr)
                else:
                    names[alias.lower()] = owner
                    aliases.append(alias)
            model.pop("aliases", None)
            if aliases:
                model["aliases"] = aliases
            kept.append(model)
        prov["models"] = kept
    while True:
        conflicts = _prefix_conflicts(doc)
        if not conflicts:
            return
        model, prefix, why = conflicts[0]
        print(f"dropped prefix {prefix!r} of {model['id']}: {why}", file=sys.stderr)
        model["match_prefix"] = [p for p in model["match_prefix"] if p != prefix]
        if not model["match_prefix"]:
            del model["match_prefix"]


def _prefix_conflicts(doc: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """Prefixes declared twice (the second is dropped). A prefix covering another model's declared name is fine:
    declared names win over prefixes."""
    models = [m for p in sorted(doc["providers"], key=lambda p: p["id"]) for m in p.get("models", [])]
    seen: dict[str, str] = {}
    found = []
    for model in models:
        for prefix in model.get("match_prefix", []):
            if prefix in seen and seen[prefix] != model["id"]:
                found.append((model, prefix, f"also declared by {seen[prefix]}"))
            seen.setdefault(prefix, model["id"])
    return found


def installed_genai_prices() -> bytes:
    """The installed ``genai-prices`` package's data in the shape of its v2 ``data.json`` (what the package reads
    when it updates itself), price variants included."""
    import dataclasses
    import json

    from genai_prices import data, types  # the bench extra: pip install -e '.[bench]'

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, (dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, types.ModelPrice):
            return {k: plain(v) for k, v in value.__dict__.items() if v is not None and not k.startswith("_")}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            # ClauseOr.or_ / ClauseAnd.and_ are "or" / "and" in the JSON
            fields = (f.name for f in dataclasses.fields(value) if not f.name.startswith("_"))
            return {n.rstrip("_"): plain(getattr(value, n)) for n in fields if getattr(value, n) is not None}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    return json.dumps(plain(data.providers)).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_catalog.py", description=__doc__.splitlines()[0])
    parser.add_argument("genai_prices", type=Path, help="genai-prices v2 data.json")
    parser.add_argument("litellm", type=Path, help="LiteLLM model_prices_and_context_window.json")
    parser.add_argument(
        "--later",
        metavar="FILE|installed",
        help=f"a later genai-prices snapshot to fold in ('installed': the installed package, {LATER.label})",
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("pricing_catalog.toml"))
    args = parser.parse_args(argv)
    later = None
    if args.later == "installed":
        later = installed_genai_prices()
    elif args.later:
        later = Path(args.later).read_bytes()
    doc = build(args.genai_prices, args.litellm, later)
    problems = validate_document(doc)
    if problems:
        print(f"build_catalog.py: error: {problems[0]}", file=sys.stderr)
        return 1
    text = dump(doc)
    Catalog(doc, origin=str(args.output))  # raises on any ambiguous name
    args.output.write_text(text, encoding="utf-8")
    count = sum(len(p.get("models", [])) for p in doc["providers"])
    print(f"wrote {args.output}: {len(doc['providers'])} providers, {count} models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
