"""OTLP traces to records, without a socket: our own spans come back as the records they were made from (protobuf
and JSON), other GenAI instrumentations' spans are read by the conventions' names and priced, everything else is
ignored or rejected and counted."""

from __future__ import annotations

import json
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pricing
from llmcost import otel
from llmcost.log import Record, encode_record
from tests._otlp import GENAI, chat_span, json_of, protobuf_of, request_of, sdk_tracer
from tests._traces import T0, rec, ts


def receive(body: bytes, json: bool = False, catalog: pricing.Catalog | None = None) -> otel.Conversion:
    spans, result = otel.parse_traces(body, json)
    return otel.spans_to_records(spans, catalog, into=result)


@pytest.fixture
def catalog(mini_catalog_path: Path) -> pricing.Catalog:
    return pricing.load_catalog(mini_catalog_path, overrides=False)


# -- our own spans: the records they were made from ------------------------------------------------------------


def full_records() -> list[Record]:
    """Calls as the recorder writes them: ok, failed, streamed, retried, with and without a trace id or a cost."""
    return [
        rec(
            start_ts=ts(T0 - 0.5791),
            latency_ms=579.1234,
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            parent_id="00f067aa0ba902b7",
            server_address="api.openai.com",
            response_model="gpt-4o-mini-2024-07-18",
            response_id="chatcmpl-abc123",
            stream=True,
            ttft_ms=212.4,
            input_tokens=2006,
            cache_read_input_tokens=1920,
            cache_creation_input_tokens=0,
            reasoning_output_tokens=64,
            price_ref="2026.11.22:openai/gpt-4o-mini@origin",
            session_id="s-42",
            user_id="ann",
            workflow="triage",
            tags=["prod", "eu"],
            metadata={"ticket": "T-1", "retries": 2, "canary": True, "share": 0.5},
            prompt_hash="5d41402abc4b2a76",
            source="openai",
        ),
        rec(
            start_ts=ts(T0 - 1),
            status="error",
            error_type="RateLimitError",
            error_message="Rate limit reached for gpt-4o-mini",
            http_status=429,
            attempt=3,
            fallback_from="gpt-4o",
            input_tokens=None,
            output_tokens=None,
            usage_source="none",
            cost_usd=None,
            cost_status="no_usage",
        ),
        rec(start_ts=ts(T0 - 2), status="error", error_type="APITimeoutError", cost_usd=None, cost_status="no_usage"),
        rec(start_ts=ts(T0 - 0.2), trace_id=None, provider="ollama", request_model="llama3.2", cost_usd=0.0),
        rec(start_ts=ts(T0), operation="embeddings", output_tokens=None, gpu_seconds=1.25, cost_status="free"),
        rec(start_ts=ts(T0 - 3), request_model="mystery-1", cost_usd=None, cost_status="unknown_model", agent=None),
    ]


def test_our_spans_come_back_as_the_same_records_from_protobuf() -> None:
    records = full_records()
    result = receive(protobuf_of(request_of(records)))
    assert (result.ignored, result.rejected) == (0, 0)
    assert result.records == records


def test_our_spans_come_back_as_the_same_records_from_json() -> None:
    records = full_records()
    result = receive(json_of(request_of(records)), json=True)
    assert (result.ignored, result.rejected) == (0, 0)
    assert result.records == records


def test_our_spans_are_not_repriced(catalog: pricing.Catalog) -> None:
    """The cost and its state travel with the span; a receiver with other rates keeps them."""
    records = [rec(start_ts=ts(T0 - 1), cost_usd=123.0, cost_status="priced", price_ref="old@1")]
    assert receive(protobuf_of(request_of(records)), catalog=catalog).records == records


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)  # protobuf strings are UTF-8
_hex16 = st.text("0123456789abcdef", min_size=16, max_size=16).filter(lambda s: s.strip("0") != "")
_hex32 = st.text("0123456789abcdef", min_size=32, max_size=32).filter(lambda s: s.strip("0") != "")
_count = st.none() | st.integers(0, 2**53)
_amount = st.none() | st.floats(0, 1e9, allow_nan=False)
_scalar = st.one_of(st.text(max_size=300, alphabet=string.printable), st.integers(-(2**63), 2**63 - 1), st.booleans())


@st.composite
def records(draw: Any) -> Record:
    end_ms = draw(st.integers(1_577_836_800_000, 1_893_456_000_000))  # 2020 to 2030
    status = draw(st.sampled_from(["ok", "error", "cancelled"]))
    # A failed call's type and message, when known, are not empty (the export fills an empty one in).
    error_type = draw(st.none() | _text.filter(lambda t: t not in ("", "_OTHER"))) if status == "error" else None
    error_message = draw(st.none() | _text.filter(lambda m: m not in ("", error_type))) if status == "error" else None
    return Record(
        ts=ts(end_ms / 1000),
        start_ts=ts((end_ms - draw(st.integers(0, 600_000))) / 1000),  # a record has one (the recorder writes it)
        id=draw(_hex16),
        trace_id=draw(st.none() | _hex32),
        parent_id=draw(st.none() | _hex16),
        source=draw(st.sampled_from(["sdk", "openai", "anthropic", "langchain", "litellm", "ollama", "manual"])),
        operation=draw(st.sampled_from(["chat", "text_completion", "embeddings", "responses"])),
        provider=draw(st.none() | _text),
        server_address=draw(st.none() | _text),
        request_model=draw(st.none() | _text),
        response_model=draw(st.none() | _text),
        response_id=draw(st.none() | _text),
        stream=draw(st.booleans()),
        input_tokens=draw(_count),
        output_tokens=draw(_count),
        cache_read_input_tokens=draw(_count),
        cache_creation_input_tokens=draw(_count),
        reasoning_output_tokens=draw(_count),
        usage_source=draw(st.sampled_from(["provider", "estimated", "none", "partial"])),
        gpu_seconds=draw(_amount),
        cost_usd=draw(_amount),
        cost_status=draw(st.sampled_from(["priced", "free", "provider_reported", "unknown_model", "no_usage"])),
        price_ref=draw(st.none() | _text),
        latency_ms=draw(_amount),
        ttft_ms=draw(_amount),
        status=status,
        error_type=error_type,
        error_message=error_message,
        attempt=draw(st.integers(0, 2**53)),
        fallback_from=draw(st.none() | _text),
        agent=draw(st.none() | _text),
        session_id=draw(st.none() | _text),
        user_id=draw(st.none() | _text),
        workflow=draw(st.none() | _text),
        tags=draw(st.none() | st.lists(_text, min_size=1, max_size=4)),
        metadata=draw(st.none() | st.dictionaries(_text.filter(lambda k: k != "content"), _scalar, min_size=1)),
        prompt_hash=draw(st.none() | _text),
        http_status=draw(st.none() | st.integers(100, 599)),
        host=draw(st.none() | _text.filter(bool)),  # the span's resource host.name (an empty one names no machine)
        service_tier=draw(st.none() | _text.filter(bool)),  # the recorder writes no empty tier
        batch=draw(st.booleans()),
        cache_creation_1h_input_tokens=draw(_count),
        web_search_requests=draw(_count),
        web_fetch_requests=draw(_count),
        file_search_calls=draw(_count),
        code_interpreter_sessions=draw(_count),
        grounded_prompts=draw(_count),
    )


@given(st.lists(records(), min_size=1, max_size=5, unique_by=lambda r: r.id))
def test_any_record_survives_export_and_receive(batch: list[Record]) -> None:
    request = request_of(batch)
    # A request holds the spans of each resource together, and each host is a resource of its own: records of
    # several hosts come back grouped by host.
    by_id = sorted(batch, key=lambda r: r.id)
    assert sorted(receive(protobuf_of(request)).records, key=lambda r: r.id) == by_id
    assert sorted(receive(json_of(request), json=True).records, key=lambda r: r.id) == by_id


def test_a_record_without_start_ts_comes_back_with_the_start_its_span_had() -> None:
    """The one field that does not survive: a span has a start, so the record gets ``ts`` minus the latency."""
    (back,) = receive(protobuf_of(request_of([rec(start_ts=None, latency_ms=400.0)]))).records
    assert back.start_ts == ts(T0 - 0.4)


# -- other instrumentations -------------------------------------------------------------------------------------


def test_a_genai_span_of_another_instrumentation_becomes_a_priced_record(catalog: pricing.Catalog) -> None:
    with sdk_tracer() as (tracer, spans):
        chat_span(
            tracer,
            {
                **GENAI,
                "gen_ai.usage.cache_read.input_tokens": 1500,
                "gen_ai.agent.name": "planner",
                "gen_ai.conversation.id": "conv-7",
                "gen_ai.response.id": "chatcmpl-1",
                "server.address": "api.openai.com",
            },
        )
        (span,) = spans.get_finished_spans()
    result = receive(protobuf_of([span]), catalog=catalog)
    (r,) = result.records
    expected = catalog.price(
        pricing.Usage(input_tokens=2000, output_tokens=300, cache_read_tokens=1500),
        "gpt-4o-mini-2024-07-18",
        "openai",
        at=span.end_time / 1e9,  # type: ignore[operator]
    )
    assert r.id == f"{span.context.span_id:016x}"
    assert r.trace_id == f"{span.context.trace_id:032x}"
    assert (r.source, r.operation, r.provider, r.request_model, r.response_model) == (
        "otlp",
        "chat",
        "openai",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    assert (r.input_tokens, r.output_tokens, r.cache_read_input_tokens, r.usage_source) == (2000, 300, 1500, "provider")
    assert (r.agent, r.session_id, r.response_id, r.server_address) == (
        "planner",
        "conv-7",
        "chatcmpl-1",
        "api.openai.com",
    )
    assert expected.cost_usd is not None
    assert expected.cost_usd > 0
    assert (Decimal(str(r.cost_usd)), r.cost_status, r.price_ref) == (expected.cost_usd, "priced", expected.price_ref)
    assert r.latency_ms == pytest.approx((span.end_time - span.start_time) / 1e6, abs=0.001)  # type: ignore[operator]
    assert r.metadata == {"service.name": "support-bot"}


@pytest.mark.parametrize("key", ["openai.response.service_tier", "gen_ai.openai.response.service_tier"])
def test_a_span_naming_its_service_tier_is_priced_with_it(catalog: pricing.Catalog, key: str) -> None:
    with sdk_tracer() as (tracer, spans):
        chat_span(tracer, {**GENAI, key: "priority"})
        (span,) = spans.get_finished_spans()
    (r,) = receive(protobuf_of([span]), catalog=catalog).records
    usage = pricing.Usage(input_tokens=2000, output_tokens=300)
    at = span.end_time / 1e9  # type: ignore[operator]
    expected = catalog.price(usage, "gpt-4o-mini-2024-07-18", "openai", at=at, tier="priority")
    assert expected.cost_usd != catalog.price(usage, "gpt-4o-mini-2024-07-18", "openai", at=at).cost_usd
    assert r.service_tier == "priority"
    assert (Decimal(str(r.cost_usd)), r.price_ref) == (expected.cost_usd, expected.price_ref)


def test_older_attribute_names_are_read() -> None:
    """``gen_ai.system`` and the ``prompt_tokens``/``completion_tokens`` and flat cache names of older conventions."""
    with sdk_tracer() as (tracer, spans):
        chat_span(
            tracer,
            {
                "gen_ai.system": "anthropic",
                "gen_ai.request.model": "claude-sonnet-4-5",
                "gen_ai.usage.prompt_tokens": 5000,
                "gen_ai.usage.completion_tokens": 700,
                "gen_ai.usage.cache_read_input_tokens": 4000,
                "gen_ai.usage.cache_creation_input_tokens": 500,
                "gen_ai.usage.reasoning_tokens": 200,
            },
        )
        (r,) = receive(protobuf_of(spans.get_finished_spans())).records
    assert (r.provider, r.operation) == ("anthropic", "chat")
    assert (r.input_tokens, r.output_tokens) == (5000, 700)
    assert (r.cache_read_input_tokens, r.cache_creation_input_tokens, r.reasoning_output_tokens) == (4000, 500, 200)


def test_counts_reported_apart_are_added_to_their_totals() -> None:
    """Anthropic's own usage counts input without the cache; the wire format counts it in (a subset larger than its
    total would be impossible usage)."""
    with sdk_tracer() as (tracer, spans):
        chat_span(
            tracer,
            {
                **GENAI,
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.cache_read.input_tokens": 3000,
                "gen_ai.usage.cache_creation.input_tokens": 400,
                "gen_ai.usage.output_tokens": 50,
                "gen_ai.usage.reasoning.output_tokens": 900,
            },
        )
        (r,) = receive(protobuf_of(spans.get_finished_spans())).records
    assert (r.input_tokens, r.output_tokens) == (3412, 950)


def test_a_span_that_carries_a_cost_keeps_it(catalog: pricing.Catalog) -> None:
    with sdk_tracer() as (tracer, spans):
        chat_span(tracer, {**GENAI, "gen_ai.usage.cost.amount": 0.0421, "gen_ai.usage.cost.currency": "USD"})
        chat_span(tracer, {**GENAI, "gen_ai.usage.cost.amount": 99.0, "gen_ai.usage.cost.currency": "EUR"})
        usd, eur = receive(protobuf_of(spans.get_finished_spans()), catalog=catalog).records
    assert (usd.cost_usd, usd.cost_status, usd.price_ref) == (0.0421, "provider_reported", None)
    assert (eur.cost_status, eur.cost_usd != 99.0) == ("priced", True)  # not dollars: priced with our rates instead


def test_unknown_model_and_no_usage_stay_unpriced(catalog: pricing.Catalog) -> None:
    with sdk_tracer() as (tracer, spans):
        chat_span(tracer, {**GENAI, "gen_ai.request.model": "mystery-9", "gen_ai.response.model": "mystery-9"})
        chat_span(tracer, {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"})
        unknown, no_usage = receive(protobuf_of(spans.get_finished_spans()), catalog=catalog).records
    assert (unknown.cost_usd, unknown.cost_status) == (None, "unknown_model")
    assert (no_usage.cost_usd, no_usage.cost_status, no_usage.usage_source, no_usage.input_tokens) == (
        None,
        "no_usage",
        "none",
        None,
    )


def test_failed_call_has_error_status_type_and_message() -> None:
    with sdk_tracer() as (tracer, spans):
        chat_span(tracer, {**GENAI, "error.type": "429", "http.response.status_code": 429}, error=True)
        (r,) = receive(protobuf_of(spans.get_finished_spans())).records
    assert (r.status, r.error_type, r.error_message, r.http_status) == ("error", "429", "rate limited", 429)


@pytest.mark.parametrize(
    ("given_name", "ours"),
    [("gcp.gemini", "google"), ("gcp.vertex_ai", "google"), ("aws.bedrock", "bedrock"), ("OpenAI", "openai")],
)
def test_provider_names_of_the_conventions_map_to_the_catalog_ids(given_name: str, ours: str) -> None:
    with sdk_tracer() as (tracer, spans):
        chat_span(tracer, {**GENAI, "gen_ai.provider.name": given_name})
        (r,) = receive(protobuf_of(spans.get_finished_spans())).records
    assert r.provider == ours


def test_a_call_inside_an_agent_span_takes_the_agent_name() -> None:
    with sdk_tracer(service=None) as (tracer, spans):
        agent = {**GENAI, "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"}
        with tracer.start_as_current_span("invoke_agent researcher", attributes=agent):
            with tracer.start_as_current_span(
                "execute_tool search", attributes={"gen_ai.operation.name": "execute_tool"}
            ):
                chat_span(tracer, GENAI)
            chat_span(tracer, {**GENAI, "gen_ai.agent.name": "critic"})
        chat_span(tracer, GENAI)  # outside any agent, and the service has no name: no agent
        result = receive(protobuf_of(spans.get_finished_spans()))
    assert sorted(str(r.agent) for r in result.records) == ["None", "critic", "researcher"]
    assert result.ignored == 2  # the agent and tool spans repeat their calls' usage: not calls themselves


def test_a_call_without_agent_is_attributed_to_its_service() -> None:
    with sdk_tracer(service="support-bot") as (tracer, spans):
        chat_span(tracer, GENAI)
        (r,) = receive(protobuf_of(spans.get_finished_spans())).records
    assert r.agent == "support-bot"


def test_spans_that_are_not_calls_are_ignored_and_counted() -> None:
    from opentelemetry.trace import SpanKind

    with sdk_tracer() as (tracer, spans):
        with tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER, attributes={"http.route": "/orders"}):
            pass
        with tracer.start_as_current_span("vllm chat", kind=SpanKind.SERVER, attributes=GENAI):
            pass  # a model server's own span of a call its client reports too
        with tracer.start_as_current_span("db", attributes={"gen_ai.system": "openai"}):
            pass  # names a provider, but no model and no operation
        chat_span(tracer, GENAI)
        result = receive(protobuf_of(spans.get_finished_spans()))
    assert (len(result.records), result.ignored, result.rejected) == (1, 3, 0)


# -- OTLP/JSON as other senders write it ------------------------------------------------------------------------


def json_request(*spans: dict[str, Any], resource: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps(
        {"resourceSpans": [{"resource": {"attributes": resource or []}, "scopeSpans": [{"spans": list(spans)}]}]}
    ).encode()


def attr(key: str, **value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def json_span(**overrides: Any) -> dict[str, Any]:
    span = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",  # upper-case hex is hex too
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "",
        "name": "chat gpt-4o-mini",
        "kind": 3,
        "startTimeUnixNano": "1772452799600000000",
        "endTimeUnixNano": "1772452800000000000",
        "attributes": [
            attr("gen_ai.operation.name", stringValue="chat"),
            attr("gen_ai.provider.name", stringValue="openai"),
            attr("gen_ai.request.model", stringValue="gpt-4o-mini"),
            attr("gen_ai.usage.input_tokens", intValue="1200"),  # int64 as a string, as the JSON mapping says
            attr("gen_ai.usage.output_tokens", intValue=300),  # and as a number, which parsers accept too
            attr("gen_ai.agent.name", stringValue="planner"),
            attr("gen_ai.request.stream", boolValue=True),
            attr("gen_ai.response.time_to_first_chunk", doubleValue=0.25),
        ],
        "status": {},
    }
    span.update(overrides)
    return span


def test_json_as_other_senders_write_it(catalog: pricing.Catalog) -> None:
    body = json_request(json_span(), resource=[attr("service.name", stringValue="api")])
    (r,) = receive(body, json=True, catalog=catalog).records
    assert (r.id, r.trace_id, r.parent_id) == ("eee19b7ec3c1b174", "5b8efff798038103d269b633813fc60c", None)
    assert (r.ts, r.start_ts, r.latency_ms) == ("2026-03-02T12:00:00.000Z", "2026-03-02T11:59:59.600Z", 400.0)
    assert (r.input_tokens, r.output_tokens, r.stream, r.ttft_ms, r.agent) == (1200, 300, True, 250.0, "planner")
    assert (r.cost_status, r.cost_usd is not None) == ("priced", True)


def test_json_enum_names_and_error_status() -> None:
    span = json_span(kind="SPAN_KIND_CLIENT", status={"code": "STATUS_CODE_ERROR", "message": "boom"})
    (r,) = receive(json_request(span), json=True).records
    assert (r.status, r.error_message) == ("error", "boom")


def test_values_the_wire_format_refuses_are_left_unknown() -> None:
    span = json_span()
    span["attributes"] += [
        attr("gen_ai.usage.cache_read.input_tokens", intValue="-5"),
        attr("gen_ai.usage.reasoning.output_tokens", doubleValue="NaN"),
        attr("gen_ai.usage.cost.amount", doubleValue="Infinity"),
        attr("http.response.status_code", intValue="999"),
    ]
    (r,) = receive(json_request(span), json=True).records
    assert (r.cache_read_input_tokens, r.reasoning_output_tokens, r.http_status) == (None, None, None)
    assert r.cost_status != "provider_reported"


# -- bad spans and bad requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"spanId": "xyz"}, "hex"),
        ({"traceId": "00000000000000000000000000000000"}, "all-zero"),
        ({"spanId": "0123"}, "hex"),
        ({"endTimeUnixNano": "0"}, "end time"),
        ({"endTimeUnixNano": "-1"}, "nanoseconds"),
        ({"endTimeUnixNano": "99999999999999999999"}, "end time"),
        ({"attributes": [attr("gen_ai.request.model", stringValue="m")] * 2, "startTimeUnixNano": "x"}, "nanoseconds"),
    ],
)
def test_a_bad_span_is_rejected_and_the_others_kept(change: dict[str, Any], why: str) -> None:
    good = json_span()
    bad = json_span(**{"spanId": "aaaaaaaaaaaaaaaa", **change})
    result = receive(json_request(good, bad), json=True)
    assert ([r.id for r in result.records], result.rejected) == (["eee19b7ec3c1b174"], 1)
    assert result.error is not None
    assert why in result.error


def test_a_span_that_is_not_an_object_is_rejected() -> None:
    result = receive(json_request(json_span(), "not a span", 7), json=True)  # type: ignore[arg-type]
    assert (len(result.records), result.rejected, result.error) == (1, 2, "a span that is not a JSON object")


def test_a_bad_protobuf_span_is_rejected() -> None:
    request = request_of([rec(start_ts=ts(T0)), rec(start_ts=ts(T0))])
    request.resource_spans[0].scope_spans[0].spans[1].span_id = b"\x01\x02"
    result = receive(protobuf_of(request))
    assert (len(result.records), result.rejected) == (1, 1)


@pytest.mark.parametrize(
    ("body", "is_json"),
    [
        (b"\xff\xff\xff\xff", False),
        (b"not json", True),
        (b"[1, 2]", True),
        (b'{"resourceSpans": {"a": 1}}', True),
        (b'{"resourceSpans": [{"scopeSpans": 7}]}', True),
    ],
)
def test_a_body_that_is_not_a_request_is_a_bad_request(body: bytes, is_json: bool) -> None:
    with pytest.raises(otel.BadRequest):
        otel.parse_traces(body, is_json)


def test_values_nested_without_end_are_a_bad_request() -> None:
    depth = 5000
    value = '{"arrayValue": {"values": [' * depth + '{"stringValue": "x"}' + "]}}" * depth
    body = json_request(json_span()).replace(b'{"stringValue": "gpt-4o-mini"}', value.encode())
    with pytest.raises(otel.BadRequest, match="nested"):
        otel.parse_traces(body, True)


def test_an_empty_request_gives_nothing() -> None:
    assert receive(b"", json=False).records == []
    assert receive(b"{}", json=True).records == []


def test_huge_texts_are_cut_so_the_line_stays_short() -> None:
    span = json_span()
    span["attributes"] += [attr("gen_ai.conversation.id", stringValue="x" * 5_000_000)]
    span["status"] = {"code": 2, "message": "y" * 1_000_000}
    (r,) = receive(json_request(span), json=True).records
    assert len(encode_record(r)) < 4096
    assert r.error_message == "y" * 300


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=10,
)
_fields = st.sampled_from(
    [
        "traceId",
        "spanId",
        "parentSpanId",
        "name",
        "kind",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "attributes",
        "status",
    ]
)


_keys = st.sampled_from(
    sorted(
        {k for span in (otel.span_attributes(rec(status="error", error_type="E")), GENAI) for k in span}
        | {"gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.usage.cost.currency", "service.name"}
    )
) | st.text(max_size=40)


_any_value = st.recursive(
    st.one_of(
        st.builds(lambda v: {"stringValue": v}, st.text(max_size=20)),
        st.builds(lambda v: {"intValue": v}, st.integers() | st.integers().map(str)),
        st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=False, allow_infinity=False) | st.just("NaN")),
        st.builds(lambda v: {"boolValue": v}, st.booleans()),
        _json,
    ),
    lambda inner: st.one_of(
        st.builds(lambda v: {"arrayValue": {"values": v}}, st.lists(inner, max_size=3)),
        st.builds(
            lambda v: {"kvlistValue": {"values": [{"key": k, "value": x} for k, x in v]}},
            st.lists(st.tuples(st.text(max_size=8), inner), max_size=3),
        ),
    ),
    max_leaves=6,
)


@given(st.dictionaries(_fields, _json, max_size=4), st.lists(st.tuples(_keys, _any_value), max_size=6))
def test_any_json_span_is_read_or_rejected_never_raised(fields: dict[str, Any], attributes: list[Any]) -> None:
    span = json_span(**fields)
    if isinstance(span.get("attributes"), list):
        span["attributes"] = [*span["attributes"], *({"key": k, "value": v} for k, v in attributes)]
    for ours in (False, True):  # as a span of another instrumentation, and as one of ours
        if ours and isinstance(span.get("attributes"), list):
            span["attributes"] = [*span["attributes"], attr("llmcost.source", stringValue="sdk")]
        result = receive(json_request(span), json=True)
        assert len(result.records) + result.rejected + result.ignored == 1
