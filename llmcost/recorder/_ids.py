"""Small, fast helpers of the hot path: timestamps, ids, prompt hashes, error descriptions."""

from __future__ import annotations

import contextvars
import operator
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec

from llmcost.recorder._wire import MESSAGE_MAX, wire_text

__all__ = ["describe_error", "iso_ms", "new_span_id", "new_trace_id", "prompt_hash"]

# Span ids are a random 40-bit prefix and a 24-bit counter (cheaper than 64 random bits per call); the prefix is
# drawn again when the counter runs out and in a forked child, so ids stay unique across threads and processes.
# ``span_ids`` hands them out already formatted, from iterators written in C (``next()`` on it is one atomic step
# under the GIL, and costs a caller one call): with the prefix kept as ``1 << 64 | prefix << 24``,
# ``hex(base + n)[3:]`` is the id, 16 digits. When it runs out it is replaced whole (see ``new_span_id``).
_prefix_bits = 40
_COUNTER = 1 << 24
_digits = operator.itemgetter(slice(3, None))
span_ids: Iterator[str] = iter(())
_trace_prefix = ""
_lock = threading.Lock()


def _reseed() -> None:
    global span_ids, _trace_prefix
    _trace_prefix = os.urandom(8).hex()
    base = 1 << 64 | int.from_bytes(os.urandom(_prefix_bits // 8), "big") << 24
    span_ids = map(_digits, map(hex, range(base + 1, base + _COUNTER)))


_reseed()
os.register_at_fork(after_in_child=_reseed)

#: (epoch second, "YYYY-MM-DDTHH:MM:SS", "YYYY-MM-DD") of the last timestamp formatted: one tuple, so threads never
#: pair a second with another second's text.
_last_second: tuple[int, str, str] = (-1, "", "")
_MILLIS = tuple([".%03dZ" % i for i in range(1000)])  # noqa: UP031 (fastest to build: import time counts)


def new_span_id() -> str:
    """16 hex digits, unique in this process and (with overwhelming probability) across processes."""
    ids = span_ids
    span = next(ids, None)
    if span is None:
        with _lock:
            if span_ids is ids:
                _reseed()  # a new prefix; ids handed out before keep theirs
        return new_span_id()
    return span


def new_trace_id(span_id: str) -> str:
    """32 hex digits for a new trace whose root span is ``span_id``."""
    return _trace_prefix + span_id


def iso_ms(epoch: float) -> str:
    """``2026-01-31T12:00:00.123Z`` for epoch seconds >= 0 (milliseconds truncated); the text up to the second is
    cached, so a call costs one concatenation."""
    sec = int(epoch)
    last = _last_second
    if sec != last[0]:
        last = second_of(sec)
    return last[1] + _MILLIS[int((epoch - sec) * 1000)]


def second_of(sec: int) -> tuple[int, str, str]:
    """(``sec``, ``2026-01-31T12:00:00``, ``2026-01-31``) for epoch second ``sec``, kept as the cached second of
    :func:`iso_ms`."""
    global _last_second
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    _last_second = last = (sec, text, text[:10])
    return last


def _enc_hook(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)  # pydantic objects (SDK message types)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    if isinstance(obj, (bytes, bytearray)):
        return _blake2b(obj, digest_size=8).hexdigest()
    return str(obj)


def _blake2b(data: bytes | bytearray, digest_size: int) -> Any:
    from hashlib import blake2b  # imported on first use: most processes never hash

    return blake2b(data, digest_size=digest_size)


_hash_encoder = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def prompt_hash(*parts: Any) -> str | None:
    """16 hex digits identifying a request's messages (no content is kept); ``None`` when there is nothing."""
    if all(p is None for p in parts):
        return None
    try:
        data = _hash_encoder.encode(parts)
    except Exception:  # a message that cannot be serialised: fall back to its text form
        data = repr(parts).encode("utf-8", "replace")
    digest: str = _blake2b(data, digest_size=8).hexdigest()
    return digest


def describe_error(exc: BaseException) -> tuple[str, str, int | None]:
    """(type name, message cut to 300 characters, HTTP status from 100 to 599 or ``None``), as the wire format takes
    them (an exception's message may hold anything, lone surrogates included)."""
    status = _status(getattr(exc, "status_code", None))
    if status is None:
        try:
            status = _status(getattr(getattr(exc, "response", None), "status_code", None))
        except Exception:  # a response whose status is a property that raises
            status = None
    try:
        message = str(exc)
    except Exception:
        message = ""
    text, _ = wire_text(message, MESSAGE_MAX)
    name, _ = wire_text(type(exc).__name__)
    return name or "Exception", text or "", status


def _status(value: Any) -> int | None:
    return value if type(value) is int and 100 <= value <= 599 else None


_V = TypeVar("_V")


def restore(var: contextvars.ContextVar[_V], token: contextvars.Token[_V] | None, previous: _V) -> None:
    """Undo ``token = var.set(...)``; when left in another context than it was entered in (where the token is not
    valid), set ``previous`` back instead."""
    if token is None:
        return
    try:
        var.reset(token)
    except ValueError:
        var.set(previous)
