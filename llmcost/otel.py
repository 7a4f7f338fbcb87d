"""OpenTelemetry export: every recorded call as a GenAI client span, sent over OTLP/HTTP to a collector.

Live, from the recorder::

    export = llmcost.otel.export_to(tracker, "http://collector:4318")   # spans follow every call
    export.close()                                                     # or leave it to interpreter exit

and from the logs, for history: ``llmcost export --otlp URL [PATH ...]`` (:func:`export_records`).

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

import atexit
import contextlib
import hashlib
import logging
import os
import re
import socket
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

try:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
    from opentelemetry.util.types import AttributeValue
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(f"{exc}: OpenTelemetry export needs the otel extra: pip install 'llmcost-top[otel]'") from exc

from llmcost._emit import Stats
from llmcost._record import Record, decode_record
from llmcost._writer import warn_once
from llmcost.engine._time import epoch

if TYPE_CHECKING:
    from llmcost._tracker import Tracker

__all__ = [
    "ExportFailed",
    "OtelExport",
    "export_records",
    "export_to",
    "otlp_exporter",
    "record_to_span",
    "span_attributes",
    "span_resource",
    "traces_endpoint",
    "unreachable",
]

INSTALL_HINT = "pip install 'llmcost-top[otel]'"
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("llmcost")
_METADATA_SKIP = frozenset({"content"})  # capture_content's prompts and responses stay in the log


class ExportFailed(RuntimeError):
    """The exporter refused a batch (collector unreachable, or it answered with an error); ``sent`` spans made it."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


# -- one record as one span -------------------------------------------------------------------------------------


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
    )
    for key, value in pairs:
        if value is not None:
            attrs[key] = value
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
    ``start_ts`` and lasts ``latency_ms`` (``ts`` when either is missing). A failed call has status ERROR, its
    message as description and ``error.type``. Raises ``ValueError`` for a record whose ``ts`` is not a time.
    """
    r = record
    span_id = _id(r.id, 64) or 1
    trace_id = _id(r.trace_id, 128) or _id(f"trace:{r.id}", 128) or 1
    parent_id = _id(r.parent_id, 64)
    end = _ns(r.ts)
    start = _ns(r.start_ts) if r.start_ts else None
    duration = None if r.latency_ms is None else round(r.latency_ms * 1_000_000)
    if start is None:
        start = end - duration if duration is not None else end
    elif duration is not None:
        end = start + duration
    if r.status == "error":
        status = Status(StatusCode.ERROR, r.error_message or r.error_type or None)
    else:
        status = Status(StatusCode.UNSET)
    return ReadableSpan(
        name=f"{r.operation} {r.request_model}" if r.request_model else r.operation,
        context=SpanContext(trace_id, span_id, is_remote=False, trace_flags=_SAMPLED),
        parent=SpanContext(trace_id, parent_id, is_remote=False, trace_flags=_SAMPLED) if parent_id else None,
        resource=resource if resource is not None else _default_resource(),
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
    ``host.name`` (the live exporter does: in a fleet, it tells the machines apart)."""
    extra: dict[str, AttributeValue] = {"host.name": socket.gethostname()} if host else {}
    created = Resource.create({**extra, **(attributes or {})})
    name = str(created.attributes.get("service.name", ""))
    if name.startswith("unknown_service"):
        created = created.merge(Resource({"service.name": "llmcost"}))
    return created


def _default_resource() -> Resource:
    global _resource_cache
    if _resource_cache is None:
        _resource_cache = span_resource()
    return _resource_cache


def traces_endpoint(url: str | None = None) -> str:
    """The OTLP/HTTP traces URL: ``url`` (a bare ``http://host:4318`` gets ``/v1/traces``), else the standard
    variables ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``, else localhost:4318."""
    if url:
        if "://" not in url:
            url = f"http://{url}"
        return url if urlsplit(url).path.strip("/") else f"{url.rstrip('/')}/v1/traces"
    explicit = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if explicit:
        return explicit
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
    return f"{base.rstrip('/')}/v1/traces"


def otlp_exporter(
    endpoint: str | None = None, *, headers: Mapping[str, str] | None = None, timeout: float | None = None
) -> SpanExporter:
    """The SDK's OTLP/HTTP (protobuf) span exporter for :func:`traces_endpoint` of ``endpoint``. Headers, timeout,
    compression and certificates not given here come from the standard ``OTEL_EXPORTER_OTLP_*`` variables."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise ImportError(f"{exc}: OTLP export needs the otel extra: {INSTALL_HINT}") from exc
    return OTLPSpanExporter(
        endpoint=traces_endpoint(endpoint), headers=dict(headers) if headers else None, timeout=timeout
    )


def unreachable(url: str, timeout: float = 3.0) -> str | None:
    """Why nothing listens at ``url`` (``"connection refused"``, ...), or ``None`` when a TCP connection opens."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "not a URL with a host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "bad port"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return (exc.strerror or str(exc) or type(exc).__name__).lower()


# -- history --------------------------------------------------------------------------------------------------


def export_records(
    batches: Iterable[Iterable[Record]],
    exporter: SpanExporter,
    *,
    resource: Resource | None = None,
    batch_size: int = 512,
) -> tuple[int, int]:
    """Send every record as a span, ``batch_size`` spans per request; returns ``(sent, skipped)`` (skipped: records
    whose time is unreadable). Raises :class:`ExportFailed` at the first batch the exporter refuses."""
    res = resource if resource is not None else _default_resource()
    sent = skipped = 0
    pending: list[ReadableSpan] = []

    def send() -> None:
        nonlocal sent
        if exporter.export(pending) is not SpanExportResult.SUCCESS:
            raise ExportFailed(f"the exporter refused a batch of {len(pending)} spans after {sent} were sent", sent)
        sent += len(pending)
        pending.clear()

    for batch in batches:
        for record in batch:
            try:
                pending.append(record_to_span(record, res))
            except ValueError:
                skipped += 1
                continue
            if len(pending) >= batch_size:
                send()
    if pending:
        send()
    return sent, skipped


class LogCapture(logging.Handler):
    """Keeps the OpenTelemetry exporter's log lines (instead of printing them) while a command runs; the last
    warning or error explains a refused batch in one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self._logger = logging.getLogger("opentelemetry")
        self._propagate = self._logger.propagate

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> LogCapture:
        self._logger.addHandler(self)
        self._logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.propagate = self._propagate

    def reason(self) -> str | None:
        """``HTTP 404 Not Found`` for the exporter's "code: 404, reason: Not Found"; else its last line, cut."""
        for message in reversed(self.messages):
            found = re.search(r"code: (\d+), reason: ([^\n]*)", message)
            if found:
                return f"HTTP {found.group(1)} {found.group(2).strip()[:120]}".strip()
        if self.messages:
            return self.messages[-1].splitlines()[0][:200]
        return None


# -- live -------------------------------------------------------------------------------------------------------

_live: weakref.WeakSet[OtelExport] = weakref.WeakSet()


class OtelExport:
    """Turns the lines a tracker hands it into spans and exports them from a background thread, in batches.

    Made by :func:`export_to`. Calling it (the tracker does) only queues the line; a full queue (``max_queue``)
    drops the line. Every span not delivered (dropped, refused by the collector, unreadable) is counted in
    ``failed`` and in ``stats.export_errors``. ``flush()`` sends what is queued now; ``close()`` flushes, stops the
    thread and detaches from the trackers (done at interpreter exit for exports still open). Works as a context
    manager.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        resource: Resource | None = None,
        stats: Stats | None = None,
        endpoint: str | None = None,
        max_queue: int = 2048,
        batch_size: int = 512,
        interval_s: float = 5.0,
    ) -> None:
        self.exporter = exporter
        self.resource = resource if resource is not None else span_resource(host=True)
        self.stats = stats if stats is not None else Stats()
        self.endpoint = endpoint
        self.sent = 0
        self.failed = 0
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.interval_s = interval_s
        self._queue: deque[bytes] = deque()
        self._trackers: list[Tracker] = []
        self._closed = False
        self._init_threading()
        _live.add(self)

    def _init_threading(self) -> None:
        self._wake = threading.Event()
        self._export_lock = threading.Lock()  # one export at a time: the worker's or a flush()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self, line: bytes) -> None:
        """Queue one record line (the tracker calls this on the user's call path: keep it short)."""
        queue = self._queue
        if len(queue) >= self.max_queue or self._closed:
            self._lost(1, "the export queue is full" if not self._closed else "the export is closed")
            return
        queue.append(line)
        if self._thread is None:
            self._start()
        if len(queue) >= self.batch_size:
            self._wake.set()

    def attach(self, tracker: Tracker) -> None:
        """Export the records of ``tracker`` too."""
        tracker.add_sink(self)
        self._trackers.append(tracker)

    def flush(self) -> bool:
        """Export everything queued, now, in this thread; ``True`` if every span of it was delivered."""
        before = self.failed
        self._drain()
        return self.failed == before

    def close(self) -> None:
        """Detach from the trackers, deliver what is queued and shut the exporter down. Idempotent."""
        if self._closed:
            return
        for tracker in self._trackers:
            tracker.remove_sink(self)
        self._trackers.clear()
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._drain()
        try:
            self.exporter.shutdown()
        except Exception as exc:
            self._warn(f"llmcost: the span exporter failed to shut down: {type(exc).__name__}: {exc}")
        _live.discard(self)

    def __enter__(self) -> OtelExport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"OtelExport(endpoint={self.endpoint!r}, sent={self.sent}, failed={self.failed}, queued={len(self._queue)})"
        )

    # -- inside -------------------------------------------------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="llmcost-otel-export", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if not self._closed:
                self._drain()

    def _drain(self) -> None:
        with self._export_lock:
            queue = self._queue
            while queue:
                lines = [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]
                spans = []
                for line in lines:
                    try:
                        spans.append(record_to_span(decode_record(line), self.resource))
                    except Exception:
                        self._lost(1, "a record could not be turned into a span")
                if spans:
                    self._send(spans)

    def _send(self, spans: Sequence[ReadableSpan]) -> None:
        try:
            ok = self.exporter.export(spans) is SpanExportResult.SUCCESS
        except Exception:
            ok = False
        if ok:
            self.sent += len(spans)
        else:
            where = f" to {self.endpoint}" if self.endpoint else ""
            self._lost(len(spans), f"the exporter could not deliver them{where}")

    def _lost(self, count: int, why: str) -> None:
        self.failed += count
        self.stats.export_errors += count
        self._warn(f"llmcost: spans not exported ({why}); counted in stats.export_errors")

    @staticmethod
    def _warn(message: str) -> None:
        with contextlib.suppress(Exception):  # warnings made errors (python -W error) must not stop the thread
            warn_once("otel_export", message)


def export_to(
    tracker: Tracker | None = None,
    endpoint: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    exporter: SpanExporter | None = None,
    resource: Resource | Mapping[str, AttributeValue] | None = None,
    max_queue: int = 2048,
    batch_size: int = 512,
    interval_s: float = 5.0,
) -> OtelExport:
    """Export every call ``tracker`` records (default: the process-wide tracker) as a span, live.

    ``endpoint`` is the collector's OTLP/HTTP URL (``http://collector:4318``; default: ``OTEL_EXPORTER_OTLP_*``,
    else localhost:4318); ``exporter`` replaces the OTLP exporter with any SDK ``SpanExporter``. ``resource``
    attributes are added to ``service.name`` and ``host.name``. Spans are sent every ``interval_s`` seconds or once
    ``batch_size`` are queued; ``close()`` (or leaving the ``with`` block, or interpreter exit) sends the rest.
    """
    if tracker is None:
        from llmcost._tracker import get_tracker

        tracker = get_tracker()
    if exporter is None:
        target: str | None = traces_endpoint(endpoint)
        exporter = otlp_exporter(target, headers=headers, timeout=timeout)
    else:
        target = endpoint
    if not isinstance(resource, Resource):
        resource = span_resource(resource, host=True)
    export = OtelExport(
        exporter,
        resource=resource,
        stats=tracker.stats,
        endpoint=target,
        max_queue=max_queue,
        batch_size=batch_size,
        interval_s=interval_s,
    )
    export.attach(tracker)
    return export


def _close_all() -> None:
    for export in list(_live):
        export.close()


def _after_fork() -> None:
    for export in list(_live):  # the parent sends what it had queued; the child starts empty, with its own thread
        export._queue.clear()
        export._init_threading()


atexit.register(_close_all)
os.register_at_fork(after_in_child=_after_fork)
