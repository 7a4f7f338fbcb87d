"""genai-prices v2 ``data.json`` to a catalog document.

What maps: ``equals`` / ``starts_with`` match rules (aliases / ``match_prefix``), dated prices (``ConditionalPrice``
with ``start_date`` become rate windows), tiered prices (``TieredPrices`` become long-context tiers), the token price
keys, ``cache_write_mtok`` (the 5-minute write), ``output_reasoning_mtok``, ``requests_kcount``, the tool prices
``web_searches_kcount`` and ``storage_searches_kcount`` (OpenAI file search), and ``price_variants``: request-specific
prices for a service tier (``when: {service_tier: ...}``), batch (``when: {processing: batch}``) and Anthropic's fast
mode (``when: {speed: fast}``, the service tier ``fast``). A variant overrides the standard prices key by key, so each
becomes a table of every rate in the windows it applies to (see :func:`_variants`).

Google bills grounding with Google Search per grounded prompt on Gemini 1.x and 2.x and per search query from
Gemini 3 on; genai-prices prices both as web searches, so for those older models the price becomes
``grounding_per_1k``.

What does not map: ``contains`` / ``ends_with`` / ``regex`` / ``and`` match rules, time-of-day prices, modality
prices (audio, image, video), other tools, variants on other conditions (routes, search types): each is reported
as a warning.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pricing._model import STANDARD_TIERS
from pricing._sources._common import (
    KNOWN_PROVIDERS,
    Warnings,
    add_model,
    finish,
    load_json,
    new_provider,
    overridden,
    unique_names,
)
from pricing._sources._doc import number

__all__ = ["PROVIDER_IDS", "convert"]

#: genai-prices provider ids that differ from ours.
PROVIDER_IDS = {"x-ai": "xai", "aws": "bedrock"}

_KEYS = {
    "input_mtok": "input_mtok",
    "output_mtok": "output_mtok",
    "cache_read_mtok": "cache_read_mtok",
    "cache_write_mtok": "cache_write_5m_mtok",
    "cache_write_5m_mtok": "cache_write_5m_mtok",
    "cache_write_1h_mtok": "cache_write_1h_mtok",
    "output_reasoning_mtok": "reasoning_mtok",
}
#: Tool prices: USD per 1,000 uses in both schemas.
_TOOL_KEYS = {"web_searches_kcount": "web_search_per_1k", "storage_searches_kcount": "file_search_per_1k"}
_THOUSAND = Decimal(1000)
_TIER_RATES = frozenset(_KEYS.values())
#: Gemini models Google bills per grounded prompt (not per search query).
_PER_PROMPT_GROUNDING = re.compile(r"^gemini-[12]\.")


def convert(data: bytes | str | object, *, today: dt.date) -> tuple[dict[str, Any], list[str]]:
    """genai-prices data (a list of providers) to ``(catalog document, warnings)``; ``today`` dates the check."""
    parsed = load_json(data)
    if not isinstance(parsed, list):
        raise ValueError("genai-prices data must be a JSON list of providers")
    warn = Warnings("genai-prices")
    providers: dict[str, dict[str, Any]] = {}
    for raw in parsed:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("models"), list):
            warn.add(f"skipped a provider entry that is not a provider: {str(raw)[:60]!r}")
            continue
        pid = str(PROVIDER_IDS.get(raw["id"], raw["id"])).strip().lower().replace(" ", "-")
        if pid in providers:
            warn.add(f"provider {pid}: listed twice, the first entry is kept")
            continue
        prov = providers[pid] = new_provider(pid, raw.get("name"), _hosts(raw.get("api_pattern")))
        source = _source(raw, pid)
        for model in raw["models"]:
            try:
                converted = _model(model, source, today, warn, pid)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                name = model.get("id") if isinstance(model, dict) else model
                warn.add(f"{pid}/{name}: skipped, {exc}")
                continue
            if converted is not None:
                add_model(prov, converted, warn)
    return finish(providers, today, warn)


def _source(raw: dict[str, Any], pid: str) -> str | None:
    urls = raw.get("pricing_urls")
    if isinstance(urls, list) and urls and isinstance(urls[0], str):
        return urls[0]
    known = KNOWN_PROVIDERS.get(pid)
    return known[2] if known else None


def _hosts(pattern: object) -> list[str]:
    """The host of a plain ``https://api\\.example\\.com`` pattern; nothing for a real regular expression."""
    if not isinstance(pattern, str):
        return []
    text = pattern.removeprefix("https://").removeprefix("http://").replace("\\.", ".").rstrip("/")
    if not text or any(c in text for c in "\\()[]{}?*+|^$"):
        return []
    return [text]


def _model(raw: object, source: str | None, today: dt.date, warn: Warnings, pid: str) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        raise TypeError("not an object")
    mid = raw["id"]
    if not isinstance(mid, str) or not mid.strip():
        raise ValueError(f"bad model id {mid!r}")
    key = f"{pid}/{mid}"
    model: dict[str, Any] = {"id": mid}
    name = raw.get("name")
    if isinstance(name, str) and name != mid and not _spelled_id(name, mid):
        model["name"] = name
    aliases: list[str] = []
    prefixes: list[str] = []
    _match(raw.get("match"), aliases, prefixes, warn, key)
    aliases = unique_names(mid, aliases)
    if aliases:
        model["aliases"] = aliases
    prefixes = list(dict.fromkeys(p.lower() for p in prefixes))
    if prefixes:
        model["match_prefix"] = prefixes
    context = raw.get("context_window")
    if isinstance(context, int) and not isinstance(context, bool) and context > 0:
        model["context_window"] = context
    windows = _windows(raw.get("prices"), warn, key)
    if not windows:
        warn.group("no token prices (free or not priced in the source), skipped", key)
        return None
    if raw.get("price_variants"):
        windows = _variants(raw["price_variants"], windows, _standard_prices(raw.get("prices")), warn, key)
    if pid == "google":
        # Google bills grounding per grounded prompt or per search query, never both: the other way costs nothing.
        by_prompt = bool(_PER_PROMPT_GROUNDING.match(mid.lower()))
        for window in windows:
            if "web_search_per_1k" in window:
                fee = window.pop("web_search_per_1k")
                window["grounding_per_1k" if by_prompt else "web_search_per_1k"] = fee
                window["web_search_per_1k" if by_prompt else "grounding_per_1k"] = Decimal(0)
    for window in windows:
        if source:
            window["source"] = source
        window["checked"] = today
    model["prices"] = windows
    return model


def _match(rule: object, aliases: list[str], prefixes: list[str], warn: Warnings, key: str) -> None:
    """``equals`` -> alias, ``starts_with`` -> prefix, ``or`` -> both sides; other rules cannot be represented."""
    if not isinstance(rule, dict) or len(rule) != 1:
        if rule is not None:
            warn.group("match rule not understood", key)
        return
    kind, value = next(iter(rule.items()))
    if kind == "equals" and isinstance(value, str):
        aliases.append(value)
    elif kind == "starts_with" and isinstance(value, str):
        prefixes.append(value)
    elif kind == "or" and isinstance(value, list):
        for part in value:
            _match(part, aliases, prefixes, warn, key)
    else:
        warn.group(f"match rule {kind!r} cannot be represented (aliases and prefixes only)", key)


def _windows(prices: object, warn: Warnings, key: str) -> list[dict[str, Any]]:
    """Rate windows, oldest first: the unconstrained price, then one window per ``start_date``."""
    if isinstance(prices, dict):
        window = _rates(prices, warn, key)
        return [window] if window else []
    if not isinstance(prices, list):
        raise ValueError("prices must be an object or a list of conditional prices")
    base: dict[str, Any] | None = None
    daily: list[dict[str, Any]] = []
    dated: dict[dt.date, dict[str, Any]] = {}
    for entry in prices:
        if not isinstance(entry, dict) or not isinstance(entry.get("prices"), dict):
            raise ValueError("a conditional price has no prices")
        constraint = entry.get("constraint")
        if constraint is None:
            base = entry["prices"]
        elif isinstance(constraint, dict) and "start_date" in constraint:
            start = dt.date.fromisoformat(str(constraint["start_date"]))
            dated[start] = entry["prices"]
        elif isinstance(constraint, dict) and "start_time" in constraint:
            daily.append(entry["prices"])
        else:
            raise ValueError(f"unknown price constraint {constraint!r}")
    if daily:
        # Time-of-day discounts cannot be represented: the higher rate is kept, so costs are never under-reported.
        warn.group("time-of-day prices cannot be represented, the higher rate is used", key)
        base = max([p for p in (base, *daily) if p is not None], key=_weight)
    windows: list[dict[str, Any]] = []
    if base is not None:
        window = _rates(base, warn, key)
        if window:
            windows.append(window)
    for start in sorted(dated):
        window = _rates(dated[start], warn, key)
        if not window:
            continue
        if windows:
            windows[-1]["effective_until"] = start
        window["effective_from"] = start
        windows.append(window)
    return [_dates_first(w) for w in windows]


def _weight(prices: dict[str, Any]) -> Decimal:
    total = Decimal(0)
    for name in ("input_mtok", "output_mtok"):
        value = prices.get(name)
        if isinstance(value, dict):
            value = value.get("base")
        with contextlib.suppress(ValueError):
            total += number(value)
    return total


def _dates_first(window: dict[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {k: window[k] for k in ("effective_from", "effective_until") if k in window}
    ordered.update((k, v) for k, v in window.items() if k not in ordered)
    return ordered


def _rates(prices: dict[str, Any], warn: Warnings, key: str) -> dict[str, Any]:
    """One window's rates and tiers from a ``ModelPrice`` mapping; an empty dict when it has no token price."""
    base: dict[str, Decimal] = {}
    tiered: dict[str, list[tuple[int, Decimal]]] = {}
    for name, value in prices.items():
        target = _KEYS.get(name)
        if name == "requests_kcount":
            base["request_fee"] = number(number(value) / _THOUSAND)
            continue
        if name in _TOOL_KEYS:
            base[_TOOL_KEYS[name]] = number(value)
            continue
        if target is None:
            warn.group(f"price key {name!r} not mapped", key)
            continue
        if name == "cache_write_mtok" and "cache_write_5m_mtok" in prices:
            continue
        if isinstance(value, dict):
            base[target] = number(value["base"])
            steps = [(int(t["start"]), number(t["price"])) for t in value.get("tiers", [])]
            tiered[target] = sorted(steps)
        else:
            base[target] = number(value)
    if not any(k in base for k in ("input_mtok", "output_mtok")):
        return {}
    window: dict[str, Any] = dict(base)
    if tiered:
        window["tiers"] = _tiers(base, tiered)
    return window


def _tiers(base: dict[str, Decimal], tiered: dict[str, list[tuple[int, Decimal]]]) -> list[dict[str, Any]]:
    """One tier per threshold; every rate written out (an untiered rate keeps its base value inside the tier)."""
    thresholds = sorted({start for steps in tiered.values() for start, _ in steps})
    tiers = []
    for threshold in thresholds:
        tier: dict[str, Any] = {"above_input_tokens": threshold}
        for name, value in base.items():
            if name in _TIER_RATES:
                steps = [price for start, price in tiered.get(name, []) if start <= threshold]
                tier[name] = steps[-1] if steps else value
        tiers.append(tier)
    return tiers


def _spelled_id(name: str, mid: str) -> bool:
    """A name that only re-spells (part of) the id in lower case: "gpt 4o mini" for ``gpt-4o-mini``, "text embedding
    3" for ``text-embedding-3-small``, "o4 Mini High" for ``o4-mini``. The id reads better and names one model."""
    spelled, ident = name.lower().replace(" ", "-"), mid.lower()
    return name[:1].islower() and (ident.startswith(spelled) or spelled.startswith(ident))


# -- price variants: service tiers and batch ----------------------------------------------------------------------

_VARIANT_KINDS = {"service_tier": "service_tiers", "processing": "batch", "speed": "service_tiers"}


def _standard_prices(prices: object) -> list[tuple[dt.date | None, dict[str, Any]]]:
    """The source's standard price mappings with their start dates (``None``: since ever), oldest first."""
    if isinstance(prices, dict):
        return [(None, prices)]
    found: list[tuple[dt.date | None, dict[str, Any]]] = []
    for entry in prices if isinstance(prices, list) else ():
        constraint = entry.get("constraint")
        if constraint is None:
            found.insert(0, (None, entry["prices"]))
        elif "start_date" in constraint:
            found.append((dt.date.fromisoformat(str(constraint["start_date"])), entry["prices"]))
    return sorted(found, key=lambda item: item[0] or dt.date.min)


def _variant_target(when: object, warn: Warnings, key: str) -> tuple[str, str] | None:
    """``("service_tiers", name)`` or ``("batch", "")`` for a variant's condition; ``None`` (warned) otherwise."""
    if not isinstance(when, dict) or len(when) != 1:
        warn.group("price variant on several conditions cannot be represented", key)
        return None
    ((field, value),) = when.items()
    kind = _VARIANT_KINDS.get(str(field))
    if kind is None or not isinstance(value, str) or (field == "processing" and value != "batch"):
        warn.group(f"price variant when {field}={value!r} cannot be represented", key)
        return None
    if field == "speed" and value != "fast":
        warn.group(f"price variant when speed={value!r} cannot be represented", key)
        return None
    name = value.strip().lower()
    if kind != "batch" and name in STANDARD_TIERS:
        return None  # the standard rates under another name: nothing to add
    return (kind, "") if kind == "batch" else (kind, name)


def _variants(
    raw: object,
    windows: list[dict[str, Any]],
    standard: list[tuple[dt.date | None, dict[str, Any]]],
    warn: Warnings,
    key: str,
) -> list[dict[str, Any]]:
    """``windows`` with each variant's prices as a table (``service_tiers.<name>``, ``batch``) in the windows it
    applies to.

    A variant overrides the standard prices in force key by key, so its table holds the standard rates with its
    own on top. A variant with a start date applies from that date on, until a later variant of the same kind;
    genai-prices dates a variant from the day its rates were verified ("tier history before this verification is
    not modelled"), so the earliest variant of each kind is taken to hold over the whole standard window it starts
    in (tiers are published with the standard rates of their time). Windows are split where a later variant starts.
    """
    groups: dict[tuple[str, str], list[tuple[dt.date | None, dict[str, Any]]]] = {}
    for variant in raw if isinstance(raw, list) else ():
        if not isinstance(variant, dict) or not isinstance(variant.get("prices"), dict):
            warn.group("price variant not understood", key)
            continue
        target = _variant_target(variant.get("when"), warn, key)
        if target is None:
            continue
        constraint = variant.get("constraint")
        if constraint is not None and not (isinstance(constraint, dict) and "start_date" in constraint):
            warn.group("price variant on a time of day cannot be represented", key)
            continue
        start = None if constraint is None else dt.date.fromisoformat(str(constraint["start_date"]))
        groups.setdefault(target, []).append((start, variant["prices"]))
    if not groups:
        return windows
    starts = {target: _effective_starts(entries, windows) for target, entries in groups.items()}
    cuts = sorted({d for found in starts.values() for d in found if d is not None})
    result = []
    for window in _split(windows, cuts):
        day = window.get("effective_from")
        base = _standard_on(standard, day)
        for (kind, name), entries in groups.items():
            active = _active(entries, starts[(kind, name)], day)
            if active is None:
                continue
            table = _table(base, active, warn, key)
            if table is None:
                continue
            if kind == "batch":
                window["batch"] = table
            else:
                window.setdefault("service_tiers", {})[name] = table
        result.append(window)
    return result


def _effective_starts(
    entries: list[tuple[dt.date | None, dict[str, Any]]], windows: list[dict[str, Any]]
) -> list[dt.date | None]:
    """Each variant's start, the earliest moved back to the start of the window it falls in."""
    dated = [start for start, _ in entries if start is not None]
    if not dated or any(start is None for start, _ in entries):
        return [start for start, _ in entries]
    first = min(dated)
    held = next((w.get("effective_from") for w in windows if _contains(w, first)), first)
    return [held if start == first else start for start, _ in entries]


def _active(
    entries: list[tuple[dt.date | None, dict[str, Any]]], starts: list[dt.date | None], day: dt.date | None
) -> dict[str, Any] | None:
    """The variant in force on ``day`` (``None``: the start of time): the first listed whose start has come."""
    for (_, prices), start in zip(entries, starts):
        if start is None or (day is not None and start <= day):
            return prices
    return None


def _contains(window: dict[str, Any], day: dt.date) -> bool:
    start, end = window.get("effective_from"), window.get("effective_until")
    return (start is None or start <= day) and (end is None or day < end)


def _split(windows: list[dict[str, Any]], cuts: list[dt.date]) -> list[dict[str, Any]]:
    """The windows cut at each date in ``cuts`` that falls strictly inside one (copies, dates first)."""
    out: list[dict[str, Any]] = []
    for window in windows:
        pieces = [window]
        for cut in cuts:
            last = pieces[-1]
            start = last.get("effective_from")
            if _contains(last, cut) and start != cut:
                rates = {k: v for k, v in last.items() if k not in ("effective_from", "effective_until")}
                head = {**({"effective_from": start} if start else {}), "effective_until": cut, **rates}
                end = last.get("effective_until")
                tail = {"effective_from": cut, **({"effective_until": end} if end else {}), **rates}
                pieces[-1:] = [head, tail]
        out.extend(copy.deepcopy(p) for p in pieces)
    return out


def _standard_on(standard: list[tuple[dt.date | None, dict[str, Any]]], day: dt.date | None) -> dict[str, Any]:
    found = standard[0][1]
    for start, prices in standard:
        if start is None or (day is not None and start <= day):
            found = prices
    return found


def _table(base: dict[str, Any], variant: dict[str, Any], warn: Warnings, key: str) -> dict[str, Any] | None:
    """The variant's rates over the standard ones, key by key: every rate written out, long-context tiers where
    the merged prices have some (a variant with flat prices over tiered standard prices publishes none)."""
    merged = overridden({k: v for k, v in base.items() if k in _KEYS}, {k: v for k, v in variant.items() if k in _KEYS})
    rates = _rates(merged, Warnings("genai-prices"), key)
    if not rates:
        warn.group("price variant without token prices, skipped", key)
        return None
    if not any(isinstance(variant.get(k), dict) for k in _KEYS):
        rates.pop("tiers", None)  # flat prices only: the variant publishes nothing about long inputs
    return {k: v for k, v in rates.items() if k in _TIER_RATES or k == "tiers"}
