"""Metadata made plain JSON for the wire format: text keys, no cycles, nesting and size capped (see ``_wire``).

Kept apart from ``_wire`` and imported on first use: ``import llmcost`` does not need it, and this environment often
compiles sources on import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from llmcost.recorder._wire import DEPTH_MAX, MESSAGE_MAX, METADATA_MAX, NAME_MAX, text_of, valid_unicode

__all__ = ["clean_json"]

_encoder = msgspec.json.Encoder()
_CYCLE = "<cycle>"
_TOO_DEEP = f"<nested deeper than {DEPTH_MAX}>"
_CUT = "<cut: over the size cap>"


class _Walk:
    """One cleaning pass: the bytes left under the cap, the containers on the current path, whether anything
    changed."""

    __slots__ = ("changed", "left", "path")

    def __init__(self, budget: int) -> None:
        self.left = budget
        self.path: set[int] = set()
        self.changed = False


def clean_json(value: Any, cap: int = METADATA_MAX) -> tuple[Any, bool]:
    """``value`` as plain JSON of at most ``cap`` bytes: text keys, lists for sequences and sets, valid Unicode,
    cycles and nesting deeper than ``DEPTH_MAX`` replaced by a marker, objects JSON does not know as their text,
    and what does not fit in the cap cut off (with a marker). Returns the value and whether it changed."""
    walk = _Walk(cap)
    out = _clean(value, walk, 0)
    data = _encoder.encode(out)
    if len(data) > cap:  # the walk estimates sizes from below (escapes, multi-byte characters): cut again
        walk = _Walk(cap * cap // (2 * len(data)))
        out = _clean(value, walk, 0)
        if len(_encoder.encode(out)) > cap:
            return _CUT, True
        walk.changed = True
    return out, walk.changed


def _clean(value: Any, walk: _Walk, depth: int) -> Any:
    kind = type(value)
    if value is None or kind is bool:
        walk.left -= 5
        return value
    if kind is str:
        return _clean_text(value, walk)
    if kind is int:
        walk.left -= 8
        if -(2**64) < value < 2**64:
            return value
        walk.changed = True
        return float(value) if abs(value) < 2**1000 else _clean_text(type(value).__name__, walk)
    if kind is float:
        walk.left -= 8
        return value if math.isfinite(value) else None  # JSON has no NaN or infinity: msgspec writes null too
    if walk.left <= 0:
        walk.changed = True
        return _CUT
    if isinstance(value, (dict, Mapping, list, tuple, set, frozenset)):
        if depth >= DEPTH_MAX:
            walk.changed = True
            return _clean_text(_TOO_DEEP, walk)
        if id(value) in walk.path:
            walk.changed = True
            return _clean_text(_CYCLE, walk)
        walk.path.add(id(value))
        try:
            if isinstance(value, (dict, Mapping)):
                return _clean_mapping(value, walk, depth)
            return _clean_items(value, walk, depth)
        finally:
            walk.path.discard(id(value))
    return _clean_object(value, walk, depth)


def _clean_text(text: str, walk: _Walk) -> str:
    fixed = valid_unicode(text)
    if fixed is not text:
        walk.changed = True
    walk.left -= len(fixed) + 2
    if walk.left < 0:
        walk.changed = True
        keep = max(len(fixed) + walk.left, 0)
        fixed = fixed[:keep]
        walk.left = 0
    return fixed


def _clean_mapping(value: Mapping[Any, Any], walk: _Walk, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    walk.left -= 2
    try:
        items = list(value.items())
    except Exception:
        walk.changed = True
        return out
    for key, item in items:
        if walk.left <= 0:
            walk.changed = True
            out["<cut>"] = _CUT
            break
        if type(key) is str:
            name = _clean_text(key, walk)
        else:
            name = _clean_text(text_of(key)[:NAME_MAX], walk)
            walk.changed = True
        out[name] = _clean(item, walk, depth + 1)
    return out


def _clean_items(value: Any, walk: _Walk, depth: int) -> list[Any]:
    out: list[Any] = []
    walk.left -= 2
    for item in value:
        if walk.left <= 0:
            walk.changed = True
            out.append(_CUT)
            break
        out.append(_clean(item, walk, depth + 1))
    return out


def _clean_object(value: Any, walk: _Walk, depth: int) -> Any:
    """Objects JSON has no type for: what msgspec makes of them (decimals, times, UUIDs, enums, dataclasses, bytes),
    a pydantic model's ``model_dump``, else their text."""
    dump = getattr(value, "model_dump", None)
    try:
        plain = dump(mode="json") if callable(dump) else msgspec.json.decode(_encoder.encode(value))
    except Exception:
        walk.changed = True
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__name__}>"
        return _clean_text(valid_unicode(text[:MESSAGE_MAX]), walk)
    return _clean(plain, walk, depth)
