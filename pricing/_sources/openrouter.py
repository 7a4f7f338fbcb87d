"""OpenRouter ``GET /api/v1/models`` to a catalog document (provider ``openrouter``).

Prices are strings, USD per token (``request``: per request). ``"-1"`` means the price is set per call (routers,
``~…-latest`` aliases): such a model gets ``billing = "dynamic"`` and no rates. A ``"0"`` cache or reasoning price
means "not priced separately" and is left out, so the fallback chain applies. ``overrides`` conditioned only on
``min_prompt_tokens`` become long-context tiers; ``web_search`` (USD per search) becomes ``web_search_per_1k``;
time-of-day overrides, ``discount`` and modality prices (image, audio) are reported as warnings.

Model ids keep the ``openrouter/`` prefix (``openrouter/openai/gpt-4o``, LiteLLM's name for it): a bare
``openai/gpt-4o`` must keep meaning OpenAI's own model.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pricing._sources._common import KNOWN_PROVIDERS, Warnings, add_model, finish, load_json, new_provider
from pricing._sources._doc import number, per_mtok

__all__ = ["PREFIX", "convert"]

PREFIX = "openrouter/"
_RATES = {
    "prompt": "input_mtok",
    "completion": "output_mtok",
    "input_cache_read": "cache_read_mtok",
    "input_cache_write": "cache_write_5m_mtok",
    "input_cache_write_1h": "cache_write_1h_mtok",
    "internal_reasoning": "reasoning_mtok",
}
_OPTIONAL = {"cache_read_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok", "reasoning_mtok"}
_DYNAMIC = Decimal(-1)


def convert(data: bytes | str | object, *, today: dt.date) -> tuple[dict[str, Any], list[str]]:
    """``{"data": [model, ...]}`` to ``(catalog document, warnings)``; ``today`` dates the check."""
    parsed = load_json(data)
    models = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(models, list):
        raise ValueError('OpenRouter data must be an object with a "data" list')
    warn = Warnings("openrouter")
    prov = new_provider("openrouter")
    for raw in models:
        try:
            model = _model(raw, today, warn)
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            name = raw.get("id") if isinstance(raw, dict) else raw
            warn.add(f"{name}: skipped, {exc}")
            continue
        add_model(prov, model, warn)
    return finish({"openrouter": prov}, today, warn)


def _model(raw: object, today: dt.date, warn: Warnings) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TypeError("not an object")
    slug = raw["id"]
    if not isinstance(slug, str) or not slug.strip():
        raise ValueError(f"bad model id {slug!r}")
    pricing = raw["pricing"]
    if not isinstance(pricing, dict):
        raise TypeError("pricing is not an object")
    model: dict[str, Any] = {"id": slug if slug.lower().startswith(PREFIX) else PREFIX + slug}
    if isinstance(raw.get("name"), str):
        model["name"] = raw["name"]
    context = raw.get("context_length")
    if isinstance(context, int) and not isinstance(context, bool) and context > 0:
        model["context_window"] = context
    if any(_is_dynamic(pricing.get(k)) for k in ("prompt", "completion")):
        model["billing"] = "dynamic"
        return model
    window = _rates(pricing, slug, warn)
    if "input_mtok" not in window or "output_mtok" not in window:
        raise ValueError("no prompt or completion price")
    tiers = _tiers(pricing.get("overrides"), window, slug, warn)
    if tiers:
        window["tiers"] = tiers
    window["source"] = KNOWN_PROVIDERS["openrouter"][2]
    window["checked"] = today
    model["billing"] = "tokens"  # the provider default is dynamic; a listed price is a table price
    model["prices"] = [window]
    return model


def _is_dynamic(value: object) -> bool:
    try:
        return value is not None and number(value) == _DYNAMIC
    except ValueError:
        return False


def _rates(pricing: dict[str, Any], slug: str, warn: Warnings) -> dict[str, Any]:
    window: dict[str, Any] = {}
    for key, value in pricing.items():
        if key in _RATES:
            rate = per_mtok(value)
            if rate < 0 and key not in ("prompt", "completion"):
                warn.group(f"negative {key!r} price ignored", slug)
                continue
            if rate == 0 and _RATES[key] in _OPTIONAL:
                continue  # "0" = not priced separately: the fallback (input or output rate) applies
            window[_RATES[key]] = rate
        elif key == "request":
            fee = number(value)
            if fee > 0:
                window["request_fee"] = fee
        elif key == "web_search":
            search = number(value)
            if search > 0:
                window["web_search_per_1k"] = number(search * 1000)
        elif key == "discount":
            if number(value) != 0:
                warn.group("discount not applied", slug)
        elif key != "overrides" and _nonzero(value):
            warn.group(f"price key {key!r} not mapped", slug)
    return window


def _nonzero(value: object) -> bool:
    try:
        return number(value) != 0
    except ValueError:
        return True


def _tiers(overrides: object, base: dict[str, Any], slug: str, warn: Warnings) -> list[dict[str, Any]]:
    """``min_prompt_tokens`` overrides as tiers (every rate written out, inheriting the base for absent keys)."""
    if not overrides:
        return []
    if not isinstance(overrides, list):
        warn.group("overrides not understood", slug)
        return []
    tiers: dict[int, dict[str, Any]] = {}
    for override in overrides:
        if not isinstance(override, dict):
            warn.group("overrides not understood", slug)
            continue
        conditions = {k for k in override if k not in _RATES}
        threshold = override.get("min_prompt_tokens")
        if conditions != {"min_prompt_tokens"} or not isinstance(threshold, int) or isinstance(threshold, bool):
            warn.group("time-of-day or other conditional prices cannot be represented", slug)
            continue
        tier = tiers.setdefault(threshold, {})
        for key, rate_name in _RATES.items():
            if key in override:
                rate = per_mtok(override[key])
                if rate > 0 or rate_name not in _OPTIONAL:
                    tier[rate_name] = rate  # later overrides win per key, as OpenRouter applies them
    result = []
    for threshold in sorted(tiers):
        tier = {"above_input_tokens": threshold}
        for rate_name in ("input_mtok", "output_mtok", *sorted(_OPTIONAL)):
            value = tiers[threshold].get(rate_name, base.get(rate_name))
            if value is not None:
                tier[rate_name] = value
        result.append(tier)
    return result
