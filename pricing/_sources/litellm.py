"""LiteLLM ``model_prices_and_context_window.json`` to a catalog document.

LiteLLM prices are USD per token (floats in JSON): each is read as ``Decimal(str(x))`` and scaled by 10^6 exactly.
Mapped: token, cache read, cache write (5 minutes and ``_above_1hr``), reasoning and per-request prices,
``*_above_<N>k_tokens`` long-context tiers and their list form ``tiered_pricing``, ``max_input_tokens``,
``litellm_provider`` (mapped to our provider ids), and:

* ``*_batches``, ``*_flex``, ``*_priority`` (long-context keys included): the model's batch and service-tier rates.
  Each stated key overrides the standard rate (LiteLLM falls back to the standard key for the others). Where every
  stated key is one fraction of the standard rate, that fraction is kept as a multiplier — per provider when every
  model agrees (batch: the most common fraction, the others per model), else as the model's own. Otherwise the rates
  are a table in the model's window (``batch``, ``service_tiers.<name>``).
* tool prices: ``search_context_cost_per_query`` (the medium context size, as a fee per 1,000 searches; for Gemini
  models billed per grounded prompt — those without ``web_search_billing_unit = "per_query"`` — a grounding fee),
  ``file_search_cost_per_1k_calls`` and ``code_interpreter_cost_per_session``; the code-interpreter price LiteLLM
  lists on a provider's ``container`` entry becomes a tool fee of that provider.

Entries whose ``mode`` is not chat, completion or responses are skipped, as are region-pinned Bedrock keys; every
other price key LiteLLM knows (images, audio, seconds, free search allowances) is listed in the warnings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from pricing._model import RATE_KEYS, Rates
from pricing._sources._common import (
    KNOWN_PROVIDERS,
    Warnings,
    add_model,
    finish,
    load_json,
    new_provider,
    overridden,
)
from pricing._sources._doc import number, per_mtok

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
_TOOL_PRICES = {"file_search_cost_per_1k_calls": "file_search_per_1k", "code_interpreter_cost_per_session": ""}
_GOOGLE = ("gemini", "vertex_ai")
_THOUSAND = 1000
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
    modifiers: dict[str, dict[str, dict[str, Modifier]]] = defaultdict(lambda: defaultdict(dict))
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
        if "prices" not in model:  # a provider's tool prices (its ``container`` entry), not a model
            prov.setdefault("tools", []).append(model["tools"])
            continue
        if add_model(prov, model, warn):
            for mod, found_mod in mods.items():
                modifiers[pid][mod][model["id"]] = found_mod
    for pid, prov in providers.items():
        _multipliers(prov, modifiers.get(pid, {}), warn)
        _one_tool_window(prov, warn)
    return finish(providers, today, warn)


def _entry(
    key: str, entry: object, today: dt.date, warn: Warnings
) -> tuple[str, dict[str, Any], dict[str, Modifier]] | None:
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
    window, tiers, variants = _rates(key, entry, warn)
    _tool_prices(key, entry, pid, window, warn)
    source = entry.get("source")
    where: str | None = None
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        where = source
    elif pid in KNOWN_PROVIDERS:
        where = KNOWN_PROVIDERS[pid][2]
    if "input_mtok" not in window and "output_mtok" not in window:
        fee = window.get("code_interpreter_per_session")
        if key.endswith("/container") and fee is not None:
            tools = {**({"source": where} if where else {}), "checked": today, "code_interpreter_per_session": fee}
            return pid, {"tools": tools}, {}
        warn.group("skipped, no per-token price", key)
        return None
    model: dict[str, Any] = {"id": mid}
    context = entry.get("max_input_tokens")
    if isinstance(context, int) and not isinstance(context, bool) and context > 0:
        model["context_window"] = context
    if where:
        window["source"] = where
    window["checked"] = today
    if tiers:
        window["tiers"] = tiers
    model["prices"] = [window]
    return pid, model, {mod: _modifier(window, tiers, found) for mod, found in variants.items()}


def _tool_prices(key: str, entry: dict[str, Any], pid: str, window: dict[str, Any], warn: Warnings) -> None:
    """Per-use tool prices (see the module docstring) into ``window``."""
    search = entry.get("search_context_cost_per_query")
    if search is not None:
        per_1k = _per_1k(search, key, warn)
        if per_1k is not None:
            by_prompt = pid in ("google", "vertex_ai") and entry.get("web_search_billing_unit") != "per_query"
            # Google bills grounding either per prompt or per search query: the other way costs nothing.
            window["grounding_per_1k" if by_prompt else "web_search_per_1k"] = per_1k
            if pid in ("google", "vertex_ai"):
                window["web_search_per_1k" if by_prompt else "grounding_per_1k"] = Decimal(0)
    for name, target in _TOOL_PRICES.items():
        if entry.get(name) is not None:
            window[target or "code_interpreter_per_session"] = number(entry[name])
    if entry.get("search_free_requests") is not None:
        warn.group("free search allowance not modelled (the list price applies from the first search)", key)


def _per_1k(search: object, key: str, warn: Warnings) -> Decimal | None:
    """USD per 1,000 searches from a price per search, or per search by context size (medium, the default)."""
    if isinstance(search, dict):
        sizes = {k: number(v) for k, v in search.items() if v is not None}
        if not sizes:
            return None
        if len(set(sizes.values())) > 1:
            warn.group("search prices differ by context size: the medium size is used", key)
        value = sizes.get("search_context_size_medium", max(sizes.values()))
    else:
        value = number(search)
    return number(value * _THOUSAND)


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


def _rates(
    key: str, entry: dict[str, Any], warn: Warnings
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Base rates, long-context tiers, and the rates stated for each modifier (batches, flex, priority):
    ``{mod: {"rates": {...}, "tiers": {threshold: {...}}}}``."""
    window: dict[str, Any] = {}
    tiered: dict[int, dict[str, Decimal]] = defaultdict(dict)
    variants: dict[str, dict[str, Any]] = defaultdict(lambda: {"rates": {}, "tiers": defaultdict(dict)})
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
            variants[mod["mod"]]["rates"][_RATES[mod["base"]]] = per_mtok(value)
        elif (mod := _MODIFIER.match(name)) and (tier := _TIER_KEY.match(mod["base"])) and tier["base"] in _RATES:
            variants[mod["mod"]]["tiers"][int(tier["n"]) * 1000][_RATES[tier["base"]]] = per_mtok(value)
        elif name in _TOOL_PRICES or name in ("search_context_cost_per_query", "search_free_requests"):
            continue  # tool prices: _tool_prices
        elif isinstance(value, (int, float, Decimal, dict)) and any(w in name for w in _PRICE_WORDS):
            warn.group(f"price key {name!r} not mapped", key)
    _tiered_pricing(key, entry.get("tiered_pricing"), window, tiered, warn)
    if "cache_write_1h_mtok" in window and "cache_write_5m_mtok" not in window:
        warn.group("1-hour cache write without a 5-minute rate", key)
    tiers: list[dict[str, Any]] = []
    for threshold in sorted(tiered):
        # Above a threshold LiteLLM bills a cache rate it does not state at the tier's input rate (the fallback
        # chain inside the tier does that), and an input or output rate it does not state at the base rate.
        rates: dict[str, Any] = {"above_input_tokens": threshold}
        for rate in _TIER_RATES:
            if rate in tiered[threshold]:
                rates[rate] = tiered[threshold][rate]
            elif rate in ("input_mtok", "output_mtok") and rate in window:
                rates[rate] = window[rate]
        tiers.append(rates)
    return window, tiers, {mod: found for mod, found in variants.items() if found["rates"] or found["tiers"]}


#: A modifier of one model: (the fraction of the standard rates every stated rate is, or None; its rates as a table).
Modifier = tuple[Decimal | None, dict[str, Any]]


def _modifier(window: dict[str, Any], tiers: list[dict[str, Any]], stated: dict[str, Any]) -> Modifier:
    """The model's rates for a modifier: each stated rate over the standard one, every rate written out; and the
    fraction of the standard rates they all are, when they are one."""
    standard = Rates.build(window)
    table: dict[str, Any] = overridden({k: window[k] for k in RATE_KEYS if k in window}, stated["rates"])
    ratios = {_ratio(v, standard.by_key()[k]) for k, v in stated["rates"].items()}
    own_tiers = []
    by_threshold = {t["above_input_tokens"]: t for t in tiers}
    for threshold in sorted(stated["tiers"]):
        base = by_threshold.get(threshold)
        base_rates = Rates.build(base, parent=standard) if base else standard
        tier = {k: base[k] for k in _TIER_RATES if base and k in base} | stated["tiers"][threshold]
        own_tiers.append({"above_input_tokens": threshold, **tier})
        ratios |= {_ratio(v, base_rates.by_key()[k]) for k, v in stated["tiers"][threshold].items()}
    if own_tiers:
        table["tiers"] = own_tiers
    ratio = ratios.pop() if len(ratios) == 1 else None
    return (ratio if ratio is not None and ratio > 0 else None), table


def _ratio(value: Decimal, standard: Decimal) -> Decimal | None:
    return number(value / standard) if standard else None


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


def _multipliers(prov: dict[str, Any], modifiers: dict[str, dict[str, Modifier]], warn: Warnings) -> None:
    """Batch: the most common fraction on the provider, other fractions on their models, rates that are no one
    fraction as a table in the model's window. Service tiers: a fraction on the provider when every model that has
    the tier agrees on it, else each model's rates as a table in its window (tiers are priced per model)."""
    models = {m["id"]: m for m in prov.get("models", [])}
    batch = modifiers.get("batches", {})
    ratios: dict[str, Decimal] = {mid: r for mid, (r, _) in batch.items() if r is not None}
    if ratios:
        counts = Counter(ratios.values())
        common = max(counts, key=lambda r: (counts[r], -r))
        prov["batch"] = common
        for mid, ratio in ratios.items():
            if ratio != common:
                models[mid]["batch"] = ratio
    for mid, (fraction, table) in batch.items():
        if fraction is None:
            models[mid]["prices"][-1]["batch"] = table
    shared = {}
    for mod in _SERVICE_TIERS:
        found = modifiers.get(mod, {})
        fractions = {r for r, _ in found.values()}
        if len(fractions) == 1 and None not in fractions:
            shared[mod] = fractions.pop()
            continue
        for mid, (_, table) in found.items():
            models[mid]["prices"][-1].setdefault("service_tiers", {})[mod] = table
    if shared:
        prov["service_tiers"] = shared


def _one_tool_window(prov: dict[str, Any], warn: Warnings) -> None:
    """A provider's tool prices from its entries, as one undated window (the first entry of each price wins)."""
    windows = prov.pop("tools", [])
    if not windows:
        return
    merged: dict[str, Any] = {}
    for window in windows:
        for k, v in window.items():
            if k in merged and merged[k] != v and k not in ("source", "checked"):
                warn.add(f"{prov['id']}: {k} listed twice with different prices, the first is kept")
            merged.setdefault(k, v)
    prov["tools"] = [merged]
