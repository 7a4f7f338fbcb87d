"""Folding the rates of a partial source (LiteLLM, OpenRouter, genai-prices) into the current catalog.

The rules that keep history intact:

* a source entry prices the names it states, and only those. An entry under a model's id updates that model; an
  entry under one of its aliases (a dated snapshot) that states other rates becomes a model of its own, taking
  that name with it; a dated snapshot a prefix already covers at the same rates adds nothing;
* the rates a source states are the rates in force from their effective date: the date the source gives them, when
  it is later than the start of the window then in force, else the update's day. They are compared with the window
  in force on that date; a rate the source leaves out keeps its current value (a partial source never clears one);
* a model whose rates did not change keeps its windows untouched;
* a changed model keeps every past window: the window in force is closed at the effective date and a new one opens
  there, running until the next window already scheduled (a dated price change the source does not know of is
  kept). A window that starts on that very date has not priced anything yet, so its rates are replaced;
* a model the source does not know is kept (these sources cover only some providers);
* a new model is added. The same model sold by several providers is one entry per provider: a name another
  provider already uses is qualified with the provider (``nebius/deepseek-ai/...``), so the bare name keeps its
  meaning and the qualified one prices this provider's calls. Providers the catalog already has come first, so a
  new model's bare name goes to its maker rather than to a reseller new to the catalog; an id that starts with
  another provider's name (a gateway's ``zai/glm-4.5-air``) is always qualified. A name another model of the same
  provider already uses is left out, with a warning;
* the source's other names for a model it lists under one of our ids become aliases, where they are free; rates
  listed under a provider priced by another rule (a router's ``dynamic``) are table prices (``billing = "tokens"``).

The current document is never modified: changed providers and models are copied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pricing._diff import window_signature
from pricing._load import Document
from pricing._model import RATE_KEYS, TOOL_KEYS, UNIT_KEYS
from pricing._resolve import covers

__all__ = ["MergeReport", "merge_rates"]

_DATES = ("effective_from", "effective_until")


@dataclass
class MergeReport:
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0  # new models left out because every name they have is taken


class _Names:
    """Every declared name and prefix of the catalog being built, with the (provider, model id) that owns it."""

    def __init__(self) -> None:
        self.exact: dict[str, tuple[str, str]] = {}
        self.prefixes: dict[str, tuple[str, str]] = {}
        self.by_provider: dict[str, list[tuple[str, str]]] = {}  # provider -> (prefix, model id)

    def add(self, pid: str, model: dict[str, Any]) -> None:
        owner = (pid, str(model["id"]))
        for name in _names(model):
            self.exact.setdefault(name, owner)
        for prefix in model.get("match_prefix", []):
            if self.prefixes.setdefault(str(prefix).lower(), owner) == owner:
                self.by_provider.setdefault(pid, []).append((str(prefix).lower(), owner[1]))

    def release(self, name: str) -> None:
        self.exact.pop(name.lower(), None)

    def covering(self, pid: str, name: str) -> str | None:
        """The id of the model of ``pid`` whose prefix covers ``name`` (longest prefix), or ``None``."""
        found = [(len(p), mid) for p, mid in self.by_provider.get(pid, []) if covers(p, name)]
        return max(found)[1] if found else None


def _names(model: dict[str, Any]) -> list[str]:
    return [str(n).lower() for n in (model["id"], *model.get("aliases", []))]


def merge_rates(
    current: Document, fetched: Document, *, day: dt.date, version: str, origin: str
) -> tuple[Document, MergeReport]:
    """A new document: ``current`` with ``fetched``'s rates folded in (see the module docstring)."""
    report = MergeReport()
    providers = [dict(p) for p in current.get("providers", [])]
    by_id = {p["id"]: p for p in providers}
    known = set(by_id)
    names = _Names()
    for prov in providers:
        prov["models"] = list(prov.get("models", []))
        for model in prov["models"]:
            names.add(prov["id"], model)
    # Providers the catalog already has take a free bare name before providers new to it: the first-party makers
    # are in the catalog, the many resellers of their models mostly are not.
    sources = sorted(fetched.get("providers", []), key=lambda p: p["id"] not in known)
    for src_prov in sources:
        if src_prov["id"] not in by_id:
            target = {k: v for k, v in src_prov.items() if k != "models"}
            target["models"] = []
            providers.append(target)
            by_id[target["id"]] = target
    # Entries under our own ids first, so an alias entry is compared with its model's rates after this update.
    for src_prov in sources:
        _fold_known(by_id[src_prov["id"]], src_prov, names, day, origin)
        if src_prov["id"] in known and src_prov.get("tools"):
            _fold_tools(by_id[src_prov["id"]], src_prov, day, origin)
    spoken = {str(n).lower() for p in providers for n in (p["id"], *p.get("prefixes", []))}
    for src_prov in sources:
        _add_others(by_id[src_prov["id"]], src_prov, names, spoken, report, day, origin)
    # A new provider whose every model was left out is not added empty.
    providers = [p for p in providers if p["models"] or p["id"] in known]
    merged = {k: v for k, v in current.items() if k != "providers"}
    merged["catalog_version"] = version
    merged["providers"] = providers
    return merged, report


class _Models:
    """One provider's models with their ids and aliases indexed (a source lists thousands of models)."""

    def __init__(self, models: list[dict[str, Any]]) -> None:
        self.models = models
        self.ids: dict[str, int] = {}
        self.aliases: dict[str, int] = {}
        for i, model in enumerate(models):
            self._index(i, model)

    def _index(self, i: int, model: dict[str, Any]) -> None:
        self.ids.setdefault(str(model["id"]).lower(), i)
        for alias in model.get("aliases", []):
            self.aliases.setdefault(str(alias).lower(), i)

    def same_model(self, src: dict[str, Any]) -> int | None:
        """The index of the model the source entry is: the one whose id is the entry's id or one of its aliases."""
        return next((self.ids[n] for n in _names(src) if n in self.ids), None)

    def replace(self, i: int, model: dict[str, Any]) -> None:
        for alias in self.models[i].get("aliases", []):
            if self.aliases.get(str(alias).lower()) == i:
                del self.aliases[str(alias).lower()]
        self.models[i] = model
        self._index(i, model)

    def append(self, model: dict[str, Any]) -> None:
        self.models.append(model)
        self._index(len(self.models) - 1, model)


def _fold_known(target: dict[str, Any], src_prov: dict[str, Any], names: _Names, day: dt.date, origin: str) -> None:
    models: list[dict[str, Any]] = target["models"]
    index_of = _Models(models)
    for raw in src_prov.get("models", []):
        index = index_of.same_model(raw)
        if index is not None:
            src = _with_provenance(_with_modifiers(raw, src_prov, target, models[index]), day, origin)
            folded = _fold(models[index], src, day)
            index_of.replace(index, _with_names(folded, raw, target["id"], names))


def _with_modifiers(
    raw: dict[str, Any], src_prov: dict[str, Any], target: dict[str, Any], current: dict[str, Any] | None
) -> dict[str, Any]:
    """The source entry with the multipliers its provider (or the entry itself) states for batch and service
    tiers, where the catalog prices them otherwise, written into its latest window: dated there, they never reach
    calls before the update as a change of the provider's settings would."""
    windows = raw.get("prices", [])
    if not windows:
        return raw
    window = dict(windows[-1])
    mine = current or {}
    tiers = dict(window.get("service_tiers", {}))
    for name, ratio in src_prov.get("service_tiers", {}).items():
        known = mine.get("service_tiers", {}).get(name, target.get("service_tiers", {}).get(name))
        if name not in tiers and known != ratio:
            tiers[name] = ratio
    if tiers:
        window["service_tiers"] = tiers
    batch = raw.get("batch", src_prov.get("batch"))
    known_batch = mine.get("batch", target.get("batch"))
    if batch is not None and "batch" not in window and known_batch != batch:
        window["batch"] = batch
    if window == windows[-1]:
        return raw
    return {**raw, "prices": [*windows[:-1], window]}


def _fold_tools(target: dict[str, Any], src_prov: dict[str, Any], day: dt.date, origin: str) -> None:
    """A provider's tool fees, folded like a model's rates: dated windows, the past kept."""
    src = _with_provenance({"prices": src_prov["tools"]}, day, origin)
    folded = _fold({"prices": list(target.get("tools", []))}, src, day)
    target["tools"] = folded["prices"]


def _with_names(model: dict[str, Any], src: dict[str, Any], pid: str, names: _Names) -> dict[str, Any]:
    """``model`` with the source's other names for it (its id and aliases) as aliases, where nobody has them."""
    free = [str(n) for n in (src["id"], *src.get("aliases", [])) if str(n).lower() not in names.exact]
    if not free:
        return model
    for name in free:
        names.exact[name.lower()] = (pid, str(model["id"]))
    return {**model, "aliases": [*model.get("aliases", []), *free]}


def _add_others(
    target: dict[str, Any],
    src_prov: dict[str, Any],
    names: _Names,
    providers: set[str],
    report: MergeReport,
    day: dt.date,
    origin: str,
) -> None:
    pid = target["id"]
    models: list[dict[str, Any]] = target["models"]
    index_of = _Models(models)
    for raw in src_prov.get("models", []):
        if index_of.same_model(raw) is not None:
            continue  # folded in the first pass
        src = _with_provenance(_with_modifiers(raw, src_prov, target, None), day, origin)
        mid = str(src["id"]).lower()
        aliased = index_of.aliases.get(mid)
        owner = models[aliased] if aliased is not None else _model_by_id(index_of, names.covering(pid, mid))
        if owner is not None and _same_rates(src, owner, day):
            continue  # an alias or covered snapshot already priced at these rates
        if aliased is not None:
            index_of.replace(aliased, _without_names(models[aliased], _names(src), names))
        admitted = _admit(src, pid, names, providers, report)
        if admitted is not None and "billing" not in admitted and _ruled(target, admitted):
            admitted = {**admitted, "billing": "tokens"}
        if admitted is not None:
            index_of.append(admitted)
            names.add(pid, admitted)


def _ruled(provider: dict[str, Any], model: dict[str, Any]) -> bool:
    """Token rates listed under a provider priced by another rule (a router's ``dynamic``): table prices, which
    the provider's rule would otherwise hide."""
    listed = any(k in w for w in model.get("prices", []) for k in RATE_KEYS)
    return listed and provider.get("billing", "tokens") != "tokens"


def _model_by_id(index_of: _Models, mid: str | None) -> dict[str, Any] | None:
    found = index_of.ids.get(mid.lower()) if mid is not None else None
    return index_of.models[found] if found is not None else None


def _without_names(model: dict[str, Any], taken: list[str], names: _Names) -> dict[str, Any]:
    """``model`` without the aliases a new entry takes over (the source prices them differently)."""
    kept = [a for a in model.get("aliases", []) if str(a).lower() not in taken]
    for alias in model.get("aliases", []):
        if str(alias).lower() in taken:
            names.release(str(alias))
    copy = {k: v for k, v in model.items() if k != "aliases"}
    if kept:
        copy["aliases"] = kept
    return _reorder_like(model, copy)


def _reorder_like(original: dict[str, Any], copy: dict[str, Any]) -> dict[str, Any]:
    return {k: copy[k] for k in original if k in copy}


def _admit(
    src: dict[str, Any], pid: str, names: _Names, providers: set[str], report: MergeReport
) -> dict[str, Any] | None:
    """The new model with its names made free: qualified by the provider where another provider has the name,
    left out where a model of this provider has it. ``None`` when its id cannot be given.

    An id whose first segment names another provider (a gateway's ``zai/glm-4.5-air``) is qualified even when it is
    free: as it stands it would read as that provider's model, and take that provider's qualified name."""
    wanted = str(src["id"])
    head = wanted.partition("/")[0].lower()
    if "/" in wanted and head in providers and head != pid.lower():
        wanted = f"{pid}/{wanted}"
    mid = _free_name(wanted, pid, names.exact)
    if mid is None:
        report.skipped += 1
        owner = names.exact.get(f"{pid}/{wanted}".lower()) or names.exact.get(wanted.lower())
        whose = f"{owner[0]}/{owner[1]}" if owner else "another model"
        report.warnings.append(f"{pid}/{src['id']}: not added, its name already belongs to {whose}")
        return None
    model = {**src, "id": mid}
    aliases = [a for a in (_free_name(str(a), pid, names.exact) for a in src.get("aliases", [])) if a is not None]
    aliases = [a for a in dict.fromkeys(aliases) if a.lower() != mid.lower()]
    prefixes = [p for p in (_free_name(str(p), pid, names.prefixes) for p in src.get("match_prefix", [])) if p]
    for key, values in (("aliases", aliases), ("match_prefix", prefixes)):
        if values:
            model[key] = values
        else:
            model.pop(key, None)
    dropped = len(src.get("aliases", [])) - len(aliases) + len(src.get("match_prefix", [])) - len(prefixes)
    if dropped:
        report.warnings.append(f"{pid}/{mid}: {dropped} name(s) left out, another model of {pid} has them")
    return model


def _free_name(name: str, pid: str, taken: dict[str, tuple[str, str]]) -> str | None:
    """``name`` if nobody has it, ``pid/name`` if another provider has it, ``None`` if this provider has it."""
    owner = taken.get(name.lower())
    if owner is None:
        return name
    if owner[0] == pid:
        return None
    qualified = f"{pid}/{name}"
    return qualified if qualified.lower() not in taken else None


def _with_provenance(model: dict[str, Any], day: dt.date, origin: str) -> dict[str, Any]:
    """Every window says where its rates come from and when they were checked (the catalog requires both)."""
    windows = model.get("prices", [])
    if all("source" in w and "checked" in w for w in windows):
        return model
    filled = [{**w, "source": w.get("source", origin), "checked": w.get("checked", day)} for w in windows]
    return {**model, "prices": filled}


def _index_at(windows: list[dict[str, Any]], day: dt.date) -> int | None:
    """The index of the window in force on ``day``, or ``None``."""
    for i in range(len(windows) - 1, -1, -1):
        start, end = windows[i].get("effective_from"), windows[i].get("effective_until")
        if (start is None or start <= day) and (end is None or day < end):
            return i
    return None


def _effective(new: dict[str, Any], windows: list[dict[str, Any]], day: dt.date) -> dt.date:
    """The source's date for the new rates when it is after the start of the window then in force, or when it is
    the start of a window still to come (the same scheduled change); else the update's day: a source's date never
    reaches into the history of the catalog."""
    dated = new.get("effective_from")
    if not isinstance(dated, dt.date):
        return day
    index = _index_at(windows, dated)
    if index is None:
        return dated if dated > day else day
    start = windows[index].get("effective_from")
    return dated if start is None or dated > start or (dated == start and dated > day) else day


def _filled(new: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The source's rates, with every price it leaves out kept from the window in force: rates, long-context tiers,
    tool fees, and the service tiers and batch it does not state. A service tier's or batch's own rates are
    absolute prices published with the standard rates of their time, so they are kept only while the standard rates
    stay as they were; a multiplier is kept either way."""
    kept = {k: current[k] for k in (*RATE_KEYS, *UNIT_KEYS, *TOOL_KEYS, "tiers") if k in current and k not in new}
    filled = {**new, **kept}
    same_rates = all(filled.get(k) == current.get(k) for k in RATE_KEYS)
    tiers = {**_kept_modifiers(current.get("service_tiers", {}), same_rates), **new.get("service_tiers", {})}
    if tiers:
        filled["service_tiers"] = tiers
    if "batch" not in new and "batch" in current and (same_rates or not isinstance(current["batch"], dict)):
        filled["batch"] = current["batch"]
    return filled


def _kept_modifiers(modifiers: dict[str, Any], same_rates: bool) -> dict[str, Any]:
    return {k: v for k, v in modifiers.items() if same_rates or not isinstance(v, dict)}


def _same_rates(src: dict[str, Any], model: dict[str, Any], day: dt.date) -> bool:
    """Whether the source entry's latest rates are the model's on the date they would take effect."""
    src_windows, windows = src.get("prices", []), model.get("prices", [])
    if not src_windows or not windows:
        return False
    new = src_windows[-1]
    index = _index_at(windows, _effective(new, windows, day))
    if index is None:
        return False
    current = windows[index]
    return window_signature(_filled(_rates_only(new), current), "") == window_signature(current, "")


def _rates_only(window: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in window.items() if k not in _DATES}


def _fold(model: dict[str, Any], src: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """``model`` with the source's latest rates from their effective date (see the module docstring)."""
    src_windows = src.get("prices", [])
    windows = list(model.get("prices", []))
    if not src_windows or not windows:
        return model if windows or not src_windows else {**model, "prices": list(src_windows)}
    new = src_windows[-1]
    start = _effective(new, windows, day)
    index = _index_at(windows, start)
    opened = _rates_only(new)
    if index is not None:
        current = windows[index]
        opened = _filled(opened, current)
        if window_signature(opened, "") == window_signature(current, ""):
            return model
        if current.get("effective_from") == start:
            # The window starts on this date: nothing was priced with it that must stay.
            windows[index] = {k: current[k] for k in _DATES if k in current} | opened
            return {**model, "prices": windows}
        windows[index] = _closed(current, start)
    later = [
        w["effective_from"]
        for w in windows
        if isinstance(w.get("effective_from"), dt.date) and w["effective_from"] > start
    ]
    dates: dict[str, Any] = {"effective_from": start}
    if later:
        dates["effective_until"] = min(later)  # a price change already scheduled stays scheduled
    windows.append(dates | opened)
    windows.sort(key=lambda w: w.get("effective_from") or dt.date.min)
    return {**model, "prices": windows}


def _closed(window: dict[str, Any], until: dt.date) -> dict[str, Any]:
    """The window ending (exclusive) at ``until``; its dates stay first, as the catalog writes them."""
    closed = {k: window[k] for k in ("effective_from",) if k in window}
    closed["effective_until"] = until
    closed.update((k, v) for k, v in window.items() if k not in closed)
    return closed
