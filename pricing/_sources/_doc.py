"""Catalog documents: building blocks shared by the source adapters, and a deterministic TOML writer.

The writer exists because a general TOML writer orders keys as the dict happens to hold them and prints a
``Decimal`` with ``str()`` (``1E+1``, ``1.50``). A catalog is read by people and compared with ``diff``: the same
document must always give the same bytes, with keys in a fixed order, numbers in plain notation, providers and
models sorted, and small maps (``service_tiers``, ``regions``) inline.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pricing._model import RATE_KEYS, TOOL_KEYS, UNIT_KEYS

__all__ = [
    "HEADER",
    "MODEL_KEYS",
    "MTOK",
    "PROVIDER_KEYS",
    "WINDOW_KEYS",
    "dump",
    "empty_document",
    "number",
    "per_mtok",
]

SCHEMA_VERSION = 1
MTOK = Decimal(1_000_000)
PROVIDER_KEYS = ("id", "name", "hosts", "prefixes", "billing", "batch", "service_tiers", "regions")
MODEL_KEYS = ("id", "name", "aliases", "match_prefix", "context_window", "billing", "batch", "service_tiers")
WINDOW_KEYS = ("effective_from", "effective_until", "source", "checked", *RATE_KEYS, *UNIT_KEYS, *TOOL_KEYS)
TIER_KEYS = ("above_input_tokens", *RATE_KEYS)
TABLE_KEYS = ("source", "checked", *RATE_KEYS)
TOOL_WINDOW_KEYS = ("effective_from", "effective_until", "source", "checked", *TOOL_KEYS)

HEADER = """\
# Price catalog of llmcost-top: dated per-model rates, USD per million tokens unless the key says otherwise.
# Schema: docs/catalog.md. Windows are append-only: a price change closes the current window and opens a new one.
# Override any of it in $LLMCOST_HOME/pricing.toml or ./.llmcost/pricing.toml (same schema).
"""

# Decimal arithmetic for rates: exact (no rounding) whatever the caller's context says.
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def empty_document(today: dt.date) -> dict[str, Any]:
    """A catalog document with no providers, versioned by ``today``."""
    return {"schema_version": SCHEMA_VERSION, "catalog_version": today.strftime("%Y.%m.%d"), "providers": []}


def number(value: object) -> Decimal:
    """An exact ``Decimal`` from a JSON number or numeric string; ``ValueError`` for anything else.

    Floats go through ``str()`` so ``1.5e-07`` becomes ``Decimal("1.5E-7")``, not its binary expansion.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float, str)):
        try:
            result = Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return _tidy(result)


def per_mtok(per_token: object) -> Decimal:
    """USD per token to USD per million tokens, exactly (``2.5e-06`` -> ``2.5``)."""
    return _tidy(_EXACT.multiply(number(per_token), MTOK))


def _tidy(value: Decimal) -> Decimal:
    """Trailing zeros dropped (``2.50`` -> ``2.5``, ``1E+1`` -> ``10``), so equal rates look equal."""
    if value == 0:
        return Decimal(0)
    normal = value.normalize(_EXACT)
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


# -- writing ------------------------------------------------------------------------------------------------------


def dump(doc: dict[str, Any]) -> str:
    """The document as TOML text: header comment, providers and models sorted by id, windows oldest first.

    ``tomllib.loads(dump(doc), parse_float=Decimal)`` gives back an equal document.
    """
    out: list[str] = [HEADER]
    top: list[str] = [k for k in ("schema_version", "catalog_version") if k in doc]
    top += sorted(k for k in doc if k not in ("schema_version", "catalog_version", "providers"))
    out.extend(f"{_key(k)} = {_value(doc[k])}" for k in top)
    for prov in sorted(doc.get("providers", []), key=lambda p: str(p.get("id", ""))):
        out.append("")
        out.append("[[providers]]")
        out.extend(_pairs(prov, PROVIDER_KEYS, skip=("models", "tools")))
        for tools in sorted(prov.get("tools", []), key=_window_order):
            out.append("")
            out.append("[[providers.tools]]")
            out.extend(_pairs(tools, TOOL_WINDOW_KEYS, skip=()))
        for model in sorted(prov.get("models", []), key=lambda m: str(m.get("id", "")).lower()):
            out.append("")
            out.append("[[providers.models]]")
            out.extend(_pairs(model, MODEL_KEYS, skip=("prices",)))
            for window in sorted(model.get("prices", []), key=_window_order):
                out.append("")
                out.append("[[providers.models.prices]]")
                tables = _rate_tables(window)
                out.extend(_pairs(window, WINDOW_KEYS, skip=("tiers", *tables)))
                _tiers(out, "providers.models.prices", window.get("tiers", []))
                _write_tables(out, window, tables)
    return "\n".join(out) + "\n"


def _rate_tables(window: dict[str, Any]) -> tuple[str, ...]:
    """The window keys written as tables of their own: ``batch`` and ``service_tiers`` holding rates (a table);
    as multipliers (numbers) they stay inline."""
    found = []
    if isinstance(window.get("batch"), dict):
        found.append("batch")
    tiers = window.get("service_tiers")
    if isinstance(tiers, dict) and any(isinstance(v, dict) for v in tiers.values()):
        found.append("service_tiers")
    return tuple(found)


def _write_tables(out: list[str], window: dict[str, Any], tables: tuple[str, ...]) -> None:
    """Rates of a service tier or of batch: ``[providers.models.prices.service_tiers.NAME]`` and its long-context
    tiers, after the window's own (TOML lets a later header add to the last window)."""
    base = "providers.models.prices"
    if "service_tiers" in tables:
        tiers = window["service_tiers"]
        numbers = {k: v for k, v in tiers.items() if not isinstance(v, dict)}
        if numbers:
            out.append("")
            out.append(f"[{base}.service_tiers]")
            out.extend(f"{_key(str(k))} = {_value(v)}" for k, v in sorted(numbers.items()))
        for name in sorted(k for k, v in tiers.items() if isinstance(v, dict)):
            where = f"{base}.service_tiers.{_key(str(name))}"
            out.append("")
            out.append(f"[{where}]")
            out.extend(_pairs(tiers[name], TABLE_KEYS, skip=("tiers",)))
            _tiers(out, where, tiers[name].get("tiers"))
    if "batch" in tables:
        out.append("")
        out.append(f"[{base}.batch]")
        out.extend(_pairs(window["batch"], TABLE_KEYS, skip=("tiers",)))
        _tiers(out, f"{base}.batch", window["batch"].get("tiers"))


def _tiers(out: list[str], where: str, tiers: list[dict[str, Any]] | None) -> None:
    if tiers is not None and not tiers and where != "providers.models.prices":
        out.append("tiers = []")  # stated: the same rates at every input size (absent: not published)
    for tier in tiers or ():
        out.append("")
        out.append(f"[[{where}.tiers]]")
        out.extend(_pairs(tier, TIER_KEYS, skip=()))


def _window_order(window: dict[str, Any]) -> tuple[int, dt.date]:
    start = window.get("effective_from")
    return (0, dt.date.min) if not isinstance(start, dt.date) else (1, start)


def _pairs(table: dict[str, Any], order: Iterable[str], skip: tuple[str, ...]) -> list[str]:
    """``key = value`` lines: known keys in schema order, then any other key sorted (kept, never dropped)."""
    known = [k for k in order if k in table]
    extra = sorted(k for k in table if k not in known and k not in skip)
    return [f"{_key(k)} = {_value(table[k])}" for k in (*known, *extra) if table[k] is not None]


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (Decimal, float)):
        return _decimal_text(Decimal(str(value)) if isinstance(value, float) else value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in sorted(value.items())) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _decimal_text(value: Decimal) -> str:
    """Plain notation, no exponent, no trailing zeros; integral values are written as TOML integers (``15``)."""
    if not value.is_finite():
        raise ValueError(f"cannot write {value} to the catalog")
    text = format(_tidy(value), "f")
    return text


def _string(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; DEL must be escaped in TOML but not in JSON.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
