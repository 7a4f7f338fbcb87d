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
from typing import Any, Literal

from pricing._format import format_decimal

__all__ = [
    "BUCKETS",
    "RATE_KEYS",
    "UNIT_KEYS",
    "Billing",
    "CostStatus",
    "ImpossibleUsage",
    "Model",
    "Pico",
    "Price",
    "Provider",
    "RateWindow",
    "Rates",
    "Usage",
]

#: Whole pico-dollars per token for the six exclusive token buckets.
Pico = tuple[int, int, int, int, int, int]
Billing = Literal["tokens", "free", "dynamic", "gpu_time"]
CostStatus = Literal["priced", "free", "provider_reported", "unknown_model", "no_usage", "dynamic"]

#: Exclusive buckets a cost is split into, in display order.
BUCKETS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "request", "gpu")
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


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, inclusive as in the wire format.

    ``input_tokens`` includes cache reads and both kinds of cache writes; ``output_tokens`` includes reasoning.
    ``cache_write_tokens`` are writes with the default (5 minute) lifetime, ``cache_write_1h_tokens`` the one-hour
    ones; the two are disjoint.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    gpu_seconds: float | None = None
    requests: int = 1

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
class RateWindow:
    """Rates in force from ``effective_from`` (inclusive) until ``effective_until`` (exclusive), UTC days."""

    effective_from: dt.date | None
    effective_until: dt.date | None
    rates: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()
    request_fee: Decimal = _ZERO
    gpu_hour: Decimal | None = None
    source: str | None = None
    checked: dt.date | None = None
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_table(cls, raw: dict[str, Any]) -> RateWindow:
        """A window from its catalog table (``[[providers.models.prices]]``), fallbacks applied."""
        rates = Rates.build(raw)
        tiers = tuple((int(t["above_input_tokens"]), Rates.build(t, parent=rates)) for t in raw.get("tiers", []))
        gpu = raw.get("gpu_hour")
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
        )

    def contains(self, day: dt.date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until

    def rates_for(self, input_tokens: int) -> Rates:
        """Long-context tiers are cliffs: the highest threshold below the total input applies to every bucket."""
        chosen = self.rates
        for threshold, rates in self.tiers:
            if input_tokens > threshold:
                chosen = rates
        return chosen


@dataclass(slots=True)
class Model:
    provider: str
    id: str
    name: str | None
    aliases: tuple[str, ...]
    match_prefix: tuple[str, ...]
    context_window: int | None
    billing: Billing
    batch: Decimal | None
    windows: tuple[RateWindow, ...]
    refs: tuple[str, ...] = ()
    timeless: bool = False  # one window open on both ends: the date does not matter

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
    service_tiers: dict[str, Decimal] = field(default_factory=dict)
    regions: dict[str, Decimal] = field(default_factory=dict)


class Price:
    """The result of pricing one call.

    ``cost_usd`` is exact (``Decimal``) or ``None`` when it cannot be known (unknown model, dynamic price, no usage).
    ``breakdown`` splits it per exclusive bucket, before multipliers; ``multiplier`` is batch × tier × region.
    """

    __slots__ = ("_buckets", "_lazy", "cost_usd", "model", "multiplier", "price_ref", "provider", "status")

    def __init__(
        self,
        cost_usd: Decimal | None,
        status: CostStatus,
        price_ref: str | None,
        model: str | None,
        provider: str | None,
        multiplier: Decimal = Decimal(1),
        buckets: tuple[Decimal | int, ...] = (),
        lazy: tuple[Usage, tuple[int, ...], int] | None = None,
    ) -> None:
        self.cost_usd = cost_usd
        self.status: CostStatus = status
        self.price_ref = price_ref
        self.model = model
        self.provider = provider
        self.multiplier = multiplier
        self._buckets = buckets
        # (usage, pico rates, pico request fee): the breakdown of a fast-path price, computed only when asked for.
        self._lazy = lazy

    @property
    def breakdown(self) -> dict[str, Decimal]:
        """USD per bucket (before multipliers); empty when there is no cost."""
        buckets = self._buckets
        if self._lazy is not None:
            usage, pico, fee = self._lazy
            buckets = (*(p * n for p, n in zip(pico, usage.exclusive())), fee * usage.requests, 0)
        if not buckets:
            return {}
        return {k: pico_to_usd(v) if isinstance(v, int) else v for k, v in zip(BUCKETS, buckets)}

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "provider": self.provider,
            "cost_usd": None if self.cost_usd is None else format_decimal(self.cost_usd),
            "cost_status": self.status,
            "price_ref": self.price_ref,
            "multiplier": format_decimal(self.multiplier),
            "breakdown": {k: format_decimal(v) for k, v in self.breakdown.items()},
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
