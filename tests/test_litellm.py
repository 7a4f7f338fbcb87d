"""Real ``litellm.completion``/``acompletion`` and its ``Router`` against a loopback server speaking the OpenAI,
Anthropic and Ollama wire formats. A second, plain ``CustomLogger`` (the witness) sees the same events, so what the
record derives from LiteLLM (its cost, trace id, times) is checked against what LiteLLM itself reported."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm reads it at import: never reach the network

import asyncio
import importlib.metadata
import inspect
import re
import subprocess
import sys
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import litellm
import openai
import pytest
import pytest_asyncio
from litellm.integrations.custom_logger import CustomLogger
from packaging.requirements import Requirement

import llmcost
import llmcost.litellm
import pricing
from llmcost.litellm import LlmcostLogger, install, uninstall
from llmcost.log._writer import reset_warnings
from tests.servers import ANTHROPIC_USAGE, CHAT_USAGE, FakeLLMServer, assert_chat_recorded

# Warnings raised inside LiteLLM itself, not by our code: a provider module it imports on the first call has
# TypedDicts pydantic warns about, and its stream reader reads pydantic's deprecated instance attributes.
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:Items? .* (is|are) using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:Accessing the 'model_(computed_)?fields' attribute:DeprecationWarning:litellm"),
]
MESSAGES = [{"role": "user", "content": "Say hello"}]
README = Path(__file__).parent.parent / "README.md"
litellm.suppress_debug_info = True


class Witness(CustomLogger):
    """Keeps the kwargs of every success and failure event LiteLLM fires, by call id."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def _keep(self, kwargs: dict[str, Any]) -> None:
        with self.lock:
            self.events.setdefault(kwargs["litellm_call_id"], kwargs)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._keep(kwargs)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._keep(kwargs)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._keep(kwargs)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._keep(kwargs)


@pytest.fixture(autouse=True)
def close_stray_event_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """A sync LiteLLM call times itself on ``asyncio.get_event_loop()``, which creates a loop in the main thread and
    leaves it open; close it after a sync test, as ``asyncio.run`` would (LiteLLM then uses ``asyncio.run`` itself)."""
    yield
    if inspect.iscoroutinefunction(request.function):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)


def _cached_clients(kind: type) -> list[tuple[str, Any]]:
    """LiteLLM's cached SDK clients of one kind (it keeps them for ten minutes, connections open)."""
    cache = litellm.in_memory_llm_clients_cache
    return [(key, client) for key, client in list(cache.cache_dict.items()) if isinstance(client, kind)]


@pytest.fixture(autouse=True)
def close_sync_clients() -> Iterator[None]:
    yield
    for key, client in _cached_clients(openai.OpenAI):
        client.close()
        litellm.in_memory_llm_clients_cache.delete_cache(key)


@pytest_asyncio.fixture
async def close_async_clients() -> AsyncIterator[None]:
    """Async clients hold connections of the test's event loop: close them in it, before it closes."""
    yield
    for key, client in _cached_clients(openai.AsyncOpenAI):
        await client.close()
        litellm.in_memory_llm_clients_cache.delete_cache(key)


@pytest.fixture
def backup() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
def witness() -> Iterator[Witness]:
    w = Witness()
    litellm.callbacks.append(w)
    yield w
    for name in ("callbacks", "success_callback", "failure_callback", "_async_success_callback"):
        callbacks = getattr(litellm, name)
        callbacks[:] = [cb for cb in callbacks if cb is not w]
    litellm._async_failure_callback[:] = [cb for cb in litellm._async_failure_callback if cb is not w]


@pytest.fixture
def logger(tracker: llmcost.Tracker, witness: Witness) -> Iterator[LlmcostLogger]:
    """The loopback server stands in for OpenAI: the provider is said explicitly (a loopback host means a local one)."""
    lg = install(tracker, provider="openai")
    yield lg
    uninstall()


def openai_args(server: FakeLLMServer, **kwargs: Any) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "api_base": server.url + "/v1",
        "api_key": "sk-test",
        "max_retries": 0,
        **kwargs,
    }


def recorded(tracker: llmcost.Tracker, logger: LlmcostLogger, count: int) -> list[llmcost.Record]:
    """The records once LiteLLM reported every call started (sync calls are reported from its threads)."""
    assert logger.flush(timeout=20)
    assert len(tracker.records) == count
    return sorted(tracker.records, key=lambda r: (r.start_ts or "", r.attempt))


async def arecorded(tracker: llmcost.Tracker, logger: LlmcostLogger, count: int) -> list[llmcost.Record]:
    assert await logger.aflush(timeout=20)
    assert len(tracker.records) == count
    return sorted(tracker.records, key=lambda r: (r.start_ts or "", r.attempt))


def catalog_cost(tracker: llmcost.Tracker, model: str, provider: str, **usage: int) -> Decimal | None:
    catalog = tracker.catalog()
    assert catalog is not None
    return catalog.price(pricing.Usage(**usage), model, provider).cost_usd


def router(server: FakeLLMServer, backup: FakeLLMServer, **kwargs: Any) -> litellm.Router:
    models = [
        {"model_name": "primary", "litellm_params": openai_args(server, model="openai/gpt-4o-mini")},
        {"model_name": "backup", "litellm_params": openai_args(backup, model="openai/gpt-4o")},
    ]
    for entry in models:
        del entry["litellm_params"]["messages"]
    return litellm.Router(model_list=models, **kwargs)


# -- completion ------------------------------------------------------------------------------------------------------


def test_completion_is_recorded_once_with_usage(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    resp = litellm.completion(**openai_args(server))
    assert resp.choices[0].message.content == "Hello!"
    (rec,) = recorded(tracker, logger, 1)
    assert_chat_recorded(rec, "litellm")
    assert rec.usage_source == "provider"
    assert not rec.stream
    assert rec.ttft_ms is None
    assert rec.server_address == "127.0.0.1"
    assert logger.duplicates == 0


def test_completion_is_priced_by_the_catalog_with_litellm_cost_beside(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger, witness: Witness
) -> None:
    litellm.completion(**openai_args(server))
    (rec,) = recorded(tracker, logger, 1)
    expected = catalog_cost(
        tracker,
        "gpt-4o-mini-2024-07-18",
        "openai",
        input_tokens=2006,
        output_tokens=300,
        cache_read_tokens=1920,
        reasoning_tokens=64,
    )
    assert rec.cost_status == "priced"
    assert Decimal(str(rec.cost_usd)) == expected
    (event,) = witness.events.values()
    assert rec.metadata is not None
    assert rec.metadata["litellm_cost_usd"] == event["response_cost"]
    assert rec.metadata["litellm_call_id"] == event["litellm_call_id"]


def test_times_and_trace_come_from_litellm(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger, witness: Witness
) -> None:
    litellm.completion(**openai_args(server))
    (rec,) = recorded(tracker, logger, 1)
    (event,) = witness.events.values()
    slo = event["standard_logging_object"]
    assert rec.trace_id == uuid.UUID(event["litellm_trace_id"]).hex
    assert rec.parent_id is None
    assert rec.latency_ms == pytest.approx((slo["endTime"] - slo["startTime"]) * 1000, abs=5)
    assert rec.start_ts == llmcost.decode_record(llmcost.encode_record(rec)).start_ts
    assert rec.start_ts is not None
    assert rec.start_ts <= rec.ts


def test_attribution_from_call_metadata_over_logger_and_tracker_defaults(
    server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness
) -> None:
    tracker.attribution = llmcost.Attribution(workflow="nightly", tags=["prod"]).over(tracker.attribution)
    lg = install(tracker, provider="openai", agent="planner", user_id="u-default")
    try:
        litellm.completion(
            **openai_args(server), metadata={"agent": "writer", "session_id": "s-1", "tags": ["eu"], "other": "x"}
        )
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    assert (rec.agent, rec.session_id, rec.user_id, rec.workflow) == ("writer", "s-1", "u-default", "nightly")
    assert rec.tags == ["prod", "eu"]
    assert rec.metadata is not None
    assert "other" not in rec.metadata


def test_logger_takes_attribution_as_one_value(
    server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness
) -> None:
    base = llmcost.Attribution(agent="planner", tags=["prod"])
    lg = install(tracker, provider="openai", attribution=base, user_id="u-default")
    try:
        litellm.completion(**openai_args(server))
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    assert (rec.agent, rec.user_id, rec.tags) == ("planner", "u-default", ["prod"])
    with pytest.raises(TypeError, match="unexpected keyword arguments: agnet"):
        LlmcostLogger(tracker, agnet="x")  # type: ignore[call-arg]


def test_openai_user_argument_is_the_user_id(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    litellm.completion(**openai_args(server), user="u-42")
    (rec,) = recorded(tracker, logger, 1)
    assert rec.user_id == "u-42"


def test_prompt_is_hashed_never_written(server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger) -> None:
    litellm.completion(**openai_args(server))
    (rec,) = recorded(tracker, logger, 1)
    line = llmcost.encode_record(rec).decode()
    assert rec.prompt_hash is not None
    assert len(rec.prompt_hash) == 16
    assert "Say hello" not in line
    assert "Hello!" not in line
    assert "sk-test" not in line


def test_capture_content_keeps_prompt_and_answer(
    server: FakeLLMServer, mini_catalog_path: Path, witness: Witness
) -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=mini_catalog_path, capture_content=True)
    lg = install(tracker, provider="openai")
    try:
        litellm.completion(**openai_args(server))
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    assert rec.metadata is not None
    assert rec.metadata["content"] == {"input": MESSAGES, "output": "Hello!"}


@pytest.mark.usefixtures("close_async_clients")
async def test_acompletion_is_recorded_once(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    resp = await litellm.acompletion(**openai_args(server), metadata={"agent": "async-agent"})
    assert resp.choices[0].message.content == "Hello!"
    (rec,) = await arecorded(tracker, logger, 1)
    assert (rec.source, rec.status, rec.agent) == ("litellm", "ok", "async-agent")
    assert rec.input_tokens == 2006
    assert rec.cost_status == "priced"
    assert logger.duplicates == 0


def test_call_inside_a_trace_is_its_child(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    with tracker.trace(model="planner-step", provider="openai") as outer:
        litellm.completion(**openai_args(server))
    records = recorded(tracker, logger, 2)
    (inner,) = [r for r in records if r.source == "litellm"]
    assert inner.parent_id == outer.id
    assert inner.trace_id == outer.trace_id


def test_scope_gets_attribution_and_totals(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    with tracker.scope("request", agent="scoped", session_id="s-9") as scope:
        litellm.completion(**openai_args(server))
        logger.flush(timeout=20)
    (rec,) = recorded(tracker, logger, 1)
    assert (rec.agent, rec.session_id) == ("scoped", "s-9")
    assert scope.calls == 1
    assert scope.cost_usd == Decimal(str(rec.cost_usd))


# -- streams ---------------------------------------------------------------------------------------------------------


def test_stream_is_recorded_once_with_usage_and_ttft(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger, witness: Witness
) -> None:
    stream = litellm.completion(**openai_args(server), stream=True, stream_options={"include_usage": True})
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Hello!"
    (rec,) = recorded(tracker, logger, 1)
    assert rec.stream
    assert rec.status == "ok"
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_input_tokens) == (2006, 300, 1920)
    assert rec.usage_source == "provider"
    slo = next(iter(witness.events.values()))["standard_logging_object"]
    assert rec.ttft_ms == pytest.approx((slo["completionStartTime"] - slo["startTime"]) * 1000, abs=1)
    assert rec.latency_ms is not None
    assert rec.ttft_ms is not None
    assert rec.ttft_ms <= rec.latency_ms


@pytest.mark.usefixtures("close_async_clients")
async def test_async_stream_is_recorded_once(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    stream = await litellm.acompletion(**openai_args(server), stream=True, stream_options={"include_usage": True})
    text = ""
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
    assert text == "Hello!"
    (rec,) = await arecorded(tracker, logger, 1)
    assert rec.stream
    assert (rec.input_tokens, rec.output_tokens) == (2006, 300)
    assert rec.usage_source == "provider"
    assert rec.ttft_ms is not None
    assert logger.duplicates == 0


def test_stream_without_usage_is_marked_estimated(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    for _ in litellm.completion(**openai_args(server), stream=True):
        pass
    assert "stream_options" not in server.requests[0][1]
    (rec,) = recorded(tracker, logger, 1)
    assert rec.usage_source == "estimated"
    assert rec.input_tokens is not None
    assert rec.input_tokens != CHAT_USAGE["prompt_tokens"]  # counted by LiteLLM, not sent by the server


def test_stream_cut_midway_is_an_error(server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger) -> None:
    server.cut_after = 2
    with pytest.raises(Exception):  # noqa: B017, PT011  # LiteLLM's own wrapper of the broken connection
        for _ in litellm.completion(**openai_args(server), stream=True, stream_options={"include_usage": True}):
            pass
    (rec,) = recorded(tracker, logger, 1)
    assert rec.status == "error"
    assert rec.stream
    assert rec.cost_usd is None


# -- failures --------------------------------------------------------------------------------------------------------


def test_server_error_is_recorded_and_reaches_the_caller(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    server.errors = [500]
    with pytest.raises(litellm.InternalServerError):
        litellm.completion(**openai_args(server))
    (rec,) = recorded(tracker, logger, 1)
    assert (rec.status, rec.http_status, rec.error_type) == ("error", 500, "InternalServerError")
    assert (rec.usage_source, rec.cost_usd, rec.cost_status) == ("none", None, "no_usage")
    assert rec.attempt == 0
    assert rec.metadata is not None
    assert "litellm_cost_usd" not in rec.metadata


@pytest.mark.usefixtures("close_async_clients")
async def test_rate_limit_is_recorded_async(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    server.errors = [429]
    with pytest.raises(litellm.RateLimitError):
        await litellm.acompletion(**openai_args(server))
    (rec,) = await arecorded(tracker, logger, 1)
    assert (rec.status, rec.http_status, rec.error_type) == ("error", 429, "RateLimitError")


def test_recorder_failure_never_reaches_the_caller(
    server: FakeLLMServer, mini_catalog_path: Path, witness: Witness
) -> None:
    class Broken(llmcost.MemoryWriter):
        def write_line(self, day: str, data: bytes) -> None:
            raise OSError("disk full")

    tracker = llmcost.Tracker(writer=Broken(), catalog=mini_catalog_path)
    lg = install(tracker, provider="openai")
    reset_warnings()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            resp = litellm.completion(**openai_args(server))
            assert lg.flush(timeout=20)
    finally:
        uninstall(lg)
    assert resp.choices[0].message.content == "Hello!"
    assert tracker.stats.internal_errors == 1
    assert [w.category for w in caught if issubclass(w.category, llmcost.RecorderWarning)] == [llmcost.RecorderWarning]


def test_block_budget_warns_and_the_call_goes_on(
    server: FakeLLMServer, mini_catalog_path: Path, tmp_path: Path, witness: Witness
) -> None:
    budget = llmcost.Budget(0.0001, per="agent", key="spender", action="block")
    tracker = llmcost.Tracker(tmp_path, catalog=mini_catalog_path, budgets=[budget])
    lg = install(tracker, provider="openai")
    try:
        litellm.completion(**openai_args(server), metadata={"agent": "spender"})  # $0.0003369
        assert lg.flush(timeout=20)
        with pytest.warns(llmcost.BudgetWarning, match="cannot be stopped"):
            resp = litellm.completion(**openai_args(server), metadata={"agent": "spender"})
        assert lg.flush(timeout=20)
    finally:
        uninstall(lg)
        tracker.close()
    assert resp.choices[0].message.content == "Hello!"
    assert len(server.requests) == 2
    assert tracker.stats.calls == 2
    assert tracker.stats.budget_blocked == 0


def test_a_call_reported_twice_is_recorded_once(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger, witness: Witness
) -> None:
    """LiteLLM has fired success twice for one call (#5118, #14340): the same event again changes nothing."""
    resp = litellm.completion(**openai_args(server))
    recorded(tracker, logger, 1)
    (event,) = witness.events.values()
    logger.log_success_event(event, resp, event["start_time"], event["end_time"])
    assert len(tracker.records) == 1
    assert logger.duplicates == 1


# -- Router: retries and fallbacks -----------------------------------------------------------------------------------


def test_router_retries_are_attempts_of_one_trace(
    server: FakeLLMServer, backup: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger, witness: Witness
) -> None:
    server.errors = [500, 429]
    resp = router(server, backup, num_retries=2).completion(model="primary", messages=MESSAGES)
    assert resp.choices[0].message.content == "Hello!"
    records = recorded(tracker, logger, 3)
    assert [r.attempt for r in records] == [0, 1, 2]
    assert [r.status for r in records] == ["error", "error", "ok"]
    assert [r.http_status for r in records] == [500, 429, None]
    assert [r.fallback_from for r in records] == [None, None, None]
    traces = {e["litellm_trace_id"] for e in witness.events.values()}
    assert len(traces) == 1
    assert {r.trace_id for r in records} == {uuid.UUID(traces.pop()).hex}
    assert {r.metadata["litellm_model_group"] for r in records if r.metadata} == {"primary"}
    assert len({r.id for r in records}) == 3


def test_router_fallback_names_the_model_it_replaced(
    server: FakeLLMServer, backup: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    server.errors = [500]
    r = router(server, backup, num_retries=0, fallbacks=[{"primary": ["backup"]}])
    r.completion(model="primary", messages=MESSAGES)
    failed, answered = recorded(tracker, logger, 2)
    assert (failed.request_model, failed.status, failed.attempt, failed.fallback_from) == (
        "gpt-4o-mini",
        "error",
        0,
        None,
    )
    assert (answered.request_model, answered.status, answered.attempt, answered.fallback_from) == (
        "gpt-4o",
        "ok",
        1,
        "gpt-4o-mini",
    )
    assert answered.metadata is not None
    assert answered.metadata["litellm_model_group"] == "backup"
    assert failed.trace_id == answered.trace_id
    assert answered.cost_status == "priced"


@pytest.mark.usefixtures("close_async_clients")
async def test_router_retries_then_fallback_async(
    server: FakeLLMServer, backup: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    server.errors = [500, 500]
    r = router(server, backup, num_retries=1, fallbacks=[{"primary": ["backup"]}])
    await r.acompletion(model="primary", messages=MESSAGES, metadata={"agent": "router-agent"})
    records = await arecorded(tracker, logger, 3)
    assert [r.attempt for r in records] == [0, 1, 2]
    assert [r.request_model for r in records] == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]
    assert [r.fallback_from for r in records] == [None, None, "gpt-4o-mini"]
    assert [r.status for r in records] == ["error", "error", "ok"]
    assert {r.agent for r in records} == {"router-agent"}
    assert len({r.trace_id for r in records}) == 1


def test_router_requests_each_start_at_attempt_zero(
    server: FakeLLMServer, backup: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    r = router(server, backup, num_retries=0, fallbacks=[{"primary": ["backup"]}])
    server.errors = [500]
    r.completion(model="primary", messages=MESSAGES, litellm_trace_id="shared-trace")
    recorded(tracker, logger, 2)
    r.completion(model="primary", messages=MESSAGES, litellm_trace_id="shared-trace")
    last = recorded(tracker, logger, 3)[-1]
    assert (last.attempt, last.fallback_from, last.status) == (0, None, "ok")
    assert re.fullmatch(r"[0-9a-f]{32}", last.trace_id or "")


def test_router_all_failing_records_every_attempt(
    server: FakeLLMServer, backup: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    server.errors, backup.errors = [500], [503]
    r = router(server, backup, num_retries=0, fallbacks=[{"primary": ["backup"]}])
    with pytest.raises(litellm.InternalServerError):  # the Router raises the first group's error
        r.completion(model="primary", messages=MESSAGES)
    records = recorded(tracker, logger, 2)
    assert [(r.attempt, r.http_status, r.fallback_from) for r in records] == [(0, 500, None), (1, 503, "gpt-4o-mini")]


# -- providers -------------------------------------------------------------------------------------------------------


def test_openai_model_on_a_local_server_is_local(
    server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness
) -> None:
    lg = install(tracker)
    try:
        litellm.completion(**openai_args(server))
        litellm.completion(**openai_args(server, model="hosted_vllm/my-model"))
        records = recorded(tracker, lg, 2)
    finally:
        uninstall(lg)
    assert [(r.provider, r.cost_status) for r in records] == [("vllm", "free"), ("vllm", "free")]


def test_ollama_is_free(server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness) -> None:
    lg = install(tracker)
    try:
        litellm.completion(model="ollama/llama3.2", messages=MESSAGES, api_base=server.url)
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    assert (rec.provider, rec.cost_status, rec.cost_usd) == ("ollama", "free", 0)
    assert (rec.input_tokens, rec.output_tokens) == (11, 18)
    assert "/api/generate" in server.paths()


def test_anthropic_cache_counts_are_inclusive(
    server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness
) -> None:
    lg = install(tracker)
    try:
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=MESSAGES, api_base=server.url, api_key="k")
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    read, write = ANTHROPIC_USAGE["cache_read_input_tokens"], ANTHROPIC_USAGE["cache_creation_input_tokens"]
    assert rec.provider == "anthropic"
    assert rec.input_tokens == ANTHROPIC_USAGE["input_tokens"] + read + write
    assert (rec.cache_read_input_tokens, rec.cache_creation_input_tokens) == (read, write)
    expected = catalog_cost(
        tracker,
        "claude-sonnet-4-5",
        "anthropic",
        input_tokens=12407,
        output_tokens=550,
        cache_read_tokens=100,
        cache_write_tokens=12000,
        cache_write_1h_tokens=304,
    )
    assert Decimal(str(rec.cost_usd)) == expected


# -- installing ------------------------------------------------------------------------------------------------------


def test_install_twice_keeps_one_logger(server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness) -> None:
    install(tracker, provider="openai")
    lg = install(tracker, provider="openai")
    try:
        litellm.completion(**openai_args(server))
        recorded(tracker, lg, 1)
        assert [cb for cb in litellm.callbacks if isinstance(cb, LlmcostLogger)] == [lg]
    finally:
        uninstall()
    lists = [getattr(litellm, name) for name in ("callbacks", "success_callback", "_async_success_callback")]
    assert [cb for cbs in lists for cb in cbs if isinstance(cb, LlmcostLogger)] == []


def test_default_tracker_is_looked_up_at_each_call(
    server: FakeLLMServer, mini_catalog_path: Path, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llmcost.recorder._tracker._default", None)
    lg = install(provider="openai")
    try:
        tracker = llmcost.configure(writer=llmcost.MemoryWriter(), catalog=mini_catalog_path)
        litellm.completion(**openai_args(server))
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    assert rec.source == "litellm"


def test_import_llmcost_does_not_import_litellm() -> None:
    code = "import sys, llmcost; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_extra_accepts_the_tested_litellm() -> None:
    project = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]
    (spec,) = project["optional-dependencies"]["litellm"]
    requirement = Requirement(spec)
    assert requirement.name == "litellm"
    assert requirement.specifier.contains(importlib.metadata.version("litellm"))


def test_readme_example_runs_as_written() -> None:
    text = README.read_text()
    section = text[text.index("### LiteLLM") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    expected = [m.strip() for m in re.findall(r"print\(.*\)\s+# (.*)", code.group(1))]
    out = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[: len(expected)] == expected


# -- service tiers and server-side tools -----------------------------------------------------------------------------


def test_tier_from_the_response_else_the_requested_one(
    server: FakeLLMServer, tracker: llmcost.Tracker, logger: LlmcostLogger
) -> None:
    litellm.completion(**openai_args(server, service_tier="flex"))  # the response names none: the requested tier
    server.service_tier = "priority"
    litellm.completion(**openai_args(server, service_tier="flex"))  # the response's tier wins
    flex, priority = recorded(tracker, logger, 2)
    catalog = tracker.catalog()
    assert catalog is not None
    usage = pricing.Usage(input_tokens=2006, output_tokens=300, cache_read_tokens=1920, reasoning_tokens=64)
    for rec, tier in ((flex, "flex"), (priority, "priority")):
        assert rec.service_tier == tier
        expected = catalog.price(usage, "gpt-4o-mini-2024-07-18", "openai", tier=tier).cost_usd
        assert Decimal(str(rec.cost_usd)) == expected


def test_anthropic_tier_and_server_tools(server: FakeLLMServer, tracker: llmcost.Tracker, witness: Witness) -> None:
    server.service_tier = "batch"
    server.server_tool_use = {"web_search_requests": 2, "web_fetch_requests": 1}
    lg = install(tracker)
    try:
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=MESSAGES, api_base=server.url, api_key="k")
        (rec,) = recorded(tracker, lg, 1)
    finally:
        uninstall(lg)
    assert (rec.service_tier, rec.batch) == ("batch", True)
    assert (rec.web_search_requests, rec.web_fetch_requests) == (2, None)  # LiteLLM's Usage keeps no fetch count
    assert rec.cache_creation_1h_input_tokens == 304


@pytest.mark.parametrize("one_hour", [True, 2**60, -3, "304", 304.5])
def test_an_odd_one_hour_cache_write_count_is_left_out_and_the_line_stays_readable(
    tracker: llmcost.Tracker, one_hour: Any
) -> None:
    """``prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens`` that is not a count from 0
    to 2**53 (a bool, a number past the wire format's maximum): unknown, never written as the reader would refuse."""
    logger = LlmcostLogger(tracker)
    now = datetime.now()
    kwargs = {"model": "claude-sonnet-4-5", "custom_llm_provider": "anthropic", "litellm_call_id": uuid.uuid4().hex}
    details = {"cached_tokens": 0, "cache_creation_token_details": {"ephemeral_1h_input_tokens": one_hour}}
    usage = {"prompt_tokens": 1000, "completion_tokens": 10, "prompt_tokens_details": details}
    response = {"id": "msg_1", "model": "claude-sonnet-4-5", "usage": {**usage, "cache_creation_input_tokens": 600}}
    logger.log_success_event(kwargs, response, now, now)
    (rec,) = tracker.records  # every line decodes
    assert rec.cache_creation_1h_input_tokens is None
    assert (rec.input_tokens, rec.cache_creation_input_tokens) == (1000, 600)
