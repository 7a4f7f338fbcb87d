"""The OTLP/HTTP receiver on 127.0.0.1, driven by real senders: the SDK's ``OTLPSpanExporter`` (protobuf, gzip),
``llmcost export --otlp``, a raw JSON POST with httpx; its limits (size, content type, connections, a full sink)
and its shutdown; ``llmcost serve-otlp`` as a process writing real files."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind

import pricing
from llmcost import otel
from llmcost.cli import main
from llmcost.log import Record, decode_record
from tests._otlp import GENAI, json_of, protobuf_of, request_of, without_opentelemetry
from tests._traces import T0, day_file, rec, ts, write

PROTOBUF = {"content-type": "application/x-protobuf"}
JSON = {"content-type": "application/json"}


class Sink:
    """Keeps what the receiver hands over; can be made to refuse (``busy``) or to hold a request (``gate``)."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.busy = False
        self.gate: threading.Event | None = None
        self.entered = threading.Event()  # set once a request has reached the sink
        self.arrived = threading.Condition()

    def __call__(self, records: list[Record]) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.busy:
            raise otel.ReceiverBusy("full")
        with self.arrived:
            self.records.extend(records)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Record]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.records) >= count, timeout), self.records
            return list(self.records)


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def receiver(sink: Sink, mini_catalog_path: Path) -> Iterator[otel.OtlpReceiver]:
    catalog = pricing.load_catalog(mini_catalog_path, overrides=False)
    with otel.OtlpReceiver(sink, port=0, catalog=catalog, max_body=64 * 1024) as r:
        yield r


def records(n: int, start: float = T0) -> list[Record]:
    return [rec(start + i, start_ts=ts(start + i - 0.25), agent=f"a{i % 3}") for i in range(n)]


# -- real senders -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip, Compression.Deflate])
def test_sdk_exporter_round_trip_gives_back_the_records(
    receiver: otel.OtlpReceiver, sink: Sink, compression: Compression
) -> None:
    sent = records(40)
    exporter = OTLPSpanExporter(endpoint=receiver.url, compression=compression)
    try:
        assert otel.export_records([sent], exporter, batch_size=16) == (40, 0)
    finally:
        exporter.shutdown()
    assert sink.wait_for(40) == sent
    assert (receiver.stats.requests, receiver.stats.records, receiver.stats.refused) == (3, 40, 0)


def test_sdk_batch_processor_spans_of_a_genai_instrumentation_arrive(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    """A real tracer, BatchSpanProcessor and OTLPSpanExporter, as an instrumented application runs them."""
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=receiver.url)))
    tracer = provider.get_tracer("genai.instrumentation")
    with tracer.start_as_current_span("GET /ask", kind=SpanKind.SERVER):
        for _ in range(3):
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=GENAI):
                pass
    provider.shutdown()  # flushes the batch
    got = sink.wait_for(3)
    assert {(r.agent, r.request_model, r.input_tokens, r.cost_status) for r in got} == {
        ("support-bot", "gpt-4o-mini", 2000, "priced")
    }
    assert receiver.stats.ignored == 1  # the HTTP server span


def test_llmcost_export_otlp_round_trip(receiver: otel.OtlpReceiver, sink: Sink, tmp_path: Path) -> None:
    sent = records(30)
    write(day_file(tmp_path / "logs", T0), sent)
    assert main(["export", "--otlp", receiver.url, str(tmp_path / "logs"), "--since", "2026-01-01"]) == 0
    assert sorted(sink.wait_for(30), key=lambda r: r.ts) == sent


def test_raw_json_post_with_httpx(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    sent = records(3)
    response = httpx.post(receiver.url, content=json_of(request_of(sent)), headers=JSON)
    assert (response.status_code, response.headers["content-type"], response.json()) == (200, "application/json", {})
    assert sink.records == sent


def test_gzip_json_post(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    body = gzip.compress(json_of(request_of(records(2))))
    response = httpx.post(receiver.url, content=body, headers={**JSON, "content-encoding": "gzip"})
    assert response.status_code == 200
    assert len(sink.records) == 2


def test_rejected_spans_are_answered_as_partial_success(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    request = request_of(records(3))
    request.resource_spans[0].scope_spans[0].spans[1].trace_id = b"\x00" * 16  # unreadable
    request.resource_spans[0].scope_spans[0].spans[2].end_time_unix_nano = 0  # readable, but no record
    response = httpx.post(receiver.url, content=protobuf_of(request), headers=PROTOBUF)
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert (response.status_code, answer.partial_success.rejected_spans) == (200, 2)
    assert "all-zero" in answer.partial_success.error_message
    assert len(sink.records) == 1
    s = receiver.stats
    assert (s.requests, s.spans, s.records, s.rejected, s.ignored) == (1, 3, 1, 2, 0)
    as_json = httpx.post(receiver.url, content=json_of(request), headers=JSON).json()
    assert as_json["partialSuccess"]["rejectedSpans"] == "2"  # int64 as a string, as OTLP/JSON writes it


def test_a_batch_sent_twice_is_received_once(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    body = protobuf_of(request_of(records(5)))
    for _ in range(2):
        assert httpx.post(receiver.url, content=body, headers=PROTOBUF).status_code == 200
    assert (len(sink.records), receiver.stats.duplicates) == (5, 5)


def test_a_full_sink_asks_the_sender_to_retry_and_the_retry_is_taken(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    body = protobuf_of(request_of(records(4)))
    sink.busy = True
    refused = httpx.post(receiver.url, content=body, headers=PROTOBUF)
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
    sink.busy = False
    assert httpx.post(receiver.url, content=body, headers=PROTOBUF).status_code == 200
    assert len(sink.records) == 4  # the refused batch was not remembered as received


def test_the_sdk_exporter_retries_after_503(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    sink.busy = True
    threading.Timer(0.3, lambda: setattr(sink, "busy", False)).start()
    exporter = OTLPSpanExporter(endpoint=receiver.url, timeout=15)
    try:
        result = exporter.export([otel.record_to_span(r) for r in records(2)])
    finally:
        exporter.shutdown()
    assert result is SpanExportResult.SUCCESS
    assert len(sink.records) == 2


# -- what is refused ------------------------------------------------------------------------------------------------


def error_message(response: httpx.Response) -> str:
    """The message of the google.rpc.Status body (field 2), without importing googleapis' protos."""
    if response.headers["content-type"] == "application/json":
        return str(response.json()["message"])
    from google.rpc.status_pb2 import Status

    return str(Status.FromString(response.content).message)


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({"content-type": "text/plain"}, 415, "content type"),
        ({"content-type": "application/grpc"}, 415, "content type"),
        ({**PROTOBUF, "content-encoding": "br"}, 415, "content encoding"),
    ],
)
def test_unsupported_bodies_are_refused(
    receiver: otel.OtlpReceiver, headers: dict[str, str], status: int, words: str
) -> None:
    response = httpx.post(receiver.url, content=b"x", headers=headers)
    assert response.status_code == status
    assert words in error_message(response)
    assert receiver.stats.refused == 1


def test_wrong_path_and_method(receiver: otel.OtlpReceiver) -> None:
    base = receiver.url.removesuffix("/v1/traces")
    assert httpx.post(base + "/v1/metrics", content=b"", headers=PROTOBUF).status_code == 404
    got = httpx.get(receiver.url)
    assert (got.status_code, got.headers["allow"]) == (405, "POST")


def test_garbage_is_a_bad_request(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    for body, headers in (
        (b"\xff\xff\xff", PROTOBUF),
        (b"{", JSON),
        (b"\x1f\x8b garbage", {**JSON, "content-encoding": "gzip"}),
    ):
        assert httpx.post(receiver.url, content=body, headers=headers).status_code == 400
    assert sink.records == []
    assert receiver.stats.refused == 3


def test_a_fault_while_reading_is_answered_and_the_receiver_goes_on(
    receiver: otel.OtlpReceiver, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a case nobody thought of")

    body = protobuf_of(request_of(records(1)))
    with monkeypatch.context() as patch:
        patch.setattr("llmcost.integrations.otel._server.spans_to_records", broken)
        response = httpx.post(receiver.url, content=body, headers=PROTOBUF)
    assert response.status_code == 500
    assert "KeyError" in error_message(response)
    assert httpx.post(receiver.url, content=body, headers=PROTOBUF).status_code == 200
    assert len(sink.records) == 1


def test_a_body_over_the_cap_is_refused_unread(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    response = httpx.post(receiver.url, content=b"\0" * (64 * 1024 + 1), headers=PROTOBUF)
    assert (response.status_code, response.headers["connection"]) == (413, "close")
    assert "at most 65536" in error_message(response)


def test_a_gzip_bomb_is_cut_off_while_inflating(receiver: otel.OtlpReceiver, sink: Sink) -> None:
    bomb = gzip.compress(b"\0" * (50 << 20))  # 50 MB of zeros in about 50 KB
    assert len(bomb) < 64 * 1024
    response = httpx.post(receiver.url, content=bomb, headers={**PROTOBUF, "content-encoding": "gzip"})
    assert response.status_code == 413
    assert sink.records == []


def test_a_body_without_length_is_refused(receiver: otel.OtlpReceiver) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"\x0a\x00"

    response = httpx.post(receiver.url, content=chunks(), headers=PROTOBUF)  # chunked: no Content-Length
    assert response.status_code == 411


def test_too_many_requests_at_once_are_told_to_retry(sink: Sink) -> None:
    body = protobuf_of(request_of(records(1)))
    sink.gate = threading.Event()
    with otel.OtlpReceiver(sink, port=0, max_requests=1) as receiver:
        first = threading.Thread(target=httpx.post, args=(receiver.url,), kwargs={"content": body, "headers": PROTOBUF})
        first.start()
        assert sink.entered.wait(10)  # the first request holds the only slot, waiting on the gate
        second = httpx.post(receiver.url, content=body, headers=PROTOBUF)
        sink.gate.set()
        first.join()
    assert (second.status_code, second.headers["retry-after"]) == (503, "1")
    assert len(sink.records) == 1


def test_connections_over_the_cap_are_closed(sink: Sink) -> None:
    with otel.OtlpReceiver(sink, port=0, max_connections=2) as receiver:
        held = [socket.create_connection(receiver.address) for _ in range(2)]
        time.sleep(0.2)
        with socket.create_connection(receiver.address) as third:
            third.settimeout(5)
            assert third.recv(1) == b""  # closed by the receiver without a word
        for s in held:
            s.close()
        time.sleep(0.2)
        body = protobuf_of(request_of(records(1)))
        assert httpx.post(receiver.url, content=body, headers=PROTOBUF).status_code == 200  # slots came back


# -- binding and shutdown ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:4318", ("127.0.0.1", 4318)),
        ("4318", ("127.0.0.1", 4318)),
        ("0.0.0.0:4318", ("0.0.0.0", 4318)),
        ("[::1]:4318", ("::1", 4318)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert otel.parse_listen(text) == expected


@pytest.mark.parametrize(("text", "words"), [(":4318", "names no host"), ("::1:4318", "brackets"), ("h:99999", "port")])
def test_parse_listen_refuses(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        otel.parse_listen(text)


def test_binds_to_loopback_unless_told_otherwise(sink: Sink) -> None:
    with otel.OtlpReceiver(sink, port=0) as receiver:
        assert receiver.address[0] == "127.0.0.1"
    with pytest.raises(ValueError, match="no host"):
        otel.OtlpReceiver(sink, host="", port=0)


def test_close_ends_every_connection_and_thread(sink: Sink) -> None:
    before = set(threading.enumerate())
    receiver = otel.OtlpReceiver(sink, port=0).start()
    body = protobuf_of(request_of(records(1)))
    with httpx.Client() as client:  # keeps its connection open between requests, as exporters do
        assert client.post(receiver.url, content=body, headers=PROTOBUF).status_code == 200
        started = time.monotonic()
        receiver.close()
        assert time.monotonic() - started < 3  # the idle keep-alive connection did not hold it for its 30 s timeout
    assert set(threading.enumerate()) - before == set()
    with otel.OtlpReceiver(sink, *receiver.address):
        pass  # the port can be had again at once (a restarted server)


def test_close_lets_a_request_in_progress_finish(sink: Sink) -> None:
    sink.gate = threading.Event()
    receiver = otel.OtlpReceiver(sink, port=0).start()
    answers: list[int] = []
    body = protobuf_of(request_of(records(1)))
    sender = threading.Thread(
        target=lambda: answers.append(httpx.post(receiver.url, content=body, headers=PROTOBUF).status_code)
    )
    sender.start()
    assert sink.entered.wait(10)
    threading.Timer(0.3, sink.gate.set).start()
    receiver.close()
    sender.join()
    assert (answers, len(sink.records)) == ([200], 1)


def test_a_port_in_use_fails_at_once(sink: Sink) -> None:
    with otel.OtlpReceiver(sink, port=0) as first, pytest.raises(OSError, match="in use"):
        otel.OtlpReceiver(sink, *first.address)


# -- llmcost serve-otlp -----------------------------------------------------------------------------------------------


def serve(directory: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """``llmcost serve-otlp`` on a free port; returns the process and the URL it announced."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmcost", "serve-otlp", "--listen", "127.0.0.1:0", "--dir", str(directory), *extra],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "listening on http://127.0.0.1:" in line, line
    return proc, line.split("listening on ")[1].split(",")[0]


def read_back(directory: Path) -> list[Record]:
    return [decode_record(line) for f in sorted(directory.glob("*.jsonl")) for line in f.read_bytes().splitlines()]


def test_serve_otlp_writes_what_llmcost_export_sent(tmp_path: Path) -> None:
    """The fleet's path, end to end: logs on one side, ``export --otlp``, ``serve-otlp``, logs on the other."""
    sent = [*records(50), rec(T0 + 86400, start_ts=ts(T0 + 86399), agent="tomorrow")]  # two days: two files
    write(day_file(tmp_path / "here", T0), sent[:50])
    write(day_file(tmp_path / "here", T0 + 86400), sent[50:])
    proc, url = serve(tmp_path / "there")
    try:
        assert main(["export", "--otlp", url, str(tmp_path / "here"), "--since", "2026-01-01"]) == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "51 calls written" in err
    assert sorted(read_back(tmp_path / "there"), key=lambda r: r.ts) == sent
    assert sorted(p.name for p in (tmp_path / "there").iterdir()) == sorted(
        p.name for p in (tmp_path / "here").iterdir()
    )


def test_serve_otlp_refuses_a_listen_address_without_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve-otlp", "--listen", ":4318"]) == 2
    assert "names no host" in capsys.readouterr().err


def test_serve_otlp_port_in_use_is_one_line_and_exit_1(tmp_path: Path, sink: Sink) -> None:
    with otel.OtlpReceiver(sink, port=0) as taken:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "llmcost",
                "serve-otlp",
                "--listen",
                f"127.0.0.1:{taken.address[1]}",
                "--dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1
    assert "cannot listen on" in out.stderr


def test_serve_otlp_in_process_serves_until_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmcost.cli import build_parser
    from llmcost.cli._serve_otlp import run_serve_otlp

    args = build_parser().parse_args(["serve-otlp", "--listen", "127.0.0.1:0", "--dir", str(tmp_path)])
    stop = threading.Event()
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(run_serve_otlp(args, stop)))
    thread.start()
    err = ""
    deadline = time.monotonic() + 10
    while "listening on" not in err and time.monotonic() < deadline:
        time.sleep(0.05)
        err += capsys.readouterr().err
    url = err.split("listening on ")[1].split(",")[0]
    sent = records(2)
    assert httpx.post(url, content=json_of(request_of(sent)), headers=JSON).status_code == 200
    stop.set()
    thread.join(10)
    assert done == [0]
    assert read_back(tmp_path) == sent  # written before the sender was answered


def test_serve_otlp_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    code, err = without_opentelemetry("llmcost.cli", ["serve-otlp", "--dir", str(tmp_path)])
    assert code == 1
    assert err == "llmcost serve-otlp: error: needs OpenTelemetry: pip install 'llmcost-top[otel]'\n"
