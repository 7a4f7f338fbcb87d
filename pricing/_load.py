"""Reading catalog documents (TOML), checking them, and merging override files over the bundled catalog."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from pricing import _paths
from pricing._model import RATE_KEYS, TOOL_KEYS, UNIT_KEYS

__all__ = [
    "CatalogError",
    "bundled_catalog_path",
    "catalog_layers",
    "load_document",
    "merge_documents",
    "parse_document",
    "validate_document",
]

BILLINGS = ("tokens", "free", "dynamic", "gpu_time")
SCHEMA_VERSION = 1

Document = dict[str, Any]


class CatalogError(ValueError):
    """A catalog or override file that cannot be used; the message says which file and what is wrong."""


def bundled_catalog_path() -> Path:
    """The catalog shipped with the package (wheel) or at the repository root (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "pricing_catalog.toml", here.parent / "pricing_catalog.toml"):
        if candidate.is_file():
            return candidate
    raise CatalogError(f"bundled catalog not found next to {here}")


def parse_document(text: str, origin: str = "<string>") -> Document:
    try:
        doc: Document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{origin}: not valid TOML: {exc}") from None
    except RecursionError:
        raise CatalogError(f"{origin}: TOML nested too deeply to be a catalog") from None
    return doc


def load_document(path: Path) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from None
    return parse_document(text, str(path))


def catalog_layers(base: Path | None = None, *, overrides: bool = True) -> list[tuple[Path, bool]]:
    """Files to merge, lowest precedence first, each with whether it is a full catalog (vs an override)."""
    if base is not None:
        layers = [(base, True)]
    else:
        updated = _paths.catalog_dir() / "current.toml"
        layers = [(updated if updated.is_file() else bundled_catalog_path(), True)]
    if overrides:
        for path in (_paths.user_override_file(), _paths.project_override_file()):
            if path.is_file():
                layers.append((path, False))
    return layers


def merge_documents(base: Document, override: Document) -> Document:
    """Providers merge by id (settings replaced key by key); a model with the same id replaces the base model."""
    merged = dict(base)
    providers = {p["id"]: dict(p) for p in base.get("providers", [])}
    for prov in override.get("providers", []):
        pid = prov.get("id")
        target = providers.setdefault(pid, {"id": pid, "name": prov.get("name", pid), "models": []})
        models = {m.get("id"): m for m in target.get("models", [])}
        for key, value in prov.items():
            if key != "models":
                target[key] = value
        for model in prov.get("models", []):
            models[model.get("id")] = model
        target["models"] = list(models.values())
    merged["providers"] = list(providers.values())
    return merged


def _is_number(v: object) -> bool:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def _check_rates(where: str, raw: dict[str, Any], errors: list[str], keys: tuple[str, ...] = ()) -> None:
    for key in keys or (*RATE_KEYS, *UNIT_KEYS, *TOOL_KEYS):
        if key in raw:
            value = raw[key]
            if not _is_number(value):
                errors.append(f"{where}: {key} must be a number, got {value!r}")
            elif value < 0:
                errors.append(f"{where}: {key} cannot be negative ({value})")


def _check_window(where: str, w: dict[str, Any], strict: bool, errors: list[str]) -> None:
    _check_rates(where, w, errors)
    _check_dates(where, w, strict, errors)
    _check_tiers(where, w.get("tiers", []), errors)
    tiers = w.get("service_tiers", {})
    if not isinstance(tiers, dict):
        errors.append(f"{where}: service_tiers must be a table of tier names")
        tiers = {}
    for name, value in tiers.items():
        _check_modifier(f"{where} service tier {name!r}", value, errors)
    if "batch" in w:
        _check_modifier(f"{where} batch", w["batch"], errors)


def _check_dates(where: str, w: dict[str, Any], strict: bool, errors: list[str]) -> None:
    for key in ("effective_from", "effective_until", "checked"):
        if key in w and not isinstance(w[key], dt.date):
            errors.append(f"{where}: {key} must be a date (YYYY-MM-DD), got {w[key]!r}")
    start, end = w.get("effective_from"), w.get("effective_until")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end <= start:
        errors.append(f"{where}: effective_until {end} is not after effective_from {start}")
    if strict:
        for key in ("source", "checked"):
            if key not in w:
                errors.append(f"{where}: missing {key}")


def _check_tiers(where: str, tiers: object, errors: list[str]) -> None:
    if not isinstance(tiers, list):
        errors.append(f"{where}: tiers must be an array of tables")
        return
    last = -1
    for i, tier in enumerate(tiers):
        if not isinstance(tier, dict):
            errors.append(f"{where}: tier {i} must be a table")
            continue
        threshold = tier.get("above_input_tokens")
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold <= last:
            errors.append(f"{where}: tier {i} needs an ascending integer above_input_tokens")
        else:
            last = threshold
        _check_rates(f"{where} tier {i}", tier, errors, RATE_KEYS)


def _check_modifier(where: str, value: object, errors: list[str]) -> None:
    """A service tier or batch price: a non-negative multiplier, or a table of rates (with optional tiers)."""
    if isinstance(value, dict):
        _check_rates(where, value, errors, RATE_KEYS)
        if not any(k in value for k in RATE_KEYS):
            errors.append(f"{where}: a table of rates needs at least one rate")
        if "checked" in value and not isinstance(value["checked"], dt.date):
            errors.append(f"{where}: checked must be a date (YYYY-MM-DD), got {value['checked']!r}")
        if "tiers" in value:
            _check_tiers(where, value["tiers"], errors)
    elif not _is_number(value) or value < 0:  # type: ignore[operator]
        errors.append(f"{where}: must be a non-negative multiplier or a table of rates, got {value!r}")


def _check_multipliers(where: str, table: dict[str, Any], errors: list[str]) -> None:
    """``batch`` and ``service_tiers`` of a provider or model: non-negative multipliers."""
    if "batch" in table and (not _is_number(table["batch"]) or table["batch"] < 0):
        errors.append(f"{where}: batch must be a non-negative number")
    tiers = table.get("service_tiers", {})
    if not isinstance(tiers, dict):
        errors.append(f"{where}: service_tiers must be a table of multipliers")
        return
    for name, value in tiers.items():
        if not _is_number(value) or value < 0:
            errors.append(f"{where}: service tier {name!r} must be a non-negative multiplier, got {value!r}")


def _check_tool_windows(where: str, windows: object, strict: bool, errors: list[str]) -> None:
    if not isinstance(windows, list):
        errors.append(f"{where}: tools must be an array of tables ([[providers.tools]])")
        return
    for i, w in enumerate(windows):
        if not isinstance(w, dict):
            errors.append(f"{where} tools {i}: must be a table")
            continue
        _check_rates(f"{where} tools {i}", w, errors, TOOL_KEYS)
        _check_dates(f"{where} tools {i}", w, strict, errors)
    if all(isinstance(w, dict) for w in windows):
        _check_windows(f"{where} tools", windows, errors)


def _check_windows(where: str, windows: list[dict[str, Any]], errors: list[str]) -> None:
    """Windows are oldest first and never overlap: each starts no earlier than the previous one ends."""
    for i in range(1, len(windows)):
        prev_end = windows[i - 1].get("effective_until")
        start = windows[i].get("effective_from")
        if start is None:
            errors.append(f"{where}: window {i} needs effective_from")
        elif prev_end is None:
            errors.append(f"{where}: window {i - 1} is open-ended but window {i} follows it")
        elif isinstance(prev_end, dt.date) and isinstance(start, dt.date) and start < prev_end:
            errors.append(f"{where}: window {i} starts {start}, before window {i - 1} ends {prev_end}")


def validate_document(doc: Document, *, strict: bool = True) -> list[str]:
    """Schema checks for a full catalog (``strict``) or an override file. Returns the problems found."""
    errors: list[str] = []
    if strict:
        if doc.get("schema_version") != SCHEMA_VERSION:
            errors.append(f"schema_version must be {SCHEMA_VERSION}, got {doc.get('schema_version')!r}")
        if not isinstance(doc.get("catalog_version"), str):
            errors.append("catalog_version (a string) is missing")
    providers = doc.get("providers", [])
    if not isinstance(providers, list):
        return [*errors, "providers must be an array of tables ([[providers]])"]
    seen_providers: set[str] = set()
    for p in providers:
        pid = p.get("id")
        if not isinstance(pid, str) or not pid:
            errors.append(f"a provider has no id: {p.get('name')!r}")
            continue
        if pid in seen_providers:
            errors.append(f"provider {pid}: declared twice")
        seen_providers.add(pid)
        if p.get("billing", "tokens") not in BILLINGS:
            errors.append(f"provider {pid}: billing must be one of {', '.join(BILLINGS)}")
        _check_multipliers(f"provider {pid}", p, errors)
        if "tools" in p:
            _check_tool_windows(f"provider {pid}", p["tools"], strict, errors)
        seen_models: set[str] = set()
        for m in p.get("models", []):
            mid = m.get("id")
            where = f"{pid}/{mid}"
            if not isinstance(mid, str) or not mid:
                errors.append(f"provider {pid}: a model has no id")
                continue
            if mid.lower() in seen_models:
                errors.append(f"{where}: declared twice")
            seen_models.add(mid.lower())
            billing = m.get("billing", p.get("billing", "tokens"))
            if billing not in BILLINGS:
                errors.append(f"{where}: billing must be one of {', '.join(BILLINGS)}")
            _check_multipliers(where, m, errors)
            windows = m.get("prices", [])
            if billing in ("tokens", "gpu_time") and not windows:
                errors.append(f"{where}: no prices")
            for i, w in enumerate(windows):
                _check_window(f"{where} window {i}", w, strict, errors)
            _check_windows(where, windows, errors)
    return errors
