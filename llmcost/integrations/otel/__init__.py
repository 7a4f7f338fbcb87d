"""OpenTelemetry export: every recorded call as a GenAI client span, sent over OTLP/HTTP to a collector.

Live, from the recorder::

    export = llmcost.otel.export_to(tracker, "http://collector:4318")   # spans follow every call
    export.close()                                                     # or leave it to interpreter exit

and from the logs, for history: ``llmcost export --otlp URL [PATH ...]`` (:func:`export_records`).

The other way, spans in: :class:`OtlpReceiver` serves ``POST /v1/traces`` (protobuf or JSON, as a collector's
``otlphttp`` exporter or any SDK sends them) and turns every GenAI call span, ours or another instrumentation's,
into a record (``llmcost serve-otlp`` writes them to the log; ``llmcost-top --otlp-listen`` shows them live).

A span carries the OpenTelemetry GenAI semantic-convention attributes (``gen_ai.provider.name``,
``gen_ai.request.model``, ``gen_ai.usage.input_tokens``, ...) and the cost under ``llmcost.*``; its ids are the
record's own, so the calls of one trace nest and a span sent twice (live, then again from history) is the same span.
Prompts and responses are never exported, even when ``capture_content`` put them in the log.

Why not the SDK's ``BatchSpanProcessor``: it takes finished span objects, and building one (ids, timestamps, some
25 attributes) costs several times what the recorder spends on a whole call. The tracker hands this module the JSON
line it has already written (:meth:`llmcost.Tracker.add_sink`); the call path only appends it to a queue, and a
background thread turns lines into spans and hands them to the exporter (``OTLPSpanExporter`` by default, which
reads the standard ``OTEL_EXPORTER_OTLP_*`` variables) in batches. Failures never reach the user's code: spans that
could not be sent are counted in ``tracker.stats.export_errors`` and reported once with a ``RecorderWarning``.
"""

from __future__ import annotations

try:
    import opentelemetry.sdk.trace  # noqa: F401 (fails here, with the fix in the message, when the extra is missing)
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(f"{exc}: OpenTelemetry export needs the otel extra: pip install 'llmcost-top[otel]'") from exc

from llmcost.integrations.otel._export import (
    ExportFailed,
    LogCapture,
    OtelExport,
    export_records,
    export_to,
    otlp_exporter,
    traces_endpoint,
    unreachable,
)
from llmcost.integrations.otel._receive import (
    BadRequest,
    Conversion,
    ReceivedSpan,
    is_call,
    parse_traces,
    span_to_record,
    spans_to_records,
)
from llmcost.integrations.otel._server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BODY,
    OtlpReceiver,
    ReceiverBusy,
    ReceiverStats,
    parse_listen,
)
from llmcost.integrations.otel._spans import record_to_span, span_attributes, span_resource

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_BODY",
    "BadRequest",
    "Conversion",
    "ExportFailed",
    "LogCapture",
    "OtelExport",
    "OtlpReceiver",
    "ReceivedSpan",
    "ReceiverBusy",
    "ReceiverStats",
    "export_records",
    "export_to",
    "is_call",
    "otlp_exporter",
    "parse_listen",
    "parse_traces",
    "record_to_span",
    "span_attributes",
    "span_resource",
    "span_to_record",
    "spans_to_records",
    "traces_endpoint",
    "unreachable",
]
