"""Rate-plan arithmetic: the rates of one window turned into money.

A :class:`RatePlan` is one rate window prepared for integer pricing: whole pico-dollars per token for the six
exclusive buckets and per use of each tool, so a call costs a few integer products and one exact ``Decimal`` at the
end. A service tier or batch is a variant of the window's plan, with its own rates or its multiplier folded into
them. A :class:`NamePlans` remembers, for one resolved name, which plan is in force on each UTC day seen so far (the
model's rate window and the provider's tool window of that day), so the hot path of ``Catalog.price`` needs no date
arithmetic once warm. Rates that do not fit whole pico-dollars, region multipliers and GPU time take the exact
``Decimal`` functions at the end of this module.
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
    TOOLS,
    Billing,
    ImpossibleUsage,
    Model,
    Pico,
    Price,
    Provider,
    RateWindow,
    ToolWindow,
    Usage,
    exact_mul,
    pico_to_usd,
    rates_for,
    to_decimal,
    tokens_cost,
)
from pricing._tiers import Variant, select

__all__ = [
    "NO_PLAN",
    "ModelPlans",
    "NamePlans",
    "RatePlan",
    "gpu_time_price",
    "plan_at",
    "subset_total",
    "token_price",
    "tool_fees",
]

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

    ``pico`` holds whole pico-dollars per token for the six exclusive buckets in ``Usage.exclusive()`` order, with
    the plan's multiplier (batch, service tier) already applied; ``fee`` pico-dollars per request, likewise;
    ``tool_pico`` pico-dollars per use of each tool of :data:`TOOLS` (never multiplied; ``None`` where no fee is
    published); ``tier_min`` the lowest long-context threshold (inputs above it may switch to a tier:
    :meth:`tier_rates`); ``ref`` the ``price_ref``, ``model_id`` and ``provider`` the model's. ``service_tier``,
    ``batch`` and ``notes`` are those of the price (see :class:`pricing.Price`). The ``base_*`` attributes hold the
    rates before the multiplier, for the breakdown.

    The standard plan of a window gives the plan of a service tier or of batch with :meth:`variant`. The recorder
    reads these attributes by name.
    """

    __slots__ = (
        "_source",
        "_variants",
        "base_fee",
        "base_pico",
        "base_tiers",
        "batch",
        "by_tier",
        "fee",
        "index",
        "long_exact",
        "long_notes",
        "model_id",
        "mult",
        "notes",
        "pico",
        "provider",
        "ref",
        "service_tier",
        "tier_min",
        "tiers",
        "tool_pico",
    )

    def __init__(
        self,
        model: Model,
        index: int,
        tools: ToolWindow | None = None,
        variant: Variant | None = None,
        source: tuple[Provider, Model, RateWindow, ToolWindow | None] | None = None,
    ) -> None:
        window = model.windows[index]
        self.index = index
        self.model_id = model.id
        self.provider = model.provider
        self._source = source
        self._variants: dict[tuple[str | None, bool], RatePlan] = {}
        self.by_tier: dict[str | None, RatePlan] = {}  # the same without batch, by the tier name as given
        self.notes: tuple[str, ...] = ()
        long_note: str | None = None
        if variant is None:
            rates, long_tiers, mult = window.rates, window.tiers, _ONE
            self.service_tier, self.batch, self.notes, long_note, suffix = None, False, (), None, ""
        else:
            rates, long_tiers, mult = variant.rates, variant.tiers, variant.multiplier
            self.service_tier, self.batch, self.notes = variant.service_tier, variant.batch, variant.notes
            long_note, suffix = variant.long_note, variant.suffix
        self.ref = model.refs[index] + suffix
        self.mult = mult
        self.long_notes = self.notes if long_note is None else (*self.notes, long_note)
        self.long_exact = long_note is None
        fee = window.request_fee.scaleb(12, EXACT)
        self.base_pico: Any = rates._pico
        self.base_tiers = tuple((threshold, r._pico) for threshold, r in long_tiers)
        self.base_fee = int(fee) if fee == fee.to_integral_value() else 0
        fees = _tool_fees(window, tools)
        self.tool_pico: tuple[int | None, ...] = tuple(None if f is None else _pico_or_none(f) for f in fees)
        exact = (
            fee == fee.to_integral_value()
            and self.base_pico is not None
            and all(p is not None for _, p in self.base_tiers)
            and all(p is not None for p, f in zip(self.tool_pico, fees) if f is not None)
        )
        self.pico: Pico | None = None
        self.tiers: tuple[tuple[int, Pico | None], ...] = self.base_tiers
        self.fee = self.base_fee
        if exact:
            if mult == _ONE:
                self.pico = self.base_pico
            else:
                folded = [_scaled(p, mult) for p in (self.base_pico, *(t for _, t in self.base_tiers))]
                fee_pico = _scaled((self.base_fee,), mult)
                if all(f is not None for f in folded) and fee_pico is not None:
                    self.pico = folded[0]
                    self.tiers = tuple((t, f) for (t, _), f in zip(self.base_tiers, folded[1:]))
                    self.fee = fee_pico[0]
        self.tier_min = self.tiers[0][0] if self.tiers else _NO_TIER

    def variant(self, tier: str | None, batch: bool) -> RatePlan:
        """The plan of this window for a service tier and/or batch (see ``pricing._tiers``), made once."""
        key = (tier, batch)
        found = self._variants.get(key)
        if found is not None:
            return found
        if self._source is None:
            return self
        provider, model, window, tools = self._source
        chosen = select(provider, model, window, tier, batch)
        found = self if chosen.suffix == "" and not chosen.notes else RatePlan(model, self.index, tools, chosen)
        if len(self._variants) > 64:  # tier names come from user data: keep the memo bounded
            self._variants.clear()
            self.by_tier.clear()
        self._variants[key] = found
        if not batch:
            self.by_tier[tier] = found
        return found

    def tools_total(
        self,
        web_search_requests: object,
        web_fetch_requests: object,
        file_search_calls: object,
        code_interpreter_sessions: object,
        grounded_prompts: object,
    ) -> int:
        """Pico-dollars of the tool uses; -1 for a negative or non-integer count, or a tool used with no published
        fee (``Catalog.price`` then says which). Unrolled: a call with a tool is priced at about the cost of one
        without."""
        fees = self.tool_pico
        total = 0
        if web_search_requests:
            fee = fees[0]
            if fee is None or type(web_search_requests) is not int or web_search_requests < 0:
                return -1
            total = fee * web_search_requests
        if web_fetch_requests:
            fee = fees[1]
            if fee is None or type(web_fetch_requests) is not int or web_fetch_requests < 0:
                return -1
            total += fee * web_fetch_requests
        if file_search_calls:
            fee = fees[2]
            if fee is None or type(file_search_calls) is not int or file_search_calls < 0:
                return -1
            total += fee * file_search_calls
        if code_interpreter_sessions:
            fee = fees[3]
            if fee is None or type(code_interpreter_sessions) is not int or code_interpreter_sessions < 0:
                return -1
            total += fee * code_interpreter_sessions
        if grounded_prompts:
            fee = fees[4]
            if fee is None or type(grounded_prompts) is not int or grounded_prompts < 0:
                return -1
            total += fee * grounded_prompts
        return total

    def tier_rates(self, input_tokens: int, base: Pico) -> Pico:
        """Pico rates of the highest tier whose threshold the input passes (tiers are cliffs); ``base`` below all."""
        chosen = base
        for threshold, pico in self.tiers:
            if input_tokens > threshold and pico is not None:
                chosen = pico
        return chosen

    def base_tier_rates(self, input_tokens: int) -> Pico:
        """:meth:`tier_rates` before the multiplier (what the breakdown shows)."""
        chosen = self.base_pico
        for threshold, pico in self.base_tiers:
            if input_tokens > threshold and pico is not None:
                chosen = pico
        return chosen  # type: ignore[no-any-return]

    def pico_total(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read: int | None,
        cache_write: int | None,
        cache_write_1h: int | None,
        reasoning: int | None,
        web_search_requests: int | None = None,
        web_fetch_requests: int | None = None,
        file_search_calls: int | None = None,
        code_interpreter_sessions: int | None = None,
        grounded_prompts: int | None = None,
    ) -> int:
        """Pico-dollars of one call's usage, as ``Catalog.price`` computes them (``None`` counts as 0).

        Counts are inclusive as in the wire format: ``cache_write`` includes the one-hour writes ``cache_write_1h``
        (priced at their own rate). The tool counts are those of :class:`pricing.Usage`. Returns -1 when the counts
        are impossible or not integers (``Catalog.price`` would raise ``ImpossibleUsage``), or when ``Catalog.price``
        would add a note (a tool used with no published fee, a long input without the tier's long-context rates):
        the caller then takes ``Catalog.price``. The recorder prices every call with this, so it stays beside
        :func:`subset_total`, the same sum on the ``price`` path (tests check the two agree for every model).
        """
        try:
            inp = input_tokens or 0
            cached = cache_read or 0
            written = cache_write or 0
            thinking = reasoning or 0
            uncached = inp - cached - written
            visible = (output_tokens or 0) - thinking
            pico = self.pico
            if inp > self.tier_min:
                if not self.long_exact:
                    return -1
                pico = self.tier_rates(inp, pico)  # type: ignore[arg-type]
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
            if (
                web_search_requests
                or web_fetch_requests
                or file_search_calls
                or code_interpreter_sessions
                or (grounded_prompts)
            ):
                added = self.tools_total(
                    web_search_requests,
                    web_fetch_requests,
                    file_search_calls,
                    code_interpreter_sessions,
                    grounded_prompts,
                )
                return -1 if added < 0 else total + added
            return total
        except TypeError:
            return -1


def _tool_fees(window: RateWindow, tools: ToolWindow | None) -> tuple[Decimal | None, ...]:
    """USD per use of each tool: the model window's fee, else the provider's, else ``None`` (not published)."""
    fees = []
    for tool in TOOLS:
        fee = window.tool_fees.get(tool.key)
        if fee is None and tools is not None:
            fee = tools.fees.get(tool.key)
        fees.append(None if fee is None else fee if tool.per == 1 else fee.scaleb(-3, EXACT))  # per 1,000 uses
    return tuple(fees)


def tool_fees(window: RateWindow, tools: ToolWindow | None) -> tuple[Decimal | None, ...]:
    """USD per single use of each tool of :data:`TOOLS` (``None``: no fee published), model window first."""
    return _tool_fees(window, tools)


def _pico_or_none(usd: Decimal) -> int | None:
    scaled = usd.scaleb(12, EXACT)
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _scaled(pico: Pico | tuple[int, ...] | None, mult: Decimal) -> Any:
    """Whole pico-dollars times ``mult``, or ``None`` when a product is not whole."""
    if pico is None:
        return None
    out = []
    for p in pico:
        product = exact_mul(Decimal(p), mult)
        if product != product.to_integral_value():
            return None
        out.append(int(product))
    return tuple(out)


class _NoPlan:
    """No window covers the date: the slow path reports ``unknown_model``."""

    __slots__ = ()
    index = -1
    pico = None
    notes = ()
    by_tier: dict[str | None, Any] = {}  # noqa: RUF012 (never written: variant() answers)

    def variant(self, tier: str | None, batch: bool) -> Any:
        return self


NO_PLAN: Any = _NoPlan()


class ModelPlans:
    """Every rate plan of one model: one per (rate window, provider tool window) pair, built when first needed."""

    __slots__ = ("model", "plans", "provider")

    def __init__(self, model: Model, provider: Provider) -> None:
        self.model = model
        self.provider = provider
        self.plans: dict[tuple[int, int], RatePlan] = {}

    def get(self, index: int, tools: int) -> RatePlan:
        """The plan of rate window ``index`` with provider tool window ``tools`` (-1: none)."""
        plan = self.plans.get((index, tools))
        if plan is None:
            window = self.provider.tools[tools] if tools >= 0 else None
            source = (self.provider, self.model, self.model.windows[index], window)
            plan = self.plans[(index, tools)] = RatePlan(self.model, index, window, source=source)
        return plan

    def tools_index(self, day: dt.date) -> int:
        """The index of the provider's tool window in force on ``day``, -1 when none is."""
        tools = self.provider.tools
        for i in range(len(tools) - 1, -1, -1):
            if tools[i].contains(day):
                return i
        return -1


class NamePlans:
    """What a (name, provider) pair resolves to, plus the rate plan chosen per UTC day (filled as days are seen)."""

    __slots__ = (
        "billing",
        "book",
        "days",
        "fast",
        "fixed",
        "latest",
        "latest_since",
        "model",
        "multiplier",
        "now",
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
        self.book: ModelPlans | None = None
        self.days: dict[int, RatePlan] = {}
        self.fixed: RatePlan | None = None  # the only window of a model whose price never changed
        self.now: RatePlan | None = None  # the open-ended latest plan, once "now" is inside it
        self.latest: RatePlan = NO_PLAN  # the plan in force from some instant on, for ever ...
        self.latest_since = math.inf  # ... epoch seconds >= this

    def attach(self, book: ModelPlans, timeless: bool) -> None:
        """Give the resolved model's plans; remember the ones that need no date at all."""
        assert self.model is not None
        self.book = book
        tools = book.provider.tools
        undated = all(t.effective_from is None and t.effective_until is None for t in tools)
        if timeless and len(tools) <= 1 and undated:
            self.fixed = self.now = book.get(0, 0 if tools else -1)
        windows = self.model.windows
        last = windows[-1]
        if last.effective_until is None:  # epoch seconds from this instant on need no day arithmetic at all
            edges = [d for t in tools for d in (t.effective_from, t.effective_until) if d is not None]
            if last.effective_from is not None:
                edges.append(last.effective_from)
            forever = len(tools) - 1 if tools and tools[-1].effective_until is None else -1
            self.latest = book.get(len(windows) - 1, forever)
            self.latest_since = float((max(edges) - EPOCH).days * 86400) if edges else -math.inf

    def plan_on(self, day: int, now: bool) -> RatePlan:
        """The plan in force on a UTC day number (days since 1970-01-01), remembered for the next call."""
        assert self.model is not None
        assert self.book is not None
        date = EPOCH + dt.timedelta(days=day)
        found = self.model.window_at(date)
        plan = self.book.get(found[0], self.book.tools_index(date)) if found else NO_PLAN
        if len(self.days) > 4096:  # timestamps come from user data: keep the memo bounded
            self.days.clear()
        self.days[day] = plan
        if now and day * 86400 >= self.latest_since:
            self.now = self.latest  # time only moves forward: "now" stays inside the plan in force for ever
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


def token_price(
    usage: Usage,
    parts: tuple[int, ...],
    m: Model,
    w: RateWindow,
    tools: ToolWindow | None,
    variant: Variant,
    ref: str,
    region: Decimal,
) -> Price:
    """The exact price of a token-billed call (``parts`` = ``usage.exclusive()``): the variant's rates (service
    tier, batch) times its multiplier and the region's, plus the tool fees."""
    rates = rates_for(variant.rates, variant.tiers, usage.input_tokens)
    notes = variant.notes
    if variant.long_note is not None and variant.tiers and usage.input_tokens > variant.tiers[0][0]:
        notes = (*notes, variant.long_note)
    fee = exact_mul(w.request_fee, Decimal(usage.requests))
    pico = rates._pico
    buckets: tuple[Decimal | int | None, ...]
    if pico is not None:
        buckets = tuple([p * n for p, n in zip(pico, parts)])
        total = EXACT.add(pico_to_usd(sum(buckets)), fee)  # type: ignore[arg-type]
    else:
        buckets = tuple(tokens_cost(n, r) for n, r in zip(parts, rates.as_tuple()))
        total = EXACT.add(sum(buckets, _ZERO), fee)  # type: ignore[type-var,arg-type]  # tokens_cost values are exact
    mult = exact_mul(variant.multiplier, region)
    cost = total if mult == _ONE else exact_mul(total, mult)
    lines, cost, notes = _tool_lines(usage, m, w, tools, cost, notes)
    return Price(
        cost,
        "priced",
        ref + variant.suffix,
        m.id,
        m.provider,
        mult,
        (*buckets, fee, _ZERO, *lines),
        meta=(variant.service_tier, variant.batch, notes),
    )


def _tool_lines(
    usage: Usage, m: Model, w: RateWindow, tools: ToolWindow | None, cost: Decimal, notes: tuple[str, ...]
) -> tuple[tuple[Decimal | None, ...], Decimal, tuple[str, ...]]:
    """One breakdown line per tool used (``None`` for the others), the cost with them, and notes for tools used
    with no published fee (counted at zero: the catalog does not know their price)."""
    counts = usage.checked_tool_counts()
    if not any(counts):
        return (None,) * len(TOOLS), cost, notes
    lines: list[Decimal | None] = []
    added = []
    for tool, count, fee in zip(TOOLS, counts, _tool_fees(w, tools)):
        if not count:
            lines.append(None)
        elif fee is None:
            lines.append(_ZERO)
            added.append(f"{count} {tool.counter} with no published fee for {m.key}: not priced")
        else:
            line = exact_mul(fee, Decimal(count))
            lines.append(line)
            cost = EXACT.add(cost, line)
    return tuple(lines), cost, (*notes, *added)


def gpu_time_price(
    usage: Usage,
    m: Model,
    w: RateWindow,
    tools: ToolWindow | None,
    variant: Variant,
    ref: str,
    region: Decimal,
) -> Price:
    """``gpu_seconds × gpu_hour / 3600`` (rounded half-even to the pico-dollar) plus the request fee, times the
    multipliers (a service tier or batch with rates of its own has no GPU-hour price: only multipliers apply)."""
    if usage.gpu_seconds is None or w.gpu_hour is None:
        return Price(None, "no_usage", ref, m.id, m.provider)
    seconds = to_decimal(usage.gpu_seconds)
    if not seconds.is_finite() or seconds < 0:
        raise ImpossibleUsage(f"gpu_seconds must be a finite number of seconds, not below zero: {usage.gpu_seconds!r}")
    dollar_hours = exact_mul(seconds, w.gpu_hour)
    context = decimal.Context(prec=max(_GPU_DIGITS, dollar_hours.adjusted() + 16))
    gpu = context.divide(dollar_hours, _HOUR).quantize(_PICO, context=context)
    fee = exact_mul(w.request_fee, Decimal(usage.requests))
    mult = exact_mul(variant.multiplier, region)
    lines, cost, notes = _tool_lines(usage, m, w, tools, exact_mul(EXACT.add(gpu, fee), mult), variant.notes)
    buckets = ((_ZERO,) * 6) + (fee, gpu, *lines)
    return Price(
        cost,
        "priced",
        ref + variant.suffix,
        m.id,
        m.provider,
        mult,
        buckets,
        meta=(variant.service_tier, variant.batch, notes),
    )
