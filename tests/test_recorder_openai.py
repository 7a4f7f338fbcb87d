"""The real ``openai`` client against a loopback server speaking its wire format."""

from __future__ import annotations

import gc
import time
from decimal import Decimal

import httpx
import openai
import pytest

import llmcost
import pricing
from tests.servers import RESPONSES_USAGE, FakeLLMServer, assert_chat_recorded, opened

MESSAGES = [{"role": "user", "content": "Say hello"}]


def client_for(server: FakeLLMServer, retries: int = 0) -> openai.OpenAI:
    return opened(openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=retries))


def test_chat_completion_is_priced_with_cache_and_reasoning(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai", agent="planner", tags=["prod"])
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert resp.choices[0].message.content == "Hello!"
    (rec,) = tracker.records
    assert_chat_recorded(rec, "openai")
    expected = pricing.load_catalog().price(
        pricing.Usage(input_tokens=2006, output_tokens=300, cache_read_tokens=1920, reasoning_tokens=64), "gpt-4o-mini"
    )
    assert Decimal(str(rec.cost_usd)) == expected.cost_usd
    assert rec.agent == "planner"
    assert rec.tags == ["prod"]
    assert rec.server_address == "127.0.0.1"
    assert rec.prompt_hash is not None
    assert len(rec.prompt_hash) == 16
    assert "Say hello" not in llmcost.encode_record(rec).decode()


def test_chat_stream_asks_for_usage_and_measures_ttft(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.first_token_delay = 0.05
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    text = ""
    for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        for choice in chunk.choices:  # the usage chunk has no choices
            text += choice.delta.content or ""
    assert text == "Hello!"
    assert server.requests[0][1]["stream_options"] == {"include_usage": True}
    (rec,) = tracker.records
    assert rec.stream
    assert rec.status == "ok"
    assert rec.input_tokens == 2006
    assert rec.output_tokens == 300
    assert rec.ttft_ms is not None
    assert rec.ttft_ms >= 50
    assert rec.latency_ms is not None
    assert rec.latency_ms >= rec.ttft_ms


def test_user_stream_options_are_kept(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": False}
    )
    list(stream)
    assert server.requests[0][1]["stream_options"] == {"include_usage": False}
    (rec,) = tracker.records
    assert rec.status == "ok"
    assert rec.input_tokens is None
    assert rec.usage_source == "none"
    assert rec.cost_usd is None
    assert rec.cost_status == "no_usage"


def test_stream_abandoned_is_recorded_once_as_cancelled(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    for _chunk in stream:
        break
    stream.close()
    stream.close()
    (rec,) = tracker.records
    assert rec.status == "cancelled"


def test_stream_dropped_without_iterating_is_recorded(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    del stream
    import gc

    gc.collect()
    (rec,) = tracker.records
    assert rec.status == "cancelled"


def test_stream_left_with_break_is_recorded_when_dropped_without_gc(
    server: FakeLLMServer, tracker: llmcost.Tracker
) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    gc.disable()  # recorded by reference counting alone, when the stream is dropped
    try:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        for _chunk in stream:
            break
        time.sleep(0.05)
        assert tracker.records == []
        del stream
        (rec,) = tracker.records
    finally:
        gc.enable()
    assert rec.status == "cancelled"
    assert rec.latency_ms is not None
    assert rec.latency_ms >= 50


def test_interrupted_stream_is_an_error(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.cut_after = 3
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    # openai 2.x lets httpx's error through; 3.x wraps it in APIConnectionError.
    with pytest.raises((httpx.RemoteProtocolError, openai.APIConnectionError)) as info:
        list(stream)
    (rec,) = tracker.records
    assert rec.status == "error"
    assert rec.error_type == type(info.value).__name__
    assert rec.ttft_ms is not None
    assert rec.input_tokens is None


@pytest.mark.parametrize("status", [429, 500])
def test_http_errors_are_recorded_with_status(server: FakeLLMServer, tracker: llmcost.Tracker, status: int) -> None:
    server.errors = [status]
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (rec,) = tracker.records
    assert rec.status == "error"
    assert rec.http_status == status
    assert rec.error_type == ("RateLimitError" if status == 429 else "InternalServerError")
    assert rec.cost_status == "no_usage"
    assert rec.cost_usd is None


def test_sdk_retries_become_the_attempt(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [429, 500]
    client = llmcost.track(client_for(server, retries=2), tracker=tracker, provider="openai")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(server.requests) == 3
    (rec,) = tracker.records
    assert rec.status == "ok"
    assert rec.attempt == 2


def test_sdk_retries_before_a_final_failure_are_the_attempt(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [500, 429, 500]
    client = llmcost.track(client_for(server, retries=2), tracker=tracker, provider="openai", attempt=1)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(server.requests) == 3
    (rec,) = tracker.records
    assert (rec.status, rec.http_status) == ("error", 500)
    assert rec.attempt == 1 + 2  # the caller's own attempt, then the SDK's two retries


def test_sdk_retries_before_a_stream_are_the_attempt(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [429]
    client = llmcost.track(client_for(server, retries=2), tracker=tracker, provider="openai")
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    (rec,) = tracker.records
    assert (rec.status, rec.attempt, rec.stream) == ("ok", 1, True)


async def test_async_sdk_retries_before_a_final_failure_are_the_attempt(
    server: FakeLLMServer, tracker: llmcost.Tracker
) -> None:
    server.errors = [500, 500]
    async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="k", max_retries=1) as raw:
        client = llmcost.track(raw, tracker=tracker, provider="openai")
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (rec,) = tracker.records
    assert (rec.status, rec.attempt) == ("error", 1)


def test_responses_api(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai")
    client.responses.create(model="o3", input="hi", instructions="be brief")
    list(client.responses.create(model="o3", input="hi", stream=True))
    plain, streamed = tracker.records
    for rec in (plain, streamed):
        assert rec.operation == "responses"
        assert rec.status == "ok"
        assert rec.input_tokens == RESPONSES_USAGE["input_tokens"]
        assert (rec.cache_read_input_tokens, rec.reasoning_output_tokens) == (128, 20)
        assert rec.cost_status == "priced"
        assert rec.cost_usd is not None
    assert streamed.stream
    assert streamed.ttft_ms is not None
    assert "stream_options" not in server.requests[1][1]


def test_local_server_behind_openai_client_is_not_priced_as_openai(
    server: FakeLLMServer, tracker: llmcost.Tracker
) -> None:
    client = llmcost.track(client_for(server), tracker=tracker)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (rec,) = tracker.records
    assert rec.provider == "vllm"
    assert rec.cost_status == "free"
    assert rec.cost_usd == 0
    assert rec.gpu_seconds is not None
    assert rec.gpu_seconds > 0


async def test_async_client_and_stream(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0) as raw:
        client = llmcost.track(raw, tracker=tracker, provider="openai")
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        async for _chunk in stream:
            pass
        stream2 = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        async for _chunk in stream2:
            break
        await stream2.close()
    plain, streamed, cancelled = tracker.records
    assert (plain.status, streamed.status, cancelled.status) == ("ok", "ok", "cancelled")
    assert (streamed.output_tokens, streamed.stream) == (300, True)


def test_a_wrapped_client_takes_attribution_as_one_value(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    base = llmcost.Attribution(workflow="w", tags=["t1"])
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai", attribution=base, tags=["t2"])
    client.tagged(attribution=llmcost.Attribution(agent="b")).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    (rec,) = tracker.records
    assert (rec.agent, rec.workflow, rec.tags) == ("b", "w", ["t1", "t2"])


def test_tagged_and_with_options_keep_recording(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = llmcost.track(client_for(server), tracker=tracker, provider="openai", agent="a")
    client.tagged(session_id="s1", attempt=3, agent="b").chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.with_options(timeout=5).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    first, second = tracker.records
    assert (first.agent, first.session_id, first.attempt) == ("b", "s1", 3)
    assert (second.agent, second.session_id, second.attempt) == ("a", None, 0)
    assert first.prompt_hash == second.prompt_hash
