"""Rate-plan arithmetic: the rates of one window turned into money.

A :class:`RatePlan` is one rate window prepared for integer pricing: whole pico-dollars per token for the six
exclusive buckets, so a call costs a few integer products and one exact ``Decimal`` at the end. A :class:`NamePlans`
remembers, for one resolved name, which plan is in force on each UTC day seen so far, so the hot path of
``Catalog.price`` needs no date arithmetic once warm. Rates that do not fit whole pico-dollars, multipliers and GPU
time take the exact ``Decimal`` functions at the end of this module.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import time
from decimal import Decimal
from typing import Any

from pricing._dates import EPOCH, EPOCH_ORDINAL, utc_day
from pricing._model import (
    EXACT,
    Billing,
    ImpossibleUsage,
    Model,
    Pico,
    Price,
    RateWindow,
    Usage,
    exact_mul,
    pico_to_usd,
    to_decimal,
    tokens_cost,
)

__all__ = ["NO_PLAN", "NamePlans", "RatePlan", "gpu_time_price", "plan_at", "subset_total", "token_price"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_NO_TIER = 1 << 62
_HOUR = Decimal(3600)
_PICO = Decimal("1e-12")
# GPU seconds × USD/hour ÷ 3600 rarely ends: divided with ample precision (digits enough for the whole dollars and
# twelve decimals, however large the figure), then rounded half-even to the pico-dollar.
_GPU_DIGITS = 60


class RatePlan:
    """One rate window of one model, prepared for integer pricing (``pico`` is ``None`` when it needs ``Decimal``).

    ``pico`` holds whole pico-dollars per token for the six exclusive buckets in ``Usage.exclusive()`` order,
    ``fee`` pico-dollars per request, ``tier_min`` the lowest long-context threshold (inputs above it may switch to a
    tier: :meth:`tier_rates`), ``ref`` the ``price_ref``, ``model_id`` and ``provider`` the model's. The compiled
    recorder reads these attributes by name.
    """

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
        """Pico-dollars of one call's usage, as ``Catalog.price`` computes them (``None`` counts as 0).

        Counts are inclusive as in the wire format: ``cache_write`` includes the one-hour writes ``cache_write_1h``
        (priced at their own rate). Returns -1 when the counts are impossible or not integers (``Catalog.price``
        would raise ``ImpossibleUsage``). The recorder prices every call with this, so it stays beside
        :func:`subset_total`, the same sum on the ``price`` path (tests check the two agree for every model).
        """
        try:
            inp = input_tokens or 0
            cached = cache_read or 0
            written = cache_write or 0
            thinking = reasoning or 0
            uncached = inp - cached - written
            visible = (output_tokens or 0) - thinking
            pico = self.pico if inp <= self.tier_min else self.tier_rates(inp, self.pico)  # type: ignore[arg-type]
            total: int = self.fee
            written_1h = cache_write_1h
            if written_1h:  # the one-hour part of the cache writes, at its own rate
                written_1h = min(written_1h, written)
                written -= written_1h
                if written_1h < 0:
                    return -1
                total += pico[3] * written_1h  # type: ignore[index]
            if (uncached | visible | cached | written | thinking) < 0:  # the OR of ints is negative if any of them is
                return -1
            total += (
                pico[0] * uncached  # type: ignore[index]
                + pico[1] * cached  # type: ignore[index]
                + pico[2] * written  # type: ignore[index]
                + pico[4] * visible  # type: ignore[index]
                + pico[5] * thinking  # type: ignore[index]
            )
            return total
        except TypeError:
            return -1


class _NoPlan:
    """No window covers the date: the slow path reports ``unknown_model``."""

    __slots__ = ()
    index = -1
    pico = None


NO_PLAN: Any = _NoPlan()


class NamePlans:
    """What a (name, provider) pair resolves to, plus the rate plan chosen per UTC day (filled as days are seen)."""

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
        self.plans: tuple[RatePlan, ...] = ()
        self.days: dict[int, RatePlan] = {}
        self.fixed: RatePlan | None = None  # the only window of a model whose price never changed
        self.now: RatePlan | None = None  # the open-ended latest window, once "now" is inside it
        self.latest: RatePlan = NO_PLAN  # the open-ended latest window ...
        self.latest_since = math.inf  # ... in force for epoch seconds >= this

    def attach(self, plans: tuple[RatePlan, ...], timeless: bool) -> None:
        """Give the resolved model's plans; remember the ones that need no date at all."""
        assert self.model is not None
        self.plans = plans
        if timeless:
            self.fixed = self.now = plans[0]
        last = self.model.windows[-1]
        if last.effective_until is None:  # epoch seconds from this instant on need no day arithmetic at all
            start = last.effective_from
            self.latest = plans[-1]
            self.latest_since = -math.inf if start is None else float((start - EPOCH).days * 86400)

    def plan_on(self, day: int, now: bool) -> RatePlan:
        """The plan in force on a UTC day number (days since 1970-01-01), remembered for the next call."""
        assert self.model is not None
        found = self.model.window_at(EPOCH + dt.timedelta(days=day))
        plan = self.plans[found[0]] if found else NO_PLAN
        if len(self.days) > 4096:  # timestamps come from user data: keep the memo bounded
            self.days.clear()
        self.days[day] = plan
        last = len(self.plans) - 1
        if now and plan.index == last and self.model.windows[last].effective_until is None:
            self.now = plan  # time only moves forward: "now" stays inside an open-ended last window
        return plan


def plan_at(res: NamePlans, at: object) -> RatePlan:
    """The plan in force at ``at`` (``NO_PLAN`` when no window covers it), memoised per UTC day number."""
    if res.fixed is not None:
        return res.fixed
    if at is None:
        day = int(time.time() // 86400)
    elif type(at) is float or type(at) is int:
        day = int(at // 86400)  # type: ignore[operator,unused-ignore]
    else:
        day = utc_day(at).toordinal() - EPOCH_ORDINAL
    plan = res.days.get(day)
    return plan if plan is not None else res.plan_on(day, at is None)


def subset_total(usage: Usage, pico: Pico) -> int:
    """Pico-dollars of a usage with cached or reasoning tokens (a subset never exceeds its total)."""
    cached = usage.cache_read_tokens
    written = usage.cache_write_tokens
    written_1h = usage.cache_write_1h_tokens
    thinking = usage.reasoning_tokens
    uncached = usage.input_tokens - cached - written - written_1h
    visible = usage.output_tokens - thinking
    if uncached < 0 or visible < 0 or (cached | written | written_1h | thinking | usage.requests) < 0:
        usage.exclusive()  # raises ImpossibleUsage with the message
    a, b, c, d, e, f = pico
    return a * uncached + b * cached + c * written + d * written_1h + e * visible + f * thinking


def token_price(usage: Usage, parts: tuple[int, ...], m: Model, w: RateWindow, ref: str, mult: Decimal) -> Price:
    """The exact price of a token-billed call (``parts`` = ``usage.exclusive()``), ``mult`` applied to the total."""
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


def gpu_time_price(usage: Usage, m: Model, w: RateWindow, ref: str, mult: Decimal) -> Price:
    """``gpu_seconds × gpu_hour / 3600`` (rounded half-even to the pico-dollar) plus the request fee."""
    if usage.gpu_seconds is None or w.gpu_hour is None:
        return Price(None, "no_usage", ref, m.id, m.provider)
    seconds = to_decimal(usage.gpu_seconds)
    if not seconds.is_finite() or seconds < 0:
        raise ImpossibleUsage(f"gpu_seconds must be a finite number of seconds, not below zero: {usage.gpu_seconds!r}")
    dollar_hours = exact_mul(seconds, w.gpu_hour)
    context = decimal.Context(prec=max(_GPU_DIGITS, dollar_hours.adjusted() + 16))
    gpu = context.divide(dollar_hours, _HOUR).quantize(_PICO, context=context)
    fee = exact_mul(w.request_fee, Decimal(usage.requests))
    buckets = (_ZERO,) * 6 + (fee, gpu)
    return Price(exact_mul(EXACT.add(gpu, fee), mult), "priced", ref, m.id, m.provider, mult, buckets)
