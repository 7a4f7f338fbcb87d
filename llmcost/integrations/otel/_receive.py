"""OTLP traces in, records out: the receiving half of the OpenTelemetry integration. Pure: no sockets, no files.

A request body, protobuf (``ExportTraceServiceRequest``) or OTLP/JSON, is read into :class:`ReceivedSpan` objects
(:func:`parse_traces`), and every span that is a GenAI model call becomes a :class:`~llmcost.log.Record`
(:func:`spans_to_records`):

- our own spans (``llmcost export --otlp``, ``export_to``) carry ``llmcost.*`` attributes beside the GenAI ones and
  give back the record they were made from, ids included;
- spans of other instrumentations are read by the GenAI semantic-convention names, current and older spellings
  (``gen_ai.provider.name`` or ``gen_ai.system``, ``gen_ai.usage.cache_read.input_tokens`` or
  ``gen_ai.usage.cache_read_input_tokens``, ...), and priced with the catalog unless they carry a cost
  (``gen_ai.usage.cost.amount`` in USD).

A call is a span with ``gen_ai.operation.name`` or a model, other than the agent, tool and workflow steps that
wrap calls (they repeat their calls' usage: counting them too would count it twice), and not a SERVER, PRODUCER or
CONSUMER span (a model server's own span of a call its client reports too). Every other span is *ignored*. A call
that cannot be a valid record (ids that are not hex, no end time, a value the wire format refuses that we cannot
leave unknown) is *rejected*: counted, never raised.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from llmcost.integrations.otel._spans import _id
from llmcost.log import BILLED_COUNTS, MAX_AMOUNT, MAX_COUNT, Record, iso

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = ["BadRequest", "Conversion", "ReceivedSpan", "is_call", "parse_traces", "span_to_record", "spans_to_records"]

# Span kinds (the protobuf enum's numbers, which OTLP/JSON uses too).
_SERVER, _PRODUCER, _CONSUMER = 2, 4, 5
_STATUS_ERROR = 2
_KIND_NAMES = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}

# Steps that contain model calls rather than being one (GenAI conventions' operation names).
_NOT_CALLS = frozenset({"create_agent", "invoke_agent", "execute_tool", "invoke_workflow", "retrieval"})

# gen_ai.provider.name / gen_ai.system values that name a provider the catalog knows by another id.
_PROVIDERS = {
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "aws.bedrock": "bedrock",
    "mistral_ai": "mistral",
    "x_ai": "xai",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.inference": "azure",
}

# Token counters, the current name first, then the older spellings still sent by some instrumentations.
_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
_CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.input_tokens.cached",
)
_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.input_tokens.cache_write",
)
_REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.output_tokens.reasoning",
)
# Record keys read as text, straight from the attribute of the same meaning.
_TEXTS = (
    ("operation", "gen_ai.operation.name"),
    ("server_address", "server.address"),
    ("request_model", "gen_ai.request.model"),
    ("response_model", "gen_ai.response.model"),
    ("response_id", "gen_ai.response.id"),
    ("agent", "gen_ai.agent.name"),
    ("session_id", "gen_ai.conversation.id"),
    ("user_id", "user.id"),
    ("workflow", "gen_ai.workflow.name"),
)
_STATUSES = frozenset({"ok", "error", "cancelled"})
_COST_STATUSES = frozenset({"priced", "free", "provider_reported", "unknown_model", "no_usage", "dynamic"})

# Every text is cut, and lists and maps are bounded, so a record stays a short line whatever a sender puts in.
_NAME_MAX = 1024
_MESSAGE_MAX = 300  # as the recorder cuts error messages
_TAGS_MAX = 64
_METADATA_MAX = 64


class BadRequest(ValueError):
    """The body is not an ``ExportTraceServiceRequest`` (protobuf or OTLP/JSON): the whole request is refused."""


@dataclass(slots=True)
class ReceivedSpan:
    """One span as it arrived: ids in lower-case hex, times in nanoseconds, attributes as Python values."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int = 0
    status_message: str = ""
    resource: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Conversion:
    """What a request gave: ``records``; ``ignored`` spans that are not calls; ``rejected`` calls (and unreadable
    spans) that could not become records, with the first reason in ``error``."""

    records: list[Record] = field(default_factory=list)
    ignored: int = 0
    rejected: int = 0
    error: str | None = None

    def reject(self, why: str, count: int = 1) -> None:
        self.rejected += count
        if self.error is None:
            self.error = why


class _BadSpan(ValueError):
    """One span that cannot be read or turned into a record."""


# -- reading a request ----------------------------------------------------------------------------------------------


def parse_traces(body: bytes, json: bool) -> tuple[list[ReceivedSpan], Conversion]:
    """The spans of an OTLP/HTTP traces body (protobuf, or OTLP/JSON when ``json``), and a :class:`Conversion` that
    counts the spans that could not be read. Raises :class:`BadRequest` when the body is not a request at all."""
    out = Conversion()
    try:
        spans = list(_json_spans(body, out) if json else _protobuf_spans(body, out))
    except RecursionError:  # values nested thousands deep: an attack, not telemetry
        raise BadRequest("values nested too deeply") from None
    return spans, out


def _protobuf_spans(body: bytes, out: Conversion) -> Iterator[ReceivedSpan]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        request = ExportTraceServiceRequest.FromString(body)
    except Exception as exc:  # protobuf's DecodeError (its module has no type information, hence not named)
        raise BadRequest(f"not an ExportTraceServiceRequest: {exc}") from None
    for rs in request.resource_spans:
        resource = {kv.key: _pb_value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                try:
                    if len(s.trace_id) != 16 or len(s.span_id) != 8 or len(s.parent_span_id) not in (0, 8):
                        raise _BadSpan("a span id or trace id of the wrong length")
                    yield ReceivedSpan(
                        trace_id=_nonzero(s.trace_id.hex()),
                        span_id=_nonzero(s.span_id.hex()),
                        parent_id=s.parent_span_id.hex() if any(s.parent_span_id) else None,
                        name=s.name,
                        kind=s.kind,
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        attributes={kv.key: _pb_value(kv.value) for kv in s.attributes},
                        status_code=s.status.code,
                        status_message=s.status.message,
                        resource=resource,
                    )
                except _BadSpan as exc:
                    out.reject(str(exc))


def _pb_value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind)


def _json_spans(body: bytes, out: Conversion) -> Iterator[ReceivedSpan]:
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"not JSON: {exc}") from None
    for rs in _list(doc, "resourceSpans"):
        resource = _json_attributes(_dict(rs, "resource").get("attributes"))
        for ss in _list(rs, "scopeSpans"):
            for s in _list(ss, "spans"):
                try:
                    yield _json_span(s, resource)
                except _BadSpan as exc:
                    out.reject(str(exc))


def _list(parent: Any, key: str) -> list[Any]:
    if not isinstance(parent, dict):
        raise BadRequest(f"{key}: expected inside an object")
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{key}: expected a list")
    return value


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _json_span(s: Any, resource: Mapping[str, Any]) -> ReceivedSpan:
    if not isinstance(s, dict):
        raise _BadSpan("a span that is not a JSON object")
    status = _dict(s, "status")
    message = status.get("message")
    return ReceivedSpan(
        trace_id=_hex_id(s.get("traceId"), 32),
        span_id=_hex_id(s.get("spanId"), 16),
        parent_id=_hex_id(s.get("parentSpanId"), 16) if s.get("parentSpanId") else None,
        name=s["name"] if isinstance(s.get("name"), str) else "",
        kind=_enum(s.get("kind"), _KIND_NAMES),
        start_ns=_uint64(s.get("startTimeUnixNano")),
        end_ns=_uint64(s.get("endTimeUnixNano")),
        attributes=_json_attributes(s.get("attributes")),
        status_code=_enum(status.get("code"), _STATUS_NAMES),
        status_message=message if isinstance(message, str) else "",
        resource=resource,
    )


def _hex_id(value: Any, digits: int) -> str:
    """OTLP/JSON ids are hex (not base64, unlike the generic protobuf JSON mapping)."""
    if not isinstance(value, str) or len(value) != digits:
        raise _BadSpan(f"an id that is not {digits} hex digits")
    try:
        int(value, 16)
    except ValueError:
        raise _BadSpan(f"an id that is not {digits} hex digits") from None
    return _nonzero(value.lower())


def _nonzero(hex_id: str) -> str:
    if not hex_id.strip("0"):
        raise _BadSpan("an all-zero id")
    return hex_id


def _uint64(value: Any) -> int:
    """int64 fields are strings in OTLP/JSON; numbers are accepted too."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if value is None:
        return 0
    raise _BadSpan("a time that is not a whole number of nanoseconds")


def _enum(value: Any, names: Mapping[str, int]) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return names.get(value, 0)
    return 0


def _json_attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    out: dict[str, Any] = {}
    for kv in items:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = _json_value(kv.get("value"))
    return out


def _json_value(v: Any) -> Any:
    """An AnyValue of OTLP/JSON: ``{"stringValue": ...}``, ``{"intValue": "12"}``, ``{"arrayValue": {...}}``, ..."""
    if not isinstance(v, dict) or not v:
        return None
    kind, value = next(iter(v.items()))
    if kind in ("stringValue", "boolValue"):
        return value
    if kind == "intValue":
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if kind == "doubleValue":
        try:
            return float(value)  # also "NaN", "Infinity": the JSON mapping spells them as strings
        except (TypeError, ValueError):
            return None
    if kind == "arrayValue" and isinstance(value, dict):
        values = value.get("values")
        return [_json_value(x) for x in values] if isinstance(values, list) else []
    if kind == "kvlistValue" and isinstance(value, dict):
        return _json_attributes(value.get("values"))
    if kind == "bytesValue" and isinstance(value, str):
        try:
            return base64.b64decode(value)
        except (binascii.Error, ValueError):
            return None
    return None


# -- spans to records -------------------------------------------------------------------------------------------------


def spans_to_records(
    spans: Iterable[ReceivedSpan], catalog: Catalog | None = None, into: Conversion | None = None
) -> Conversion:
    """Every call among ``spans`` as a record (see the module docstring), counted into ``into`` (or a new
    :class:`Conversion`). ``catalog`` prices the calls that came without a cost; without one they stay unpriced.

    A call without ``gen_ai.agent.name`` takes it from the nearest agent span above it in the same request (agent
    frameworks name the agent once, on ``invoke_agent``), else from the sender's ``service.name``.
    """
    out = into if into is not None else Conversion()
    spans = list(spans)
    agents = {s.span_id: (s.parent_id, _text(s.attributes, "gen_ai.agent.name")) for s in spans}
    for span in spans:
        if not is_call(span):
            out.ignored += 1
            continue
        try:
            record = span_to_record(span, catalog, agent=_inherited_agent(span, agents))
        except _BadSpan as exc:
            out.reject(str(exc))
            continue
        out.records.append(record)
    return out


def is_call(span: ReceivedSpan) -> bool:
    """Whether the span is one model call (see the module docstring)."""
    a = span.attributes
    if isinstance(a.get("llmcost.source"), str):
        return True
    if span.kind in (_SERVER, _PRODUCER, _CONSUMER):
        return False
    operation = a.get("gen_ai.operation.name")
    if operation is not None:
        return not (isinstance(operation, str) and operation in _NOT_CALLS)  # a list is unhashable: check the type
    return "gen_ai.request.model" in a or "gen_ai.response.model" in a


def _inherited_agent(span: ReceivedSpan, agents: Mapping[str, tuple[str | None, str | None]]) -> str | None:
    parent = span.parent_id
    for _ in range(64):  # a parent chain that loops (a broken sender) must not hang the receiver
        if parent is None or parent not in agents:
            return None
        parent, name = agents[parent]
        if name is not None:
            return name
    return None


def span_to_record(span: ReceivedSpan, catalog: Catalog | None = None, *, agent: str | None = None) -> Record:
    """The record of one call span (whether it is one: :func:`is_call`); ``agent`` is used when the span names
    none. Raises ``ValueError`` for a span that cannot be a valid record."""
    a = span.attributes
    ours = isinstance(a.get("llmcost.source"), str)
    if not 0 < span.end_ns < 2**63:
        raise _BadSpan("a span without an end time")
    try:
        ts = _iso_ns(span.end_ns)
        start_ts = _iso_ns(span.start_ns) if 0 < span.start_ns <= span.end_ns else None
    except (ValueError, OverflowError, OSError):
        raise _BadSpan("a time out of range") from None
    status = _status(span, ours)
    error_type = _text(a, "error.type") if status != "ok" else None
    error_message = (span.status_message[:_MESSAGE_MAX] or None) if status != "ok" else None
    if ours:
        # What the export fills in for a failed call's missing parts: "_OTHER" (the conventions' value) for no type,
        # the type as the description for no message.
        error_type = None if error_type == "_OTHER" else error_type
        error_message = None if error_message == error_type else error_message
    fields: dict[str, Any] = {
        "ts": ts,
        "start_ts": start_ts,
        "id": span.span_id,
        "trace_id": None if ours and span.trace_id == _derived_trace_id(span.span_id) else span.trace_id,
        "parent_id": span.parent_id,
        "stream": a.get("gen_ai.request.stream") is True,
        "status": status,
        "error_type": error_type,
        "error_message": error_message,
        "http_status": _http_status(a.get("http.response.status_code")),
        "host": _text(span.resource, "host.name") or None,  # the sender's machine: a fleet's monitor groups by it
    }
    for name, key in _TEXTS:  # a loop rather than a call per field: this runs for every span of a fleet
        value = a.get(key)
        fields[name] = value[:_NAME_MAX] if type(value) is str else None
    fields["operation"] = fields["operation"] or "chat"
    fields.update(_ours(a) if ours else _theirs(a, span, fields, agent))
    _usage(a, fields, ours)
    _billing(a, fields)
    _cost(a, fields, ours, catalog, span.end_ns / 1e9)
    try:
        return msgspec.convert(fields, Record)  # the wire format's rule, as every reader applies it
    except (msgspec.ValidationError, ValueError) as exc:
        raise _BadSpan(f"a call the wire format refuses: {exc}") from None


def _status(span: ReceivedSpan, ours: bool) -> str:
    if ours:
        status = span.attributes.get("llmcost.status")
        if isinstance(status, str) and status in _STATUSES:
            return str(status)
    return "error" if span.status_code == _STATUS_ERROR else "ok"


def _derived_trace_id(span_id: str) -> str:
    """The trace id the export makes up for a record without one (so that record comes back without one)."""
    return f"{_id(f'trace:{span_id}', 128):032x}"


def _ours(a: Mapping[str, Any]) -> dict[str, Any]:
    """What only our own export carries (``llmcost.*``): the record's remaining fields, as they were."""
    tags = a.get("llmcost.tags")
    metadata = {
        key[len("llmcost.metadata.") :]: value
        for key, value in a.items()
        if key.startswith("llmcost.metadata.") and isinstance(value, (str, bool, int, float))
    }
    return {
        "source": _text(a, "llmcost.source") or "otlp",
        "provider": _text(a, "gen_ai.provider.name"),
        "latency_ms": _amount(a.get("llmcost.latency_ms")),
        "ttft_ms": _amount(a.get("llmcost.ttft_ms")),
        "attempt": _count(a, ("llmcost.attempt",)) or 0,
        "fallback_from": _text(a, "llmcost.fallback_from"),
        "prompt_hash": _text(a, "llmcost.prompt_hash"),
        "gpu_seconds": _amount(a.get("llmcost.gpu_seconds")),
        "tags": [str(t)[:_NAME_MAX] for t in tags[:_TAGS_MAX]] if isinstance(tags, list) and tags else None,
        "metadata": dict(list(metadata.items())[:_METADATA_MAX]) or None,
    }


def _theirs(a: Mapping[str, Any], span: ReceivedSpan, fields: Mapping[str, Any], agent: str | None) -> dict[str, Any]:
    """A span of another instrumentation: the provider by our ids, times from the span, the agent (its own, an
    enclosing agent span's, else the service's), where it came from."""
    provider = _text(a, "gen_ai.provider.name") or _text(a, "gen_ai.system")
    latency = (span.end_ns - span.start_ns) / 1e6 if fields["start_ts"] is not None else None
    ttft = a.get("gen_ai.response.time_to_first_chunk")
    service = _text(span.resource, "service.name")
    if service is not None and service.startswith("unknown_service"):
        service = None  # the SDK's placeholder names no one
    service_name = _text(span.resource, "service.name")
    return {
        "source": "otlp",
        "provider": _PROVIDERS.get(provider.lower(), provider.lower()) if provider else None,
        "latency_ms": _amount(None if latency is None else round(latency, 3)),
        "ttft_ms": _amount(ttft * 1000 if isinstance(ttft, (int, float)) and not isinstance(ttft, bool) else None),
        "agent": fields["agent"] or agent or service,
        "metadata": {"service.name": service_name} if service_name else None,
    }


def _usage(a: Mapping[str, Any], fields: dict[str, Any], ours: bool) -> None:
    inp, out = _count(a, _INPUT), _count(a, _OUTPUT)
    read, write, reasoning = _count(a, _CACHE_READ), _count(a, _CACHE_WRITE), _count(a, _REASONING)
    if not ours:
        # The conventions count cache reads and writes inside input tokens, and reasoning inside output tokens, as
        # the wire format does. A sender whose parts outnumber the total counted them apart (Anthropic's own usage,
        # Gemini's thoughts): add them, rather than refuse the call as impossible usage.
        cached = (read or 0) + (write or 0)
        if inp is not None and cached > inp:
            inp += cached
        if out is not None and reasoning is not None and reasoning > out:
            out += reasoning
    fields.update(
        input_tokens=inp,
        output_tokens=out,
        cache_read_input_tokens=read,
        cache_creation_input_tokens=write,
        reasoning_output_tokens=reasoning,
    )
    source = _text(a, "llmcost.usage_source") if ours else None
    fields["usage_source"] = source or ("provider" if inp is not None or out is not None else "none")


#: The service tier: ours, then the conventions' OpenAI names (current, then the older one).
_TIERS = ("llmcost.service_tier", "openai.response.service_tier", "gen_ai.openai.response.service_tier")


def _billing(a: Mapping[str, Any], fields: dict[str, Any]) -> None:
    """The service tier, batch, one-hour cache writes and tool counts a span carries (a call is priced with them)."""
    tier = None
    for key in _TIERS:
        tier = _text(a, key)
        if tier:
            break
    fields["service_tier"] = tier or None
    fields["batch"] = a.get("llmcost.batch") is True
    for name in BILLED_COUNTS:  # the one-hour cache writes and the tool counters, as llmcost.<name>
        fields[name] = _count(a, (f"llmcost.{name}",))


def _cost(a: Mapping[str, Any], fields: dict[str, Any], ours: bool, catalog: Catalog | None, at: float) -> None:
    if ours:
        status = _text(a, "llmcost.cost_status")
        fields["cost_usd"] = _amount(a.get("llmcost.cost_usd"))
        fields["cost_status"] = status if status in _COST_STATUSES else "no_usage"
        fields["price_ref"] = _text(a, "llmcost.price_ref")
        return
    amount = _amount(a.get("gen_ai.usage.cost.amount"))
    currency = a.get("gen_ai.usage.cost.currency", "USD")
    if amount is not None and isinstance(currency, str) and currency.upper() == "USD":
        # A cost the sender reports (from the provider, a gateway, or its own table) wins over ours, as a cost the
        # provider returns does in the recorder.
        fields.update(cost_usd=amount, cost_status="provider_reported", price_ref=None)
        return
    fields.update(_price(fields, catalog, at))


def _price(fields: Mapping[str, Any], catalog: Catalog | None, at: float) -> dict[str, Any]:
    unpriced: dict[str, Any] = {"cost_usd": None, "price_ref": None}
    if fields["usage_source"] == "none":
        return {**unpriced, "cost_status": "no_usage"}
    model = fields["response_model"] or fields["request_model"]
    if model is None or catalog is None:
        return {**unpriced, "cost_status": "unknown_model"}
    from pricing import Usage

    usage = Usage.from_wire(
        fields["input_tokens"],
        fields["output_tokens"],
        fields["cache_read_input_tokens"],
        fields["cache_creation_input_tokens"],
        fields["cache_creation_1h_input_tokens"],
        fields["reasoning_output_tokens"],
        tools=tuple(fields[name] for name in BILLED_COUNTS[1:]),  # after the one-hour writes: the tool counters
    )
    how = {"at": at, "tier": fields["service_tier"], "batch": fields["batch"]}
    try:
        price = catalog.price(usage, model, fields["provider"], **how)
        if price.status == "unknown_model" and fields["request_model"] not in (None, model):
            price = catalog.price(usage, fields["request_model"], fields["provider"], **how)
    except Exception:  # impossible usage, a broken override: the call is kept, unpriced, like the recorder does
        return {**unpriced, "cost_status": "no_usage"}
    cost = None if price.cost_usd is None else float(price.cost_usd)
    if cost is not None and not 0 <= cost <= MAX_AMOUNT:
        return {**unpriced, "cost_status": "no_usage"}
    return {"cost_usd": cost, "cost_status": price.status, "price_ref": price.price_ref}


# -- values ------------------------------------------------------------------------------------------------------------


_seconds: dict[int, str] = {}


def _iso_ns(ns: int) -> str:
    """``2026-01-31T12:00:00.123Z`` for epoch nanoseconds, cut to the millisecond as the recorder cuts its times.

    In integers (a float of nanoseconds since 1970 has no millisecond to spare); the text up to the second is cached,
    as the spans of a batch share a few seconds."""
    ms = ns // 1_000_000
    second = ms // 1000
    head = _seconds.get(second)
    if head is None:
        if len(_seconds) > 4096:
            _seconds.clear()
        head = _seconds[second] = iso(second)[:20]
    return f"{head}{ms % 1000:03d}Z"


def _text(a: Mapping[str, Any], key: str) -> str | None:
    value = a.get(key)
    return value[:_NAME_MAX] if isinstance(value, str) else None


def _count(a: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of ``keys`` that holds a token count; a value the wire format refuses is unknown, not an error."""
    for key in keys:
        value = a.get(key)
        if value is None:
            continue
        if type(value) is float and value.is_integer():
            value = int(value)  # JavaScript SDKs may send whole numbers as doubles
        if type(value) is int and 0 <= value <= MAX_COUNT:  # type(): a bool is not a count
            return value
    return None


def _amount(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) if 0 <= value <= MAX_AMOUNT else None
    return None


def _http_status(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # some instrumentations send the status code as text
    return value if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599 else None
