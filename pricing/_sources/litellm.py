"""LiteLLM ``model_prices_and_context_window.json`` to a catalog document.

LiteLLM prices are USD per token (floats in JSON): each is read as ``Decimal(str(x))`` and scaled by 10^6 exactly.
Mapped: token, cache read, cache write (5 minutes and ``_above_1hr``), reasoning and per-request prices,
``*_above_<N>k_tokens`` long-context tiers and their list form ``tiered_pricing``, ``*_batches`` as a batch multiplier (per provider when every model agrees,
else per model), ``_flex`` / ``_priority`` as provider service tiers when every model agrees, ``max_input_tokens``,
``litellm_provider`` (mapped to our provider ids). Entries whose ``mode`` is not chat, completion or responses are
skipped, as are region-pinned Bedrock keys; every other price key LiteLLM knows (images, audio, seconds, searches)
is listed in the warnings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from pricing._model import RATE_KEYS
from pricing._sources._common import KNOWN_PROVIDERS, Warnings, add_model, finish, load_json, new_provider
from pricing._sources._doc import empty_document, number, per_mtok

__all__ = ["PROVIDER_IDS", "convert"]

#: ``litellm_provider`` values that are one of our providers under another name. Azure OpenAI (``azure``) and
#: Azure AI Foundry (``azure_ai``) stay two providers: they sell the same model names at different prices.
PROVIDER_IDS = {
    "anthropic": "anthropic",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "deepseek": "deepseek",
    "fireworks_ai": "fireworks",
    "gemini": "google",
    "groq": "groq",
    "mistral": "mistral",
    "openai": "openai",
    "openrouter": "openrouter",
    "text-completion-openai": "openai",
    "together_ai": "together",
    "xai": "xai",
}
CHAT_MODES = ("chat", "completion", "responses")

_RATES = {
    "input_cost_per_token": "input_mtok",
    "output_cost_per_token": "output_mtok",
    "cache_read_input_token_cost": "cache_read_mtok",
    "cache_creation_input_token_cost": "cache_write_5m_mtok",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h_mtok",
    "output_cost_per_reasoning_token": "reasoning_mtok",
}
_TIER_KEY = re.compile(r"^(?P<base>[a-z_0-9]+?)_above_(?P<n>\d+)k_tokens$")
_MODIFIER = re.compile(r"^(?P<base>.+)_(?P<mod>batches|flex|priority)$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d/")
_SERVICE_TIERS = ("flex", "priority")
#: LiteLLM has no long-context reasoning rate: a tier's reasoning follows the tier's output rate.
_TIER_RATES = tuple(key for key in RATE_KEYS if key != "reasoning_mtok")
_PRICE_WORDS = ("cost", "price")


def convert(data: bytes | str | object, *, today: dt.date) -> tuple[dict[str, Any], list[str]]:
    """LiteLLM's map (model name -> entry) to ``(catalog document, warnings)``; ``today`` dates the check."""
    parsed = load_json(data)
    if not isinstance(parsed, dict):
        raise ValueError("LiteLLM data must be a JSON object mapping model names to entries")
    warn = Warnings("litellm")
    providers: dict[str, dict[str, Any]] = {}
    modifiers: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for key, entry in parsed.items():
        if key in ("sample_spec", "fallback_generalizations"):
            continue  # documentation and LiteLLM's own fallback rules, not models
        try:
            found = _entry(str(key), entry, today, warn)
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            warn.add(f"{key}: skipped, {exc}")
            continue
        if found is None:
            continue
        pid, model, mods = found
        prov = providers.get(pid) or providers.setdefault(pid, new_provider(pid))
        if add_model(prov, model, warn):
            for mod, ratio in mods.items():
                modifiers[pid][mod][model["id"]] = ratio
    for pid, prov in providers.items():
        _multipliers(prov, modifiers.get(pid, {}), warn)
    doc = empty_document(today)
    doc["providers"] = finish(providers)
    return doc, warn.result()


def _entry(
    key: str, entry: object, today: dt.date, warn: Warnings
) -> tuple[str, dict[str, Any], dict[str, Decimal]] | None:
    if not isinstance(entry, dict):
        raise TypeError("not an object")
    mode = entry.get("mode", "chat")
    if mode not in CHAT_MODES:
        warn.group(f"skipped, mode {mode!r} is not priced per token", key)
        return None
    raw_provider = entry.get("litellm_provider")
    if not isinstance(raw_provider, str) or not raw_provider:
        raw_provider = key.partition("/")[0] if "/" in key else "unknown"
        warn.group("no litellm_provider, provider taken from the name", key)
    pid = PROVIDER_IDS.get(raw_provider, raw_provider.lower().replace(" ", "-"))
    if raw_provider.startswith("vertex_ai"):
        pid = "vertex_ai"
    mid = _model_id(key, raw_provider, pid)
    if mid is None:
        warn.group("skipped, region-pinned or commitment entry", key)
        return None
    window, tiers, mods = _rates(key, entry, warn)
    if "input_mtok" not in window and "output_mtok" not in window:
        warn.group("skipped, no per-token price", key)
        return None
    model: dict[str, Any] = {"id": mid}
    context = entry.get("max_input_tokens")
    if isinstance(context, int) and not isinstance(context, bool) and context > 0:
        model["context_window"] = context
    source = entry.get("source")
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        window["source"] = source
    elif pid in KNOWN_PROVIDERS:
        window["source"] = KNOWN_PROVIDERS[pid][2]
    window["checked"] = today
    if tiers:
        window["tiers"] = tiers
    model["prices"] = [window]
    return pid, model, mods


def _model_id(key: str, raw_provider: str, pid: str) -> str | None:
    """The key without its provider segment (``gemini/gemini-2.5-pro`` -> ``gemini-2.5-pro``); ``None`` to skip."""
    head, sep, rest = key.partition("/")
    if not sep or pid == "openrouter":
        return key  # OpenRouter keys keep ``openrouter/``: ``openai/gpt-4o`` alone must stay OpenAI's name
    if head in (raw_provider, pid, "vertex_ai", "bedrock", "bedrock_converse", "together_ai", "fireworks_ai"):
        if pid == "bedrock" and (_REGION.match(rest) or "/" in rest):
            return None
        if rest.partition("/")[0] == head:
            # perplexity/perplexity/sonar is another entry than perplexity/sonar (the provider's "sonar"): kept whole,
            # so the provider-qualified name of "sonar" stays free for "sonar".
            return key
        return rest
    return key


def _rates(key: str, entry: dict[str, Any], warn: Warnings) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """Base rates, long-context tiers and modifier ratios (batch, flex, priority) of one entry."""
    window: dict[str, Any] = {}
    tiered: dict[int, dict[str, Decimal]] = defaultdict(dict)
    variants: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for name, value in entry.items():
        if value is None:
            continue
        if name in _RATES:
            window[_RATES[name]] = per_mtok(value)
        elif name == "input_cost_per_token_cache_hit":
            window.setdefault("cache_read_mtok", per_mtok(value))
        elif name == "input_cost_per_request":
            window["request_fee"] = number(value)
        elif (tier := _TIER_KEY.match(name)) and tier["base"] in _RATES:
            tiered[int(tier["n"]) * 1000][_RATES[tier["base"]]] = per_mtok(value)
        elif (mod := _MODIFIER.match(name)) and mod["base"] in _RATES:
            variants[mod["mod"]][_RATES[mod["base"]]] = per_mtok(value)
        elif (mod := _MODIFIER.match(name)) and _TIER_KEY.match(mod["base"]):
            continue  # a tier's batch or service-tier rate: covered by the multiplier when it is one
        elif isinstance(value, (int, float, Decimal, dict)) and any(w in name for w in _PRICE_WORDS):
            warn.group(f"price key {name!r} not mapped", key)
    _tiered_pricing(key, entry.get("tiered_pricing"), window, tiered, warn)
    if "cache_write_1h_mtok" in window and "cache_write_5m_mtok" not in window:
        warn.group("1-hour cache write without a 5-minute rate", key)
    tiers: list[dict[str, Any]] = []
    for threshold in sorted(tiered):
        rates: dict[str, Any] = {"above_input_tokens": threshold}
        for rate in _TIER_RATES:
            if rate in tiered[threshold] or rate in window:
                rates[rate] = tiered[threshold].get(rate, window.get(rate))
        tiers.append(rates)
    return window, tiers, _ratios(key, window, variants, warn)


def _tiered_pricing(
    key: str, table: object, window: dict[str, Any], tiered: dict[int, dict[str, Decimal]], warn: Warnings
) -> None:
    """The list form, ``tiered_pricing: [{range: [lo, hi], input_cost_per_token, ...}]``: a cliff on the request's
    input tokens like the ``_above_`` keys (``lo < input <= hi`` bills every token at the tier's rates; above the
    last range the last tier applies). The tier starting at 0 holds the base rates, which it overrides."""
    if table is None:
        return
    if not isinstance(table, list):
        warn.group("tiered_pricing not understood", key)
        return
    for tier in table:
        bounds = tier.get("range") if isinstance(tier, dict) else None
        if not isinstance(bounds, list) or len(bounds) != 2 or number(bounds[0]) != int(number(bounds[0])):
            warn.group("tiered_pricing not understood", key)
            return
        rates = {_RATES[k]: per_mtok(v) for k, v in tier.items() if k in _RATES and v is not None}
        start = int(number(bounds[0]))
        if start == 0:
            window.update(rates)
        else:
            tiered[start].update(rates)


def _ratios(
    key: str, window: dict[str, Any], variants: dict[str, dict[str, Decimal]], warn: Warnings
) -> dict[str, Decimal]:
    """A modifier is a multiplier when its input and output rates are the same fraction of the base rates."""
    ratios: dict[str, Decimal] = {}
    for mod, rates in variants.items():
        found = {
            rate: value / window[rate]
            for rate, value in rates.items()
            if rate in ("input_mtok", "output_mtok") and window.get(rate)
        }
        values = {r.normalize() for r in found.values()}
        if len(found) == 2 and len(values) == 1:
            ratios[mod] = number(values.pop())
        else:
            warn.group(f"{mod} prices are not one multiplier of the base prices, not mapped", key)
    return ratios


def _multipliers(prov: dict[str, Any], modifiers: dict[str, dict[str, Decimal]], warn: Warnings) -> None:
    """Batch: the most common ratio on the provider, other ratios on their models. Service tiers: on the provider
    when every model that has one agrees (the schema has no per-model service tier)."""
    batch = modifiers.get("batches", {})
    if batch:
        counts = Counter(batch.values())
        common = max(counts, key=lambda r: (counts[r], -r))
        prov["batch"] = common
        for model in prov.get("models", []):
            ratio = batch.get(model["id"])
            if ratio is not None and ratio != common:
                model["batch"] = ratio
    tiers = {}
    for mod in _SERVICE_TIERS:
        found = set(modifiers.get(mod, {}).values())
        if len(found) == 1:
            tiers[mod] = found.pop()
        elif found:
            warn.add(f"{prov['id']}: {mod} prices differ between models, not mapped as a service tier")
    if tiers:
        prov["service_tiers"] = tiers
