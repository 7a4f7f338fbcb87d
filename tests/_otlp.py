"""Building OTLP trace requests for the receiver's tests: from records (our export), from spans a real SDK tracer
made (another instrumentation), and in OTLP/JSON (the protobuf message through protobuf's own JSON mapping, ids
turned to hex as OTLP/JSON wants them)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from llmcost import otel
from llmcost.log import Record


def request_of(records: Iterable[Record]) -> ExportTraceServiceRequest:
    """The request ``llmcost export --otlp`` sends for these records."""
    return encode_spans([otel.record_to_span(r) for r in records])


def protobuf_of(spans: Sequence[ReadableSpan] | ExportTraceServiceRequest) -> bytes:
    request = spans if isinstance(spans, ExportTraceServiceRequest) else encode_spans(spans)
    return bytes(request.SerializeToString())


def json_of(request: ExportTraceServiceRequest | Sequence[ReadableSpan]) -> bytes:
    """OTLP/JSON: protobuf's JSON mapping (camelCase, int64 as strings, enums as numbers) with hex ids."""
    if not isinstance(request, ExportTraceServiceRequest):
        request = encode_spans(request)
    doc = json_format.MessageToDict(request, use_integers_for_enums=True)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(doc).encode()


@contextmanager
def sdk_tracer(service: str | None = "support-bot") -> Iterator[tuple[Tracer, InMemorySpanExporter]]:
    """A real SDK tracer whose finished spans are kept in memory."""
    exporter = InMemorySpanExporter()
    resource = Resource.create({"service.name": service} if service else {})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield provider.get_tracer("some.genai.instrumentation"), exporter
    finally:
        provider.shutdown()


def chat_span(tracer: Tracer, attributes: dict[str, Any], name: str = "chat gpt-4o-mini", error: bool = False) -> None:
    """One span as a GenAI instrumentation makes it (CLIENT, the conventions' attributes)."""
    from opentelemetry.trace import Status, StatusCode

    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
        if error:
            span.set_status(Status(StatusCode.ERROR, "rate limited"))


GENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 2000,
    "gen_ai.usage.output_tokens": 300,
}


def without_opentelemetry(module: str, argv: list[str]) -> tuple[int, str]:
    """The exit code and standard error of ``module``'s ``main(argv)``, run in a fresh interpreter where
    ``opentelemetry`` cannot be imported (a command that needs the extra must say how to install it)."""
    code = f"import sys; sys.modules['opentelemetry'] = None; from {module} import main; sys.exit(main({argv!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    return out.returncode, out.stderr
