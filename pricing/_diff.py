"""What changes between two catalog documents: models added, removed, repriced, and suspicious jumps.

Models are compared by their rates with the catalog's fallbacks applied, so writing ``cache_read_mtok`` equal to
``input_mtok`` where it was implied is no change: by default the rates at the end of their history (the last window);
for an update, the rates in force on its effective day and at every scheduled change after it.

A *suspicious* change is a stated rate that moves by more than :data:`JUMP_FACTOR` either way, or to zero:
``pricing update`` refuses those unless forced (a source that multiplied every price by a million, or served zeros).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pricing._load import Document
from pricing._model import RATE_KEYS, TOOL_KEYS, UNIT_KEYS, Rates

__all__ = [
    "JUMP_FACTOR",
    "Diff",
    "ModelChange",
    "diff_documents",
    "flat_prices",
    "model_index",
    "past_kept",
    "suspicious_moves",
    "window_signature",
]

#: A rate that moves by more than this factor (up or down) is flagged in the summary, and refused by an update.
JUMP_FACTOR = Decimal(10)

Kind = Literal["added", "removed", "changed", "history"]
_SHOWN_KEYS = (*RATE_KEYS, *UNIT_KEYS, *TOOL_KEYS)


@dataclass(frozen=True)
class ModelChange:
    key: str  # provider/model
    kind: Kind
    old: dict[str, str] = field(default_factory=dict)
    new: dict[str, str] = field(default_factory=dict)
    effective_from: dt.date | None = None
    jump: Decimal | None = None  # the largest factor by which a rate moved, when above JUMP_FACTOR
    rewrites_past: bool = False  # calls dated before the new window would be priced differently
    suspicious: tuple[str, ...] = ()  # stated rates moved beyond JUMP_FACTOR or to zero: "input_mtok 2.5 → 0"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.key, "kind": self.kind}
        if self.old:
            out["old"] = self.old
        if self.new:
            out["new"] = self.new
        if self.effective_from is not None:
            out["effective_from"] = self.effective_from.isoformat()
        if self.jump is not None:
            out["jump"] = _plain(self.jump)
        if self.rewrites_past:
            out["rewrites_past"] = True
        if self.suspicious:
            out["suspicious"] = list(self.suspicious)
        return out

    def describe(self) -> str:
        if self.kind == "added":
            return f"+ {self.key}  {_rates_text(self.new)}"
        if self.kind == "removed":
            return f"- {self.key}  {_rates_text(self.old)}"
        if self.kind == "history":
            return f"! {self.key}  same rates now, but other windows differ (older calls would reprice)"
        keys = [*_SHOWN_KEYS, *sorted(k for k in {*self.old, *self.new} if k not in _SHOWN_KEYS)]
        moves = ", ".join(
            f"{k.removesuffix('_mtok')} {self.old.get(k, '—')} → {self.new.get(k, '—')}"
            for k in keys
            if self.old.get(k) != self.new.get(k)
        )
        when = f"  from {self.effective_from.isoformat()}" if self.effective_from else ""
        flag = f"  [×{_plain(self.jump)} jump]" if self.jump is not None else ""
        past = "  [older calls would reprice]" if self.rewrites_past else ""
        odd = "  [suspicious: " + "; ".join(self.suspicious) + "]" if self.suspicious else ""
        mark = "!" if flag or past or odd else "~"
        return f"{mark} {self.key}  {moves or 'tiers or billing'}{when}{flag}{past}{odd}"


@dataclass
class Diff:
    before_version: str
    after_version: str
    before_models: int
    after_models: int
    changes: list[ModelChange]
    unchanged: int

    def of_kind(self, kind: Kind) -> list[ModelChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def flagged(self) -> list[ModelChange]:
        return [c for c in self.changes if c.jump is not None]

    @property
    def suspicious(self) -> list[ModelChange]:
        """Changes with a stated rate moved beyond :data:`JUMP_FACTOR` or to zero."""
        return [c for c in self.changes if c.suspicious]

    @property
    def empty(self) -> bool:
        return not self.changes

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.of_kind("added")),
            "removed": len(self.of_kind("removed")),
            "changed": len(self.of_kind("changed")),
            "history": len(self.of_kind("history")),
            "flagged": len(self.flagged),
            "rewrites_past": sum(1 for c in self.changes if c.rewrites_past),
            "unchanged": self.unchanged,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": {"version": self.before_version, "models": self.before_models},
            "after": {"version": self.after_version, "models": self.after_models},
            "counts": self.counts(),
            "changes": [c.to_dict() for c in self.changes],
        }

    def render(self, limit: int = 25) -> list[str]:
        """Human lines: one count line, then up to ``limit`` lines per kind (flagged jumps always shown)."""
        c = self.counts()
        lines = [
            f"{self.before_version} ({self.before_models} models) → {self.after_version} ({self.after_models} models): "
            f"{c['added']} added, {c['removed']} removed, {c['changed']} changed, {c['unchanged']} unchanged"
            + (f", {c['flagged']} flagged (> ×{JUMP_FACTOR} jump)" if c["flagged"] else "")
        ]
        kinds: tuple[Kind, ...] = ("changed", "history", "removed", "added")
        for kind in kinds:
            items = self.of_kind(kind)
            shown = items if limit <= 0 else items[:limit]
            lines.extend("  " + item.describe() for item in shown)
            hidden = [i for i in items[len(shown) :] if i.jump is not None]
            lines.extend("  " + item.describe() for item in hidden)
            if len(items) > len(shown) + len(hidden):
                lines.append(f"  … and {len(items) - len(shown) - len(hidden)} more {kind} (--json lists all)")
        return lines


def model_index(doc: Document) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """``provider/model`` (model id lower-cased) -> (provider table, model table)."""
    index: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for prov in doc.get("providers", []):
        for model in prov.get("models", []):
            index[f"{prov['id']}/{str(model['id']).lower()}"] = (prov, model)
    return index


def window_signature(window: dict[str, Any] | None, billing: str) -> tuple[Any, ...]:
    """What a window charges, fallbacks applied: two windows with equal signatures price every call the same
    (service tiers, batch and tool fees included)."""
    if window is None:
        return (billing,)
    rates = Rates.build(window)
    tiers = _tier_signature(window.get("tiers", []), rates)
    fee = _dec(window.get("request_fee", 0))
    gpu = window.get("gpu_hour")
    tools = tuple(None if k not in window else _dec(window[k]) for k in TOOL_KEYS)
    service = tuple(
        sorted((str(k).lower(), _modifier_signature(v, rates)) for k, v in window.get("service_tiers", {}).items())
    )
    batch = None if "batch" not in window else _modifier_signature(window["batch"], rates)
    return (billing, rates.as_tuple(), tiers, fee, None if gpu is None else _dec(gpu), tools, service, batch)


def _tier_signature(tiers: list[dict[str, Any]], rates: Rates) -> tuple[Any, ...]:
    return tuple(
        (int(t["above_input_tokens"]), Rates.build(t, parent=None if "input_mtok" in t else rates).as_tuple())
        for t in tiers
    )


def _modifier_signature(value: Any, standard: Rates) -> Any:
    """A multiplier as itself; a table of rates as its rates (fallbacks applied) and its long-context tiers."""
    if not isinstance(value, dict):
        return _dec(value)
    rates = Rates.build(value, parent=standard)
    tiers = None if "tiers" not in value else _tier_signature(value["tiers"], rates)
    return (rates.as_tuple(), tiers)


def flat_prices(window: dict[str, Any] | None) -> dict[str, Decimal]:
    """Every price a window states, by a flat name: its rates, unit prices and tool fees under their keys, a service
    tier's or batch's multiplier as ``priority`` / ``batch``, their rates as ``priority.input_mtok``."""
    if window is None:
        return {}
    out = {k: _dec(window[k]) for k in _SHOWN_KEYS if k in window}
    modifiers = {str(k).lower(): v for k, v in window.get("service_tiers", {}).items()}
    if "batch" in window:
        modifiers["batch"] = window["batch"]
    for name in sorted(modifiers):
        value = modifiers[name]
        if isinstance(value, dict):
            out.update((f"{name}.{k}", _dec(value[k])) for k in RATE_KEYS if k in value)
        else:
            out[name] = _dec(value)
    return out


def diff_documents(before: Document, after: Document, *, at: dt.date | None = None) -> Diff:
    """Models added, removed and changed from ``before`` to ``after``.

    ``at`` (an update's effective day) compares the rates in force on that day and at every date after it where a
    window starts or ends; without it the last windows are compared.
    """
    old, new = model_index(before), model_index(after)
    changes: list[ModelChange] = []
    unchanged = 0
    for key in sorted(new.keys() - old.keys()):
        changes.append(ModelChange(key, "added", new=_shown(_last(new[key][1]))))
    for key in sorted(old.keys() - new.keys()):
        changes.append(ModelChange(key, "removed", old=_shown(_last(old[key][1]))))
    for key in sorted(old.keys() & new.keys()):
        change = _compare(key, old[key], new[key], at)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    changes.extend(_tool_changes(before, after, at))
    return Diff(
        before_version=str(before.get("catalog_version", "?")),
        after_version=str(after.get("catalog_version", "?")),
        before_models=len(old),
        after_models=len(new),
        changes=changes,
        unchanged=unchanged,
    )


def _compare(
    key: str,
    old: tuple[dict[str, Any], dict[str, Any]],
    new: tuple[dict[str, Any], dict[str, Any]],
    at: dt.date | None,
) -> ModelChange | None:
    (old_prov, old_model), (new_prov, new_model) = old, new
    old_windows, new_windows = old_model.get("prices", []), new_model.get("prices", [])
    old_billing, new_billing = _billing(old_prov, old_model), _billing(new_prov, new_model)
    for probe in _probes(old_windows, new_windows, at):
        old_w, new_w = _window_on(old_windows, probe), _window_on(new_windows, probe)
        old_sig, new_sig = window_signature(old_w, old_billing), window_signature(new_w, new_billing)
        if old_sig != new_sig:
            start = new_w.get("effective_from") if new_w else None
            kept = past_kept(old_windows, new_windows, start)
            jump = _jump(old_sig, new_sig)
            odd = suspicious_moves(old_w, new_w)
            return ModelChange(key, "changed", _shown(old_w), _shown(new_w), start, jump, not kept, odd)
    if past_kept(old_windows, new_windows, None):
        return None
    last_old, last_new = _window_on(old_windows, None), _window_on(new_windows, None)
    return ModelChange(key, "history", _shown(last_old), _shown(last_new), rewrites_past=True)


def _tool_changes(before: Document, after: Document, at: dt.date | None) -> list[ModelChange]:
    """Changes of a provider's tool fees (``[[providers.tools]]``), keyed ``provider/(tools)``."""
    old = {p["id"]: p for p in before.get("providers", [])}
    found = []
    for prov in after.get("providers", []):
        new_windows, old_windows = prov.get("tools", []), old.get(prov["id"], {}).get("tools", [])
        if not new_windows and not old_windows:
            continue
        empty = {"id": "(tools)"}
        change = _compare(
            f"{prov['id']}/(tools)", ({}, {**empty, "prices": old_windows}), ({}, {**empty, "prices": new_windows}), at
        )
        if change is not None:
            found.append(change)
    return found


def _probes(old: list[dict[str, Any]], new: list[dict[str, Any]], at: dt.date | None) -> list[dt.date | None]:
    """The dates whose rates are compared: ``at`` and every window edge after it; ``[None]`` (the last windows)."""
    if at is None:
        return [None]
    edges = {d for w in (*old, *new) for d in (w.get("effective_from"), w.get("effective_until")) if d}
    return [at, *sorted(d for d in edges if isinstance(d, dt.date) and d > at)]


def _window_on(windows: list[dict[str, Any]], day: dt.date | None) -> dict[str, Any] | None:
    """The window in force on ``day``; the last window when ``day`` is ``None``."""
    if day is None:
        return windows[-1] if windows else None
    for i in range(len(windows) - 1, -1, -1):
        start, end = windows[i].get("effective_from"), windows[i].get("effective_until")
        if (start is None or start <= day) and (end is None or day < end):
            return windows[i]
    return None


def suspicious_moves(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[str, ...]:
    """Rates stated in both windows (and in their tiers of the same threshold) that moved by more than
    :data:`JUMP_FACTOR` either way, or dropped to zero: ``("input_mtok 2.5 → 2500000 (×1000000)",)``."""
    if old is None or new is None:
        return ()
    flat_old, flat_new = flat_prices(old), flat_prices(new)
    found = [_move(k, flat_old, flat_new, "") for k in flat_old]
    new_tiers = {t.get("above_input_tokens"): t for t in new.get("tiers", [])}
    for tier in old.get("tiers", []):
        threshold = tier.get("above_input_tokens")
        if threshold in new_tiers:
            found += [_move(k, tier, new_tiers[threshold], f" above {threshold} tokens") for k in RATE_KEYS]
    return tuple(m for m in found if m)


def _move(key: str, old: dict[str, Any], new: dict[str, Any], where: str) -> str:
    if key not in old or key not in new:
        return ""
    a, b = _dec(old[key]), _dec(new[key])
    if a <= 0 or a == b:
        return ""
    text = f"{key}{where} {_plain(a)} → {_plain(b)}"
    if b <= 0:
        return text
    ratio = b / a if b > a else a / b
    if ratio <= JUMP_FACTOR:
        return ""
    factor = ratio.quantize(Decimal("0.1")) if ratio < 100 else ratio.quantize(Decimal(1))
    return f"{text} ({'×' if b > a else '÷'}{_plain(factor)})"


def past_kept(old: list[dict[str, Any]], new: list[dict[str, Any]], before: dt.date | None) -> bool:
    """Whether every call dated before ``before`` (all calls when ``None``) is priced the same by both histories."""
    edges = sorted({d for w in (*old, *new) for d in (w.get("effective_from"), w.get("effective_until")) if d})
    if before is not None:
        edges = [d for d in edges if d < before]
    probes = [edges[0] - dt.timedelta(days=1)] if edges else [dt.date.min]
    probes.extend(edges)
    if before is None and edges:
        probes.append(dt.date.max)
    return all(_sig_at(old, day) == _sig_at(new, day) for day in probes if before is None or day < before)


def _sig_at(windows: list[dict[str, Any]], day: dt.date) -> tuple[Any, ...] | None:
    window = _window_on(windows, day)
    return None if window is None else window_signature(window, "")


def _jump(old_sig: tuple[Any, ...], new_sig: tuple[Any, ...]) -> Decimal | None:
    if len(old_sig) < 2 or len(new_sig) < 2:
        return None
    worst = Decimal(0)
    for a, b in zip(old_sig[1], new_sig[1]):
        if a > 0 and b > 0:
            worst = max(worst, b / a, a / b)
    return worst.quantize(Decimal("0.1")).normalize() if worst > JUMP_FACTOR else None


def _billing(prov: dict[str, Any], model: dict[str, Any]) -> str:
    return str(model.get("billing", prov.get("billing", "tokens")))


def _last(model: dict[str, Any]) -> dict[str, Any] | None:
    windows = model.get("prices", [])
    return windows[-1] if windows else None


def _shown(window: dict[str, Any] | None) -> dict[str, str]:
    return {k: _plain(v) for k, v in flat_prices(window).items()}


def _rates_text(rates: dict[str, str]) -> str:
    return ", ".join(f"{k.removesuffix('_mtok')} {v}" for k, v in rates.items()) or "no token rates"


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _plain(value: Decimal) -> str:
    """``Decimal('2.50')`` -> ``2.5``, ``Decimal('1E+1')`` -> ``10``: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")
