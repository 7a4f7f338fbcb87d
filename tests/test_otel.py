"""OpenTelemetry export against a loopback OTLP/HTTP receiver that decodes what arrives (protobuf, as a collector).

Live from a Tracker (``llmcost.otel.export_to``), through the real ``openai`` client, and from history with
``llmcost export --otlp``; the receiver is a real HTTP server on 127.0.0.1 parsing ``ExportTraceServiceRequest``.
"""

from __future__ import annotations

import gzip
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

import llmcost
import pricing
from llmcost import otel
from llmcost.cli import main
from llmcost.log._record import decode_record
from llmcost.log._writer import reset_warnings
from tests._docs import expected_prints, python_blocks, run_example
from tests._loopback import LoopbackServer
from tests._otlp import without_opentelemetry
from tests._traces import T0, day_file, rec, write
from tests.servers import CHAT_USAGE, FakeLLMServer

MESSAGES = [{"role": "user", "content": "the secret plan is 42"}]


# -- the receiver ---------------------------------------------------------------------------------------------------


class Receiver(LoopbackServer):
    """An OTLP/HTTP traces endpoint on 127.0.0.1: keeps every decoded request, answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        super().__init__(_Handler, poll=0.01)
        self.status = status
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.arrived = threading.Condition()

    @property
    def url(self) -> str:
        return self.base_url

    def take(self, path: str, headers: dict[str, str], body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.arrived:
            self.paths.append(path)
            self.headers.append(headers)
            self.requests.append(request)
            self.arrived.notify_all()

    @property
    def resource_spans(self) -> list[ResourceSpans]:
        with self.arrived:
            return [rs for req in self.requests for rs in req.resource_spans]

    @property
    def spans(self) -> list[Span]:
        return [s for rs in self.resource_spans for ss in rs.scope_spans for s in ss.spans]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Span]:
        with self.arrived:
            self.arrived.wait_for(lambda: sum(_count(r) for r in self.requests) >= count, timeout)
        return self.spans


def _count(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        receiver = self.server
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        if receiver.status == 200:
            receiver.take(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        answer = ExportTraceServiceResponse().SerializeToString() if receiver.status == 200 else b"no"
        self.send_response(receiver.status)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def attrs(span: Span) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in span.attributes}


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def hex_id(raw: bytes) -> str:
    return raw.hex()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def tracker(tmp_path: Path, mini_catalog_path: Path) -> Iterator[llmcost.Tracker]:
    t = llmcost.Tracker(tmp_path / "logs", catalog=pricing.load_catalog(mini_catalog_path, overrides=False))
    yield t
    t.close()


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    reset_warnings()


def logged(tracker: llmcost.Tracker) -> list[llmcost.Record]:
    assert tracker.log_dir is not None
    return [
        decode_record(line) for f in sorted(tracker.log_dir.glob("*.jsonl")) for line in f.read_bytes().splitlines()
    ]


def priced_call(tracker: llmcost.Tracker, **kwargs: Any) -> None:
    with tracker.trace(model="gpt-4o-mini", provider="openai", **kwargs) as call:
        call.set_usage(
            input_tokens=2000,
            output_tokens=300,
            cache_read_input_tokens=1500,
            cache_creation_input_tokens=100,
            reasoning_output_tokens=64,
            response_model="gpt-4o-mini-2024-07-18",
        )


# -- live: one span per recorded call ---------------------------------------------------------------------------


@pytest.fixture
def one_span(tracker: llmcost.Tracker, receiver: Receiver) -> tuple[Span, llmcost.Record]:
    with otel.export_to(tracker, receiver.url):
        priced_call(
            tracker,
            agent="planner",
            session_id="conv-7",
            user_id="ann",
            workflow="triage",
            tags=["prod", "eu"],
            metadata={"ticket": "T-1", "retries": 2},
            server_address="api.openai.com",
            messages=MESSAGES,
        )
    (span,) = receiver.wait_for(1)
    (record,) = logged(tracker)
    return span, record


def test_live_span_has_the_genai_attributes(one_span: tuple[Span, llmcost.Record]) -> None:
    span, _ = one_span
    a = attrs(span)
    assert {k: a[k] for k in a if k.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.request.stream": False,
        "gen_ai.usage.input_tokens": 2000,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_read.input_tokens": 1500,
        "gen_ai.usage.cache_creation.input_tokens": 100,
        "gen_ai.usage.reasoning.output_tokens": 64,
        "gen_ai.agent.name": "planner",
        "gen_ai.conversation.id": "conv-7",
        "gen_ai.workflow.name": "triage",
        "gen_ai.usage.cost.amount": a["llmcost.cost_usd"],
        "gen_ai.usage.cost.currency": "USD",
    }


def test_live_span_has_server_and_user(one_span: tuple[Span, llmcost.Record]) -> None:
    a = attrs(one_span[0])
    assert (a["server.address"], a["user.id"]) == ("api.openai.com", "ann")


def test_live_span_carries_the_cost_of_the_record(one_span: tuple[Span, llmcost.Record]) -> None:
    span, record = one_span
    a = attrs(span)
    assert record.cost_usd is not None
    assert (a["llmcost.cost_usd"], a["llmcost.cost_status"], a["llmcost.price_ref"]) == (
        record.cost_usd,
        "priced",
        record.price_ref,
    )


def test_live_span_carries_attempt_hash_tags_and_metadata(one_span: tuple[Span, llmcost.Record]) -> None:
    span, record = one_span
    a = attrs(span)
    assert (a["llmcost.attempt"], a["llmcost.prompt_hash"], a["llmcost.tags"]) == (
        0,
        record.prompt_hash,
        ["prod", "eu"],
    )
    assert (a["llmcost.metadata.ticket"], a["llmcost.metadata.retries"]) == ("T-1", 2)


def test_live_span_is_a_client_span_named_after_operation_and_model(one_span: tuple[Span, llmcost.Record]) -> None:
    span, _ = one_span
    assert (span.name, span.kind) == ("chat gpt-4o-mini", Span.SpanKind.SPAN_KIND_CLIENT)


def test_live_span_ids_are_the_record_ids(one_span: tuple[Span, llmcost.Record]) -> None:
    span, record = one_span
    assert (hex_id(span.trace_id), hex_id(span.span_id), span.parent_span_id) == (record.trace_id, record.id, b"")


def test_live_span_starts_at_start_ts_and_ends_at_ts(one_span: tuple[Span, llmcost.Record]) -> None:
    span, record = one_span
    from llmcost.log._time import epoch

    assert record.start_ts is not None
    assert record.latency_ms is not None
    assert span.start_time_unix_nano == round(epoch(record.start_ts) * 1e6) * 1000
    assert span.end_time_unix_nano == round(epoch(record.ts) * 1e6) * 1000
    assert attrs(span)["llmcost.latency_ms"] == record.latency_ms  # the exact wall time, beside the span's times


def test_span_without_cost_has_no_cost_attributes() -> None:
    a = otel.span_attributes(rec(cost_usd=None, cost_status="unknown_model"))
    assert not {"llmcost.cost_usd", "gen_ai.usage.cost.amount", "gen_ai.usage.cost.currency"} & set(a)


def test_span_cost_is_also_given_in_the_draft_genai_cost_attributes() -> None:
    a = otel.span_attributes(rec(cost_usd=0.0123))
    assert (a["gen_ai.usage.cost.amount"], a["gen_ai.usage.cost.currency"]) == (0.0123, "USD")


def test_span_names_the_service_tier_as_the_conventions_do() -> None:
    a = otel.span_attributes(rec(service_tier="flex", batch=True, web_search_requests=2))
    assert (a["openai.response.service_tier"], a["gen_ai.openai.response.service_tier"]) == ("flex", "flex")
    assert (a["llmcost.batch"], a["llmcost.web_search_requests"]) == (True, 2)
    plain = otel.span_attributes(rec())
    assert not {k for k in plain if "service_tier" in k or k in ("llmcost.batch", "llmcost.web_search_requests")}


def test_live_span_has_no_error_status_when_ok(one_span: tuple[Span, llmcost.Record]) -> None:
    assert one_span[0].status.code == Status.STATUS_CODE_UNSET


def test_live_resource_names_service_and_host(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with otel.export_to(tracker, receiver.url):
        priced_call(tracker)
    receiver.wait_for(1)
    resource = {kv.key: _value(kv.value) for kv in receiver.resource_spans[0].resource.attributes}
    assert (resource["service.name"], resource["host.name"]) == ("llmcost", socket.gethostname())


def test_service_name_comes_from_the_standard_variable(
    tracker: llmcost.Tracker, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "support-bot")
    with otel.export_to(tracker, receiver.url):
        priced_call(tracker)
    receiver.wait_for(1)
    resource = {kv.key: _value(kv.value) for kv in receiver.resource_spans[0].resource.attributes}
    assert resource["service.name"] == "support-bot"


def test_endpoint_comes_from_the_standard_variable(
    tracker: llmcost.Tracker, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    with otel.export_to(tracker):
        priced_call(tracker)
    assert len(receiver.wait_for(1)) == 1
    assert receiver.paths == ["/v1/traces"]


def test_headers_reach_the_collector(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with otel.export_to(tracker, receiver.url, headers={"x-team": "search"}):
        priced_call(tracker)
    receiver.wait_for(1)
    assert receiver.headers[0]["x-team"] == "search"


def test_nested_calls_nest_as_spans(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with otel.export_to(tracker, receiver.url), tracker.trace(model="gpt-4o", provider="openai") as outer:
        outer.set_usage(input_tokens=10, output_tokens=1)
        priced_call(tracker)
        priced_call(tracker)
    spans = {s.name: s for s in receiver.wait_for(3)}
    parent = spans["chat gpt-4o"]
    children = [s for s in receiver.spans if s.span_id != parent.span_id]
    assert [c.parent_span_id for c in children] == [parent.span_id, parent.span_id]
    assert {c.trace_id for c in children} == {parent.trace_id}


def test_failed_call_is_an_error_span(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with (
        otel.export_to(tracker, receiver.url),
        pytest.raises(TimeoutError),
        tracker.trace(model="gpt-4o-mini", provider="openai"),
    ):
        raise TimeoutError("upstream took too long")
    (span,) = receiver.wait_for(1)
    assert (span.status.code, span.status.message) == (Status.STATUS_CODE_ERROR, "upstream took too long")
    assert attrs(span)["error.type"] == "TimeoutError"


def test_content_never_leaves_even_when_captured(tmp_path: Path, receiver: Receiver) -> None:
    tracker = llmcost.Tracker(tmp_path / "logs", capture_content=True)
    with otel.export_to(tracker, receiver.url), tracker.trace(model="m", provider="openai", messages=MESSAGES) as c:
        c.set_usage(input_tokens=1, output_tokens=1)
    (span,) = receiver.wait_for(1)
    (record,) = logged(tracker)
    tracker.close()
    assert "secret plan" in str(record.metadata)  # in the log: the user opted in
    assert b"secret plan" not in span.SerializeToString()


def test_real_openai_client_through_the_recorder(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with FakeLLMServer() as llm, openai.OpenAI(base_url=llm.url + "/v1", api_key="sk-test", max_retries=0) as raw:
        client = llmcost.track(raw, tracker=tracker, provider="openai", agent="writer")
        with otel.export_to(tracker, receiver.url):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (span,) = receiver.wait_for(1)
    a = attrs(span)
    assert (a["gen_ai.response.id"], a["gen_ai.usage.input_tokens"], a["llmcost.source"]) == (
        "chatcmpl-abc123",
        CHAT_USAGE["prompt_tokens"],
        "openai",
    )


def test_spans_go_out_in_batches_without_a_flush(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with otel.export_to(tracker, receiver.url, batch_size=3) as export:
        for _ in range(6):
            priced_call(tracker)
        spans = receiver.wait_for(6)  # the background thread sends full batches by itself
        assert len(spans) == 6
    assert export.sent == 6


def test_close_detaches_from_the_tracker(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    export = otel.export_to(tracker, receiver.url)
    export.close()
    priced_call(tracker)
    assert tracker.sinks == ()


# -- live: faults never reach the call ----------------------------------------------------------------------------


def test_unreachable_collector_is_counted_and_the_call_is_kept(tracker: llmcost.Tracker) -> None:
    export = otel.export_to(tracker, f"http://127.0.0.1:{free_port()}", timeout=0.5, interval_s=60)
    priced_call(tracker)
    with pytest.warns(llmcost.RecorderWarning, match="spans not exported"):
        delivered = export.flush()
    export.close()
    assert (delivered, tracker.stats.export_errors, len(logged(tracker))) == (False, 1, 1)


def test_collector_refusing_is_counted(tracker: llmcost.Tracker) -> None:
    with Receiver(status=400) as refusing:
        export = otel.export_to(tracker, refusing.url, interval_s=60)  # only flush() sends
        priced_call(tracker)
        priced_call(tracker)
        with pytest.warns(llmcost.RecorderWarning):
            export.flush()
        export.close()
    assert (export.sent, export.failed, tracker.stats.export_errors) == (0, 2, 2)


def test_full_queue_drops_and_counts(tracker: llmcost.Tracker, receiver: Receiver) -> None:
    with otel.export_to(tracker, receiver.url, max_queue=2, batch_size=100, interval_s=60) as export:
        priced_call(tracker)
        priced_call(tracker)
        with pytest.warns(llmcost.RecorderWarning, match="queue is full"):
            priced_call(tracker)
    assert (export.sent, export.failed, tracker.stats.export_errors) == (2, 1, 1)


# -- mapping details ------------------------------------------------------------------------------------------------


def test_record_without_trace_id_gets_a_stable_one() -> None:
    r = rec(trace_id=None)
    first, second = otel.record_to_span(r), otel.record_to_span(r)
    assert first.context is not None
    assert second.context is not None
    assert first.context.trace_id == second.context.trace_id != 0


def test_ids_that_are_not_hex_still_link_child_to_parent() -> None:
    parent = rec(id="run-parent", trace_id="trace-a")
    child = rec(id="run-child", trace_id="trace-a", parent_id="run-parent")
    p, c = otel.record_to_span(parent), otel.record_to_span(child)
    assert p.context is not None
    assert c.context is not None
    assert c.parent is not None
    assert (c.parent.span_id, c.context.trace_id) == (p.context.span_id, p.context.trace_id)


def test_unknown_values_are_left_out() -> None:
    a = otel.span_attributes(rec(cost_usd=None, input_tokens=None, agent=None, cost_status="no_usage"))
    assert not {"llmcost.cost_usd", "gen_ai.usage.input_tokens", "gen_ai.agent.name"} & set(a)


def test_ttft_is_given_in_seconds_and_milliseconds() -> None:
    a = otel.span_attributes(rec(stream=True, ttft_ms=250.0))
    assert (a["gen_ai.response.time_to_first_chunk"], a["llmcost.ttft_ms"], a["gen_ai.request.stream"]) == (
        0.25,
        250.0,
        True,
    )


def test_span_without_start_ts_ends_at_ts() -> None:
    from llmcost.log._time import epoch

    r = rec(start_ts=None, latency_ms=400.0)
    span = otel.record_to_span(r)
    assert span.end_time == round(epoch(r.ts) * 1e6) * 1000
    assert span.end_time - span.start_time == 400_000_000  # type: ignore[operator]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("collector:4318", "http://collector:4318/v1/traces"),
        ("https://otlp.example.com/api/v1/traces", "https://otlp.example.com/api/v1/traces"),
    ],
)
def test_traces_endpoint(given: str, expected: str) -> None:
    assert otel.traces_endpoint(given) == expected


def test_traces_endpoint_default_follows_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://central:4318/")
    assert otel.traces_endpoint() == "http://central:4318/v1/traces"


# -- history: llmcost export --otlp -----------------------------------------------------------------------------


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    march = [rec(T0 + i, agent="writer", start_ts=None) for i in range(5)]
    march.append(rec(T0 + 10, status="error", error_type="RateLimitError", error_message="429"))
    write(day_file(directory, T0), march)
    write(day_file(directory, T0 + 86400), [rec(T0 + 86400 + i, agent="late") for i in range(3)])
    return directory


def test_cli_sends_every_call_of_the_logs(logs: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--otlp", receiver.url, str(logs)])
    err = capsys.readouterr().err
    assert code == 0
    assert err == f"9 calls sent as spans to {receiver.url}/v1/traces\n"
    expected = {r.id for f in logs.iterdir() for r in map(decode_record, f.read_bytes().splitlines())}
    assert {hex_id(s.span_id) for s in receiver.spans} == expected


def test_cli_error_record_is_an_error_span(logs: Path, receiver: Receiver) -> None:
    assert main(["export", "--otlp", receiver.url, str(logs)]) == 0
    (failed,) = [s for s in receiver.spans if s.status.code == Status.STATUS_CODE_ERROR]
    assert attrs(failed)["error.type"] == "RateLimitError"


def test_cli_since_and_until_select(logs: Path, receiver: Receiver) -> None:
    code = main(["export", "--otlp", receiver.url, str(logs), "--since", "2026-03-03"])
    assert code == 0
    assert {attrs(s)["gen_ai.agent.name"] for s in receiver.spans} == {"late"}


def test_cli_sends_in_batches(tmp_path: Path, receiver: Receiver) -> None:
    directory = tmp_path / "many"
    write(day_file(directory, T0), [rec(T0 + i / 100) for i in range(1100)])
    assert main(["export", "--otlp", receiver.url, str(directory)]) == 0
    assert [_count(r) for r in receiver.requests] == [512, 512, 76]


def test_cli_headers_reach_the_collector(logs: Path, receiver: Receiver) -> None:
    assert main(["export", "--otlp", receiver.url, "--header", "authorization=Bearer t0k", str(logs)]) == 0
    assert receiver.headers[0]["authorization"] == "Bearer t0k"


def test_cli_unreachable_collector(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code = main(["export", "--otlp", url, str(logs)])
    err = capsys.readouterr().err
    assert code == 1
    assert err == f"llmcost export: error: cannot reach the collector at {url}/v1/traces: connection refused\n"


def test_cli_collector_refusing(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Receiver(status=400) as refusing:
        code = main(["export", "--otlp", refusing.url, str(logs)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"llmcost export: error: {refusing.url}/v1/traces: HTTP 400")
    assert err.count("\n") == 1


def test_cli_bad_header_is_a_usage_error(logs: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--otlp", receiver.url, "--header", "nonsense", str(logs)])
    assert code == 2
    assert "--header: expected NAME=VALUE" in capsys.readouterr().err


def test_cli_without_the_extra_says_what_to_install(logs: Path) -> None:
    code, err = without_opentelemetry("llmcost.cli", ["export", "--otlp", "http://127.0.0.1:9", str(logs)])
    assert code == 1
    assert err == "llmcost export: error: --otlp needs OpenTelemetry: pip install 'llmcost-top[otel]'\n"


def test_import_llmcost_does_not_import_opentelemetry() -> None:
    code = "import sys, llmcost; print(any(m.startswith('opentelemetry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


# -- docs: the examples run as written (against the loopback receiver), the collector configs hang together -----

ROOT = Path(__file__).parent.parent
README_BLOCK = re.search(r"### OpenTelemetry\n.*?```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
DOC = (ROOT / "docs" / "otel.md").read_text()


def run_receiving(code: str, receiver: Receiver) -> list[str]:
    """Run an example with the loopback receiver in place of the collector it names."""
    return run_example(code.replace("http://localhost:4318", receiver.url), "example")


def test_readme_example_runs_as_written(receiver: Receiver) -> None:
    assert README_BLOCK is not None
    code = README_BLOCK.group(1)
    assert run_receiving(code, receiver) == expected_prints(code)
    assert attrs(receiver.wait_for(1)[0])["gen_ai.agent.name"] == "planner"


@pytest.mark.parametrize("code", python_blocks(DOC))
def test_doc_example_runs_as_written(code: str, receiver: Receiver) -> None:
    assert run_receiving(code, receiver) == expected_prints(code)


@pytest.mark.parametrize("config", re.findall(r"```yaml\n(.*?)```", DOC, re.S))
def test_doc_collector_config_uses_only_what_it_defines(config: str) -> None:
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(config)
    (pipeline,) = data["service"]["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(data[kind]), kind
    assert data["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
