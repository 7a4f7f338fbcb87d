"""The real ``anthropic`` and ``ollama`` clients against loopback servers speaking their wire formats."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import ollama
import pytest

import llmcost
import pricing
from tests import servers
from tests.servers import OLLAMA_METRICS, FakeLLMServer, opened

MESSAGES = [{"role": "user", "content": "Say hello"}]
# The SDK warns about the model name used by the test catalog; the warning is not ours.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")


def claude(server: FakeLLMServer, tracker: llmcost.Tracker, retries: int = 0) -> anthropic.Anthropic:
    client = opened(anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=retries))
    return llmcost.track(client, tracker=tracker, provider="anthropic", agent="writer")  # type: ignore[no-any-return]


def test_anthropic_message_input_is_inclusive_and_1h_writes_priced(
    server: FakeLLMServer, tracker: llmcost.Tracker
) -> None:
    msg = claude(server, tracker).messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES)
    assert msg.content[0].text == "Hello!"
    (rec,) = tracker.records
    assert (rec.source, rec.provider, rec.agent, rec.status) == ("anthropic", "anthropic", "writer", "ok")
    assert rec.input_tokens == 3 + 12304 + 100
    assert (rec.cache_read_input_tokens, rec.cache_creation_input_tokens) == (100, 12304)
    usage = pricing.Usage(
        input_tokens=12407,
        output_tokens=550,
        cache_read_tokens=100,
        cache_write_tokens=12000,
        cache_write_1h_tokens=304,
    )
    assert Decimal(str(rec.cost_usd)) == pricing.load_catalog().price(usage, "claude-sonnet-4-5").cost_usd
    assert rec.response_id == "msg_01abc"


def test_anthropic_raw_stream_overwrites_cumulative_usage(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.first_token_delay = 0.03
    events = list(
        claude(server, tracker).messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES, stream=True
        )
    )
    assert events[0].type == "message_start"
    (rec,) = tracker.records
    # message_start said output 1, message_delta says 47 (cumulative): 47, never 48.
    assert (rec.input_tokens, rec.output_tokens, rec.status) == (27 + 50 + 100, 47, "ok")
    assert rec.ttft_ms is not None
    assert rec.ttft_ms >= 30


def test_anthropic_stream_helper(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    client = claude(server, tracker)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
    assert text == "Hello"
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
        for _event in stream:
            break
    done, cancelled = tracker.records
    assert (done.status, done.output_tokens, done.input_tokens, done.stream) == ("ok", 47, 177, True)
    assert done.ttft_ms is not None
    assert cancelled.status == "cancelled"


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the SDK's own, on the odd values
def test_stream_helper_with_a_model_and_id_that_are_not_text_writes_a_readable_line(
    server: FakeLLMServer, tracker: llmcost.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server (or proxy) that names the model and id with other JSON than text: the helper's snapshot keeps them
    as sent; the line leaves them unknown, as the raw stream does, instead of writing what its readers refuse."""
    message = servers._message

    def odd(fake: FakeLLMServer, body: dict[str, Any]) -> dict[str, Any]:
        return {**message(fake, body), "model": 5, "id": {"not": "text"}}

    monkeypatch.setattr(servers, "_message", odd)
    client = claude(server, tracker)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
        assert "".join(stream.text_stream) == "Hello"
    (rec,) = tracker.records  # every line decodes
    assert (rec.response_model, rec.response_id, rec.request_model) == (None, None, "claude-sonnet-4-5")
    assert (rec.status, rec.output_tokens) == ("ok", 47)
    assert rec.cost_status == "priced"


@pytest.mark.filterwarnings("ignore::llmcost.RecorderWarning")  # warned once per process: the count is the check
def test_a_chunk_the_stream_helper_cannot_read_is_counted_and_passed_on(
    server: FakeLLMServer, tracker: llmcost.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever reading an event raises (an SDK that changed its event types), the user's loop gets every event.
    def unreadable(call: object, event: object) -> None:
        raise TypeError("an event of a shape nobody expected")

    monkeypatch.setattr("llmcost.integrations._anthropic._anthropic_chunk", unreadable)
    client = claude(server, tracker)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
        events = [event.type for event in stream]
    assert events[0] == "message_start"
    assert events[-1] == "message_stop"
    assert tracker.stats.odd_chunk == len(events)
    (rec,) = tracker.records
    assert (rec.status, rec.output_tokens) == ("ok", 47)  # finished from the SDK's own message all the same


@pytest.mark.filterwarnings("ignore::llmcost.RecorderWarning")
async def test_a_chunk_the_async_stream_helper_cannot_read_is_counted_and_passed_on(
    server: FakeLLMServer, tracker: llmcost.Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(call: object, event: object) -> None:
        raise TypeError("an event of a shape nobody expected")

    monkeypatch.setattr("llmcost.integrations._anthropic._anthropic_chunk", unreadable)
    async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k", max_retries=0) as raw:
        client = llmcost.track(raw, tracker=tracker, provider="anthropic")
        async with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
            events = [event.type async for event in stream]
    assert (events[0], events[-1]) == ("message_start", "message_stop")
    assert tracker.stats.odd_chunk == len(events)
    (rec,) = tracker.records
    assert (rec.status, rec.output_tokens) == ("ok", 47)


def test_anthropic_rate_limit_then_success_counts_sdk_retry(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [429]
    claude(server, tracker, retries=1).messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)
    (rec,) = tracker.records
    assert (rec.status, rec.attempt) == ("ok", 1)


def test_anthropic_retries_before_a_final_failure_are_the_attempt(
    server: FakeLLMServer, tracker: llmcost.Tracker
) -> None:
    server.errors = [429, 429, 429]
    with pytest.raises(anthropic.RateLimitError):
        claude(server, tracker, retries=2).messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)
    assert len(server.requests) == 3
    (rec,) = tracker.records
    assert (rec.status, rec.http_status, rec.attempt) == ("error", 429, 2)


def test_anthropic_stream_helper_counts_sdk_retries(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [429, 500]
    client = claude(server, tracker, retries=2)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
        assert "".join(stream.text_stream) == "Hello"
    (rec,) = tracker.records
    assert (rec.status, rec.attempt, rec.output_tokens) == ("ok", 2, 47)


def test_anthropic_stream_helper_failing_after_retries(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [500, 500]
    client = claude(server, tracker, retries=1)
    with (
        pytest.raises(anthropic.InternalServerError),
        client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES),
    ):
        pass
    (rec,) = tracker.records
    assert (rec.status, rec.http_status, rec.attempt) == ("error", 500, 1)


async def test_async_anthropic_stream_helper_counts_sdk_retries(
    server: FakeLLMServer, tracker: llmcost.Tracker
) -> None:
    server.errors = [429]
    async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k", max_retries=1) as raw:
        client = llmcost.track(raw, tracker=tracker, provider="anthropic")
        async with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
            async for _text in stream.text_stream:
                pass
    (rec,) = tracker.records
    assert (rec.status, rec.attempt) == ("ok", 1)


def test_anthropic_error_recorded(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    server.errors = [500]
    with pytest.raises(anthropic.InternalServerError):
        claude(server, tracker).messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)
    (rec,) = tracker.records
    assert (rec.status, rec.http_status, rec.error_type) == ("error", 500, "InternalServerError")


async def test_async_anthropic(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k", max_retries=0) as raw:
        client = llmcost.track(raw, tracker=tracker, provider="anthropic")
        await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)
        stream = await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES, stream=True)
        async for _event in stream:
            pass
        async with client.messages.stream(model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES) as s:
            await s.get_final_message()
    plain, raw_stream, helper = tracker.records
    assert (plain.input_tokens, raw_stream.output_tokens, helper.output_tokens) == (12407, 47, 47)
    assert {r.status for r in tracker.records} == {"ok"}


@pytest.fixture
def ollama_clients() -> Iterator[list[ollama.Client]]:
    """Ollama's client never closes its connection pool by itself: close it, or the socket leaks."""
    clients: list[ollama.Client] = []
    yield clients
    for client in clients:
        client._client.close()


def ollama_client(server: FakeLLMServer, tracker: llmcost.Tracker, clients: list[ollama.Client]) -> ollama.Client:
    client = ollama.Client(host=server.url)
    clients.append(client)
    return llmcost.track(client, tracker=tracker, agent="local")  # type: ignore[no-any-return]


def test_ollama_chat_and_generate_are_free_with_gpu_seconds(
    server: FakeLLMServer, tracker: llmcost.Tracker, ollama_clients: list[ollama.Client]
) -> None:
    client = ollama_client(server, tracker, ollama_clients)
    assert client.chat(model="llama3.2", messages=MESSAGES).message.content == "Hello!"
    assert client.generate("llama3.2", "Say hello").response == "Hello!"
    chat, gen = tracker.records
    for rec in (chat, gen):
        assert (rec.provider, rec.cost_status, rec.cost_usd) == ("ollama", "free", 0.0)
        assert (rec.input_tokens, rec.output_tokens) == (11, 18)
        assert rec.gpu_seconds == OLLAMA_METRICS["total_duration"] / 1e9
    assert (chat.operation, gen.operation) == ("chat", "text_completion")


def test_ollama_stream_and_missing_prompt_count(
    server: FakeLLMServer, tracker: llmcost.Tracker, ollama_clients: list[ollama.Client]
) -> None:
    server.omit_prompt_eval = True
    chunks = list(ollama_client(server, tracker, ollama_clients).chat(model="llama3.2", messages=MESSAGES, stream=True))
    assert chunks[-1].done
    (rec,) = tracker.records
    assert (rec.stream, rec.status, rec.input_tokens, rec.output_tokens) == (True, "ok", None, 18)
    assert rec.usage_source == "partial"
    assert rec.ttft_ms is not None


def test_ollama_error(server: FakeLLMServer, tracker: llmcost.Tracker, ollama_clients: list[ollama.Client]) -> None:
    server.errors = [500]
    with pytest.raises(ollama.ResponseError):
        ollama_client(server, tracker, ollama_clients).chat(model="llama3.2", messages=MESSAGES)
    (rec,) = tracker.records
    assert (rec.status, rec.http_status) == ("error", 500)


async def test_ollama_async_stream(server: FakeLLMServer, tracker: llmcost.Tracker) -> None:
    raw = ollama.AsyncClient(host=server.url)
    client = llmcost.track(raw, tracker=tracker)
    async for _part in await client.generate(model="llama3.2", prompt="hi", stream=True):
        pass
    await raw._client.aclose()
    (rec,) = tracker.records
    assert (rec.status, rec.output_tokens, rec.stream) == ("ok", 18, True)


def test_gpu_time_deployment_is_priced(server: FakeLLMServer, mini_catalog_path: Path, tmp_path: Path) -> None:
    text = (
        mini_catalog_path.read_text()
        + f'\n[[providers]]\nid = "lab"\nname = "Lab"\nhosts = ["127.0.0.1:{server.port}"]\n'
    )
    text += 'billing = "gpu_time"\n\n[[providers.models]]\nid = "llama3.2"\n\n[[providers.models.prices]]\n'
    text += 'source = "local"\nchecked = 2026-01-01\ngpu_hour = 3.6\n'
    tmp = tmp_path / "gpu_catalog.toml"
    tmp.write_text(text)
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=pricing.load_catalog(tmp, overrides=False))
    raw = ollama.Client(host=server.url)
    llmcost.track(raw, tracker=tracker).chat(model="llama3.2", messages=MESSAGES)
    raw._client.close()
    (rec,) = tracker.records
    assert (rec.provider, rec.cost_status) == ("lab", "priced")
    assert rec.cost_usd == pytest.approx(OLLAMA_METRICS["total_duration"] / 1e9 * 3.6 / 3600)
