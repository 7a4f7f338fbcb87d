"""The catalog: name resolution and pricing.

Resolution is cached per (name, provider), so a warm lookup is one dict access; pricing is integer arithmetic in
pico-dollars with a single ``Decimal`` built at the end (see ``_model``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import threading
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing import _load
from pricing._model import (
    EXACT,
    Billing,
    Model,
    Pico,
    Price,
    Provider,
    Rates,
    RateWindow,
    Usage,
    exact_mul,
    pico_to_usd,
    tokens_cost,
)

__all__ = ["Catalog", "ModelNotFound", "RatePlan", "load_catalog", "parse_timestamp"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_PICO = Decimal("1e-12")
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_NO_TIER = 1 << 62
_MISS: Any = object()
_HOUR = Decimal(3600)
_GPU = decimal.Context(prec=60)
_SUFFIXES = (
    re.compile(r"[-@]\d{4}-\d{2}-\d{2}$"),  # gpt-4o-2024-08-06
    re.compile(r"[-@]\d{8}$"),  # claude-sonnet-4-5-20250929, vertex @20250929
    re.compile(r"-\d{4}$"),  # mistral-large-2411 (only tried after the exact name failed)
    re.compile(r"-latest$"),
    re.compile(r"-v\d+(:\d+)?$"),  # bedrock anthropic.claude-...-v1:0
    re.compile(r":\d+$"),
)


class ModelNotFound(LookupError):
    """No catalog entry matches the name."""


class _Plan:
    """One rate window of one model, prepared for integer pricing (``pico`` is ``None`` when it needs ``Decimal``)."""

    __slots__ = ("fee", "index", "model_id", "pico", "provider", "ref", "tier_min", "tiers")

    def __init__(self, model: Model, index: int) -> None:
        window = model.windows[index]
        self.index = index
        self.model_id = model.id
        self.provider = model.provider
        self.ref = model.refs[index]
        fee = window.request_fee.scaleb(12, EXACT)
        tiers = tuple((threshold, rates._pico) for threshold, rates in window.tiers)
        exact = fee == fee.to_integral_value() and all(p is not None for _, p in tiers)
        self.fee = int(fee)
        self.pico = window.rates._pico if exact else None
        self.tiers = tiers
        self.tier_min = tiers[0][0] if tiers else _NO_TIER

    def tier_rates(self, input_tokens: int, base: Pico) -> Pico:
        """Pico rates of the highest tier whose threshold the input passes (tiers are cliffs); ``base`` below all."""
        chosen = base
        for threshold, pico in self.tiers:
            if input_tokens > threshold and pico is not None:
                chosen = pico
        return chosen

    def pico_total(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read: int | None,
        cache_write: int | None,
        cache_write_1h: int | None,
        reasoning: int | None,
    ) -> int:
        """Pico-dollars of one call's usage, as :meth:`Catalog.price` computes them (``None`` counts as 0).

        Counts are inclusive as in the wire format: ``cache_write`` includes the one-hour writes ``cache_write_1h``
        (priced at their own rate). Returns -1 when the counts are impossible or not integers (``Catalog.price``
        would raise :class:`ImpossibleUsage`). The recorder prices every call with this, so it stays beside
        :func:`_subset_total`, the same sum on the ``price`` path (tests check the two agree for every model).
        """
        try:
            inp = input_tokens or 0
            cr = cache_read or 0
            cw = cache_write or 0
            rs = reasoning or 0
            uncached = inp - cr - cw
            visible = (output_tokens or 0) - rs
            pico = self.pico if inp <= self.tier_min else self.tier_rates(inp, self.pico)  # type: ignore[arg-type]
            total: int = self.fee
            cw1 = cache_write_1h
            if cw1:  # the one-hour part of the cache writes, at its own rate
                cw1 = min(cw1, cw)
                cw -= cw1
                if cw1 < 0:
                    return -1
                total += pico[3] * cw1  # type: ignore[index]
            if (uncached | visible | cr | cw | rs) < 0:  # the OR of ints is negative if any of them is
                return -1
            total += pico[0] * uncached + pico[1] * cr + pico[2] * cw + pico[4] * visible + pico[5] * rs  # type: ignore[index]
            return total
        except TypeError:
            return -1


#: What :meth:`Catalog.rate_plan` returns: ``pico`` (whole pico-dollars per token for the six exclusive buckets, in
#: ``Usage.exclusive()`` order), ``fee`` (pico-dollars per request), ``tier_min`` (inputs above it may switch to a
#: long-context tier: ``tier_rates(input_tokens, pico)``), ``ref`` (the ``price_ref``) and ``model_id``/``provider``.
RatePlan = _Plan


class _NoPlan:
    """No window covers the date: the slow path reports ``unknown_model``."""

    __slots__ = ()
    index = -1
    pico = None


_NO_PLAN: Any = _NoPlan()


class _Resolved:
    """What a (name, provider) pair resolves to, plus the rate window chosen per UTC day (filled as days are seen)."""

    __slots__ = (
        "billing",
        "days",
        "fast",
        "fixed",
        "latest",
        "latest_since",
        "model",
        "multiplier",
        "now",
        "plans",
        "provider",
        "scaled",
    )

    def __init__(self, model: Model | None, provider: str | None, billing: Billing | None, multiplier: Decimal):
        self.model = model
        self.provider = provider
        self.billing = billing
        self.multiplier = multiplier
        self.scaled = multiplier != _ONE
        self.fast = model is not None and billing == "tokens"
        self.plans: tuple[_Plan, ...] = ()
        self.days: dict[int, _Plan] = {}
        self.fixed: _Plan | None = None  # the only window of a model whose price never changed
        self.now: _Plan | None = None  # the open-ended latest window, once "now" is inside it
        self.latest: _Plan = _NO_PLAN  # the open-ended latest window ...
        self.latest_since = math.inf  # ... in force for epoch seconds >= this

    def attach(self, plans: tuple[_Plan, ...], timeless: bool) -> None:
        assert self.model is not None
        self.plans = plans
        if timeless:
            self.fixed = self.now = plans[0]
        last = self.model.windows[-1]
        if last.effective_until is None:  # epoch seconds from this instant on need no day arithmetic at all
            start = last.effective_from
            self.latest = plans[-1]
            self.latest_since = -math.inf if start is None else float((start - _EPOCH).days * 86400)

    def plan_on(self, day: int, now: bool) -> _Plan:
        """The plan in force on a UTC day number (days since 1970-01-01), remembered for the next call."""
        assert self.model is not None
        found = self.model.window_at(_EPOCH + dt.timedelta(days=day))
        plan = self.plans[found[0]] if found else _NO_PLAN
        if len(self.days) > 4096:  # timestamps come from user data: keep the memo bounded
            self.days.clear()
        self.days[day] = plan
        last = len(self.plans) - 1
        if now and plan.index == last and self.model.windows[last].effective_until is None:
            self.now = plan  # time only moves forward: "now" stays inside an open-ended last window
        return plan


def _plan_at(res: _Resolved, at: object) -> _Plan:
    """The plan in force at ``at`` (``_NO_PLAN`` when no window covers it), memoised per UTC day number."""
    if res.fixed is not None:
        return res.fixed
    if at is None:
        day = int(time.time() // 86400)
    elif type(at) is float or type(at) is int:
        day = int(at // 86400)  # type: ignore[operator,unused-ignore]
    else:
        day = _day(at).toordinal() - _EPOCH_ORDINAL
    plan = res.days.get(day)
    return plan if plan is not None else res.plan_on(day, at is None)


def _subset_total(usage: Usage, pico: Pico) -> int:
    """Pico-dollars of a usage with cached or reasoning tokens (a subset never exceeds its total)."""
    cr = usage.cache_read_tokens
    cw = usage.cache_write_tokens
    cw1 = usage.cache_write_1h_tokens
    rs = usage.reasoning_tokens
    uncached = usage.input_tokens - cr - cw - cw1
    visible = usage.output_tokens - rs
    if uncached < 0 or visible < 0 or (cr | cw | cw1 | rs | usage.requests) < 0:  # the OR of ints is < 0 if any is
        usage.exclusive()  # raises ImpossibleUsage with the message
    a, b, c, d, e, f = pico
    return a * uncached + b * cr + c * cw + d * cw1 + e * visible + f * rs


def _day(at: object) -> dt.date:
    """UTC day of a timestamp given as datetime, date, ISO string or epoch seconds; ``None`` is now."""
    if at is None:
        return dt.datetime.fromtimestamp(time.time(), dt.timezone.utc).date()
    if isinstance(at, dt.datetime):
        return at.astimezone(dt.timezone.utc).date() if at.tzinfo else at.date()
    if isinstance(at, dt.date):
        return at
    if isinstance(at, str):
        return parse_timestamp(at).date()
    if isinstance(at, (int, float)):
        return dt.datetime.fromtimestamp(at, dt.timezone.utc).date()
    raise TypeError(f"cannot read a timestamp from {at!r}")


def parse_timestamp(text: str) -> dt.datetime:
    """ISO-8601 (``Z`` accepted, date only accepted) to an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO-8601 date or time: {text!r}") from None
    return parsed.replace(tzinfo=dt.timezone.utc) if parsed.tzinfo is None else parsed.astimezone(dt.timezone.utc)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _window(raw: dict[str, Any]) -> RateWindow:
    rates = Rates.build(raw)
    tiers = tuple((int(t["above_input_tokens"]), Rates.build(t, parent=rates)) for t in raw.get("tiers", []))
    gpu = raw.get("gpu_hour")
    return RateWindow(
        effective_from=raw.get("effective_from"),
        effective_until=raw.get("effective_until"),
        rates=rates,
        tiers=tiers,
        request_fee=_decimal(raw.get("request_fee", 0)),
        gpu_hour=None if gpu is None else _decimal(gpu),
        source=raw.get("source"),
        checked=raw.get("checked"),
        raw=raw,
    )


class Catalog:
    """A loaded, merged catalog. Build it with :func:`load_catalog` (cached) or ``Catalog(document)``."""

    def __init__(self, document: dict[str, Any], *, origin: str = "<document>", check_names: bool = True) -> None:
        """Build from a parsed document; ambiguous names raise :class:`CatalogError` unless ``check_names`` is off
        (``pricing validate`` turns it off to list every conflict with :meth:`name_conflicts`)."""
        errors = _load.validate_document(document, strict=False)
        if errors:
            raise _load.CatalogError(
                f"{origin}: {errors[0]}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
            )
        self.document = document
        self.origin = origin
        self.version: str = str(document.get("catalog_version", "unversioned"))
        self.providers: dict[str, Provider] = {}
        self.models: list[Model] = []
        self._exact: dict[str, Model] = {}
        self._prefixes: list[tuple[str, Model]] = []
        self._provider_names: dict[str, str] = {}
        self._regions: list[tuple[str, str, Decimal]] = []
        self._cache: dict[tuple[str, str | None], _Resolved] = {}
        self._plans: dict[str, tuple[_Plan, ...]] = {}
        self._bare: dict[str, _Resolved] = {}
        self._lock = threading.Lock()
        for raw in document.get("providers", []):
            self._add_provider(raw)
        self._prefixes.sort(key=lambda item: -len(item[0]))
        if check_names:
            self._check_names(origin)

    # -- building -------------------------------------------------------------------------------------------------

    def _add_provider(self, raw: dict[str, Any]) -> None:
        prov = Provider(
            id=raw["id"],
            name=raw.get("name", raw["id"]),
            hosts=tuple(raw.get("hosts", ())),
            prefixes=tuple(p.lower() for p in raw.get("prefixes", ())),
            billing=raw.get("billing", "tokens"),
            batch=None if raw.get("batch") is None else _decimal(raw["batch"]),
            service_tiers={k: _decimal(v) for k, v in raw.get("service_tiers", {}).items()},
            regions={k.lower(): _decimal(v) for k, v in raw.get("regions", {}).items()},
        )
        self.providers[prov.id] = prov
        for name in (prov.id, *prov.prefixes):
            self._provider_names[name.lower()] = prov.id
        for prefix, mult in prov.regions.items():
            self._regions.append((prefix, prov.id, mult))
        for m in raw.get("models", []):
            model = Model(
                provider=prov.id,
                id=m["id"],
                name=m.get("name"),
                aliases=tuple(m.get("aliases", ())),
                match_prefix=tuple(p.lower() for p in m.get("match_prefix", ())),
                context_window=m.get("context_window"),
                billing=m.get("billing", prov.billing),
                batch=None if m.get("batch") is None else _decimal(m["batch"]),
                windows=tuple(_window(w) for w in m.get("prices", [])),
            )
            model.timeless = len(model.windows) == 1 and not (
                model.windows[0].effective_from or model.windows[0].effective_until
            )
            model.refs = tuple(
                f"{self.version}:{model.key}@{w.effective_from.isoformat() if w.effective_from else 'origin'}"
                for w in model.windows
            )
            self.models.append(model)
            for name in model.names():
                self._exact.setdefault(name.lower(), model)
            for prefix in model.match_prefix:
                self._prefixes.append((prefix, model))

    def _check_names(self, origin: str) -> None:
        problems = self.name_conflicts()
        if problems:
            raise _load.CatalogError(f"{origin}: ambiguous model names: {problems[0]}")

    def name_conflicts(self) -> list[str]:
        """Names that would match two models: duplicate names or prefixes, or a name captured by another model."""
        problems: list[str] = []
        owner: dict[str, Model] = {}
        for model in self.models:
            for name in model.names():
                other = owner.setdefault(name.lower(), model)
                if other is not model:
                    problems.append(f"{name!r} names both {other.key} and {model.key}")
        prefix_owner: dict[str, Model] = {}
        for prefix, model in self._prefixes:
            other = prefix_owner.setdefault(prefix, model)
            if other is not model:
                problems.append(f"prefix {prefix!r} is declared by both {other.key} and {model.key}")
        for model in self.models:
            for name in model.names():
                for prefix, other in self._prefixes:
                    if other is not model and name.lower().startswith(prefix) and name.lower() != prefix:
                        mine = [p for p in model.match_prefix if name.lower().startswith(p)]
                        if not mine or max(len(p) for p in mine) < len(prefix):
                            problems.append(f"{name!r} of {model.key} is captured by prefix {prefix!r} of {other.key}")
                        break
        return problems

    # -- resolution -----------------------------------------------------------------------------------------------

    def provider_id(self, name: str) -> str | None:
        """The provider an id or declared prefix names (case-insensitive), or ``None``."""
        return self._provider_names.get(name.strip().lower())

    def model_names(self) -> list[str]:
        """Every name a model is declared under (ids, aliases, ``provider/id`` keys), lower-case, sorted."""
        names = {n.lower() for m in self.models for n in (*m.names(), m.key)}
        return sorted(names)

    def provider_for_host(self, url_or_host: str | None) -> str | None:
        """The provider whose declared host appears in a base URL (``http://localhost:11434/v1`` -> ``ollama``)."""
        if not url_or_host:
            return None
        text = url_or_host.lower()
        best: tuple[int, str] | None = None
        for prov in self.providers.values():
            for host in prov.hosts:
                if host.lower() in text and (best is None or len(host) > best[0]):
                    best = (len(host), prov.id)
        return best[1] if best else None

    def resolve(self, name: str, provider: str | None = None) -> Model | None:
        """The model a name refers to, or ``None``. See docs/catalog.md for the rules."""
        return self._resolve(name, provider).model

    def _resolve(self, name: str, provider: str | None) -> _Resolved:
        key = (name, provider)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        resolved = self._resolve_uncached(name, provider)
        if resolved.model is not None and resolved.model.windows:
            resolved.attach(self._plans_of(resolved.model), resolved.model.timeless)
        with self._lock:
            if len(self._cache) > 65_536:  # names come from user data: keep the cache bounded
                self._cache.clear()
                self._bare.clear()
            self._cache[key] = resolved
            if provider is None:
                self._bare[name] = resolved  # the common lookup, by name alone: no tuple to build and hash
        return resolved

    def _plans_of(self, model: Model) -> tuple[_Plan, ...]:
        plans = self._plans.get(model.key)
        if plans is None:
            plans = self._plans[model.key] = tuple(_Plan(model, i) for i in range(len(model.windows)))
        return plans

    def _resolve_uncached(self, name: str, provider: str | None) -> _Resolved:
        prov_id = self._provider_names.get(provider.lower()) if provider else None
        prov = self.providers.get(prov_id) if prov_id else None
        text = name.strip().lower()
        multiplier = _ONE
        for prefix, region_provider, mult in self._regions:
            if text.startswith(prefix) and (prov is None or prov.id == region_provider):
                text, multiplier = text[len(prefix) :], mult
                prov = prov or self.providers[region_provider]
                break
        model = self._match(text)
        if model is None and "/" in text:
            head, _, rest = text.partition("/")
            hinted = self._provider_names.get(head)
            if hinted and prov is None:
                prov = self.providers[hinted]
            model = self._match_stripped(rest)
        # A self-hosted or router provider prices by its own rule, never by another provider's table.
        if prov is not None and prov.billing != "tokens" and (model is None or model.provider != prov.id):
            return _Resolved(None, prov.id, prov.billing, multiplier)
        if model is None:
            return _Resolved(None, prov.id if prov else None, None, multiplier)
        return _Resolved(model, model.provider, model.billing, multiplier)

    def _match_stripped(self, text: str) -> Model | None:
        while True:
            model = self._match(text)
            if model is not None or "/" not in text:
                return model
            text = text.partition("/")[2]

    def _match(self, text: str) -> Model | None:
        model = self._exact.get(text) or self._by_prefix(text)
        if model is not None:
            return model
        for pattern in _SUFFIXES:
            stripped = pattern.sub("", text)
            if stripped != text:
                model = self._exact.get(stripped) or self._by_prefix(stripped)
                if model is not None:
                    return model
        return None

    def _by_prefix(self, text: str) -> Model | None:
        for prefix, model in self._prefixes:  # longest first
            if text.startswith(prefix):
                return model
        return None

    # -- pricing --------------------------------------------------------------------------------------------------

    def price(
        self,
        usage: Usage,
        model: str,
        provider: str | None = None,
        *,
        at: object = None,
        batch: bool = False,
        service_tier: str | None = None,
        provider_cost: Decimal | float | str | None = None,
    ) -> Price:
        """Price one call. ``at`` selects the rate window (default: now). Raises :class:`ImpossibleUsage`.

        ``at`` is a datetime, a date, an ISO-8601 string or epoch seconds (UTC days decide the window).
        """
        res = (self._bare.get(model) if provider is None else self._cache.get((model, provider))) or self._resolve(
            model, provider
        )
        if res.fast and not batch and not service_tier and provider_cost is None:
            # The hot path, inlined on purpose (a call costs ~10% here): a token-priced model, no per-call
            # multiplier, the window memoised per UTC day, integer pico-dollars, one exact Decimal at the end.
            if at is None:
                plan = res.now or _plan_at(res, None)
            elif (type(at) is float or type(at) is int) and at >= res.latest_since:
                plan = res.latest
            else:
                plan = _plan_at(res, at)
            pico = plan.pico
            if pico is not None:
                inp = usage.input_tokens
                if inp > plan.tier_min:
                    pico = plan.tier_rates(inp, pico)
                out = usage.output_tokens
                cr = usage.cache_read_tokens
                if (
                    inp < 0
                    or out < 0
                    or usage.cache_write_tokens
                    or usage.reasoning_tokens
                    or usage.cache_write_1h_tokens
                ):
                    total = _subset_total(usage, pico)  # checks the subsets; raises ImpossibleUsage
                elif not cr:
                    total = pico[0] * inp + pico[4] * out
                elif 0 < cr <= inp:  # cache reads only: the most common mix after the plain one
                    total = pico[0] * (inp - cr) + pico[1] * cr + pico[4] * out
                else:
                    total = _subset_total(usage, pico)
                if plan.fee:
                    total += plan.fee * usage.requests
                cost = exact_mul(Decimal(total), _PICO)
                if res.scaled:
                    cost = exact_mul(cost, res.multiplier)
                lazy = (usage, pico, plan.fee)  # the breakdown, computed only when asked for
                return Price(cost, "priced", plan.ref, plan.model_id, plan.provider, res.multiplier, (), lazy)
        return self._price_slow(usage, model, res, at, batch, service_tier, provider_cost)

    def rate_plan(self, model: str, provider: str | None, at: float) -> tuple[RatePlan | None, float, float]:
        """The integer rates :meth:`price` applies to ``model`` at epoch seconds ``at``, and the epoch range
        ``[since, until)`` over which that answer holds (for callers that memoise it).

        The plan is ``None`` when :meth:`price` would not take its integer fast path: unknown names, non-token
        billing, a region multiplier, or rates that need ``Decimal``. Pricing a usage with the plan (see
        :class:`RatePlan`) gives the same pico-dollars as :meth:`price` without ``batch``, ``service_tier`` or
        ``provider_cost``.
        """
        res = (self._bare.get(model) if provider is None else self._cache.get((model, provider))) or self._resolve(
            model, provider
        )
        if not res.fast or res.scaled:
            return None, -math.inf, math.inf
        if at >= res.latest_since:
            plan, since, until = res.latest, res.latest_since, math.inf
        elif res.fixed is not None:
            plan, since, until = res.fixed, -math.inf, math.inf
        else:
            day = int(at // 86400)
            plan, since, until = _plan_at(res, at), float(day * 86400), float((day + 1) * 86400)
            if since < res.latest_since < until:
                until = res.latest_since
        return (plan if plan.pico is not None else None), since, until

    def _price_slow(
        self,
        usage: Usage,
        model: str,
        res: _Resolved,
        at: object,
        batch: bool,
        service_tier: str | None,
        provider_cost: Decimal | float | str | None,
    ) -> Price:
        """Every case the fast path leaves out: multipliers, provider costs, free/dynamic/unknown, GPU time."""
        parts = usage.exclusive()
        if provider_cost is not None:
            ref = self._ref(res.model, at) if res.model else None
            mid = res.model.id if res.model else model
            return Price(_decimal(provider_cost), "provider_reported", ref, mid, res.provider)
        if res.billing is None:
            return Price(None, "unknown_model", None, model, res.provider)
        if res.billing == "free":
            ref = self._ref(res.model, at) if res.model else f"{self.version}:{res.provider}/*"
            return Price(_ZERO, "free", ref, res.model.id if res.model else model, res.provider)
        if res.billing == "dynamic" or res.model is None:
            return Price(None, "dynamic", None, res.model.id if res.model else model, res.provider)
        m = res.model
        found = m.window_at(None if m.timeless else _day(at))
        if found is None:
            return Price(None, "unknown_model", None, m.id, m.provider)
        index, window = found
        mult = exact_mul(res.multiplier, self._multiplier(m, batch, service_tier))
        if res.billing == "gpu_time":
            return self._gpu_price(usage, m, window, m.refs[index], mult)
        return self._token_price(usage, parts, m, window, m.refs[index], mult)

    def _token_price(
        self, usage: Usage, parts: tuple[int, ...], m: Model, w: RateWindow, ref: str, mult: Decimal
    ) -> Price:
        rates = w.rates_for(usage.input_tokens)
        fee = exact_mul(w.request_fee, Decimal(usage.requests))
        pico = rates._pico
        buckets: tuple[Decimal | int, ...]
        if pico is not None:
            buckets = tuple([p * n for p, n in zip(pico, parts)])
            total = EXACT.add(pico_to_usd(sum(buckets)), fee)  # type: ignore[arg-type]
        else:
            buckets = tuple(tokens_cost(n, r) for n, r in zip(parts, rates.as_tuple()))
            total = EXACT.add(sum(buckets, _ZERO), fee)  # tokens_cost values are exact, with few digits
        cost = total if mult == _ONE else exact_mul(total, mult)
        return Price(cost, "priced", ref, m.id, m.provider, mult, (*buckets, fee, _ZERO))

    def _gpu_price(self, usage: Usage, m: Model, w: RateWindow, ref: str, mult: Decimal) -> Price:
        if usage.gpu_seconds is None or w.gpu_hour is None:
            return Price(None, "no_usage", ref, m.id, m.provider)
        # GPU seconds × USD/hour ÷ 3600 rarely ends: rounded half-even to the pico-dollar.
        gpu = _GPU.divide(exact_mul(_decimal(usage.gpu_seconds), w.gpu_hour), _HOUR).quantize(_PICO, context=_GPU)
        fee = exact_mul(w.request_fee, Decimal(usage.requests))
        buckets = (_ZERO,) * 6 + (fee, gpu)
        return Price(exact_mul(EXACT.add(gpu, fee), mult), "priced", ref, m.id, m.provider, mult, buckets)

    def _multiplier(self, m: Model, batch: bool, service_tier: str | None) -> Decimal:
        mult = _ONE
        prov = self.providers[m.provider]
        if batch:
            mult = exact_mul(mult, m.batch if m.batch is not None else (prov.batch or _ONE))
        if service_tier:
            mult = exact_mul(mult, prov.service_tiers.get(service_tier, _ONE))
        return mult

    def _ref(self, model: Model, at: object) -> str | None:
        found = model.window_at(None if model.timeless else _day(at))
        return model.refs[found[0]] if found else None

    def window_for(self, model: Model, at: object = None) -> RateWindow | None:
        """The rate window of ``model`` in force at ``at`` (default: now), as :meth:`price` chooses it."""
        found = model.window_at(None if model.timeless else _day(at))
        return found[1] if found else None

    # -- listing --------------------------------------------------------------------------------------------------

    def find(self, name: str, provider: str | None = None) -> Model:
        """Like :meth:`resolve` but raises :class:`ModelNotFound` with a one-line message."""
        model = self.resolve(name, provider)
        if model is None:
            raise ModelNotFound(f"unknown model {name!r}" + (f" for provider {provider!r}" if provider else ""))
        return model

    def iter_models(self, provider: str | None = None) -> Iterable[Model]:
        for model in sorted(self.models, key=lambda m: (m.provider, m.id)):
            if provider is None or model.provider == provider:
                yield model


_CACHE: dict[tuple[tuple[str, int, int], ...], Catalog] = {}
_CACHE_LOCK = threading.Lock()


def load_catalog(path: str | Path | None = None, *, overrides: bool = True) -> Catalog:
    """The active catalog: the updated or bundled catalog with user and project overrides merged over it.

    Cached by the files' paths and modification times, so a new version written by ``pricing update`` (or an edited
    override) is picked up by the next call without a restart.
    """
    layers = _load.catalog_layers(Path(path) if path else None, overrides=overrides)
    key = tuple((str(p), *_stamp(p)) for p, _ in layers)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    doc: dict[str, Any] = {}
    for i, (layer, full) in enumerate(layers):
        part = _load.load_document(layer)
        if full:
            problems = [e for e in _load.validate_document(part, strict=False) if e]
            if problems:
                raise _load.CatalogError(f"{layer}: {problems[0]}")
        doc = part if i == 0 else _load.merge_documents(doc, part)
    catalog = Catalog(doc, origin=" + ".join(str(p) for p, _ in layers))
    with _CACHE_LOCK:
        _CACHE.clear()
        _CACHE[key] = catalog
    return catalog


def _stamp(path: Path) -> tuple[int, int]:
    """Modification time and size: an edit within the file system's clock tick still changes the size (usually)."""
    try:
        st = path.stat()
    except OSError:
        return -1, -1
    return st.st_mtime_ns, st.st_size
