"""The LangChain handler and ``track()`` with real LangChain runnables: small chat models of our own that report
usage, ``GenericFakeChatModel``, and ``ChatOpenAI`` against the loopback OpenAI server (streaming, retries,
fallbacks, batches in threads, async)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun, get_usage_metadata_callback
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel, BaseLLM, LangSmithParams
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, Generation, LLMResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_openai import ChatOpenAI

import llmcost
import llmcost.langchain
import pricing
from llmcost.langchain import LlmcostCallbackHandler, track
from llmcost.log._writer import reset_warnings
from tests._docs import python_blocks, run_example
from tests.servers import CHAT_USAGE, FakeLLMServer, assert_chat_recorded

USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "total_tokens": 1500,
    "input_token_details": {"cache_read": 1000},
    "output_token_details": {"reasoning": 100},
}
# gpt-4o-mini in the test catalog: input 0.15, cache read 0.075, output 0.6 USD per million tokens.
USAGE_COST = (Decimal(200) * Decimal("0.15") + Decimal(1000) * Decimal("0.075") + Decimal(300) * Decimal("0.6")) / 10**6
CHAT_TOTAL = cast(int, CHAT_USAGE["total_tokens"])
CHAT_COST = (Decimal(86) * Decimal("0.15") + Decimal(1920) * Decimal("0.075") + Decimal(300) * Decimal("0.6")) / 10**6


class FakeChat(BaseChatModel):
    """A chat model reporting ``usage`` like a provider integration does (also on the last streamed chunk)."""

    model: str = "gpt-4o-mini"
    provider: str = "openai"
    usage: dict[str, Any] | None = USAGE
    failures: int = 0  # the next calls that raise ConnectionError
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "fake-usage-chat"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return LangSmithParams(ls_provider=self.provider, ls_model_name=self.model, ls_model_type="chat")

    def _next(self) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection reset")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._next()
        message = AIMessage(
            content="Hello there",
            usage_metadata=self.usage,
            response_metadata={"model_name": self.model + "-2024-07-18", "id": f"resp-{self.calls}"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._next()
        pieces = ["", "Hel", "lo"]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            message = AIMessageChunk(
                content=piece,
                usage_metadata=self.usage if last else None,  # type: ignore[arg-type]
                response_metadata={"model_name": self.model} if last else {},
            )
            chunk = ChatGenerationChunk(message=message)
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


class FakeCompletion(BaseLLM):
    """A text-completion model whose usage is in the legacy ``llm_output["token_usage"]``."""

    @property
    def _llm_type(self) -> str:
        return "fake-completion"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return LangSmithParams(ls_provider="openai", ls_model_name="gpt-4o-mini", ls_model_type="llm")

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        usage = {"prompt_tokens": 12 * len(prompts), "completion_tokens": 3 * len(prompts)}
        return LLMResult(
            generations=[[Generation(text="ok")] for _ in prompts],
            llm_output={"token_usage": usage, "model_name": "gpt-4o-mini"},
        )


class Docs(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [Document(page_content="Invoices are due within 30 days.")]


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    reset_warnings()  # "once per process" warnings: each test sees its own
    yield
    reset_warnings()


# -- what one record holds ---------------------------------------------------------------------------------------


def test_usage_model_provider_and_cost(tracker: llmcost.Tracker) -> None:
    reply = FakeChat().invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert reply.content == "Hello there"
    (rec,) = tracker.records
    assert (rec.source, rec.operation, rec.provider, rec.status) == ("langchain", "chat", "openai", "ok")
    assert (rec.request_model, rec.response_model, rec.response_id) == (
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        "resp-1",
    )
    assert (rec.input_tokens, rec.output_tokens) == (1200, 300)
    assert (rec.cache_read_input_tokens, rec.cache_creation_input_tokens) == (1000, None)
    assert rec.reasoning_output_tokens == 100
    assert rec.usage_source == "provider"
    assert rec.cost_status == "priced"
    assert Decimal(str(rec.cost_usd)) == USAGE_COST
    assert (rec.stream, rec.ttft_ms) == (False, None)
    assert rec.prompt_hash is not None


def test_anthropic_cache_writes_by_ttl(tracker: llmcost.Tracker) -> None:
    """langchain-anthropic sets cache_creation to 0 and moves writes to the TTL keys; input already includes them."""
    usage = {
        "input_tokens": 12407,
        "output_tokens": 550,
        "total_tokens": 12957,
        "input_token_details": {
            "cache_read": 100,
            "cache_creation": 0,
            "ephemeral_5m_input_tokens": 12000,
            "ephemeral_1h_input_tokens": 304,
        },
    }
    llm = FakeChat(model="claude-sonnet-4-5", provider="anthropic", usage=usage)
    llm.invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    (rec,) = tracker.records
    assert rec.input_tokens == 12407
    assert rec.cache_read_input_tokens == 100
    assert rec.cache_creation_input_tokens == 12304
    # Test catalog: input 3, cache read 0.3, 5-minute writes 3.75, 1-hour writes 6, output 15.
    writes = Decimal(12000) * Decimal("3.75") + Decimal(304) * 6
    expected = (Decimal(3) * 3 + Decimal(100) * Decimal("0.3") + writes + Decimal(550) * 15) / 10**6
    assert Decimal(str(rec.cost_usd)) == expected


def test_service_tier_detail_keys(tracker: llmcost.Tracker) -> None:
    """Under priority or flex tiers langchain-openai prefixes the detail keys."""
    usage = {
        "input_tokens": 100,
        "output_tokens": 10,
        "total_tokens": 110,
        "input_token_details": {"priority_cache_read": 40, "priority": 60},
        "output_token_details": {"priority_reasoning": 4, "priority": 6},
    }
    FakeChat(usage=usage).invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    (rec,) = tracker.records
    assert (rec.cache_read_input_tokens, rec.reasoning_output_tokens) == (40, 4)


@pytest.mark.parametrize(
    ("ls_provider", "expected"),
    [
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("ollama", "ollama"),
        ("google_genai", "google"),
        ("google_vertexai", "google"),
        ("amazon_bedrock", "bedrock"),
        ("mistralai", "mistral"),
        ("Groq", "groq"),
    ],
)
def test_ls_provider_is_mapped_to_our_names(tracker: llmcost.Tracker, ls_provider: str, expected: str) -> None:
    FakeChat(provider=ls_provider).invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert tracker.records[0].provider == expected


def test_provider_given_to_the_handler_wins(tracker: llmcost.Tracker) -> None:
    FakeChat(provider="openai").invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker, provider="azure")]})
    assert tracker.records[0].provider == "azure"


def test_generic_fake_chat_model_usage_is_read(tracker: llmcost.Tracker) -> None:
    """GenericFakeChatModel has no model name: the usage is recorded, the cost is unknown (never $0)."""
    llm = GenericFakeChatModel(messages=iter([AIMessage(content="hi", usage_metadata=USAGE)]))
    llm.invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    (rec,) = tracker.records
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_input_tokens) == (1200, 300, 1000)
    assert rec.request_model is None
    assert rec.cost_usd is None
    assert rec.cost_status == "unknown_model"


def test_missing_usage_is_recorded_as_none_not_zero(tracker: llmcost.Tracker) -> None:
    with pytest.warns(llmcost.RecorderWarning, match="no usage"), track(tracker) as cb:
        FakeChat(usage=None).invoke("Hi")
    (rec,) = tracker.records
    assert (rec.input_tokens, rec.output_tokens) == (None, None)
    assert rec.usage_source == "none"
    assert (rec.cost_usd, rec.cost_status) == (None, "no_usage")
    assert cb.no_usage_requests == 1
    assert "1 without usage" in repr(cb)


def test_text_completion_usage_from_llm_output(tracker: llmcost.Tracker) -> None:
    FakeCompletion().invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    (rec,) = tracker.records
    assert (rec.operation, rec.request_model, rec.response_model) == ("text_completion", "gpt-4o-mini", "gpt-4o-mini")
    assert (rec.input_tokens, rec.output_tokens) == (12, 3)
    assert rec.cost_status == "priced"


def test_stream_has_ttft_and_usage_of_the_last_chunk(tracker: llmcost.Tracker) -> None:
    chunks = list(FakeChat().stream("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]}))
    assert "".join(str(c.content) for c in chunks) == "Hello"
    (rec,) = tracker.records
    assert rec.stream is True
    assert rec.ttft_ms is not None
    assert rec.latency_ms is not None
    assert rec.ttft_ms <= rec.latency_ms
    assert (rec.input_tokens, rec.output_tokens) == (1200, 300)


def test_error_is_recorded_and_reaches_the_caller(tracker: llmcost.Tracker) -> None:
    with pytest.raises(ConnectionError, match="connection reset"):
        FakeChat(failures=1).invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    (rec,) = tracker.records
    assert (rec.status, rec.error_type, rec.error_message) == ("error", "ConnectionError", "connection reset")
    assert rec.usage_source == "none"


def test_stream_closed_early_is_cancelled(tracker: llmcost.Tracker) -> None:
    stream: Any = FakeChat().stream("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    next(stream)
    stream.close()
    (rec,) = tracker.records
    assert rec.status == "cancelled"


def test_capture_content_is_opt_in(mini_catalog_path: Path) -> None:
    catalog = pricing.load_catalog(mini_catalog_path, overrides=False)
    quiet = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog)
    FakeChat().invoke("secret question", config={"callbacks": [LlmcostCallbackHandler(quiet)]})
    assert "secret question" not in llmcost.encode_record(quiet.records[0]).decode()
    loud = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, capture_content=True)
    FakeChat().invoke("secret question", config={"callbacks": [LlmcostCallbackHandler(loud)]})
    content = (loud.records[0].metadata or {})["content"]
    assert content == {"input": [{"role": "human", "content": "secret question"}], "output": "Hello there"}


# -- ids, attribution ----------------------------------------------------------------------------------------------


def test_run_id_becomes_span_and_trace_id(tracker: llmcost.Tracker) -> None:
    run_id = uuid.uuid4()
    FakeChat().invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)], "run_id": run_id})
    (rec,) = tracker.records
    assert rec.id == run_id.hex[16:]
    assert rec.trace_id == run_id.hex
    assert rec.parent_id is None


def test_rag_chain_trace_is_the_root_run(tracker: llmcost.Tracker) -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "Context: {context}\nQuestion: {question}")])
    chain = {"context": Docs(), "question": RunnablePassthrough()} | prompt | FakeChat() | StrOutputParser()

    def outer_step(question: str) -> str:
        return chain.invoke(question)

    outer = RunnableLambda(outer_step)  # a chain inside a chain: the root is the outer run
    root = uuid.uuid4()
    answer = outer.invoke(
        "When are invoices due?", config={"callbacks": [LlmcostCallbackHandler(tracker)], "run_id": root}
    )
    assert answer == "Hello there"
    (rec,) = tracker.records
    assert rec.trace_id == root.hex
    assert rec.parent_id is not None
    assert rec.parent_id != root.hex[16:]  # the inner sequence, not the root


def test_run_inside_an_llmcost_trace_joins_it(tracker: llmcost.Tracker) -> None:
    with tracker.trace(model="planner", provider="openai") as outer:
        FakeChat().invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    inner = tracker.records[0]
    assert (inner.trace_id, inner.parent_id) == (outer.trace_id, outer.id)


def test_tags_and_metadata_are_attribution(tracker: llmcost.Tracker) -> None:
    handler = LlmcostCallbackHandler(tracker, agent="default-agent", tags=["handler"])
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | FakeChat()
    config = {
        "callbacks": [handler],
        "tags": ["prod"],
        "metadata": {"agent": "support", "thread_id": "t-7", "user_id": "u-1", "workflow": "refunds", "ticket": 42},
    }
    chain.invoke({"q": "Hi"}, config=config)  # type: ignore[arg-type]
    (rec,) = tracker.records
    assert (rec.agent, rec.session_id, rec.user_id, rec.workflow) == ("support", "t-7", "u-1", "refunds")
    assert rec.tags == ["handler", "prod"]  # LangChain's own "seq:step:2" is not attribution
    assert rec.metadata == {"ticket": 42}  # ls_* and lc_* keys dropped, attribution keys moved to their fields


def test_handler_defaults_under_run_attribution(tracker: llmcost.Tracker) -> None:
    handler = LlmcostCallbackHandler(tracker, agent="default-agent", session_id="s-1")
    FakeChat().invoke("Hi", config={"callbacks": [handler], "metadata": {"session_id": "s-2"}})
    (rec,) = tracker.records
    assert (rec.agent, rec.session_id) == ("default-agent", "s-2")


def test_handler_and_track_take_attribution_as_one_value(tracker: llmcost.Tracker) -> None:
    base = llmcost.Attribution(agent="default-agent", tags=["t1"])
    handler = LlmcostCallbackHandler(tracker, attribution=base, session_id="s-1")
    FakeChat().invoke("Hi", config={"callbacks": [handler]})
    with track(tracker, attribution=base, workflow="w"):
        FakeChat().invoke("Hi")
    first, second = tracker.records
    assert (first.agent, first.session_id, first.tags) == ("default-agent", "s-1", ["t1"])
    assert (second.agent, second.workflow, second.tags) == ("default-agent", "w", ["t1"])
    with pytest.raises(TypeError, match="unexpected keyword arguments: agnet"):
        LlmcostCallbackHandler(tracker, agnet="x")  # type: ignore[call-arg]


# -- retries and fallbacks ---------------------------------------------------------------------------------------


def test_with_retry_numbers_the_attempts(tracker: llmcost.Tracker) -> None:
    llm = FakeChat(failures=2)
    with track(tracker) as cb:
        llm.with_retry(stop_after_attempt=3, wait_exponential_jitter=False).invoke("Hi")
    assert [(r.attempt, r.status) for r in tracker.records] == [(0, "error"), (1, "error"), (2, "ok")]
    assert (cb.successful_requests, cb.failed_requests) == (1, 2)
    assert cb.total_tokens == 1500


def test_retried_chain_attempts_reach_the_model_inside(tracker: llmcost.Tracker) -> None:
    chain = (ChatPromptTemplate.from_messages([("user", "{q}")]) | FakeChat(failures=1)).with_retry(
        stop_after_attempt=2, wait_exponential_jitter=False
    )
    chain.invoke({"q": "Hi"}, config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert [r.attempt for r in tracker.records] == [0, 1]
    assert len({r.trace_id for r in tracker.records}) == 1


def test_with_fallbacks_names_the_failed_model(tracker: llmcost.Tracker) -> None:
    primary = FakeChat(model="gpt-4o", failures=1)
    backup = FakeChat(model="gpt-4o-mini")
    with track(tracker) as cb:
        primary.with_fallbacks([backup]).invoke("Hi")
    failed, ok = tracker.records
    assert (failed.request_model, failed.status, failed.fallback_from) == ("gpt-4o", "error", None)
    assert (ok.request_model, ok.status, ok.fallback_from) == ("gpt-4o-mini", "ok", "gpt-4o")
    assert failed.trace_id == ok.trace_id
    assert cb.successful_requests == 1


def test_fallbacks_with_the_handler_in_their_config(tracker: llmcost.Tracker) -> None:
    """LangChain reports no parent for these models; the fallbacks run is found through the config it sets."""
    handler = LlmcostCallbackHandler(tracker)
    FakeChat(model="gpt-4o", failures=1).with_fallbacks([FakeChat()]).invoke("Hi", config={"callbacks": [handler]})
    failed, ok = tracker.records
    assert ok.fallback_from == "gpt-4o"
    assert failed.trace_id == ok.trace_id
    assert failed.parent_id == ok.parent_id is not None


@pytest.mark.parametrize("how", ["handler", "track"])
def test_fallbacks_inside_a_chain(tracker: llmcost.Tracker, how: str) -> None:
    """Inside a sequence LangChain reports the sequence as the models' parent, not the fallbacks run."""
    primary = FakeChat(model="gpt-4o", failures=2).with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | primary.with_fallbacks([FakeChat()])
    if how == "track":
        with track(tracker):
            chain.invoke({"q": "Hi"})
    else:
        chain.invoke({"q": "Hi"}, config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert [(r.request_model, r.attempt, r.fallback_from) for r in tracker.records] == [
        ("gpt-4o", 0, None),
        ("gpt-4o", 1, None),
        ("gpt-4o-mini", 0, "gpt-4o"),
    ]


async def test_async_fallbacks(tracker: llmcost.Tracker) -> None:
    handler = LlmcostCallbackHandler(tracker)
    await (
        FakeChat(model="gpt-4o", failures=1).with_fallbacks([FakeChat()]).ainvoke("Hi", config={"callbacks": [handler]})
    )
    assert tracker.records[1].fallback_from == "gpt-4o"


def test_retry_inside_a_fallback_branch_is_not_a_fallback(tracker: llmcost.Tracker) -> None:
    primary = FakeChat(model="gpt-4o", failures=1).with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    with track(tracker):
        primary.with_fallbacks([FakeChat(model="gpt-4o-mini")]).invoke("Hi")
    assert [(r.attempt, r.fallback_from, r.status) for r in tracker.records] == [(0, None, "error"), (1, None, "ok")]


# -- track() ---------------------------------------------------------------------------------------------------------


def test_track_totals_match_the_records(tracker: llmcost.Tracker) -> None:
    with track(tracker) as cb:
        FakeChat().invoke("a")
        FakeChat(model="gpt-4o").invoke("b")
    assert cb.successful_requests == 2
    assert cb.prompt_tokens == 2400
    assert cb.completion_tokens == 600
    assert cb.total_tokens == 3000
    assert cb.prompt_tokens_cached == 2000
    assert cb.reasoning_tokens == 200
    assert cb.cost_usd == sum(Decimal(str(r.cost_usd)) for r in tracker.records)
    assert cb.total_cost == float(cb.cost_usd)
    assert "Successful Requests: 2" in repr(cb)


def test_track_counts_batch_calls_in_threads(tracker: llmcost.Tracker) -> None:
    together = threading.Barrier(4, timeout=30)  # four calls at once: four worker threads, whatever the machine
    threads: set[int] = set()

    class Threaded(FakeChat):
        def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
            together.wait()
            threads.add(threading.get_ident())
            return super()._generate(messages, *args, **kwargs)

    with track(tracker) as cb:
        Threaded().batch([f"q{i}" for i in range(8)], config={"max_concurrency": 4})
    assert len(threads) == 4
    assert threading.get_ident() not in threads
    assert cb.successful_requests == 8
    assert len(tracker.records) == 8


async def test_concurrent_tasks_keep_their_own_totals(tracker: llmcost.Tracker) -> None:
    async def request(n: int) -> int:
        async with track(tracker) as cb:
            for _ in range(n):
                await FakeChat().ainvoke("Hi")
                await asyncio.sleep(0)
        return cb.successful_requests

    assert list(await asyncio.gather(request(1), request(3), request(2))) == [1, 3, 2]
    assert len(tracker.records) == 6


async def test_async_streaming_and_abatch(tracker: llmcost.Tracker) -> None:
    async with track(tracker) as cb:
        chunks = [c async for c in FakeChat().astream("Hi")]
        await FakeChat().abatch(["a", "b"])
    assert "".join(str(c.content) for c in chunks) == "Hello"
    assert cb.successful_requests == 3
    assert sum(r.stream for r in tracker.records) == 1


async def test_handler_runs_inline_in_async_apps(mini_catalog_path: Path) -> None:
    starts: list[int] = []

    class Watching(llmcost.Tracker):
        def begin(
            self,
            model: str | None,
            provider: str | None,
            own: llmcost.Attribution | None = None,
            under: llmcost.Attribution | None = None,
        ) -> llmcost.Call:
            starts.append(threading.get_ident())
            return super().begin(model, provider, own, under)

    tracker = Watching(writer=llmcost.MemoryWriter(), catalog=pricing.load_catalog(mini_catalog_path, overrides=False))
    await FakeChat().ainvoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert starts == [threading.get_ident()]  # the event loop's thread: no executor hop


def test_track_is_clean_after_an_exception(tracker: llmcost.Tracker) -> None:
    llm = FakeChat()
    cb = track(tracker)

    def fail_inside() -> None:
        with cb:
            llm.invoke("inside")
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_inside()
    llm.invoke("after")
    assert cb.successful_requests == 1
    assert len(tracker.records) == 1  # the call after the block is not recorded by the block's handler


def test_nested_track_counts_in_both_and_records_once(tracker: llmcost.Tracker) -> None:
    with track(tracker) as outer:
        FakeChat().invoke("a")
        with track(tracker) as inner:
            FakeChat().invoke("b")
    assert (outer.successful_requests, inner.successful_requests) == (2, 1)
    assert len(tracker.records) == 2


def test_track_with_an_explicit_handler_records_once(tracker: llmcost.Tracker) -> None:
    with track(tracker) as cb:
        FakeChat().invoke("a", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert len(tracker.records) == 1
    assert cb.successful_requests == 1


def test_track_attribution(tracker: llmcost.Tracker) -> None:
    with track(tracker, agent="rag", tags=["eval"]):
        FakeChat().invoke("a")
    (rec,) = tracker.records
    assert (rec.agent, rec.tags) == ("rag", ["eval"])


def test_track_agrees_with_langchains_own_usage_callback(tracker: llmcost.Tracker) -> None:
    with track(tracker) as cb, get_usage_metadata_callback() as lc:
        FakeChat().invoke("a")
        FakeChat().batch(["b", "c"])
    (usage,) = lc.usage_metadata.values()
    assert (cb.prompt_tokens, cb.completion_tokens, cb.total_tokens) == (
        usage["input_tokens"],
        usage["output_tokens"],
        usage["total_tokens"],
    )


# -- never raises, budgets ----------------------------------------------------------------------------------------


def test_handler_faults_never_reach_the_caller(tracker: llmcost.Tracker) -> None:
    handler = LlmcostCallbackHandler(tracker)
    run_id = uuid.uuid4()
    handler.on_chat_model_start({}, [[HumanMessage("Hi")]], run_id=run_id, metadata={"ls_model_name": 5})
    with pytest.warns(llmcost.RecorderWarning, match="LangChain handler failed"):
        handler.on_llm_end(object(), run_id=run_id)  # type: ignore[arg-type]  # not an LLMResult
    handler.on_llm_new_token("x", run_id=uuid.uuid4())  # a run it never saw
    handler.on_llm_error(RuntimeError("x"), run_id=uuid.uuid4())
    assert tracker.stats.internal_errors == 1
    assert len(tracker.records) == 1  # the started call is still written


def test_a_failing_tracker_does_not_break_the_call(mini_catalog_path: Path) -> None:
    class Broken(llmcost.Tracker):
        def begin(
            self,
            model: str | None,
            provider: str | None,
            own: llmcost.Attribution | None = None,
            under: llmcost.Attribution | None = None,
        ) -> llmcost.Call:
            raise RuntimeError("recorder bug")

    tracker = Broken(writer=llmcost.MemoryWriter())
    with pytest.warns(llmcost.RecorderWarning, match="recorder bug"):
        reply = FakeChat().invoke("Hi", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    assert reply.content == "Hello there"
    assert tracker.stats.internal_errors == 1


def test_block_budget_stops_the_call_only_when_enforced(mini_catalog_path: Path) -> None:
    catalog = pricing.load_catalog(mini_catalog_path, overrides=False)
    budget = llmcost.Budget(0.0001, per="agent", key="crawler", action="block")
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, budgets=[budget])
    llm = FakeChat()
    strict = LlmcostCallbackHandler(tracker, agent="crawler", enforce_budgets=True)
    llm.invoke("1", config={"callbacks": [strict]})  # $0.000285: spends past the limit
    with pytest.raises(llmcost.BudgetExceeded):
        llm.invoke("2", config={"callbacks": [strict]})
    assert llm.calls == 1  # stopped before the model was called
    lenient = LlmcostCallbackHandler(tracker, agent="crawler")
    with pytest.warns(llmcost.BudgetWarning, match="enforce_budgets=True"):
        llm.invoke("3", config={"callbacks": [lenient]})
    assert llm.calls == 2
    assert len(tracker.records) == 2  # the lenient call is still recorded


def test_import_llmcost_does_not_import_langchain() -> None:
    import subprocess
    import sys

    code = "import sys, llmcost; print(any(m.startswith('langchain') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- ChatOpenAI against the loopback OpenAI server ---------------------------------------------------------------


@pytest.fixture
async def openai_clients() -> AsyncIterator[tuple[httpx.Client, httpx.AsyncClient]]:
    """Clients of our own, closed after the test (langchain-openai would otherwise share pooled ones)."""
    sync, aio = httpx.Client(), httpx.AsyncClient()
    yield sync, aio
    sync.close()
    await aio.aclose()


@pytest.fixture
def chat(server: FakeLLMServer, openai_clients: tuple[httpx.Client, httpx.AsyncClient]) -> Any:
    def make(model: str = "gpt-4o-mini", **kwargs: Any) -> ChatOpenAI:
        return ChatOpenAI(
            model=model,
            base_url=server.url + "/v1",
            api_key="sk-test",  # type: ignore[arg-type]
            max_retries=0,
            http_client=openai_clients[0],
            http_async_client=openai_clients[1],
            **kwargs,
        )

    return make


def test_chat_openai_invoke(tracker: llmcost.Tracker, chat: Any) -> None:
    with track(tracker, provider="openai") as cb:
        reply = chat().invoke("Say hello")
    assert reply.content == "Hello!"
    (rec,) = tracker.records
    assert_chat_recorded(rec, "langchain")
    assert rec.server_address == "127.0.0.1"
    assert Decimal(str(rec.cost_usd)) == CHAT_COST
    assert cb.cost_usd == CHAT_COST


def test_chat_openai_on_a_local_server_is_not_priced_as_openai(tracker: llmcost.Tracker, chat: Any) -> None:
    chat().invoke("Say hello", config={"callbacks": [LlmcostCallbackHandler(tracker)]})
    (rec,) = tracker.records
    assert (rec.provider, rec.server_address) == ("vllm", "127.0.0.1")
    assert rec.cost_status == "free"


def test_chat_openai_stream_with_usage(tracker: llmcost.Tracker, chat: Any, server: FakeLLMServer) -> None:
    with track(tracker, provider="openai") as cb:
        text = "".join(str(c.content) for c in chat(stream_usage=True).stream("Say hello"))
    assert text == "Hello!"
    (rec,) = tracker.records
    assert rec.stream is True
    assert rec.ttft_ms is not None
    assert rec.input_tokens == CHAT_USAGE["prompt_tokens"]
    assert cb.cost_usd == CHAT_COST
    assert server.requests[0][1]["stream_options"] == {"include_usage": True}


def test_chat_openai_stream_without_usage_says_so(tracker: llmcost.Tracker, chat: Any) -> None:
    """A custom base_url turns langchain-openai's stream usage off: the record says "no usage", never $0."""
    with pytest.warns(llmcost.RecorderWarning, match="stream_usage=True"), track(tracker, provider="openai") as cb:
        list(chat().stream("Say hello"))
    (rec,) = tracker.records
    assert (rec.usage_source, rec.cost_status, rec.cost_usd) == ("none", "no_usage", None)
    assert (cb.successful_requests, cb.no_usage_requests) == (1, 1)


def test_chat_openai_with_retry(tracker: llmcost.Tracker, chat: Any, server: FakeLLMServer) -> None:
    server.errors = [500, 429]
    with track(tracker, provider="openai") as cb:
        chat().with_retry(stop_after_attempt=3, wait_exponential_jitter=False).invoke("Say hello")
    assert [(r.attempt, r.status, r.http_status) for r in tracker.records] == [
        (0, "error", 500),
        (1, "error", 429),
        (2, "ok", None),
    ]
    assert (cb.successful_requests, cb.failed_requests, cb.total_tokens) == (1, 2, CHAT_TOTAL)


def test_chat_openai_with_fallbacks(tracker: llmcost.Tracker, chat: Any, server: FakeLLMServer) -> None:
    server.errors = [503]
    with track(tracker, provider="openai") as cb:
        chat("gpt-4o").with_fallbacks([chat("gpt-4o-mini")]).invoke("Say hello")
    failed, ok = tracker.records
    assert (failed.request_model, failed.http_status) == ("gpt-4o", 503)
    assert (ok.request_model, ok.fallback_from) == ("gpt-4o-mini", "gpt-4o")
    assert cb.cost_usd == CHAT_COST


def test_chat_openai_batch_in_threads(tracker: llmcost.Tracker, chat: Any) -> None:
    with track(tracker, provider="openai") as cb:
        chat().batch(["a", "b", "c", "d"], config={"max_concurrency": 4})
    assert cb.successful_requests == 4
    assert cb.cost_usd == 4 * CHAT_COST


async def test_chat_openai_async(tracker: llmcost.Tracker, chat: Any) -> None:
    llm = chat(stream_usage=True)
    async with track(tracker, provider="openai") as cb:
        await llm.ainvoke("Say hello")
        chunks = [c async for c in llm.astream("Say hello")]
    assert chunks
    plain, streamed = tracker.records
    assert (plain.stream, streamed.stream) == (False, True)
    assert streamed.ttft_ms is not None
    assert cb.cost_usd == 2 * CHAT_COST


# -- the README example ----------------------------------------------------------------------------------------------

README = Path(__file__).parent.parent / "README.md"


def _readme_example() -> str:
    section = README.read_text().split("\n### LangChain\n", 1)[1].split("\n#", 1)[0]
    (code,) = python_blocks(section)
    return str(code)


def test_readme_example_runs(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr(llmcost.recorder._tracker, "_default", None)  # a process-wide tracker of this test's home
    printed = run_example(_readme_example(), str(README))
    tracker = llmcost.get_tracker()
    tracker.close()
    assert tracker.log_dir is not None
    records = [
        llmcost.decode_record(line) for p in tracker.log_dir.glob("*.jsonl") for line in p.read_bytes().splitlines()
    ]
    assert len(records) == 3
    assert {r.agent for r in records} == {"support-bot"}
    cost = sum(Decimal(str(r.cost_usd)) for r in records)
    assert printed[0] == f"3 {3 * CHAT_TOTAL} ${cost:.6f}"


# -- service tiers, batch and server-side tools --------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_chat_openai_tier_from_the_response(
    tracker: llmcost.Tracker, chat: Any, server: FakeLLMServer, stream: bool
) -> None:
    server.service_tier = "priority"  # twice the standard rates in the test catalog
    with track(tracker, provider="openai"):
        if stream:
            list(chat(stream_usage=True).stream("Say hello"))
        else:
            chat().invoke("Say hello")
    (rec,) = tracker.records
    assert rec.service_tier == "priority"
    assert Decimal(str(rec.cost_usd)) == CHAT_COST * 2


def test_chat_openai_requested_tier_when_the_response_names_none(tracker: llmcost.Tracker, chat: Any) -> None:
    with track(tracker, provider="openai"):
        chat(service_tier="flex").invoke("Say hello")
    (rec,) = tracker.records
    assert rec.service_tier == "flex"
    assert Decimal(str(rec.cost_usd)) == CHAT_COST / 2


def test_anthropic_tier_and_server_tools_from_response_metadata(tracker: llmcost.Tracker) -> None:
    """langchain-anthropic keeps the provider's raw ``usage`` in ``response_metadata``: the tier, the server tools."""
    usage = {"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100}
    raw = {
        "input_tokens": 1000,
        "output_tokens": 100,
        "service_tier": "batch",
        "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
    }
    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    content="hi",
                    usage_metadata=usage,  # type: ignore[arg-type]
                    response_metadata={"model_name": "claude-sonnet-4-5", "usage": raw},
                )
            ]
        )
    )
    with track(tracker, provider="anthropic"):
        model.invoke("hi")
    (rec,) = tracker.records
    assert (rec.service_tier, rec.batch, rec.web_search_requests, rec.web_fetch_requests) == ("batch", True, 2, 1)
    expected = tracker.catalog().price(  # type: ignore[union-attr]
        pricing.Usage(1000, 100, web_search_requests=2, web_fetch_requests=1), "claude-sonnet-4-5", batch=True
    )
    assert Decimal(str(rec.cost_usd)) == expected.cost_usd
