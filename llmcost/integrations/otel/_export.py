"""Where spans go: the OTLP/HTTP exporter, history sent from the logs, and the live export thread."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import socket
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.types import AttributeValue

from llmcost.integrations.otel._spans import _default_resource, record_to_span, span_resource
from llmcost.log import Record, decode_record, warn_once
from llmcost.recorder import Stats, Tracker

__all__ = [
    "ExportFailed",
    "LogCapture",
    "OtelExport",
    "export_records",
    "export_to",
    "otlp_exporter",
    "traces_endpoint",
    "unreachable",
]

INSTALL_HINT = "pip install 'llmcost-top[otel]'"


class ExportFailed(RuntimeError):
    """The exporter refused a batch (collector unreachable, or it answered with an error); ``sent`` spans made it."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


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
        from llmcost.recorder import get_tracker

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
