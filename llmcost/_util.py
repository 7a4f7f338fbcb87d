"""Small, fast helpers of the hot path: timestamps, ids, prompt hashes, error descriptions."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import time
from typing import Any

import msgspec

__all__ = ["describe_error", "iso_ms", "new_span_id", "new_trace_id", "prompt_hash", "utc_day"]

_rng = random.Random()
# A forked child must not repeat its parent's ids.
os.register_at_fork(after_in_child=_rng.seed)

_second = -1
_prefix = ""
_day = dt.date(1970, 1, 1)


def new_span_id() -> str:
    """16 hex digits."""
    return f"{_rng.getrandbits(64):016x}"


def new_trace_id() -> str:
    """32 hex digits."""
    return f"{_rng.getrandbits(128):032x}"


def iso_ms(epoch: float) -> str:
    """``2026-01-31T12:00:00.123Z``; the part up to the second is cached, so this costs one format per call."""
    global _second, _prefix, _day
    sec = int(epoch)
    if sec != _second:
        t = time.gmtime(sec)
        _prefix = time.strftime("%Y-%m-%dT%H:%M:%S", t)
        _day = dt.date(t.tm_year, t.tm_mon, t.tm_mday)
        _second = sec
        return f"{_prefix}.{int((epoch - sec) * 1000):03d}Z"
    return f"{_prefix}.{int((epoch - sec) * 1000):03d}Z"


def utc_day(epoch: float) -> dt.date:
    """The UTC date of ``epoch`` (cached with :func:`iso_ms`)."""
    if int(epoch) != _second:
        iso_ms(epoch)
    return _day


def _enc_hook(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)  # pydantic objects (SDK message types)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    if isinstance(obj, (bytes, bytearray)):
        return hashlib.blake2b(obj, digest_size=8).hexdigest()
    return str(obj)


_hash_encoder = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def prompt_hash(*parts: Any) -> str | None:
    """16 hex digits identifying a request's messages (no content is kept); ``None`` when there is nothing."""
    if all(p is None for p in parts):
        return None
    try:
        data = _hash_encoder.encode(parts)
    except Exception:  # a message that cannot be serialised: fall back to its text form
        data = repr(parts).encode("utf-8", "replace")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def describe_error(exc: BaseException) -> tuple[str, str, int | None]:
    """(type name, message cut to 300 characters, HTTP status or ``None``)."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if not isinstance(status, int):
            status = None
    try:
        message = str(exc)
    except Exception:
        message = ""
    return type(exc).__name__, message[:300], status
