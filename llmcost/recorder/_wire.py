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

Each function returns the value to write and whether it had to change it; callers count the changes. Metadata is
made plain JSON by ``_plain_json`` (imported when metadata is first given).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from llmcost.log import MAX_AMOUNT, MAX_COUNT

__all__ = [
    "CONTENT_MAX",
    "DEPTH_MAX",
    "MESSAGE_MAX",
    "METADATA_MAX",
    "NAME_MAX",
    "TAGS_MAX",
    "TAG_MAX",
    "text_of",
    "valid_unicode",
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


def text_of(value: Any) -> str:
    """Some text for any object (``str()`` may raise, or build something enormous)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[: NAME_MAX * 4]).decode("utf-8", "replace")
    try:
        text = str(value)
    except Exception:
        text = ""
    return text if isinstance(text, str) else ""  # a str subclass whose __str__ returns another type


def valid_unicode(text: str) -> str:
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
        text = text_of(value)[:limit]
        changed = True
    fixed = valid_unicode(text)
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
