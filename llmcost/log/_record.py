"""Wire format v1: one JSON object per line, flat snake_case keys (see docs/wire-format.md).

``Record`` is the typed form shared by the recorder (encode) and every reader (decode), and it is the one rule of
what a valid line is. A line is valid when it is one JSON object of at most ``MAX_LINE`` bytes of UTF-8 that decodes
into ``Record``:

- every known key has its type (a token count is a JSON integer, ``100.0`` is not; a name is a string);
- counts (tokens, ``attempt``) are whole numbers from 0 to 2**53; ``http_status`` is 100 to 599;
- amounts (``cost_usd``, ``gpu_seconds``, ``latency_ms``, ``ttft_ms``) are finite and from 0 to ``MAX_AMOUNT``;
- ``ts`` (and ``start_ts`` when present) is an ISO-8601 UTC time that exists (no hour 25, no February 30), in the
  forms and the range :func:`llmcost.log.epoch` takes.

Readers count any other line as malformed, and skip it; the recorder writes only lines that pass (it coerces or drops
what would not). Decoding ignores keys it does not know, so records written by a newer version keep every field this
version understands, whatever they hold, except that arrays and objects nest at most ``MAX_DEPTH`` deep in a line
(the record's own braces count as one level; brackets inside text do not), even under a key nobody reads: a deeper
line is malformed on every Python, whatever depth its decoder could follow.

Readers that decode many lines at once may decode into :data:`RecordFields` (the same fields, types and constraints,
built from ``Record`` itself) and check the times of the whole batch with :func:`times_checked`: the same rule,
without a Python call per line. ``decode_block`` in ``llmcost.log`` is the one place that applies it.
"""

from __future__ import annotations

import re
from functools import partial
from operator import attrgetter, is_not
from typing import Annotated, Any

import msgspec

from llmcost.log._time import epoch, times_exist

__all__ = [
    "BILLED_COUNTS",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "MAX_DEPTH",
    "WIRE_VERSION",
    "Amount",
    "Count",
    "Record",
    "RecordFields",
    "decode_record",
    "encode_record",
    "record_decoder",
    "times_checked",
    "too_deep",
]

WIRE_VERSION = 1
MAX_COUNT = 2**53  # tokens and attempts: exact as JSON numbers everywhere, far beyond any real call
MAX_AMOUNT = 1e9  # dollars of one call, GPU seconds, milliseconds: sums stay exact in pico-dollars
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Amount = Annotated[float, msgspec.Meta(ge=0, le=MAX_AMOUNT)]
HttpStatus = Annotated[int, msgspec.Meta(ge=100, le=599)]
MAX_DEPTH = 64  # arrays and objects in one line, the record's braces included; the recorder's metadata stays at 34


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
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None
    reasoning_output_tokens: Count | None = None
    usage_source: str = "none"
    gpu_seconds: Amount | None = None
    cost_usd: Amount | None = None
    cost_status: str = "no_usage"
    price_ref: str | None = None
    latency_ms: Amount | None = None
    ttft_ms: Amount | None = None
    status: str = "ok"
    error_type: str | None = None
    error_message: str | None = None
    attempt: Count = 0
    fallback_from: str | None = None
    agent: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    workflow: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    prompt_hash: str | None = None
    http_status: HttpStatus | None = None
    #: The machine that recorded the call (the recorder's host name; an OTLP span's resource ``host.name``). A line
    #: written before this field existed has none: it reads as ``None``, as any unknown value does.
    host: str | None = None
    #: What the provider billed beyond the tokens (additions to v1: a line written before them reads ``None``,
    #: ``False``, ``None``). The service tier the call was served with, as the provider names it (``default``,
    #: ``flex``, ``priority``, ``standard``, ``batch``, ...; the requested one when the response names none).
    service_tier: str | None = None
    #: Billed through a batch API (the caller said so, or Anthropic reported the ``batch`` tier).
    batch: bool = False
    #: The one-hour part of ``cache_creation_input_tokens`` (a subset of it: the five-minute writes are the rest).
    cache_creation_1h_input_tokens: Count | None = None
    #: Server-side tools billed per use, as the response counts them (see ``pricing.Usage``).
    web_search_requests: Count | None = None
    web_fetch_requests: Count | None = None
    file_search_calls: Count | None = None
    code_interpreter_sessions: Count | None = None
    grounded_prompts: Count | None = None

    def __post_init__(self) -> None:
        epoch(self.ts)  # a time that does not exist raises ValueError: the line is malformed
        if self.start_ts is not None:
            epoch(self.start_ts)

    @property
    def model(self) -> str | None:
        """The model that answered, else the one asked for."""
        return self.response_model or self.request_model


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)


#: The counts a call is billed by beyond its token buckets, by their field names in ``Record``'s order: the one-hour
#: cache writes, then one counter per server-side tool (``pricing.TOOLS``' counters, in their order).
BILLED_COUNTS: tuple[str, ...] = Record.__struct_fields__[
    Record.__struct_fields__.index("cache_creation_1h_input_tokens") : Record.__struct_fields__.index(
        "grounded_prompts"
    )
    + 1
]


def encode_record(record: Record) -> bytes:
    """The record as one JSON line, newline included."""
    return _encoder.encode(record) + b"\n"


def decode_record(line: bytes | str) -> Record:
    """Parse one line; raises ``ValueError`` (``msgspec.DecodeError`` and ``msgspec.ValidationError`` are ones) on a
    line that is not valid."""
    if too_deep(line):
        raise msgspec.DecodeError(f"arrays and objects nested more than {MAX_DEPTH} deep")
    return _decoder.decode(line)


_OPENINGS = bytes.maketrans(b"[", b"{")
_NOT_OPENING_NOR_NEWLINE = bytes(c for c in range(256) if c not in b"[{\n")
_MANY_OPENINGS = b"{" * (MAX_DEPTH + 1)
_TEXT_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{\]}]', re.DOTALL)


def too_deep(lines: bytes | bytearray | memoryview | str) -> bool:
    """Whether a line of ``lines`` (one, or many separated by newlines) nests arrays and objects more than
    ``MAX_DEPTH`` deep.

    Only a line with more than ``MAX_DEPTH`` brackets that open can, and those are found for the whole block at once
    (the bytes cut down to opening brackets and newlines); each such line is then walked, its text skipped."""
    data = lines.encode("utf-8", "surrogatepass") if isinstance(lines, str) else bytes(lines)
    if _MANY_OPENINGS not in data.translate(_OPENINGS, _NOT_OPENING_NOR_NEWLINE):
        return False
    return any(
        _depth(line) > MAX_DEPTH for line in data.split(b"\n") if line.count(b"[") + line.count(b"{") > MAX_DEPTH
    )


def _depth(line: bytes) -> int:
    deepest = depth = 0
    for token in _TEXT_OR_BRACKET.finditer(line):
        first = token[0][:1]
        if first == b'"':
            continue
        if first in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def record_decoder() -> msgspec.json.Decoder[Record]:
    """A decoder for batches: ``decoder.decode_lines(buffer)`` parses many newline-separated records at once."""
    return msgspec.json.Decoder(Record)


def _twin() -> Any:
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(Record):
        if f.required:
            fields.append((f.name, f.type))
        elif f.default is msgspec.NODEFAULT:
            fields.append((f.name, f.type, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, f.type, f.default))
    return msgspec.defstruct("RecordFields", fields, kw_only=True, gc=False, module=__name__)


#: ``Record``'s fields with their types and constraints, in its order, without the check of the times: for readers
#: that check the times of many records at once (:func:`times_checked`) instead of one Python call per record.
#: Built from ``Record``, so the two cannot drift apart.
RecordFields: Any = _twin()
_TS = attrgetter("ts")
_START_TS = attrgetter("start_ts")
_not_none = partial(is_not, None)


def times_checked(records: list[Any]) -> bool:
    """Whether the times of every record (``ts``, and ``start_ts`` when present) pass ``Record``'s rule; for
    :data:`RecordFields` decoded in bulk. The stamps are checked all at once when they are in the recorder's form."""
    return times_exist(list(map(_TS, records))) and times_exist(list(filter(_not_none, map(_START_TS, records))))
