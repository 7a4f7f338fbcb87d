"""Which rates a call is priced with when it names a service tier or asks for the batch price.

A service tier (``flex``, ``priority``, ...) or batch is priced, in this order, by:

1. the rate window in force: ``service_tiers.<name>`` / ``batch``, either rates of their own (a table) or a
   multiplier of the window's standard rates (a number) — dated with the window, as providers publish them;
2. the model: ``service_tiers = { name = multiplier }`` / ``batch = multiplier``;
3. the provider: the same, for every model it sells.

Rates of their own replace the standard rates; multipliers multiply whatever rates apply, so batch on top of a
tier's rates multiplies them. Where the catalog publishes nothing for the tier (or for batch) the standard rates
apply and the price says so in a note: a wrong price is never silent. Names that mean the standard rates
(``standard``, ``default``, ``auto``) are the standard rates, with no note; ``batch`` as a tier name (Anthropic
reports batch requests that way) asks for the batch price.

A table without long-context tiers of its own, in a window that has some, prices inputs below the first threshold;
above it the window's standard long-context rates apply, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricing._model import STANDARD_TIERS, Model, Modifier, Provider, Rates, RateTable, RateWindow, exact_mul

__all__ = ["Variant", "normal_tier", "select"]

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Variant:
    """The rates to price with: base ``rates`` and their long-context ``tiers``, times ``multiplier``.

    ``service_tier`` and ``batch`` say which were applied; ``notes`` what was asked for and not published;
    ``long_note`` applies when the input passes the first long-context threshold; ``suffix`` is added to the
    ``price_ref`` (``#priority``, ``#batch``).
    """

    rates: Rates
    tiers: tuple[tuple[int, Rates], ...]
    multiplier: Decimal
    service_tier: str | None
    batch: bool
    notes: tuple[str, ...]
    long_note: str | None
    suffix: str


def normal_tier(tier: str | None) -> tuple[str | None, bool]:
    """``(tier name or None for the standard rates, whether it asks for batch)``, lower-case, trimmed."""
    if tier is None:
        return None, False
    name = tier.strip().lower()
    if name == "batch":
        return None, True
    return (None if not name or name in STANDARD_TIERS else name), False


def select(provider: Provider, model: Model, window: RateWindow, tier: str | None, batch: bool) -> Variant:
    """The rates for ``tier`` (as :func:`normal_tier` reads it) and ``batch`` on ``window`` of ``model``."""
    name, tier_batch = normal_tier(tier)
    batch = batch or tier_batch
    rates, tiers = window.rates, window.tiers
    mult = _ONE
    notes: list[str] = []
    long_note: str | None = None
    applied: str | None = None
    own_rates = False
    suffix = ""
    if name is not None:
        found = window.service_tiers.get(name)
        if found is None:
            found = model.service_tiers.get(name)
        if found is None:
            found = provider.service_tiers.get(name)
        if found is None:
            notes.append(f"service tier {name!r} has no published price for {model.key}: priced at standard rates")
        else:
            applied, suffix = name, f"#{name}"
            rates, tiers, mult, long_note, own_rates = _apply(found, rates, tiers, mult, name, window, model)
    applied_batch = False
    if batch:
        found_batch: Modifier | None = window.batch
        if found_batch is None:
            found_batch = model.batch if model.batch is not None else provider.batch
        if found_batch is None:
            notes.append(f"no batch price published for {model.key}: priced at standard rates")
        elif isinstance(found_batch, RateTable) and own_rates:
            notes.append(
                f"batch and service tier {applied!r} have no combined price for {model.key}: priced at batch rates"
            )
            applied, suffix = None, ""
            rates, tiers, mult, long_note, _ = _apply(
                found_batch, window.rates, window.tiers, _ONE, "batch", window, model
            )
            applied_batch = True
        else:
            rates, tiers, mult, note, _ = _apply(found_batch, rates, tiers, mult, "batch", window, model)
            long_note = long_note or note
            applied_batch = True
        if applied_batch:
            suffix += "#batch"
    return Variant(rates, tiers, mult, applied, applied_batch, tuple(notes), long_note, suffix)


def _apply(
    found: Modifier,
    rates: Rates,
    tiers: tuple[tuple[int, Rates], ...],
    mult: Decimal,
    name: str,
    window: RateWindow,
    model: Model,
) -> tuple[Rates, tuple[tuple[int, Rates], ...], Decimal, str | None, bool]:
    """Rates, long-context tiers, multiplier, long-context note and whether the rates are the table's own."""
    if not isinstance(found, RateTable):
        return rates, tiers, exact_mul(mult, found), None, False
    if found.tiers is not None or not window.tiers:
        return found.rates, found.tiers or (), mult, None, True
    threshold = window.tiers[0][0]
    note = (
        f"no long-context price published for the {name} rates of {model.key}: standard long-context rates "
        f"above {threshold:,} input tokens"
    )
    return found.rates, window.tiers, mult, note, True
