"""Values as the wire format takes them: the recorder's half of the rule in ``llmcost.log.Record``.

A line a reader rejects is a paid call that vanishes from every report, so the recorder never writes one. What a
caller hands over is checked where it comes in (``Tracker.trace``, ``Call.set_usage``, :class:`Attribution`, ...)
and, if the wire format would refuse it, written in a form it takes, with the change counted: a name that is not
text becomes its text, a count that is not a whole number from 0 to 2**53 becomes unknown, metadata becomes plain
JSON with text keys. Nothing is dropped whole where a part can be kept.

Sizes are capped so a line stays far below ``MAX_LINE`` (1 MiB) whatever it holds: a name at ``NAME_MAX``
characters, ``TAGS_MAX`` tags of ``TAG_MAX`` characters, metadata at ``METADATA_MAX`` bytes and captured content at
``CONTENT_MAX`` bytes once encoded, nesting at ``DEPTH_MAX`` levels. Even if every field hit its cap with characters
JSON escapes to six bytes each, the line would stay under about 640 KiB.

Each function returns the value to write and whether it had to change it; callers count the changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from llmcost.log import MAX_AMOUNT, MAX_COUNT

__all__ = [
    "CONTENT_MAX",
    "DEPTH_MAX",
    "MESSAGE_MAX",
    "METADATA_MAX",
    "NAME_MAX",
    "TAGS_MAX",
    "TAG_MAX",
    "clean_json",
    "wire_amount",
    "wire_count",
    "wire_status",
    "wire_tags",
    "wire_text",
]

NAME_MAX = 2048  # characters of a name (model, agent, session, ...): real ones are under a hundred
TAG_MAX = 256  # characters of one tag
TAGS_MAX = 64  # tags on one call
MESSAGE_MAX = 300  # characters of an error message
METADATA_MAX = 64 * 1024  # bytes of metadata, encoded
CONTENT_MAX = 256 * 1024  # bytes of captured prompts and responses (capture_content=True), encoded
DEPTH_MAX = 32  # levels of nesting in metadata

_encoder = msgspec.json.Encoder()
_CYCLE = "<cycle>"
_TOO_DEEP = f"<nested deeper than {DEPTH_MAX}>"
_CUT = "<cut: over the size cap>"


def _text_of(value: Any) -> str:
    """Some text for any object (``str()`` may raise, or build something enormous)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[: NAME_MAX * 4]).decode("utf-8", "replace")
    try:
        text = str(value)
    except Exception:
        text = ""
    return text if isinstance(text, str) else ""  # a str subclass whose __str__ returns another type


def _valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot encode) replaced by U+FFFD; a surrogate pair is joined into
    the character it stands for."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def wire_text(value: Any, limit: int = NAME_MAX) -> tuple[str | None, bool]:
    """``value`` as a wire-format string of at most ``limit`` characters (``None`` stays unknown)."""
    if value is None:
        return None, False
    if isinstance(value, str):
        text = value[:limit]  # a plain str (also of a str subclass); the same object when it is short enough
        changed = len(value) > limit
    else:
        text = _text_of(value)[:limit]
        changed = True
    fixed = _valid_unicode(text)
    return fixed, changed or fixed is not text


def wire_tags(value: Any) -> tuple[tuple[str, ...] | None, bool]:
    """Tags as a tuple of wire strings (a single string is one tag; ``None`` and empty are no tags)."""
    if value is None:
        return None, False
    if isinstance(value, str):
        value = (value,)
    elif not isinstance(value, (list, tuple, set, frozenset)):
        try:
            value = tuple(value) if not isinstance(value, Mapping) else (value,)
        except TypeError:
            value = (value,)
    changed = len(value) > TAGS_MAX
    out = []
    for tag in list(value)[:TAGS_MAX]:
        text, fixed = wire_text(tag, TAG_MAX)
        changed |= fixed
        if text is not None and text not in out:
            out.append(text)
        else:
            changed |= text is None
    return (tuple(out) or None), changed


def wire_count(value: Any) -> tuple[int | None, bool]:
    """A count as the wire format takes it: a whole number from 0 to ``MAX_COUNT`` (a float that is whole, such as
    ``100.0``, is taken as its integer); anything else is unknown."""
    if value is None:
        return None, False
    if type(value) is int:
        return (value, False) if 0 <= value <= MAX_COUNT else (None, True)
    if type(value) is float and value.is_integer() and 0 <= value <= MAX_COUNT:
        return int(value), False
    return None, True


def wire_amount(value: Any) -> tuple[float | None, bool]:
    """An amount (seconds, dollars, milliseconds) as the wire format takes it: finite, from 0 to ``MAX_AMOUNT``."""
    if value is None:
        return None, False
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            return None, True
        if 0 <= number <= MAX_AMOUNT:  # NaN fails both comparisons
            return number, False
    return None, True


def wire_status(value: Any) -> tuple[int | None, bool]:
    """An HTTP status (100 to 599), else unknown."""
    if value is None:
        return None, False
    if type(value) is int and 100 <= value <= 599:
        return value, False
    return None, True


# -- metadata: any object to plain JSON ----------------------------------------------------------------------------


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
    fixed = _valid_unicode(text)
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
            name = _clean_text(_text_of(key)[:NAME_MAX], walk)
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
        return _clean_text(_valid_unicode(text[:MESSAGE_MAX]), walk)
    return _clean(plain, walk, depth)
