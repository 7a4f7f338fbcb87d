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
  meaning and the qualified one prices this provider's calls. A name another model of the same provider already
  uses is left out, with a warning.

The current document is never modified: changed providers and models are copied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pricing._diff import window_signature
from pricing._load import Document
from pricing._model import RATE_KEYS, UNIT_KEYS
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

    def add(self, pid: str, model: dict[str, Any]) -> None:
        owner = (pid, str(model["id"]))
        for name in _names(model):
            self.exact.setdefault(name, owner)
        for prefix in model.get("match_prefix", []):
            self.prefixes.setdefault(str(prefix).lower(), owner)

    def release(self, name: str) -> None:
        self.exact.pop(name.lower(), None)

    def covering(self, pid: str, name: str) -> str | None:
        """The id of the model of ``pid`` whose prefix covers ``name`` (longest prefix), or ``None``."""
        found = [(len(p), o[1]) for p, o in self.prefixes.items() if o[0] == pid and covers(p, name)]
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
    sources = fetched.get("providers", [])
    for src_prov in sources:
        if src_prov["id"] not in by_id:
            target = {k: v for k, v in src_prov.items() if k != "models"}
            target["models"] = []
            providers.append(target)
            by_id[target["id"]] = target
    # Entries under our own ids first, so an alias entry is compared with its model's rates after this update.
    for src_prov in sources:
        _fold_known(by_id[src_prov["id"]], src_prov, day, origin)
    for src_prov in sources:
        _add_others(by_id[src_prov["id"]], src_prov, names, report, day, origin)
    # A new provider whose every model was left out is not added empty.
    providers = [p for p in providers if p["models"] or p["id"] in known]
    merged = {k: v for k, v in current.items() if k != "providers"}
    merged["catalog_version"] = version
    merged["providers"] = providers
    return merged, report


def _same_model(models: list[dict[str, Any]], src: dict[str, Any]) -> int | None:
    """The index of the model the source entry is: the one whose id is the entry's id or one of its aliases."""
    ids = {str(m["id"]).lower(): i for i, m in enumerate(models)}
    for name in _names(src):
        if name in ids:
            return ids[name]
    return None


def _fold_known(target: dict[str, Any], src_prov: dict[str, Any], day: dt.date, origin: str) -> None:
    models: list[dict[str, Any]] = target["models"]
    for raw in src_prov.get("models", []):
        index = _same_model(models, raw)
        if index is not None:
            models[index] = _fold(models[index], _with_provenance(raw, day, origin), day)


def _add_others(
    target: dict[str, Any], src_prov: dict[str, Any], names: _Names, report: MergeReport, day: dt.date, origin: str
) -> None:
    pid = target["id"]
    models: list[dict[str, Any]] = target["models"]
    for raw in src_prov.get("models", []):
        if _same_model(models, raw) is not None:
            continue  # folded in the first pass
        src = _with_provenance(raw, day, origin)
        mid = str(src["id"]).lower()
        aliased = next((i for i, m in enumerate(models) if mid in _names(m)), None)
        owner = models[aliased] if aliased is not None else _model_by_id(models, names.covering(pid, mid))
        if owner is not None and _same_rates(src, owner, day):
            continue  # an alias or covered snapshot already priced at these rates
        if aliased is not None:
            models[aliased] = _without_names(models[aliased], _names(src), names)
        admitted = _admit(src, pid, names, report)
        if admitted is not None:
            models.append(admitted)
            names.add(pid, admitted)


def _model_by_id(models: list[dict[str, Any]], mid: str | None) -> dict[str, Any] | None:
    return next((m for m in models if str(m["id"]) == mid), None) if mid is not None else None


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


def _admit(src: dict[str, Any], pid: str, names: _Names, report: MergeReport) -> dict[str, Any] | None:
    """The new model with its names made free: qualified by the provider where another provider has the name,
    left out where a model of this provider has it. ``None`` when its id cannot be given."""
    mid = _free_name(str(src["id"]), pid, names.exact)
    if mid is None:
        report.skipped += 1
        owner = names.exact.get(f"{pid}/{src['id']}".lower()) or names.exact[str(src["id"]).lower()]
        report.warnings.append(f"{pid}/{src['id']}: not added, its name already belongs to {owner[0]}/{owner[1]}")
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
    """The source's date for the new rates when it is after the start of the window then in force, else the
    update's day: a source's date never reaches into the history of the catalog."""
    dated = new.get("effective_from")
    if not isinstance(dated, dt.date):
        return day
    index = _index_at(windows, dated)
    if index is None:
        return day
    start = windows[index].get("effective_from")
    return dated if start is None or dated > start else day


def _filled(new: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The source's rates, with every rate it leaves out kept from the window in force (tiers included)."""
    kept = {k: current[k] for k in (*RATE_KEYS, *UNIT_KEYS, "tiers") if k in current and k not in new}
    return {**new, **kept}


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
