"""Folding the rates of a partial source (LiteLLM, OpenRouter, genai-prices) into the current catalog.

The rules that keep history intact:

* a model whose rates did not change keeps its windows untouched;
* a changed model keeps every past window; its open window is closed at the effective date (``effective_until``)
  and a new window starts there. The effective date is the one the source gives the new rates, when it is later than
  the start of the current window, else the update's day. A window that starts on or after that date has not priced
  anything yet, so it is replaced instead of being closed;
* a model the source does not know is kept (these sources cover only some providers);
* a new model is added with the source's windows, unless one of its names would make a name ambiguous: then it is
  left out and the summary says so.

The current document is never modified: changed providers and models are copied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pricing._diff import window_signature
from pricing._load import Document

__all__ = ["MergeReport", "merge_rates"]


@dataclass
class MergeReport:
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0  # new models left out because of a name clash


class _Names:
    """Every declared name and prefix of the catalog being built, to refuse additions that would be ambiguous."""

    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        self.prefixes: dict[str, str] = {}

    def add(self, key: str, model: dict[str, Any]) -> None:
        for name in _names(model):
            self.exact.setdefault(name, key)
        for prefix in model.get("match_prefix", []):
            self.prefixes.setdefault(str(prefix).lower(), key)

    def clash(self, model: dict[str, Any]) -> str | None:
        for name in _names(model):
            if name in self.exact:
                return f"{name!r} already names {self.exact[name]}"
            for prefix, owner in self.prefixes.items():
                if name.startswith(prefix):
                    return f"{name!r} is covered by prefix {prefix!r} of {owner}"
        for prefix in (str(p).lower() for p in model.get("match_prefix", [])):
            if prefix in self.prefixes:
                return f"prefix {prefix!r} is already declared by {self.prefixes[prefix]}"
            for name, owner in self.exact.items():
                if name.startswith(prefix):
                    return f"prefix {prefix!r} would capture {name!r} of {owner}"
        return None


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
            names.add(f"{prov['id']}/{model['id']}", model)
    for src_prov in fetched.get("providers", []):
        target = by_id.get(src_prov["id"])
        if target is None:
            target = {k: v for k, v in src_prov.items() if k != "models"}
            target["models"] = []
            providers.append(target)
            by_id[target["id"]] = target
        _merge_provider(target, src_prov, names, report, day, origin)
    # A new provider whose every model clashed is not added empty.
    providers = [p for p in providers if p["models"] or p["id"] in known]
    merged = {k: v for k, v in current.items() if k != "providers"}
    merged["catalog_version"] = version
    merged["providers"] = providers
    return merged, report


def _merge_provider(
    target: dict[str, Any],
    src_prov: dict[str, Any],
    names: _Names,
    report: MergeReport,
    day: dt.date,
    origin: str,
) -> None:
    models: list[dict[str, Any]] = target["models"]
    position = {str(m["id"]).lower(): i for i, m in enumerate(models)}
    alias_of = {name: i for i, m in enumerate(models) for name in _names(m)}
    src_ids = {str(m["id"]).lower() for m in src_prov.get("models", [])}
    for raw in src_prov.get("models", []):
        src = _with_provenance(raw, day, origin)
        mid = str(src["id"]).lower()
        index = position.get(mid)
        if index is None:
            index = alias_of.get(mid)
            if index is not None and str(models[index]["id"]).lower() in src_ids:
                continue  # a dated alias listed beside its canonical entry: the canonical one decides
        if index is not None:
            models[index] = _fold(models[index], src, day)
            continue
        clash = names.clash(src)
        if clash is not None:
            report.skipped += 1
            report.warnings.append(f"{target['id']}/{src['id']}: not added, {clash}")
            continue
        models.append(src)
        position[mid] = len(models) - 1
        names.add(f"{target['id']}/{src['id']}", src)


def _with_provenance(model: dict[str, Any], day: dt.date, origin: str) -> dict[str, Any]:
    """Every window says where its rates come from and when they were checked (the catalog requires both)."""
    windows = model.get("prices", [])
    if all("source" in w and "checked" in w for w in windows):
        return model
    filled = [{**w, "source": w.get("source", origin), "checked": w.get("checked", day)} for w in windows]
    return {**model, "prices": filled}


def _fold(model: dict[str, Any], src: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """``model`` with the source's current rates: unchanged, or its open window closed and a new one appended."""
    src_windows = src.get("prices", [])
    windows = list(model.get("prices", []))
    if not src_windows or not windows:
        return model if windows or not src_windows else {**model, "prices": list(src_windows)}
    new, last = src_windows[-1], windows[-1]
    if window_signature(new, "") == window_signature(last, ""):
        return model
    start = _effective(new, last, day)
    opened = {k: v for k, v in new.items() if k not in ("effective_from", "effective_until")}
    last_from = last.get("effective_from")
    if isinstance(last_from, dt.date) and start <= last_from:
        # The open window has not started before this date: nothing was priced with it that must stay.
        windows[-1] = {"effective_from": last_from, **opened}
        return {**model, "prices": windows}
    until = last.get("effective_until")
    if until is None or until > start:
        windows[-1] = _closed(last, start)
    windows.append({"effective_from": start, **opened})
    return {**model, "prices": windows}


def _closed(window: dict[str, Any], until: dt.date) -> dict[str, Any]:
    """The window ending (exclusive) at ``until``; its dates stay first, as the catalog writes them."""
    closed = {k: window[k] for k in ("effective_from",) if k in window}
    closed["effective_until"] = until
    closed.update((k, v) for k, v in window.items() if k not in closed)
    return closed


def _effective(new: dict[str, Any], last: dict[str, Any], day: dt.date) -> dt.date:
    """The source's date for the new rates when it is after the current window began, else the update's day."""
    dated = new.get("effective_from")
    last_from = last.get("effective_from")
    if isinstance(dated, dt.date) and (last_from is None or dated > last_from):
        return dated
    return day
