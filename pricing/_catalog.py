"""The catalog: the merged document's providers and models, pricing, and the load cache.

Resolution (``_resolve``) is cached per (name, provider) together with its rate plans (``_plan``), so a warm lookup
is one dict access and pricing is integer arithmetic in pico-dollars with a single ``Decimal`` built at the end.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing import _load
from pricing._dates import parse_timestamp, utc_day
from pricing._model import EXACT, TOOLS, Model, Price, Provider, RateWindow, ToolWindow, Usage, exact_mul, to_decimal
from pricing._plan import ModelPlans, NamePlans, RatePlan, gpu_time_price, plan_at, subset_total, token_price, tool_fees
from pricing._resolve import NameIndex
from pricing._tiers import select

__all__ = ["Catalog", "ModelNotFound", "RatePlan", "load_catalog", "parse_timestamp"]

_ONE = Decimal(1)
_ZERO = Decimal(0)
_PICO = Decimal("1e-12")
EXACT_ADD = EXACT.add
_new = object.__new__


def _usd(pico: int) -> Decimal:
    return exact_mul(Decimal(pico), _PICO)


class ModelNotFound(LookupError):
    """No catalog entry matches the name."""


class Catalog:
    """A loaded, merged catalog. Build it with :func:`load_catalog` (cached) or ``Catalog(document)``."""

    def __init__(
        self,
        document: dict[str, Any],
        *,
        origin: str = "<document>",
        check_names: bool = True,
        validated: bool = False,
    ) -> None:
        """Build from a parsed document; ambiguous names raise :class:`CatalogError` unless ``check_names`` is off
        (``pricing validate`` turns it off to list every conflict with :meth:`name_conflicts`). ``validated`` says
        the document was checked already (:func:`load_catalog` checks each file as it reads it)."""
        errors = [] if validated else _load.validate_document(document, strict=False)
        if errors:
            raise _load.CatalogError(
                f"{origin}: {errors[0]}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
            )
        self.document = document
        self.origin = origin
        self.version: str = str(document.get("catalog_version", "unversioned"))
        self.providers: dict[str, Provider] = {}
        self.models: list[Model] = []
        self.names = NameIndex(self.providers)
        self._cache: dict[tuple[str, str | None], NamePlans] = {}
        self._plans: dict[str, ModelPlans] = {}
        self._bare: dict[str, NamePlans] = {}
        self._lock = threading.Lock()
        for raw in document.get("providers", []):
            self._add_provider(raw)
        self.names.finish()
        if check_names:
            problems = self.name_conflicts()
            if problems:
                raise _load.CatalogError(f"{origin}: ambiguous model names: {problems[0]}")

    # -- building -------------------------------------------------------------------------------------------------

    def _add_provider(self, raw: dict[str, Any]) -> None:
        prov = Provider(
            id=raw["id"],
            name=raw.get("name", raw["id"]),
            hosts=tuple(raw.get("hosts", ())),
            prefixes=tuple(p.lower() for p in raw.get("prefixes", ())),
            billing=raw.get("billing", "tokens"),
            batch=None if raw.get("batch") is None else to_decimal(raw["batch"]),
            service_tiers={k.lower(): to_decimal(v) for k, v in raw.get("service_tiers", {}).items()},
            regions={k.lower(): to_decimal(v) for k, v in raw.get("regions", {}).items()},
            tools=tuple(ToolWindow.from_table(w) for w in raw.get("tools", [])),
        )
        self.providers[prov.id] = prov
        self.names.add_provider(prov)
        for table in raw.get("models", []):
            model = self._model(prov, table)
            self.models.append(model)
            self.names.add_model(model)

    def _model(self, prov: Provider, table: dict[str, Any]) -> Model:
        tables = tuple(table.get("prices", []))
        model = Model(
            provider=prov.id,
            id=table["id"],
            name=table.get("name"),
            aliases=tuple(table.get("aliases", ())),
            match_prefix=tuple(p.lower() for p in table.get("match_prefix", ())),
            context_window=table.get("context_window"),
            billing=table.get("billing", prov.billing),
            batch=None if table.get("batch") is None else to_decimal(table["batch"]),
            tables=tables,
            service_tiers={str(k).lower(): to_decimal(v) for k, v in table.get("service_tiers", {}).items()},
        )
        model.timeless = len(tables) == 1 and not (tables[0].get("effective_from") or tables[0].get("effective_until"))
        model.refs = tuple(
            f"{self.version}:{model.key}@{t['effective_from'].isoformat() if t.get('effective_from') else 'origin'}"
            for t in tables
        )
        return model

    def name_conflicts(self) -> list[str]:
        """Names that would match two models: duplicate names or prefixes, or a name captured by another model."""
        return self.names.conflicts()

    # -- resolution -----------------------------------------------------------------------------------------------

    def provider_id(self, name: str) -> str | None:
        """The provider an id or declared prefix names (case-insensitive), or ``None``."""
        return self.names.provider_id(name)

    def model_names(self) -> list[str]:
        """Every name a model is declared under (ids, aliases, ``provider/id`` keys), lower-case, sorted."""
        return self.names.names()

    def provider_for_host(self, url_or_host: str | None) -> str | None:
        """The provider whose declared host appears in a base URL (``http://localhost:11434/v1`` -> ``ollama``)."""
        return self.names.provider_for_host(url_or_host)

    def resolve(self, name: str, provider: str | None = None) -> Model | None:
        """The model a name refers to, or ``None``. See docs/catalog.md for the rules."""
        return self._resolve(name, provider).model

    def region_multiplier(self, name: str, provider: str | None = None) -> Decimal:
        """The multiplier a region prefix of ``name`` applies (``us.`` profiles); 1 without one."""
        return self._resolve(name, provider).multiplier

    def _resolve(self, name: str, provider: str | None) -> NamePlans:
        key = (name, provider)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = self.names.resolve(name, provider)
        resolved = NamePlans(found.model, found.provider, found.billing, found.multiplier)
        if resolved.model is not None and resolved.model.tables:
            resolved.attach(self._plans_of(resolved.model), resolved.model.timeless)
        with self._lock:
            if len(self._cache) > 65_536:  # names come from user data: keep the cache bounded
                self._cache.clear()
                self._bare.clear()
            self._cache[key] = resolved
            if provider is None:
                self._bare[name] = resolved  # the common lookup, by name alone: no tuple to build and hash
        return resolved

    def _plans_of(self, model: Model) -> ModelPlans:
        plans = self._plans.get(model.key)
        if plans is None:
            plans = self._plans[model.key] = ModelPlans(model, self.providers[model.provider])
        return plans

    # -- pricing --------------------------------------------------------------------------------------------------

    def price(
        self,
        usage: Usage,
        model: str,
        provider: str | None = None,
        *,
        at: object = None,
        tier: str | None = None,
        batch: bool = False,
        provider_cost: Decimal | float | str | None = None,
        service_tier: str | None = None,
    ) -> Price:
        """Price one call. ``at`` selects the rate window (default: now). Raises :class:`ImpossibleUsage`.

        ``at`` is a datetime, a date, an ISO-8601 string or epoch seconds (UTC days decide the window). ``tier`` is
        the service tier the provider served the call with, as its response names it (``flex``, ``priority``,
        ``default``, ...; case does not matter; ``batch`` means ``batch=True``), ``batch`` whether it went through
        a batch API. A tier or batch price the catalog does not publish prices at standard rates, and
        ``Price.notes`` says so. ``service_tier`` is the former name of ``tier``.
        """
        if service_tier is not None and tier is None:
            tier = service_tier
        res = (self._bare.get(model) if provider is None else self._cache.get((model, provider))) or self._resolve(
            model, provider
        )
        if res.fast and provider_cost is None:
            # The hot path, inlined on purpose (a call costs ~10% here): a token-priced model, the window memoised
            # per UTC day, the service tier's plan memoised on the window's, integer pico-dollars, one exact Decimal
            # at the end.
            if at is None:
                plan = res.now or plan_at(res, None)
            elif (type(at) is float or type(at) is int) and at >= res.latest_since:
                plan = res.latest
            else:
                plan = plan_at(res, at)
            if tier is not None or batch:
                found = plan.by_tier.get(tier) if not batch else None
                plan = found if found is not None else plan.variant(tier, batch)
            pico = plan.pico
            if pico is not None:
                # One unpacking reads the whole usage (a named tuple): cheaper than an attribute load per count.
                inp, out, cr, cw, cw1, rs, _, requests, ws, wf, fs, ci, gp = usage
                meta = None
                if inp > plan.tier_min:
                    pico = plan.tier_rates(inp, pico)
                    if not plan.long_exact:
                        meta = (plan.service_tier, plan.batch, plan.long_notes)
                if inp < 0 or out < 0 or cw or rs or cw1:
                    total = subset_total(usage, pico)  # checks the subsets; raises ImpossibleUsage
                elif not cr:
                    total = pico[0] * inp + pico[4] * out
                elif 0 < cr <= inp:  # cache reads only: the most common mix after the plain one
                    total = pico[0] * (inp - cr) + pico[1] * cr + pico[4] * out
                else:
                    total = subset_total(usage, pico)
                if plan.fee:
                    total += plan.fee * requests
                tools = plan.tools_total(ws, wf, fs, ci, gp) if ws or wf or fs or ci or gp else 0
                if tools >= 0:  # -1: a tool without a fee, or an odd count: the exact path says which
                    if res.scaled:  # a region multiplier: on the token and request prices, not on the tool fees
                        cost = EXACT_ADD(exact_mul(exact_mul(total, _PICO), res.multiplier), _usd(tools))
                        mult = exact_mul(plan.mult, res.multiplier)
                    else:
                        cost = exact_mul(
                            total + tools, _PICO
                        )  # an int operand: exact, and 65 ns less than Decimal(int)
                        mult = plan.mult
                    # Built slot by slot: calling Price.__init__ costs ~75 ns more, a tenth of the whole call. The
                    # breakdown, tier, batch and notes come from the plan, only when asked for.
                    price = _new(Price)
                    price.cost_usd = cost
                    price.status = "priced"
                    price.price_ref = plan.ref
                    price.model = plan.model_id
                    price.provider = plan.provider
                    price.multiplier = mult
                    price._buckets = ()
                    price._lazy = (usage, plan)
                    price._meta = meta
                    return price
        return self._price_slow(usage, model, res, at, tier, batch, provider_cost)

    def rate_plan(
        self, model: str, provider: str | None, at: float, *, tier: str | None = None, batch: bool = False
    ) -> tuple[RatePlan | None, float, float]:
        """The integer rates :meth:`price` applies to ``model`` at epoch seconds ``at`` (with ``tier`` and
        ``batch`` as :meth:`price` reads them), and the epoch range ``[since, until)`` over which that answer holds
        (for callers that memoise it, per model, provider, tier and batch).

        The plan is ``None`` when :meth:`price` would not take its integer fast path, or would add a note: unknown
        names, non-token billing, a region multiplier, rates that need ``Decimal``, a tier or batch price the
        catalog does not publish. Pricing a usage with the plan (:meth:`RatePlan.pico_total`) gives the same
        pico-dollars as :meth:`price` without ``provider_cost``; where it cannot (a tool used with no published
        fee), ``pico_total`` returns -1 and :meth:`price` says why.
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
            plan, since, until = plan_at(res, at), float(day * 86400), float((day + 1) * 86400)
            if since < res.latest_since < until:
                until = res.latest_since
        if tier is not None or batch:
            plan = plan.variant(tier, batch)
        return (plan if plan.pico is not None and not plan.notes else None), since, until

    def _price_slow(
        self,
        usage: Usage,
        model: str,
        res: NamePlans,
        at: object,
        tier: str | None,
        batch: bool,
        provider_cost: Decimal | float | str | None,
    ) -> Price:
        """Every case the fast path leaves out: region multipliers, provider costs, free/dynamic/unknown, GPU time,
        rates beyond whole pico-dollars."""
        parts = usage.exclusive()
        usage.checked_tool_counts()
        if provider_cost is not None:
            ref = self._ref(res.model, at) if res.model else None
            mid = res.model.id if res.model else model
            return Price(to_decimal(provider_cost), "provider_reported", ref, mid, res.provider)
        if res.billing is None:
            return Price(None, "unknown_model", None, model, res.provider)
        if res.billing == "free":
            ref = self._ref(res.model, at) if res.model else f"{self.version}:{res.provider}/*"
            return Price(_ZERO, "free", ref, res.model.id if res.model else model, res.provider)
        if res.billing == "dynamic" or res.model is None:
            return Price(None, "dynamic", None, res.model.id if res.model else model, res.provider)
        m = res.model
        day = None if m.timeless else utc_day(at)
        found = m.window_at(day)
        if found is None:
            return Price(None, "unknown_model", None, m.id, m.provider)
        index, window = found
        prov = self.providers[m.provider]
        tools = prov.tools_at(utc_day(at) if prov.tools else None)
        variant = select(prov, m, window, tier, batch)
        if res.billing == "gpu_time":
            return gpu_time_price(usage, m, window, tools, variant, m.refs[index], res.multiplier)
        return token_price(usage, parts, m, window, tools, variant, m.refs[index], res.multiplier)

    def _ref(self, model: Model, at: object) -> str | None:
        found = model.window_at(None if model.timeless else utc_day(at))
        return model.refs[found[0]] if found else None

    def window_for(self, model: Model, at: object = None) -> RateWindow | None:
        """The rate window of ``model`` in force at ``at`` (default: now), as :meth:`price` chooses it."""
        found = model.window_at(None if model.timeless else utc_day(at))
        return found[1] if found else None

    def tool_fees(self, model: Model, at: object = None) -> dict[str, Decimal]:
        """USD per use of each tool (by :class:`pricing.Usage` counter name) for ``model`` at ``at`` (default: now):
        the fees its rate window states, else its provider's; tools with no published fee are left out."""
        window = self.window_for(model, at)
        if window is None:
            return {}
        prov = self.providers[model.provider]
        fees = tool_fees(window, prov.tools_at(utc_day(at) if prov.tools else None))
        return {tool.counter: fee for tool, fee in zip(TOOLS, fees) if fee is not None}

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
    # One full catalog was checked as it was read; overrides merged over it are checked with the result.
    catalog = Catalog(doc, origin=" + ".join(str(p) for p, _ in layers), validated=len(layers) == 1 and layers[0][1])
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
