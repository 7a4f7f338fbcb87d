"""One record as one OpenTelemetry GenAI client span, and the resource spans carry: pure mapping, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import AttributeValue

from llmcost.log import Record, epoch
from llmcost.paths import host_name

__all__ = ["record_to_span", "span_attributes", "span_resource"]

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("llmcost")
_METADATA_SKIP = frozenset({"content"})  # capture_content's prompts and responses stay in the log


# -- one record as one span -------------------------------------------------------------------------------------


#: Providers whose service tier the conventions' OpenAI attributes name (Azure OpenAI answers with the same tiers).
_OPENAI_TIERS = frozenset({"openai", "azure"})


def span_attributes(record: Record) -> dict[str, AttributeValue]:
    """The span attributes of a record: GenAI semantic conventions where a name exists, ``llmcost.*`` otherwise.

    Unknown values are left out (OpenTelemetry has no null). No prompt, response or key is ever included.
    """
    r = record
    attrs: dict[str, AttributeValue] = {"gen_ai.operation.name": r.operation}
    pairs: tuple[tuple[str, Any], ...] = (
        ("gen_ai.provider.name", r.provider),
        ("gen_ai.request.model", r.request_model),
        ("gen_ai.response.model", r.response_model),
        ("gen_ai.response.id", r.response_id),
        ("gen_ai.usage.input_tokens", r.input_tokens),
        ("gen_ai.usage.output_tokens", r.output_tokens),
        ("gen_ai.usage.cache_read.input_tokens", r.cache_read_input_tokens),
        ("gen_ai.usage.cache_creation.input_tokens", r.cache_creation_input_tokens),
        ("gen_ai.usage.reasoning.output_tokens", r.reasoning_output_tokens),
        ("gen_ai.response.time_to_first_chunk", None if r.ttft_ms is None else r.ttft_ms / 1000),
        ("gen_ai.agent.name", r.agent),
        ("gen_ai.conversation.id", r.session_id),
        ("gen_ai.workflow.name", r.workflow),
        ("server.address", r.server_address),
        ("user.id", r.user_id),
        ("http.response.status_code", r.http_status),
        ("llmcost.cost_usd", r.cost_usd),
        ("gen_ai.usage.cost.amount", r.cost_usd),  # the draft GenAI cost convention, beside our own name
        ("llmcost.cost_status", r.cost_status),
        ("llmcost.price_ref", r.price_ref),
        ("llmcost.latency_ms", r.latency_ms),
        ("llmcost.ttft_ms", r.ttft_ms),
        ("llmcost.attempt", r.attempt),
        ("llmcost.fallback_from", r.fallback_from),
        ("llmcost.prompt_hash", r.prompt_hash),
        ("llmcost.source", r.source),
        ("llmcost.usage_source", r.usage_source),
        ("llmcost.gpu_seconds", r.gpu_seconds),
        ("llmcost.status", r.status),
        ("llmcost.service_tier", r.service_tier),
        ("llmcost.cache_creation_1h_input_tokens", r.cache_creation_1h_input_tokens),
        ("llmcost.web_search_requests", r.web_search_requests),
        ("llmcost.web_fetch_requests", r.web_fetch_requests),
        ("llmcost.file_search_calls", r.file_search_calls),
        ("llmcost.code_interpreter_sessions", r.code_interpreter_sessions),
        ("llmcost.grounded_prompts", r.grounded_prompts),
    )
    for key, value in pairs:
        if value is not None:
            attrs[key] = value
    if r.service_tier is not None and r.provider in _OPENAI_TIERS:
        # The conventions name OpenAI's tier (the current name, and the one before the openai.* namespace).
        attrs["openai.response.service_tier"] = r.service_tier
        attrs["gen_ai.openai.response.service_tier"] = r.service_tier
    if r.batch:
        attrs["llmcost.batch"] = True
    if r.cost_usd is not None:
        attrs["gen_ai.usage.cost.currency"] = "USD"
    attrs["gen_ai.request.stream"] = bool(r.stream)
    if r.status == "error":
        attrs["error.type"] = r.error_type or "_OTHER"
    if r.tags:
        attrs["llmcost.tags"] = [str(t) for t in r.tags]
    if r.metadata:
        for key, value in r.metadata.items():
            if key in _METADATA_SKIP:
                continue
            if isinstance(value, str):
                attrs[f"llmcost.metadata.{key}"] = value[:300]
            elif isinstance(value, (bool, int, float)):
                attrs[f"llmcost.metadata.{key}"] = value
    return attrs


def _id(value: str | None, bits: int) -> int | None:
    """The id as a number: its hex value when it is ``bits`` wide, else a stable hash of it (so links survive)."""
    if not value:
        return None
    if len(value) == bits // 4:
        try:
            number = int(value, 16)
        except ValueError:
            number = 0
        if number:
            return number
    digest = hashlib.blake2b(value.encode(), digest_size=bits // 8).digest()
    return int.from_bytes(digest, "big") or 1


def _ns(ts: str) -> int:
    return round(epoch(ts) * 1_000_000) * 1000


def record_to_span(record: Record, resource: Resource | None = None) -> ReadableSpan:
    """The record as a finished CLIENT span named ``"{operation} {request_model}"`` (GenAI conventions).

    Span id, trace id and parent come from the record, so the calls of one trace nest. The span starts at
    ``start_ts`` (else ``latency_ms`` before ``ts``) and ends at ``ts``. A failed call has status ERROR, its
    message as description and ``error.type``. The record's ``host`` is the resource's ``host.name`` (a log merged
    from several machines keeps them apart). Raises ``ValueError`` for a record whose ``ts`` is not a time.
    """
    r = record
    span_id = _id(r.id, 64) or 1
    trace_id = _id(r.trace_id, 128) or _id(f"trace:{r.id}", 128) or 1
    parent_id = _id(r.parent_id, 64)
    # The span's times are the record's own (ts, start_ts), so a receiver gets both back exactly; the wall time to
    # the microsecond stays in llmcost.latency_ms (ts and start_ts are cut to the millisecond).
    end = _ns(r.ts)
    if r.start_ts:
        start = min(_ns(r.start_ts), end)
    else:
        start = end - round(r.latency_ms * 1_000_000) if r.latency_ms is not None else end
    if r.status == "error":
        status = Status(StatusCode.ERROR, r.error_message or r.error_type or None)
    else:
        status = Status(StatusCode.UNSET)
    return ReadableSpan(
        name=f"{r.operation} {r.request_model}" if r.request_model else r.operation,
        context=SpanContext(trace_id, span_id, is_remote=False, trace_flags=_SAMPLED),
        parent=SpanContext(trace_id, parent_id, is_remote=False, trace_flags=_SAMPLED) if parent_id else None,
        resource=_with_host(resource if resource is not None else _default_resource(), r.host),
        attributes=span_attributes(r),
        kind=SpanKind.CLIENT,
        status=status,
        start_time=start,
        end_time=end,
        instrumentation_scope=_SCOPE,
    )


# -- where spans go -----------------------------------------------------------------------------------------------

_resource_cache: Resource | None = None


def span_resource(attributes: Mapping[str, AttributeValue] | None = None, *, host: bool = False) -> Resource:
    """The resource of exported spans: ``OTEL_RESOURCE_ATTRIBUTES`` and ``OTEL_SERVICE_NAME`` as the SDK reads
    them, then ``attributes``; ``service.name`` is ``llmcost`` when nothing names the service; ``host=True`` adds
    ``host.name`` (``llmcost.paths.host_name()``: the live exporter does, in a fleet it tells the machines apart)."""
    extra: dict[str, AttributeValue] = {}
    if host:
        name = host_name()
        if name is not None:
            extra["host.name"] = name
    created = Resource.create({**extra, **(attributes or {})})
    name = str(created.attributes.get("service.name", ""))
    if name.startswith("unknown_service"):
        created = created.merge(Resource({"service.name": "llmcost"}))
    return created


#: Resources with a record's host in place of theirs, by (resource id, host): a handful per export.
_hosted: dict[tuple[int, str], tuple[Resource, Resource]] = {}


def _with_host(resource: Resource, host: str | None) -> Resource:
    """``resource`` naming ``host`` as its ``host.name`` (the same resource when it does already, or no host)."""
    if not host or resource.attributes.get("host.name") == host:
        return resource
    key = (id(resource), host)
    found = _hosted.get(key)
    if found is not None and found[0] is resource:  # (an id may be reused once its resource is gone)
        return found[1]
    if len(_hosted) > 256:
        _hosted.clear()
    merged = resource.merge(Resource({"host.name": host}))  # the argument's attributes win
    _hosted[key] = (resource, merged)
    return merged


def _default_resource() -> Resource:
    global _resource_cache
    if _resource_cache is None:
        _resource_cache = span_resource()
    return _resource_cache
