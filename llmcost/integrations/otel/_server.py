"""The OTLP/HTTP traces receiver: ``POST /v1/traces`` on a loopback port, every GenAI call handed to a sink.

``llmcost serve-otlp`` hands the records to a :class:`~llmcost.log.FileWriter` (every reader of the log directory
sees them), ``llmcost-top --otlp-listen`` to its engine. A stock OpenTelemetry Collector's ``otlphttp`` exporter, an
SDK's ``OTLPSpanExporter`` or ``llmcost export --otlp`` can send to it.

Why the standard library's ``ThreadingHTTPServer``: a fleet sends a few requests a second (collectors and SDKs batch
hundreds of spans per request), so a thread per connection is plenty and adds no dependency. What keeps it bounded:

- a body is at most ``max_body`` bytes, before and after gzip (413: a compressed bomb is cut off while inflating);
- at most ``max_requests`` bodies are read and decoded at once, at most ``max_connections`` connections are open,
  and an idle or stalled connection is closed after ``timeout`` seconds; past those limits the sender is told to
  retry (503 with ``Retry-After``), as it is when the sink is full (:class:`ReceiverBusy`);
- the ids seen lately (a bounded set) turn a batch the sender retries into duplicates, which are dropped.

It binds to 127.0.0.1 unless given another host: spans name agents, users and models, and an open port on every
interface would let anyone on the network write into the log.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmcost.integrations.otel._receive import BadRequest, Conversion, parse_traces, spans_to_records
from llmcost.log import Record

if TYPE_CHECKING:
    from pricing import Catalog

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_BODY",
    "OtlpReceiver",
    "ReceiverBusy",
    "ReceiverStats",
    "parse_listen",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318  # OTLP/HTTP's registered port
MAX_BODY = 16 << 20  # a collector's batch of 8,192 spans is about 5 MB of protobuf
TRACES_PATH = "/v1/traces"
_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_RECENT_IDS = 1 << 16  # per generation: ids of the last 65k-130k calls catch a retried batch

Sink = Callable[[list[Record]], None]


class ReceiverBusy(Exception):
    """Raised by a sink that cannot take the records now: the sender is answered 503 and retries later."""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:4318`` for IPv6) or a bare ``PORT`` (on 127.0.0.1) as ``(host, port)``.

    An empty host (``:4318``) is refused rather than read as every interface: listening beyond this machine is
    spelled out (``0.0.0.0:4318``). Port 0 asks the system for a free one. Raises ``ValueError`` with the reason."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = DEFAULT_HOST, text
    elif not host:
        raise ValueError(
            f"{text!r} names no host: give 127.0.0.1:{port} (this machine) or 0.0.0.0:{port} (every interface)"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, [::1]:4318")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 0 to 65535")
    return host, int(port)


@dataclass(slots=True)
class ReceiverStats:
    """Counts since the receiver started. ``records`` calls were handed to the sink; ``ignored`` spans were not calls;
    ``rejected`` spans could not be read or be records; ``duplicates`` calls had been received already; ``refused``
    requests were answered with an error (``last_error`` says the latest)."""

    requests: int = 0
    spans: int = 0
    records: int = 0
    ignored: int = 0
    rejected: int = 0
    duplicates: int = 0
    refused: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, result: Conversion, spans: int, duplicates: int) -> None:
        with self._lock:
            self.requests += 1
            self.spans += spans
            self.records += len(result.records)
            self.ignored += result.ignored
            self.rejected += result.rejected
            self.duplicates += duplicates
            if result.error is not None:
                self.last_error = f"span rejected: {result.error}"

    def refuse(self, why: str) -> None:
        with self._lock:
            self.refused += 1
            self.last_error = why


class _Recent:
    """Ids received lately: two generations of at most ``cap`` each, so memory is bounded."""

    def __init__(self, cap: int = _RECENT_IDS) -> None:
        self.cap = cap
        self.current: set[str] = set()
        self.previous: set[str] = set()
        self.lock = threading.Lock()

    def fresh(self, records: list[Record]) -> list[Record]:
        """The records not seen before, now marked as seen."""
        with self.lock:
            out = []
            for r in records:
                if r.id not in self.current and r.id not in self.previous:
                    self.current.add(r.id)
                    out.append(r)
            if len(self.current) >= self.cap:
                self.previous, self.current = self.current, set()
            return out

    def forget(self, records: list[Record]) -> None:
        """Unmark records the sink did not take (the sender will send them again)."""
        with self.lock:
            for r in records:
                self.current.discard(r.id)
                self.previous.discard(r.id)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    content_type: str
    close: bool = False
    retry_after: int | None = None


class OtlpReceiver:
    """An OTLP/HTTP traces endpoint that turns every GenAI call span into a record and calls ``sink(records)``.

    Binds at construction (so a port in use fails at once, with ``OSError``); :meth:`start` serves from a background
    thread; :meth:`close` (or leaving the ``with`` block) stops accepting, lets requests in progress finish and
    closes every connection. ``sink`` runs on the request's thread, before the sender is answered: it may raise
    :class:`ReceiverBusy` to have the batch sent again later. ``catalog`` prices calls that come without a cost
    (default: the active catalog, reloaded when it changes). ``stats`` counts what arrived.
    """

    def __init__(
        self,
        sink: Sink,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        catalog: Catalog | None = None,
        max_body: int = MAX_BODY,
        max_requests: int = 4,
        max_connections: int = 64,
        timeout: float = 30.0,
    ) -> None:
        if not host:
            raise ValueError("no host to listen on: give 127.0.0.1, or 0.0.0.0 for every interface")
        self.sink = sink
        self.catalog = catalog
        self.max_body = max_body
        self.timeout = timeout
        self.stats = ReceiverStats()
        self._recent = _Recent()
        self._decoding = threading.BoundedSemaphore(max_requests)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._server = _Server((host, port), self, max_connections)

    @property
    def address(self) -> tuple[str, int]:
        """The host and port listened on (the port the system chose, when 0 was asked for)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """The traces URL to give senders: ``http://127.0.0.1:4318/v1/traces``."""
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}{TRACES_PATH}"

    def start(self) -> OtlpReceiver:
        """Serve from a background thread (idempotent)."""
        if self._thread is None and not self._closed:
            self._catalog()  # loaded now rather than by the first request (parsing the catalog takes a moment)
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="llmcost-otlp-receiver", daemon=True
            )
            self._thread.start()
        return self

    def close(self, grace: float = 5.0) -> None:
        """Stop accepting, give requests in progress ``grace`` seconds, close every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections(grace)
        self._server.server_close()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OtlpReceiver({self.url!r}, records={self.stats.records}, rejected={self.stats.rejected})"

    # -- one request ---------------------------------------------------------------------------------------------

    def _handle(self, path: str, headers: Mapping[str, str], read: Callable[[int], bytes]) -> _Answer:
        """Answer one POST: ``headers`` with lower-case names, ``read(n)`` reads the body."""
        json = _is_json(headers.get("content-type", ""))
        if urlsplit(path).path.rstrip("/") != TRACES_PATH:
            return self._refuse(404, f"no such path: {path[:100]} (traces go to {TRACES_PATH})", json)
        if json is None:
            why = f"content type {headers.get('content-type', '')[:100]!r}: send {_PROTOBUF} or {_JSON}"
            return self._refuse(415, why, False)
        encoding = headers.get("content-encoding", "identity").strip().lower() or "identity"
        if encoding not in ("identity", "gzip", "deflate"):
            return self._refuse(415, f"content encoding {encoding[:50]!r}: send gzip, deflate or none", json)
        length = headers.get("content-length", "")
        if "transfer-encoding" in headers or not length.isdigit():
            return self._refuse(411, "a Content-Length is needed", json, close=True)
        if int(length) > self.max_body:
            return self._refuse(413, f"a body of {length} bytes: at most {self.max_body} are taken", json, close=True)
        if not self._decoding.acquire(blocking=False):
            return self._refuse(503, "too many requests at once", json, close=True, retry=1)
        try:
            return self._receive(read(int(length)), int(length), encoding, json)
        finally:
            self._decoding.release()

    def _receive(self, body: bytes, length: int, encoding: str, json: bool) -> _Answer:
        if len(body) != length:
            return self._refuse(400, "the body ended early", json, close=True)
        if encoding != "identity":
            try:
                body = _inflate(body, encoding, self.max_body)
            except _TooLarge:
                return self._refuse(413, f"a body over {self.max_body} bytes once inflated", json)
            except zlib.error as exc:
                return self._refuse(400, f"cannot inflate the {encoding} body: {exc}", json)
        try:
            spans, result = parse_traces(body, json)
            unreadable = result.rejected
            del body  # the spans are all that is kept while the sink runs
            spans_to_records(spans, self._catalog(), into=result)
        except BadRequest as exc:
            return self._refuse(400, str(exc), json)
        except Exception as exc:  # a case the reading missed: an answer and a count, never a dropped connection
            return self._refuse(500, f"cannot read the request: {type(exc).__name__}: {exc}", json)
        fresh = self._recent.fresh(result.records)
        if fresh:
            try:
                self.sink(fresh)
            except ReceiverBusy as exc:
                self._recent.forget(fresh)
                return self._refuse(503, f"busy: {exc}", json, retry=1)
            except Exception as exc:  # the sink's fault, not the sender's: it may try again
                self._recent.forget(fresh)
                return self._refuse(500, f"the records could not be stored: {type(exc).__name__}: {exc}", json)
        duplicates = len(result.records) - len(fresh)
        result.records = fresh
        self.stats.add(result, len(spans) + unreadable, duplicates)
        return _Answer(200, _response(result, json), _JSON if json else _PROTOBUF)

    def _catalog(self) -> Catalog | None:
        if self.catalog is not None:
            return self.catalog
        try:
            import pricing

            return pricing.load_catalog()  # cached by file times: a new catalog version is picked up here
        except Exception:  # a broken catalog leaves calls unpriced; it must not refuse them
            return None

    def _refuse(
        self, status: int, why: str, json: bool | None, *, close: bool = False, retry: int | None = None
    ) -> _Answer:
        self.stats.refuse(f"HTTP {status}: {why}")
        body, content_type = _status_body(status, why, bool(json))
        return _Answer(status, body, content_type, close, retry)


class _TooLarge(Exception):
    pass


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """The body inflated, refused past ``limit`` bytes without inflating the rest (a small bomb stays small)."""
    inflater = zlib.decompressobj(31 if encoding == "gzip" else 15)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise _TooLarge
    if not inflater.eof:
        raise zlib.error("the compressed stream is cut short")
    return out


def _is_json(content_type: str) -> bool | None:
    """``False`` for protobuf, ``True`` for JSON, ``None`` for anything else (parameters such as charset ignored)."""
    kind = content_type.partition(";")[0].strip().lower()
    return {_PROTOBUF: False, _JSON: True}.get(kind)


def _response(result: Conversion, json: bool) -> bytes:
    """``ExportTraceServiceResponse``: empty, or ``partial_success`` with the rejected spans and the first reason."""
    if json:
        import msgspec

        if not result.rejected:
            return b"{}"
        partial = {"rejectedSpans": str(result.rejected), "errorMessage": result.error or ""}
        return msgspec.json.encode({"partialSuccess": partial})
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTracePartialSuccess,
        ExportTraceServiceResponse,
    )

    if not result.rejected:
        return bytes(ExportTraceServiceResponse().SerializeToString())
    partial_pb = ExportTracePartialSuccess(rejected_spans=result.rejected, error_message=result.error or "")
    return bytes(ExportTraceServiceResponse(partial_success=partial_pb).SerializeToString())


_GRPC_CODES = {400: 3, 404: 5, 411: 3, 413: 8, 415: 3, 500: 13, 503: 14}  # google.rpc.Code of each answer


def _status_body(status: int, message: str, json: bool) -> tuple[bytes, str]:
    """A ``google.rpc.Status`` as OTLP/HTTP answers errors, in the request's encoding."""
    code = _GRPC_CODES.get(status, 2)
    if json:
        import msgspec

        return msgspec.json.encode({"code": code, "message": message}), _JSON
    text = message.encode()
    # Two fields, written by hand rather than importing googleapis' protos: code (1, varint), message (2, bytes).
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text, _PROTOBUF


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


# -- HTTP -----------------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # close() joins the connections itself, with a deadline
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], receiver: OtlpReceiver, max_connections: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.receiver = receiver
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # over the connection cap: the sender retries on a closed connection
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.pop(request, None)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that hangs up mid-request is its own business; nothing is printed

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host's name up (getfqdn), which can wait on DNS for seconds; no need here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def close_connections(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for requests in progress, then cut every connection (idle keep-alive ones
        would otherwise hold their thread until their timeout)."""
        with self._open_lock:
            open_now = dict(self._open)
        deadline = time.monotonic() + grace
        for sock, thread in open_now.items():
            handler = getattr(thread, "llmcost_handler", None)
            while handler is not None and handler.busy and time.monotonic() < deadline:
                time.sleep(0.01)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading the next request
        for thread in open_now.values():
            thread.join(1.0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: an exporter sends batch after batch on one connection
    disable_nagle_algorithm = True  # the body follows the headers at once, not after the sender's delayed ACK
    server: _Server
    busy = False

    def setup(self) -> None:
        self.request.settimeout(self.server.receiver.timeout)  # an idle or stalled connection is closed after it
        super().setup()
        threading.current_thread().llmcost_handler = self  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # counted in the receiver's stats instead of printed on a terminal the monitor draws on

    def do_POST(self) -> None:
        self.busy = True
        try:
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = self.server.receiver._handle(self.path, headers, self.rfile.read)
            self._send(answer)
        finally:
            self.busy = False

    def _refuse_method(self) -> None:
        body, content_type = _status_body(405, "only POST is served here", False)
        self._send(_Answer(405, body, content_type, close=True), allow="POST")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse_method

    def _send(self, answer: _Answer, allow: str | None = None) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if answer.retry_after is not None:
            self.send_header("Retry-After", str(answer.retry_after))
        if allow is not None:
            self.send_header("Allow", allow)
        if answer.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)
