"""Small, fast helpers of the hot path: timestamps, ids, prompt hashes, error descriptions."""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any

import msgspec

__all__ = ["describe_error", "iso_ms", "new_span_id", "new_trace_id", "prompt_hash"]

# Span ids are a random 40-bit prefix and a 24-bit counter (cheaper than 64 random bits per call); the prefix is
# drawn again when the counter wraps and in a forked child, so ids stay unique across threads and processes.
_prefix_bits = 40
_counter = itertools.count()
_span_prefix = ""
_trace_prefix = ""
_lock = threading.Lock()


def _reseed() -> None:
    global _counter, _span_prefix, _trace_prefix
    _counter = itertools.count(1)
    _span_prefix = os.urandom(_prefix_bits // 8).hex()
    _trace_prefix = os.urandom(8).hex()


_reseed()
os.register_at_fork(after_in_child=_reseed)

_second = -1
_prefix = ""


def new_span_id() -> str:
    """16 hex digits, unique in this process and (with overwhelming probability) across processes."""
    n = next(_counter)
    if n > 0xFFFFFF:
        with _lock:
            _reseed()  # a new prefix; ids handed out before keep theirs
        n = next(_counter)
    return f"{_span_prefix}{n:06x}"


def new_trace_id(span_id: str) -> str:
    """32 hex digits for a new trace whose root span is ``span_id``."""
    return _trace_prefix + span_id


def iso_ms(epoch: float) -> str:
    """``2026-01-31T12:00:00.123Z``; the part up to the second is cached, so this costs one format per call."""
    global _second, _prefix
    sec = int(epoch)
    if sec != _second:
        _prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _second = sec
        return f"{_prefix}.{int((epoch - sec) * 1000):03d}Z"
    return f"{_prefix}.{int((epoch - sec) * 1000):03d}Z"


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
