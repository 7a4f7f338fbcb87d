"""Wire format v1: one JSON object per line, flat snake_case keys (see docs/wire-format.md).

``Record`` is the typed form shared by the recorder (encode) and the live engine (decode). Decoding ignores keys it
does not know, so records written by a newer version keep every field this version understands.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["WIRE_VERSION", "Record", "decode_record", "encode_record", "record_decoder"]

WIRE_VERSION = 1


class Record(msgspec.Struct, kw_only=True, omit_defaults=False, gc=False):
    """One LLM call. Unknown values are ``None``, never ``0``.

    Not tracked by the garbage collector (``gc=False``): a record holds only JSON values and never takes part in a
    reference cycle, and a replay decodes millions of them (tracked, they kept the collector busy for much of it)."""

    v: int = WIRE_VERSION
    ts: str
    start_ts: str | None = None
    id: str
    trace_id: str | None = None
    parent_id: str | None = None
    source: str = "sdk"
    operation: str = "chat"
    provider: str | None = None
    server_address: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    response_id: str | None = None
    stream: bool = False
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    usage_source: str = "none"
    gpu_seconds: float | None = None
    cost_usd: float | None = None
    cost_status: str = "no_usage"
    price_ref: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    status: str = "ok"
    error_type: str | None = None
    error_message: str | None = None
    attempt: int = 0
    fallback_from: str | None = None
    agent: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    workflow: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    prompt_hash: str | None = None
    http_status: int | None = None

    @property
    def model(self) -> str | None:
        """The model that answered, else the one asked for."""
        return self.response_model or self.request_model


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)


def encode_record(record: Record) -> bytes:
    """The record as one JSON line, newline included."""
    return _encoder.encode(record) + b"\n"


def decode_record(line: bytes | str) -> Record:
    """Parse one line; raises ``msgspec.DecodeError`` or ``msgspec.ValidationError`` on bad input."""
    return _decoder.decode(line)


def record_decoder() -> msgspec.json.Decoder[Record]:
    """A decoder for batches: ``decoder.decode_lines(buffer)`` parses many newline-separated records at once."""
    return msgspec.json.Decoder(Record)
