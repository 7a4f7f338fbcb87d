"""``pricing audit``: the active catalog cross-checked against a source, price by price.

Every name a source prices under one of the catalog's providers is looked up as a call would be (aliases, dated
snapshots, prefixes), and each price the source states is compared with the price the catalog would charge for that
name on the audit's date: the standard rates, the long-context tiers, each service tier and batch (as rates: a
multiplier is applied to the standard rates), and the tool fees. A price the source leaves out is not compared (these
sources are partial); a price the catalog does not publish where the source does is a disagreement.

OpenRouter resells other providers' models at their list prices, so its ``maker/model`` names are checked against the
maker's entry in the catalog.

A disagreement is measured by the ratio of the source's price to the catalog's and by their difference; it counts
against ``--threshold`` when the ratio is further from 1 than the threshold (a price the catalog lacks always
counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pricing._catalog import Catalog
from pricing._format import format_decimal
from pricing._model import RATE_KEYS, TOOLS, Model, Rates, RateTable
from pricing._sources.openrouter import PREFIX as OPENROUTER_PREFIX
from pricing._tiers import select

__all__ = ["AuditResult", "Disagreement", "audit_document"]

_ONE = Decimal(1)


@dataclass(frozen=True)
class Disagreement:
    """One price on which the catalog and a source differ. ``ours`` is ``None`` where the catalog has no price."""

    model: str  # provider/id in the catalog
    name: str  # the name the source prices
    key: str  # input_mtok, priority.output_mtok, tier>200000.input_mtok, web_search_per_1k, ...
    ours: Decimal | None
    theirs: Decimal

    @property
    def ratio(self) -> Decimal | None:
        """Theirs over ours; ``None`` when ours is missing or zero."""
        return None if not self.ours else self.theirs / self.ours

    @property
    def difference(self) -> Decimal | None:
        """Theirs minus ours, in the key's unit; ``None`` when ours is missing."""
        return None if self.ours is None else self.theirs - self.ours

    def exceeds(self, threshold: Decimal) -> bool:
        ratio = self.ratio
        return ratio is None or abs(ratio - _ONE) > threshold

    def to_dict(self, threshold: Decimal) -> dict[str, Any]:
        ratio, diff = self.ratio, self.difference
        return {
            "model": self.model,
            "name": self.name,
            "key": self.key,
            "ours": None if self.ours is None else format_decimal(self.ours),
            "theirs": format_decimal(self.theirs),
            "ratio": None if ratio is None else format_decimal(ratio.quantize(Decimal("0.0001"))),
            "difference": None if diff is None else format_decimal(diff),
            "exceeds": self.exceeds(threshold),
        }

    def describe(self, source: str) -> str:
        who = (
            self.model if self.name.lower() == self.model.partition("/")[2].lower() else f"{self.model} as {self.name}"
        )
        ours = "—" if self.ours is None else format_decimal(self.ours)
        ratio, diff = self.ratio, self.difference
        by = "" if ratio is None else f"  ×{format_decimal(ratio.quantize(Decimal('0.0001')))}"
        if diff is not None:
            by += f" ({'+' if diff >= 0 else ''}{format_decimal(diff)})"
        return f"{who}  {self.key}  ours {ours}  {source} {format_decimal(self.theirs)}{by}"


@dataclass
class AuditResult:
    """What one source says against the catalog."""

    source: str
    origin: str
    compared: int = 0  # source names priced by a catalog model
    unknown: int = 0  # source names under a catalog provider that no catalog model prices
    disagreements: list[Disagreement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def exceeding(self, threshold: Decimal) -> list[Disagreement]:
        return [d for d in self.disagreements if d.exceeds(threshold)]

    def to_dict(self, threshold: Decimal) -> dict[str, Any]:
        return {
            "source": self.source,
            "origin": self.origin,
            "compared": self.compared,
            "unknown": self.unknown,
            "disagreements": [d.to_dict(threshold) for d in self.disagreements],
            "exceeding": len(self.exceeding(threshold)),
            "warnings": self.warnings,
        }


def audit_document(catalog: Catalog, source: str, origin: str, doc: dict[str, Any], at: dt.date) -> AuditResult:
    """Compare a converted source document (see ``pricing._sources``) with ``catalog`` on ``at``."""
    result = AuditResult(source, origin)
    for prov in doc.get("providers", []):
        for entry in prov.get("models", []):
            found = _resolve(catalog, prov["id"], str(entry["id"]))
            if found is None:
                if prov["id"] in catalog.providers:
                    result.unknown += 1
                continue
            name, model = found
            if model.billing != "tokens":
                continue
            theirs = _window_on(entry.get("prices", []), at)
            if theirs is None:
                continue
            result.compared += 1
            result.disagreements += _compare(catalog, model, name, prov, entry, theirs, at)
    result.disagreements.sort(key=lambda d: (d.model, d.name, d.key))
    return result


def _resolve(catalog: Catalog, pid: str, mid: str) -> tuple[str, Model] | None:
    """The catalog model that prices the source's name, and that name as a call would send it."""
    if pid == "openrouter":
        if not mid.lower().startswith(OPENROUTER_PREFIX):
            return None
        name = mid[len(OPENROUTER_PREFIX) :]
        maker = catalog.provider_id(name.partition("/")[0]) if "/" in name else None
        model = catalog.resolve(name) if maker is not None and maker != "openrouter" else None
        return None if model is None else (name, model)
    if pid not in catalog.providers:
        return None  # another provider's price for a model the catalog has from its maker: not comparable
    model = catalog.resolve(mid, pid)
    return None if model is None or model.provider != pid else (mid, model)


def _window_on(windows: list[dict[str, Any]], day: dt.date) -> dict[str, Any] | None:
    for window in reversed(windows):
        start, end = window.get("effective_from"), window.get("effective_until")
        if (start is None or start <= day) and (end is None or day < end):
            found: dict[str, Any] = window
            return found
    return None


def _compare(
    catalog: Catalog,
    model: Model,
    name: str,
    src_prov: dict[str, Any],
    entry: dict[str, Any],
    theirs: dict[str, Any],
    at: dt.date,
) -> list[Disagreement]:
    window = catalog.window_for(model, at)
    found: list[Disagreement] = []

    def check(key: str, ours: Decimal | None, value: Any) -> None:
        value = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if ours is None or ours != value:
            found.append(Disagreement(model.key, name, key, ours, value))

    if window is None:
        for key in RATE_KEYS:
            if key in theirs:
                check(key, None, theirs[key])
        return found
    for key, value in _stated(theirs).items():
        check(key, window.rates.by_key()[key], value)
    for threshold, stated in _tiers_of(theirs):
        ours_tier = _tier_near(window.tiers, threshold)
        for key, value in stated.items():
            check(f"tier>{threshold}.{key}", None if ours_tier is None else ours_tier.by_key()[key], value)
    standard = Rates.build(theirs)
    prov = catalog.providers[model.provider]
    for tier, stated_rates in _modifiers(src_prov, entry, theirs, standard).items():
        variant = select(prov, model, window, None if tier == "batch" else tier, tier == "batch")
        priced = not variant.notes
        for key, value in stated_rates.items():
            ours = variant.rates.by_key()[key] * variant.multiplier if priced else None
            check(f"{tier}.{key}", ours, value)
    fees = catalog.tool_fees(model, at)
    for tool in TOOLS:
        if tool.key in theirs:
            fee = fees.get(tool.counter)
            check(tool.key, None if fee is None else fee * tool.per, theirs[tool.key])
    return found


def _stated(window: dict[str, Any]) -> dict[str, Decimal]:
    return {k: window[k] for k in RATE_KEYS if k in window}


def _tiers_of(window: dict[str, Any]) -> list[tuple[int, dict[str, Decimal]]]:
    return [(int(t["above_input_tokens"]), _stated(t)) for t in window.get("tiers", [])]


def _tier_near(tiers: tuple[tuple[int, Rates], ...], threshold: int) -> Rates | None:
    """Our long-context tier at ``threshold``; an inclusive bound written one token lower is the same tier
    (xAI's "200k tokens or more" is ``above 199999`` in one source and ``above 200000`` in another)."""
    for ours, rates in tiers:
        if abs(ours - threshold) <= 1:
            return rates
    return None


def _modifiers(
    src_prov: dict[str, Any], entry: dict[str, Any], window: dict[str, Any], standard: Rates
) -> dict[str, dict[str, Decimal]]:
    """The source's service-tier and batch prices for this entry, as the rates they make: its own tables, else the
    entry's or provider's multiplier times the standard rates it states."""
    found: dict[str, dict[str, Decimal]] = {}
    multipliers: dict[str, Any] = {**src_prov.get("service_tiers", {}), **entry.get("service_tiers", {})}
    batch = entry.get("batch", src_prov.get("batch"))
    if batch is not None:
        multipliers["batch"] = batch
    tables: dict[str, Any] = dict(window.get("service_tiers", {}))
    if "batch" in window:
        tables["batch"] = window["batch"]
    for name, value in {**multipliers, **tables}.items():
        if isinstance(value, dict):
            built = RateTable.from_table(value, standard)
            found[str(name).lower()] = {k: built.rates.by_key()[k] for k in RATE_KEYS if k in value}
        else:
            ratio = Decimal(str(value))
            stated = _stated(window)
            found[str(name).lower()] = {k: v * ratio for k, v in stated.items()}
    return found
