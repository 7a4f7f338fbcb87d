"""What providers really bill: service tiers, batch and server-side tool fees, read from the real ``openai`` and
``anthropic`` clients against the loopback server, written on the line and priced as the catalog prices them."""

from __future__ import annotations

import json
import warnings
from decimal import Decimal
from typing import Any, ClassVar

import anthropic
import msgspec
import openai
import pytest

import llmcost
import pricing
from llmcost.log import Record, decode_record, encode_record
from tests.servers import ANTHROPIC_USAGE, FakeLLMServer, opened

MESSAGES = [{"role": "user", "content": "Say hello"}]
CATALOG = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)
CHAT = pricing.Usage(input_tokens=2006, output_tokens=300, cache_read_tokens=1920, reasoning_tokens=64)
RESPONSES = pricing.Usage(input_tokens=328, output_tokens=52, cache_read_tokens=128, reasoning_tokens=20)


@pytest.fixture
def shipped() -> llmcost.Tracker:
    """A tracker in memory, priced with the shipped catalog (it publishes tiers and tool fees)."""
    return llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=CATALOG)


def gpt(server: FakeLLMServer, tracker: llmcost.Tracker, **kwargs: Any) -> Any:
    client = opened(openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0))
    return llmcost.track(client, tracker=tracker, provider="openai", **kwargs)


def claude(server: FakeLLMServer, tracker: llmcost.Tracker) -> Any:
    client = opened(anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0))
    return llmcost.track(client, tracker=tracker, provider="anthropic")


def cost_of(usage: pricing.Usage, model: str, provider: str, **how: Any) -> Decimal:
    price = CATALOG.price(usage, model, provider, **how)
    assert price.status == "priced"
    assert price.cost_usd is not None
    return price.cost_usd


def dollars(rec: Record) -> Decimal:
    assert rec.cost_usd is not None
    return Decimal(str(rec.cost_usd))


def tools_of(rec: Record) -> tuple[int | None, ...]:
    return (
        rec.web_search_requests,
        rec.web_fetch_requests,
        rec.file_search_calls,
        rec.code_interpreter_sessions,
        rec.grounded_prompts,
    )


# -- the wire format ----------------------------------------------------------------------------------------------


def test_new_fields_default_and_old_lines_read_as_before() -> None:
    rec = Record(ts="2026-12-01T10:00:00.000Z", id="a" * 16)
    assert (rec.service_tier, rec.batch, rec.cache_creation_1h_input_tokens) == (None, False, None)
    assert tools_of(rec) == (None,) * 5
    old = json.loads(encode_record(rec))
    for key in ("service_tier", "batch", "cache_creation_1h_input_tokens", "web_search_requests", "grounded_prompts"):
        del old[key]
    assert decode_record(json.dumps(old)) == rec
    keys = list(json.loads(encode_record(rec)))
    assert keys[keys.index("host") + 1 :] == [
        "service_tier",
        "batch",
        "cache_creation_1h_input_tokens",
        "web_search_requests",
        "web_fetch_requests",
        "file_search_calls",
        "code_interpreter_sessions",
        "grounded_prompts",
    ]


@pytest.mark.parametrize(
    ("key", "raw"),
    [("batch", '"yes"'), ("web_search_requests", "-1"), ("service_tier", "3"), ("file_search_calls", "1.5")],
)
def test_new_fields_are_checked(key: str, raw: str) -> None:
    data = json.loads(encode_record(Record(ts="2026-12-01T10:00:00.000Z", id="a" * 16)))
    text = json.dumps({k: v for k, v in data.items() if k != key})[:-1] + f',"{key}":{raw}}}'
    with pytest.raises(msgspec.ValidationError):
        decode_record(text)


# -- OpenAI --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["priority", "flex"])
def test_openai_chat_tier_the_response_reports_is_priced(
    server: FakeLLMServer, shipped: llmcost.Tracker, tier: str
) -> None:
    server.service_tier = tier
    gpt(server, shipped).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (rec,) = shipped.records
    assert (rec.service_tier, rec.batch) == (tier, False)
    expected = cost_of(CHAT, "gpt-4o-mini", "openai", tier=tier)
    assert expected != cost_of(CHAT, "gpt-4o-mini", "openai")
    assert dollars(rec) == expected
    assert rec.price_ref is not None
    assert rec.price_ref.endswith("#" + tier)


def test_openai_default_tier_is_the_standard_price(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    server.service_tier = "default"
    gpt(server, shipped).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (rec,) = shipped.records
    assert rec.service_tier == "default"
    assert dollars(rec) == cost_of(CHAT, "gpt-4o-mini", "openai")


def test_openai_chat_stream_reads_the_tier_from_the_chunks(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    server.service_tier = "flex"
    for _ in gpt(server, shipped).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        pass
    (rec,) = shipped.records
    assert rec.stream
    assert rec.service_tier == "flex"
    assert dollars(rec) == cost_of(CHAT, "gpt-4o-mini", "openai", tier="flex")


def test_openai_requested_tier_is_used_when_the_response_names_none(
    server: FakeLLMServer, shipped: llmcost.Tracker
) -> None:
    gpt(server, shipped).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, service_tier="priority")
    (rec,) = shipped.records
    assert rec.service_tier == "priority"
    assert dollars(rec) == cost_of(CHAT, "gpt-4o-mini", "openai", tier="priority")


def test_openai_response_tier_wins_over_the_requested_one(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    server.service_tier = "default"  # asked for flex, served at the standard tier
    gpt(server, shipped).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, service_tier="flex")
    (rec,) = shipped.records
    assert rec.service_tier == "default"
    assert dollars(rec) == cost_of(CHAT, "gpt-4o-mini", "openai")


TOOL_ITEMS = [
    {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "q"}},
    {"type": "web_search_call", "id": "ws_2", "status": "completed", "action": {"type": "search", "query": "q"}},
    {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"]},
    {
        "type": "code_interpreter_call",
        "id": "ci_1",
        "status": "completed",
        "code": "print(1)",
        "container_id": "cntr_1",
        "outputs": None,
    },
]
RESPONSES_TOOLS = RESPONSES._replace(web_search_requests=2, file_search_calls=1, code_interpreter_sessions=1)


@pytest.mark.parametrize("stream", [False, True])
def test_openai_responses_tool_calls_and_tier_are_priced(
    server: FakeLLMServer, shipped: llmcost.Tracker, stream: bool
) -> None:
    server.service_tier = "priority"
    server.output_items = TOOL_ITEMS
    client = gpt(server, shipped)
    if stream:
        for _ in client.responses.create(model="o3", input="Say hello", stream=True):
            pass
    else:
        client.responses.create(model="o3", input="Say hello")
    (rec,) = shipped.records
    assert rec.stream is stream
    assert rec.service_tier == "priority"
    assert tools_of(rec) == (2, None, 1, 1, None)
    expected = cost_of(RESPONSES_TOOLS, "o3", "openai", tier="priority")
    assert expected > cost_of(RESPONSES, "o3", "openai", tier="priority")
    assert dollars(rec) == expected


def test_openai_responses_without_tools_write_no_tool_counts(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    gpt(server, shipped).responses.create(model="o3", input="Say hello")
    (rec,) = shipped.records
    assert (rec.service_tier, rec.batch) == (None, False)
    assert tools_of(rec) == (None,) * 5
    assert dollars(rec) == cost_of(RESPONSES, "o3", "openai")


# -- Anthropic -----------------------------------------------------------------------------------------------------

MESSAGE = pricing.Usage(
    input_tokens=3 + 12304 + 100,
    output_tokens=550,
    cache_read_tokens=100,
    cache_write_tokens=12000,
    cache_write_1h_tokens=304,
)


def test_anthropic_tier_tools_and_1h_writes_on_the_line(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    server.service_tier = "standard"
    server.server_tool_use = {"web_search_requests": 3, "web_fetch_requests": 2}
    claude(server, shipped).messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES)
    (rec,) = shipped.records
    assert (rec.service_tier, rec.batch) == ("standard", False)
    assert rec.cache_creation_input_tokens == ANTHROPIC_USAGE["cache_creation_input_tokens"]
    assert rec.cache_creation_1h_input_tokens == 304
    assert tools_of(rec) == (3, 2, None, None, None)
    usage = MESSAGE._replace(web_search_requests=3, web_fetch_requests=2)
    expected = cost_of(usage, "claude-sonnet-4-5", "anthropic")
    assert expected == cost_of(MESSAGE, "claude-sonnet-4-5", "anthropic") + Decimal("0.03")  # $10 per 1,000 searches
    assert dollars(rec) == expected


def test_anthropic_batch_tier_is_the_batch_price(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    server.service_tier = "batch"
    claude(server, shipped).messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES)
    (rec,) = shipped.records
    assert (rec.service_tier, rec.batch) == ("batch", True)
    expected = cost_of(MESSAGE, "claude-sonnet-4-5", "anthropic", batch=True)
    assert expected < cost_of(MESSAGE, "claude-sonnet-4-5", "anthropic")
    assert dollars(rec) == expected
    assert rec.price_ref is not None
    assert rec.price_ref.endswith("#batch")


@pytest.mark.parametrize("helper", [False, True])
def test_anthropic_stream_tier_and_tools(server: FakeLLMServer, shipped: llmcost.Tracker, helper: bool) -> None:
    server.service_tier = "priority"  # not published for this model: the standard price, with the tier on the line
    server.server_tool_use = {"web_search_requests": 1, "web_fetch_requests": 0}
    client = claude(server, shipped)
    if helper:
        with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES) as stream:
            for _ in stream.text_stream:
                pass
    else:
        for _ in client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES, stream=True):
            pass
    (rec,) = shipped.records
    assert rec.stream
    assert rec.service_tier == "priority"
    assert tools_of(rec) == (1, 0, None, None, None)
    usage = pricing.Usage(input_tokens=177, output_tokens=47, cache_read_tokens=100, cache_write_tokens=50)
    expected = cost_of(usage._replace(web_search_requests=1), "claude-sonnet-4-5", "anthropic", tier="priority")
    assert expected == cost_of(usage, "claude-sonnet-4-5", "anthropic") + Decimal("0.01")
    assert dollars(rec) == expected


# -- the manual API ------------------------------------------------------------------------------------------------


def test_set_usage_takes_batch_tier_and_tools(shipped: llmcost.Tracker) -> None:
    with shipped.trace(model="gpt-4o-mini", provider="openai") as call:
        call.set_usage(1000, 100, batch=True, web_search_requests=4, code_interpreter_sessions=1)
    with shipped.trace(model="gpt-4o-mini", provider="openai") as call:
        call.set_usage(1000, 100, service_tier="flex")
    with shipped.trace(model="gpt-4o-mini", provider="openai", batch=True) as call:
        call.set_usage(1000, 100)
    batch, flex, traced = shipped.records
    assert (batch.batch, batch.service_tier) == (True, None)
    assert tools_of(batch) == (4, None, None, 1, None)
    plain = pricing.Usage(1000, 100)
    assert dollars(batch) == cost_of(
        plain._replace(web_search_requests=4, code_interpreter_sessions=1), "gpt-4o-mini", "openai", batch=True
    )
    assert (flex.batch, flex.service_tier) == (False, "flex")
    assert dollars(flex) == cost_of(plain, "gpt-4o-mini", "openai", tier="flex")
    assert traced.batch
    assert dollars(traced) == cost_of(plain, "gpt-4o-mini", "openai", batch=True)


def test_a_tool_without_a_published_fee_is_not_priced_as_free(shipped: llmcost.Tracker) -> None:
    with shipped.trace(model="claude-sonnet-4-5", provider="anthropic") as call:
        call.set_usage(1000, 100, file_search_calls=2)
    (rec,) = shipped.records
    assert rec.file_search_calls == 2
    price = CATALOG.price(pricing.Usage(1000, 100, file_search_calls=2), "claude-sonnet-4-5", "anthropic")
    assert price.notes
    assert dollars(rec) == price.cost_usd


def test_odd_tier_and_tool_values_never_raise(shipped: llmcost.Tracker) -> None:
    with warnings.catch_warnings(), shipped.trace(model="gpt-4o-mini", provider="openai") as call:
        warnings.simplefilter("ignore", llmcost.RecorderWarning)
        call.set_usage(1000, 100, service_tier=object(), web_search_requests=-3, batch="maybe")  # type: ignore[arg-type]
    (rec,) = shipped.records
    assert rec.web_search_requests is None
    assert shipped.stats.bad_values >= 2
    assert shipped.stats.internal_errors == 0


def test_a_tier_that_is_not_valid_text_is_left_out(shipped: llmcost.Tracker) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", llmcost.RecorderWarning)
        with shipped.trace(model="gpt-4o-mini", provider="openai") as call:
            call.record({"model": "gpt-4o-mini", "service_tier": "\ud800", "usage": {"prompt_tokens": 1}})
        with shipped.trace(model="gpt-4o-mini", provider="openai") as call:
            call.set_usage(10, 1, service_tier="x" * 65)
    assert [rec.service_tier for rec in shipped.records] == [None, None]
    assert shipped.stats.internal_errors == 0


def test_odd_response_objects_are_counted_not_raised(shipped: llmcost.Tracker) -> None:
    class Odd:
        model = "gpt-4o-mini"
        service_tier = property(lambda self: 1 / 0)
        usage: ClassVar = {"prompt_tokens": 10, "completion_tokens": 2}
        output: ClassVar = [object(), {"type": "web_search_call"}, None]

    with shipped.trace(model="gpt-4o-mini", provider="openai") as call:
        call.record(Odd())
    (rec,) = shipped.records
    assert rec.status == "ok"
    assert rec.service_tier is None
    assert rec.web_search_requests == 1  # the one item that reads as a tool call
    assert shipped.stats.internal_errors == 0


# -- reading the lines again ---------------------------------------------------------------------------------------


def _billed_records() -> list[Record]:
    from tests._traces import T0, rec

    return [
        rec(T0, service_tier="priority", cost_usd=None, cost_status="no_usage"),
        rec(T0 + 1, batch=True, service_tier="batch", cost_usd=0.5),
        rec(T0 + 2, request_model="o3", web_search_requests=3, file_search_calls=2, code_interpreter_sessions=1),
        rec(
            T0 + 3,
            provider="anthropic",
            request_model="claude-sonnet-4-5",
            input_tokens=20_000,
            cache_creation_input_tokens=12_000,
            cache_creation_1h_input_tokens=4_000,
            web_fetch_requests=2,
            web_search_requests=1,
        ),
    ]


def _catalog_cost(r: Record) -> Decimal:
    usage = pricing.Usage(
        input_tokens=r.input_tokens or 0,
        output_tokens=r.output_tokens or 0,
        cache_write_tokens=(r.cache_creation_input_tokens or 0) - (r.cache_creation_1h_input_tokens or 0),
        cache_write_1h_tokens=r.cache_creation_1h_input_tokens or 0,
        web_search_requests=r.web_search_requests or 0,
        web_fetch_requests=r.web_fetch_requests or 0,
        file_search_calls=r.file_search_calls or 0,
        code_interpreter_sessions=r.code_interpreter_sessions or 0,
    )
    assert r.request_model is not None
    return cost_of(usage, r.request_model, r.provider or "", at=r.ts, tier=r.service_tier, batch=r.batch)


def test_reprice_uses_tier_batch_tools_and_1h_writes(tmp_path: Any) -> None:
    from llmcost.engine import report_files
    from tests._traces import T0, day_file, write

    records = _billed_records()
    path = write(day_file(tmp_path, T0), records)
    rows = report_files([path], "session", catalog=CATALOG, reprice=True, processes=1).rows
    assert sum(row.pico for row in rows) == sum(int(_catalog_cost(r).scaleb(12)) for r in records)


def test_a_record_without_a_cost_is_priced_with_its_tier(tmp_path: Any) -> None:
    from llmcost.engine import Engine

    engine = Engine(catalog=CATALOG)
    (unpriced, *_) = _billed_records()
    assert engine._price(unpriced, unpriced.request_model) == int(_catalog_cost(unpriced).scaleb(12))
    assert unpriced.price_ref is not None
    assert unpriced.price_ref.endswith("#priority")


async def test_async_clients_stream_the_tier_and_tools(server: FakeLLMServer, shipped: llmcost.Tracker) -> None:
    server.service_tier = "flex"
    server.output_items = TOOL_ITEMS
    server.server_tool_use = {"web_search_requests": 1}
    async with (
        openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0) as gpt_client,
        anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0) as claude_client,
    ):
        gpt_async = llmcost.track(gpt_client, tracker=shipped, provider="openai")
        claude_async = llmcost.track(claude_client, tracker=shipped, provider="anthropic")
        async for _ in await gpt_async.responses.create(model="o3", input="Say hello", stream=True):
            pass
        kwargs: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": MESSAGES}
        async for _ in await claude_async.messages.create(**kwargs, stream=True):
            pass
    responses, message = shipped.records
    assert (responses.service_tier, tools_of(responses)) == ("flex", (2, None, 1, 1, None))
    assert dollars(responses) == cost_of(RESPONSES_TOOLS, "o3", "openai", tier="flex")
    assert (message.service_tier, message.web_search_requests) == ("flex", 1)


def test_the_tiers_priced_as_standard_without_a_lookup_are_the_catalogs_standard_tiers() -> None:
    # The recorder skips the tier's rate plan for these names (the catalog is not imported with the recorder); each
    # must be one the catalog prices at standard rates, or such a call would be priced at the wrong tier.
    from llmcost.recorder._line import _STANDARD_TIERS

    assert _STANDARD_TIERS <= pricing.STANDARD_TIERS
