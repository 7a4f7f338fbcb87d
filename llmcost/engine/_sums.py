"""The totals every group keeps, defined once: the live engine's cells, the monitor's rows and the report's rows.

Money is summed as whole pico-dollars (``round(cost_usd * 1e12)`` per call), so any order of additions and merges
gives the same exact total; ``cost_usd`` turns it into exact dollars.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, Protocol, TypeVar

__all__ = ["Sums", "pico_usd", "ranked"]


def pico_usd(pico: int) -> Decimal:
    """Integer pico-dollars as exact dollars."""
    return Decimal(pico).scaleb(-12) if pico else Decimal(0)


@dataclass(slots=True, kw_only=True)
class Sums:
    """Calls, errors, retries, tokens by bucket, cost and unpriced calls of a group.

    ``pico`` is the cost in pico-dollars of the calls that have one; ``unpriced_calls`` counts the others (an unknown
    model, usage the catalog cannot price)."""

    calls: int = 0
    errors: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    pico: int = 0
    unpriced_calls: int = 0

    def add(self, r: Any, pico: int | None) -> None:
        """Count one call (a record, or anything with its fields) costing ``pico`` (``None``: unpriced)."""
        self.calls += 1
        if r.status == "error":
            self.errors += 1
        if r.attempt:
            self.retries += 1
        self.input_tokens += r.input_tokens or 0
        self.output_tokens += r.output_tokens or 0
        self.cache_read_tokens += r.cache_read_input_tokens or 0
        self.cache_write_tokens += r.cache_creation_input_tokens or 0
        self.reasoning_tokens += r.reasoning_output_tokens or 0
        if pico is None:
            self.unpriced_calls += 1
        else:
            self.pico += pico

    def merge(self, other: Sums) -> None:
        """Add the totals of the same group counted elsewhere (another cell, another part of the history)."""
        for name in _NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def counts(self) -> dict[str, int]:
        """The counters of calls and tokens by name, ``calls`` to ``reasoning_tokens``, in the order the JSON of a
        group lists them."""
        return {name: getattr(self, name) for name in _COUNTS}

    @property
    def cost_usd(self) -> Decimal:
        """Exact dollars of the priced calls."""
        return pico_usd(self.pico)

    @property
    def cost_per_1k_tokens(self) -> Decimal | None:
        """Dollars per thousand tokens (input and output), to the nano-dollar; ``None`` without tokens."""
        tokens = self.input_tokens + self.output_tokens
        if not tokens:
            return None
        try:
            return (self.cost_usd * 1000 / tokens).quantize(_NANO)
        except InvalidOperation:  # more than the default 28 digits (a total over ten billion dollars)
            with localcontext() as wide:
                wide.prec = 60
                return (self.cost_usd * 1000 / tokens).quantize(_NANO)


_NAMES = tuple(f.name for f in fields(Sums))
_COUNTS = _NAMES[: _NAMES.index("pico")]
_NANO = Decimal("1e-9")


class _Ranked(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def pico(self) -> int: ...
    @property
    def calls(self) -> int: ...


_R = TypeVar("_R", bound=_Ranked)


def ranked(rows: Iterable[_R]) -> list[_R]:
    """Highest cost first, then most calls, then by key: the order of every table of groups."""
    return sorted(rows, key=lambda row: (-row.pico, -row.calls, row.key))
