"""The catalog's objects: providers, models, dated rate windows, usage and the result of pricing a call.

Rates are kept twice: as the exact ``Decimal`` the catalog states (USD per million tokens), and as whole
pico-dollars per token (``_pico``), so that pricing a call is integer arithmetic with one ``Decimal`` at the end.
A rate that does not fit in whole pico-dollars per token (more than six decimals per million) falls back to exact
``Decimal`` arithmetic, so the result is exact either way.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from pricing._format import format_decimal

__all__ = [
    "BUCKETS",
    "RATE_KEYS",
    "STANDARD_TIERS",
    "TOOLS",
    "TOOL_KEYS",
    "UNIT_KEYS",
    "Billing",
    "CostStatus",
    "ImpossibleUsage",
    "Model",
    "Pico",
    "Price",
    "Provider",
    "RateTable",
    "RateWindow",
    "Rates",
    "Tool",
    "ToolWindow",
    "Usage",
]

#: Whole pico-dollars per token for the six exclusive token buckets.
Pico = tuple[int, int, int, int, int, int]
Billing = Literal["tokens", "free", "dynamic", "gpu_time"]
CostStatus = Literal["priced", "free", "provider_reported", "unknown_model", "no_usage", "dynamic"]


class Tool(NamedTuple):
    """A server-side tool billed per use: the :class:`Usage` counter, the catalog key of its fee, how many uses the
    fee is for, and the breakdown line it is priced on."""

    counter: str
    key: str
    per: int
    bucket: str


#: Tools billed per use, in breakdown order. The counters are :class:`Usage` fields (and wire-format fields); the
#: keys are USD fees in rate windows and provider tool windows (docs/catalog.md, "Tool fees").
TOOLS = (
    Tool("web_search_requests", "web_search_per_1k", 1000, "web_search"),
    Tool("web_fetch_requests", "web_fetch_per_1k", 1000, "web_fetch"),
    Tool("file_search_calls", "file_search_per_1k", 1000, "file_search"),
    Tool("code_interpreter_sessions", "code_interpreter_per_session", 1, "code_interpreter"),
    Tool("grounded_prompts", "grounding_per_1k", 1000, "grounding"),
)
#: Catalog keys of the tool fees, in :data:`TOOLS` order.
TOOL_KEYS = tuple(t.key for t in TOOLS)
#: Service tier names that mean the standard rates (what OpenAI reports as ``default``, Anthropic as ``standard``).
STANDARD_TIERS = frozenset({"standard", "default", "auto"})

#: Buckets a cost is split into, in display order: six exclusive token buckets, the request fee, GPU time, then one
#: line per tool (present in a breakdown only when the call used that tool).
BUCKETS = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "output",
    "reasoning",
    "request",
    "gpu",
    *(t.bucket for t in TOOLS),
)
#: The token rates of a window or tier (USD per million tokens), in the order the catalog file writes them.
RATE_KEYS = (
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "reasoning_mtok",
)
#: Unit prices of a window: USD per request, USD per GPU hour.
UNIT_KEYS = ("request_fee", "gpu_hour")

_MTOK = Decimal(1_000_000)
_PICO = Decimal("1e-12")
_ZERO = Decimal(0)
# Money never goes through the caller's decimal context (its precision may have been lowered): products of exact
# values are computed with unlimited precision, so they stay exact.
EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
exact_mul = EXACT.multiply


class ImpossibleUsage(ValueError):
    """A usage whose parts exceed their total, or a negative count."""


class Usage(NamedTuple):
    """Token counts of one call, inclusive as in the wire format (an immutable named tuple: cheap to build, and
    pricing reads it in one unpacking).

    ``input_tokens`` includes cache reads and both kinds of cache writes; ``output_tokens`` includes reasoning.
    ``cache_write_tokens`` are writes with the default (5 minute) lifetime, ``cache_write_1h_tokens`` the one-hour
    ones; the two are disjoint.

    The tool counters count what the provider bills per use, as its response reports it: ``web_search_requests``
    (OpenAI ``web_search_call`` items, Anthropic ``server_tool_use.web_search_requests``, Gemini 3 search queries),
    ``web_fetch_requests`` (Anthropic ``server_tool_use.web_fetch_requests``), ``file_search_calls`` (OpenAI
    ``file_search_call`` items), ``code_interpreter_sessions`` (containers an OpenAI ``code_interpreter`` call
    started) and ``grounded_prompts`` (Gemini requests grounded with Google Search, billed per prompt on Gemini 2.x).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    gpu_seconds: float | None = None
    requests: int = 1
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    file_search_calls: int = 0
    code_interpreter_sessions: int = 0
    grounded_prompts: int = 0

    @classmethod
    def from_wire(
        cls,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read: int | None = None,
        cache_write: int | None = None,
        cache_write_1h: int | None = None,
        reasoning: int | None = None,
        gpu_seconds: float | None = None,
        tools: tuple[int | None, ...] = (),
    ) -> Usage:
        """A usage from the counts of a log line (``None``: not reported, 0 here), where ``cache_write`` holds all
        cache writes and ``cache_write_1h`` the one-hour part of them: taken apart here, the part at most the whole.
        ``tools`` are the tool counters in :data:`TOOLS` order."""
        write = cache_write or 0
        one_hour = min(cache_write_1h or 0, write)
        return cls(
            input_tokens or 0,
            output_tokens or 0,
            cache_read or 0,
            write - one_hour,
            one_hour,
            reasoning or 0,
            gpu_seconds,
            1,
            *(count or 0 for count in tools),
        )

    def tool_counts(self) -> tuple[int, int, int, int, int]:
        """The tool counters in :data:`TOOLS` order."""
        return self[8:]

    def uses_tools(self) -> bool:
        """Whether any tool counter is set (a negative one too: pricing then says it is impossible)."""
        return bool(
            self.web_search_requests
            or self.web_fetch_requests
            or self.file_search_calls
            or self.code_interpreter_sessions
            or self.grounded_prompts
        )

    def exclusive(self) -> tuple[int, int, int, int, int, int]:
        """(uncached input, cache read, cache write 5m, cache write 1h, visible output, reasoning)."""
        cr, cw, cw1, rs = (
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.cache_write_1h_tokens,
            self.reasoning_tokens,
        )
        uncached = self.input_tokens - cr - cw - cw1
        visible = self.output_tokens - rs
        if uncached < 0 or visible < 0 or min(cr, cw, cw1, rs, self.requests) < 0:
            raise ImpossibleUsage(_impossible_message(self))
        return uncached, cr, cw, cw1, visible, rs

    def checked_tool_counts(self) -> tuple[int, int, int, int, int]:
        """:meth:`tool_counts`, raising :class:`ImpossibleUsage` for a negative or non-integer count."""
        counts = self.tool_counts()
        for tool, count in zip(TOOLS, counts):
            if type(count) is not int or count < 0:
                raise ImpossibleUsage(f"{tool.counter} must be a whole number, not below zero: {count!r}")
        return counts


def _impossible_message(u: Usage) -> str:
    counts = (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens, u.cache_write_1h_tokens)
    if min(*counts, u.reasoning_tokens) < 0:
        return "token counts cannot be negative"
    if u.requests < 0:
        return "requests cannot be negative"
    cached = u.cache_read_tokens + u.cache_write_tokens + u.cache_write_1h_tokens
    if cached > u.input_tokens:
        return f"cache tokens ({cached}) cannot exceed input_tokens ({u.input_tokens}), which include them"
    return (
        f"reasoning tokens ({u.reasoning_tokens}) cannot exceed output_tokens ({u.output_tokens}), which include them"
    )


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens for each exclusive bucket, fallbacks already applied."""

    input: Decimal
    cache_read: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    output: Decimal
    reasoning: Decimal
    _pico: Pico | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, raw: dict[str, object], parent: Rates | None = None) -> Rates:
        """Apply the fallback chain: cache -> input, 1h write -> 5m write, reasoning -> output.

        Inside a long-context tier (``parent`` is the window's base rates) a missing bucket follows the chain within
        the tier when the tier sets the rate it falls back to, and keeps the base rate otherwise.
        """

        def rate(key: str, fallback: Decimal) -> Decimal:
            value = raw.get(key)
            return fallback if value is None else Decimal(str(value)) if not isinstance(value, Decimal) else value

        def chain(key: str, own: Decimal, base: Decimal | None, *parents: str) -> Decimal:
            in_tier = base is not None and not any(p in raw for p in parents)
            return rate(key, base if in_tier and base is not None else own)

        base = parent
        base_in = rate("input_mtok", base.input if base else _ZERO)
        base_out = rate("output_mtok", base.output if base else _ZERO)
        cw5 = chain("cache_write_5m_mtok", base_in, base.cache_write_5m if base else None, "input_mtok")
        values = (
            base_in,
            chain("cache_read_mtok", base_in, base.cache_read if base else None, "input_mtok"),
            cw5,
            chain(
                "cache_write_1h_mtok", cw5, base.cache_write_1h if base else None, "input_mtok", "cache_write_5m_mtok"
            ),
            base_out,
            chain("reasoning_mtok", base_out, base.reasoning if base else None, "output_mtok"),
        )
        return cls(*values, _pico=_to_pico(values))

    def as_tuple(self) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
        """The six rates in bucket order (``BUCKETS[:6]``)."""
        return (
            self.input,
            self.cache_read,
            self.cache_write_5m,
            self.cache_write_1h,
            self.output,
            self.reasoning,
        )

    def by_key(self) -> dict[str, Decimal]:
        """The rates under their catalog keys (``input_mtok``, ...), in bucket order."""
        return {f"{bucket}_mtok": rate for bucket, rate in zip(BUCKETS, self.as_tuple())}


def _to_pico(values: tuple[Decimal, ...]) -> Pico | None:
    out = []
    for v in values:
        scaled = v.scaleb(6, EXACT)  # USD/Mtok -> pico-USD per token
        if scaled != scaled.to_integral_value():
            return None
        out.append(int(scaled))
    a, b, c, d, e, f = out
    return a, b, c, d, e, f


@dataclass(frozen=True, slots=True)
class RateTable:
    """Rates of their own for a service tier or for batch requests (a table in a window, not a multiplier).

    Built like a long-context tier: a bucket the table leaves out follows the fallback chain inside the table when
    the table sets the rate it falls back to, and keeps the window's standard rate otherwise. ``tiers`` are the
    table's own long-context cliffs; ``None`` when it has none (docs/catalog.md says what applies then).
    """

    rates: Rates
    tiers: tuple[tuple[int, Rates], ...] | None = None
    source: str | None = None
    checked: dt.date | None = None

    @classmethod
    def from_table(cls, raw: dict[str, Any], standard: Rates) -> RateTable:
        """A table from its catalog form, on top of the window's ``standard`` rates."""
        rates = Rates.build(raw, parent=standard)
        tiers = raw.get("tiers")
        built = None
        if tiers is not None:
            built = tuple((int(t["above_input_tokens"]), Rates.build(t, parent=rates)) for t in tiers)
        return cls(rates, built, raw.get("source"), raw.get("checked"))


#: A service tier or batch price: a multiplier of the standard rates, or rates of its own.
Modifier = Decimal | RateTable


def modifier(value: object, standard: Rates) -> Modifier:
    """A catalog value for a service tier or batch: a number is a multiplier, a table is rates."""
    if isinstance(value, dict):
        return RateTable.from_table(value, standard)
    return to_decimal(value)


@dataclass(frozen=True, slots=True)
class RateWindow:
    """Rates in force from ``effective_from`` (inclusive) until ``effective_until`` (exclusive), UTC days.

    Besides the standard token rates: long-context ``tiers``, per-request and GPU-hour prices, ``tool_fees`` (USD,
    under the keys of :data:`TOOL_KEYS`), and the prices of service tiers and batch requests published with these
    rates (``service_tiers`` by lower-case tier name, ``batch``), each a multiplier or a :class:`RateTable`.
    """

    effective_from: dt.date | None
    effective_until: dt.date | None
    rates: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()
    request_fee: Decimal = _ZERO
    gpu_hour: Decimal | None = None
    source: str | None = None
    checked: dt.date | None = None
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    tool_fees: dict[str, Decimal] = field(default_factory=dict)
    service_tiers: dict[str, Modifier] = field(default_factory=dict)
    batch: Modifier | None = None

    @classmethod
    def from_table(cls, raw: dict[str, Any]) -> RateWindow:
        """A window from its catalog table (``[[providers.models.prices]]``), fallbacks applied."""
        rates = Rates.build(raw)
        tiers = tuple((int(t["above_input_tokens"]), Rates.build(t, parent=rates)) for t in raw.get("tiers", []))
        gpu = raw.get("gpu_hour")
        batch = raw.get("batch")
        return cls(
            effective_from=raw.get("effective_from"),
            effective_until=raw.get("effective_until"),
            rates=rates,
            tiers=tiers,
            request_fee=to_decimal(raw.get("request_fee", 0)),
            gpu_hour=None if gpu is None else to_decimal(gpu),
            source=raw.get("source"),
            checked=raw.get("checked"),
            raw=raw,
            tool_fees={k: to_decimal(raw[k]) for k in TOOL_KEYS if k in raw},
            service_tiers={str(k).lower(): modifier(v, rates) for k, v in raw.get("service_tiers", {}).items()},
            batch=None if batch is None else modifier(batch, rates),
        )

    def contains(self, day: dt.date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until

    def rates_for(self, input_tokens: int) -> Rates:
        """Long-context tiers are cliffs: the highest threshold below the total input applies to every bucket."""
        return rates_for(self.rates, self.tiers, input_tokens)


def rates_for(base: Rates, tiers: tuple[tuple[int, Rates], ...], input_tokens: int) -> Rates:
    """The rates of the highest long-context threshold ``input_tokens`` passes (tiers are cliffs); ``base`` below."""
    chosen = base
    for threshold, rates in tiers:
        if input_tokens > threshold:
            chosen = rates
    return chosen


@dataclass(frozen=True, slots=True)
class ToolWindow:
    """A provider's tool fees (USD, keys of :data:`TOOL_KEYS`) in force over a span of UTC days, like a rate window.

    A model's rate window may state a fee too: the model's fee wins over the provider's for that key.
    """

    effective_from: dt.date | None
    effective_until: dt.date | None
    fees: dict[str, Decimal]
    source: str | None = None
    checked: dt.date | None = None

    @classmethod
    def from_table(cls, raw: dict[str, Any]) -> ToolWindow:
        """A window from its catalog table (``[[providers.tools]]``)."""
        return cls(
            raw.get("effective_from"),
            raw.get("effective_until"),
            {k: to_decimal(raw[k]) for k in TOOL_KEYS if k in raw},
            raw.get("source"),
            raw.get("checked"),
        )

    def contains(self, day: dt.date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until


@dataclass(slots=True)
class Model:
    """A model of one provider: its names, how it is billed, and its rate windows (oldest first).

    The windows are built from their catalog tables when first asked for: a process prices a handful of the
    hundreds of models a catalog holds, and building them all would cost a quarter of the catalog's load time.
    """

    provider: str
    id: str
    name: str | None
    aliases: tuple[str, ...]
    match_prefix: tuple[str, ...]
    context_window: int | None
    billing: Billing
    batch: Decimal | None
    tables: tuple[dict[str, Any], ...]  # the windows' catalog tables
    refs: tuple[str, ...] = ()
    timeless: bool = False  # one window open on both ends: the date does not matter
    service_tiers: dict[str, Decimal] = field(default_factory=dict)  # multipliers by lower-case tier name
    _windows: tuple[RateWindow, ...] | None = None

    @property
    def windows(self) -> tuple[RateWindow, ...]:
        """The rate windows, fallbacks applied."""
        windows = self._windows
        if windows is None:
            windows = self._windows = tuple(RateWindow.from_table(t) for t in self.tables)
        return windows

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.id}"

    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    def window_at(self, day: dt.date | None) -> tuple[int, RateWindow] | None:
        """The window in force on ``day``; ``None`` asks for the latest (a single open window needs no date)."""
        if day is None:
            return (len(self.windows) - 1, self.windows[-1]) if self.windows else None
        for i in range(len(self.windows) - 1, -1, -1):
            if self.windows[i].contains(day):
                return i, self.windows[i]
        return None


@dataclass(slots=True)
class Provider:
    id: str
    name: str
    hosts: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    billing: Billing = "tokens"
    batch: Decimal | None = None
    service_tiers: dict[str, Decimal] = field(default_factory=dict)  # multipliers by lower-case tier name
    regions: dict[str, Decimal] = field(default_factory=dict)
    tools: tuple[ToolWindow, ...] = ()  # dated tool fees for every model of the provider

    def tools_at(self, day: dt.date | None) -> ToolWindow | None:
        """The tool window in force on ``day`` (``None``: the last one)."""
        if day is None:
            return self.tools[-1] if self.tools else None
        for window in reversed(self.tools):
            if window.contains(day):
                return window
        return None


class Price:
    """The result of pricing one call.

    ``cost_usd`` is exact (``Decimal``) or ``None`` when it cannot be known (unknown model, dynamic price, no usage).
    ``breakdown`` splits it per bucket: token buckets, request fee and GPU time before multipliers, then tool fees
    (never multiplied); ``multiplier`` is batch × service tier × region, where they are multipliers. So
    ``cost_usd == multiplier × (token, request and GPU lines) + tool lines``.

    ``service_tier`` is the tier whose price was applied (``None``: standard rates) and ``batch`` whether a batch
    price was. ``notes`` says, one line each, where the price is not the one asked for: a service tier or batch
    price the catalog does not publish (standard rates were used), tool uses with no published fee (not counted).
    """

    __slots__ = ("_buckets", "_lazy", "_meta", "cost_usd", "model", "multiplier", "price_ref", "provider", "status")

    def __init__(
        self,
        cost_usd: Decimal | None,
        status: CostStatus,
        price_ref: str | None,
        model: str | None,
        provider: str | None,
        multiplier: Decimal = Decimal(1),
        buckets: tuple[Decimal | int | None, ...] = (),
        lazy: tuple[Usage, Any] | None = None,
        meta: tuple[str | None, bool, tuple[str, ...]] | None = None,
    ) -> None:
        self.cost_usd = cost_usd
        self.status: CostStatus = status
        self.price_ref = price_ref
        self.model = model
        self.provider = provider
        self.multiplier = multiplier
        self._buckets = buckets
        # (usage, rate plan): the breakdown of a fast-path price, computed only when asked for; the plan also
        # knows the tier, batch and notes, unless ``meta`` (service tier, batch, notes) says otherwise.
        self._lazy = lazy
        self._meta = meta

    @property
    def service_tier(self) -> str | None:
        """The service tier whose price was applied; ``None`` for the standard rates."""
        if self._meta is not None:
            return self._meta[0]
        return None if self._lazy is None else self._lazy[1].service_tier

    @property
    def batch(self) -> bool:
        """Whether a batch price was applied."""
        if self._meta is not None:
            return self._meta[1]
        return False if self._lazy is None else self._lazy[1].batch

    @property
    def notes(self) -> tuple[str, ...]:
        """Where the price is not the one asked for, one line each (empty when it is)."""
        if self._meta is not None:
            return self._meta[2]
        return () if self._lazy is None else self._lazy[1].notes

    @property
    def breakdown(self) -> dict[str, Decimal]:
        """USD per bucket (token, request and GPU lines before multipliers; a tool line only for a tool used);
        empty when there is no cost."""
        buckets = self._buckets
        if self._lazy is not None:
            usage, plan = self._lazy
            pico = plan.base_pico
            inp = usage.input_tokens
            if inp > plan.tier_min:
                pico = plan.base_tier_rates(inp)
            tokens = tuple(p * n for p, n in zip(pico, usage.exclusive()))
            tools = tuple(None if not n else (f or 0) * n for f, n in zip(plan.tool_pico, usage.tool_counts()))
            buckets = (*tokens, plan.base_fee * usage.requests, 0, *tools)
        if not buckets:
            return {}
        out: dict[str, Decimal] = {}
        for key, value in zip(BUCKETS, buckets):
            if value is not None:  # None: a tool the call did not use
                out[key] = pico_to_usd(value) if isinstance(value, int) else value
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "provider": self.provider,
            "cost_usd": None if self.cost_usd is None else format_decimal(self.cost_usd),
            "cost_status": self.status,
            "price_ref": self.price_ref,
            "service_tier": self.service_tier,
            "batch": self.batch,
            "multiplier": format_decimal(self.multiplier),
            "breakdown": {k: format_decimal(v) for k, v in self.breakdown.items()},
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        return f"Price(cost_usd={self.cost_usd!r}, status={self.status!r}, price_ref={self.price_ref!r})"


def to_decimal(value: object) -> Decimal:
    """A catalog number as ``Decimal`` (TOML floats are read as ``Decimal`` already; ints and text convert exactly)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def pico_to_usd(pico: int) -> Decimal:
    """Whole pico-dollars to dollars, exactly."""
    return exact_mul(Decimal(pico), _PICO)


def tokens_cost(tokens: int, rate_mtok: Decimal) -> Decimal:
    """``tokens × rate / 1e6`` exactly, whatever the caller's decimal context."""
    return exact_mul(Decimal(tokens), rate_mtok).scaleb(-6, EXACT) if tokens else _ZERO


PICO = _PICO
