"""Tracker behaviour: attribution, nested traces, scopes, budgets, local models and absorbed failures."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest

import llmcost
import pricing
from llmcost.log._writer import reset_warnings


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


@pytest.fixture
def catalog(mini_catalog_path: Path) -> pricing.Catalog:
    return pricing.load_catalog(mini_catalog_path, overrides=False)


@pytest.fixture
def tracker(catalog: pricing.Catalog) -> llmcost.Tracker:
    return llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, agent="default", tags=["t1"])


def one_call(tracker: llmcost.Tracker, model: str = "gpt-4o", tokens: int = 1000, **kw: object) -> llmcost.Call:
    with tracker.trace(model=model, provider="openai", **kw) as call:  # type: ignore[arg-type]
        call.set_usage(tokens, tokens // 10)
    return call


def calls(tracker: llmcost.Tracker, n: int) -> None:
    for _ in range(n):
        one_call(tracker)


def test_manual_usage_is_priced_exactly(tracker: llmcost.Tracker, catalog: pricing.Catalog) -> None:
    with tracker.trace(model="claude-sonnet-4-5", provider="anthropic", session_id="s1", tags=["x"]) as call:
        call.set_usage(
            2000, 300, cache_read_input_tokens=500, cache_creation_input_tokens=400, cache_creation_1h_input_tokens=100
        )
    (rec,) = tracker.records
    usage = pricing.Usage(2000, 300, 500, 300, 100)
    assert Decimal(str(rec.cost_usd)) == catalog.price(usage, "claude-sonnet-4-5").cost_usd
    assert (rec.agent, rec.session_id, rec.tags, rec.source) == ("default", "s1", ["t1", "x"], "sdk")
    assert rec.latency_ms is not None


def test_error_in_block_is_recorded_and_propagates(tracker: llmcost.Tracker) -> None:
    class Boom(Exception):
        status_code = 503

    with pytest.raises(Boom), tracker.trace(model="gpt-4o", provider="openai"):
        raise Boom("upstream " + "x" * 400)
    (rec,) = tracker.records
    assert (rec.status, rec.error_type, rec.http_status, rec.cost_status) == ("error", "Boom", 503, "no_usage")
    assert rec.error_message is not None
    assert len(rec.error_message) == 300


def test_an_error_whose_status_is_not_a_number_keeps_the_line_readable(tracker: llmcost.Tracker) -> None:
    class Odd(Exception):
        status_code = True  # a bool is an int in Python, not an HTTP status

    class Response:
        status_code = 429

    with pytest.raises(Odd), tracker.trace(model="gpt-4o", provider="openai"):
        raise Odd("odd")
    err = Odd("odd")
    err.response = Response()  # type: ignore[attr-defined]
    with pytest.raises(Odd), tracker.trace(model="gpt-4o", provider="openai"):
        raise err
    first, second = tracker.records  # both lines decode: no "http_status": true
    assert (first.error_type, first.http_status) == ("Odd", None)
    assert second.http_status == 429


def test_nested_traces_share_trace_id(tracker: llmcost.Tracker) -> None:
    with tracker.trace(model="gpt-4o", provider="openai", operation="chat") as outer:
        inner = one_call(tracker)
        outer.set_usage(1, 1)
    first, second = tracker.records
    assert (first.id, first.parent_id, first.trace_id) == (inner.id, outer.id, outer.trace_id)
    assert second.parent_id is None
    assert llmcost.current_call() is None


def test_retries_and_fallbacks_are_attributed(tracker: llmcost.Tracker) -> None:
    for attempt in range(3):
        one_call(tracker, attempt=attempt, messages=[{"role": "user", "content": "same"}])
    one_call(tracker, model="gpt-4o-mini", fallback_from="gpt-4o")
    recs = tracker.records
    assert [r.attempt for r in recs[:3]] == [0, 1, 2]
    assert len({r.prompt_hash for r in recs[:3]}) == 1
    assert recs[3].fallback_from == "gpt-4o"


def test_attribution_is_taken_as_one_value_or_as_keywords_over_it(catalog: pricing.Catalog) -> None:
    base = llmcost.Attribution(agent="a0", workflow="w0", tags=["t0"])
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, attribution=base, agent="a1")
    assert tracker.attribution == llmcost.Attribution(agent="a1", workflow="w0", tags=["t0"])
    with tracker.scope(attribution=llmcost.Attribution(user_id="u1"), tags=["t1"]):
        one_call(tracker, attribution=llmcost.Attribution(session_id="s1"))
    rec = tracker.records[0]
    assert (rec.agent, rec.session_id, rec.user_id, rec.workflow, rec.tags) == ("a1", "s1", "u1", "w0", ["t0", "t1"])


@pytest.mark.parametrize(
    "make",
    [
        lambda t: llmcost.Tracker(writer=llmcost.MemoryWriter(), agnet="x"),
        lambda t: t.scope(agnet="x"),
        lambda t: t.trace(model="m", provider="p", agnet="x"),
        lambda t: t.trace(model="m", provider="p").set_attribution(agnet="x"),
        lambda t: llmcost.track(
            openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1"), tracker=t, agnet="x"
        ),
    ],
)
def test_a_misspelt_attribution_keyword_is_refused(tracker: llmcost.Tracker, make: Any) -> None:
    with pytest.raises(TypeError, match="unexpected keyword arguments: agnet"):
        make(tracker)


def test_scope_sums_tasks_and_bound_threads_and_survives_errors(tracker: llmcost.Tracker) -> None:
    async def run() -> llmcost.Scope:
        async with tracker.scope("request", user_id="u7") as scope:

            async def task() -> None:
                one_call(tracker, tokens=1000)

            await asyncio.gather(*(task() for _ in range(5)))
            await asyncio.to_thread(one_call, tracker)
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(scope.bind(lambda _: one_call(tracker)), range(3)))
            with ThreadPoolExecutor(1) as pool:  # a raw thread without the context: not counted
                pool.submit(one_call, tracker).result()
        return scope

    scope = asyncio.run(run())
    assert scope.calls == 9
    assert scope.input_tokens == 9000
    records = tracker.records
    assert scope.cost_usd == sum(Decimal(str(r.cost_usd)) for r in records if r.user_id == "u7")
    assert sum(r.user_id == "u7" for r in records) == 9

    failing = tracker.scope("failing")

    def fail_inside() -> None:
        with failing:
            one_call(tracker)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    one_call(tracker)  # after the block: not counted
    assert failing.calls == 1
    assert llmcost.recorder._scope.active_scopes() == ()


def test_scope_left_in_another_context_does_not_raise(tracker: llmcost.Tracker) -> None:
    scope = tracker.scope("odd")
    scope.__enter__()
    ctx = contextvars.copy_context()
    ctx.run(scope.__exit__, None, None, None)
    scope.__exit__(None, None, None)


def test_block_budget_raises_before_the_call(catalog: pricing.Catalog, tmp_path: Path) -> None:
    tracker = llmcost.Tracker(
        tmp_path, catalog=catalog, budgets=[llmcost.Budget(0.01, per="agent", key="spender", action="block")]
    )
    sent: list[llmcost.Call] = []

    def spend() -> None:
        for _ in range(100):
            sent.append(one_call(tracker, agent="spender"))  # $0.0035 each

    with pytest.raises(llmcost.BudgetExceeded, match="agent 'spender'"):
        spend()
    assert len(sent) == 3
    one_call(tracker, agent="other")  # another agent is not limited
    assert tracker.stats.budget_blocked == 1


def test_day_budget_counts_other_processes(catalog: pricing.Catalog, tmp_path: Path) -> None:
    other = llmcost.Tracker(tmp_path, catalog=catalog)
    for _ in range(4):
        one_call(other, tokens=10000)  # $0.035 each, $0.14 in total
    other.close()
    tracker = llmcost.Tracker(tmp_path, catalog=catalog, budgets=[llmcost.Budget("0.15", action="block")])
    one_call(tracker, tokens=10000)
    with pytest.raises(llmcost.BudgetExceeded):
        one_call(tracker, tokens=10000)


def test_warn_budget_warns_once(catalog: pricing.Catalog, tmp_path: Path) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog, budgets=[llmcost.Budget(0.001, per="day")])
    one_call(tracker)
    with pytest.warns(llmcost.BudgetWarning, match="day budget"):
        calls(tracker, 2)
    assert tracker.stats.budget_warned == 1


def test_scope_budget_blocks(tracker: llmcost.Tracker) -> None:
    with tracker.scope("req", budget_usd=0.005) as scope:
        one_call(tracker)
        with pytest.raises(llmcost.BudgetExceeded):
            calls(tracker, 2)
    assert scope.calls == 2


def test_downgrade_switches_model(catalog: pricing.Catalog, tmp_path: Path) -> None:
    tracker = llmcost.Tracker(
        tmp_path,
        catalog=catalog,
        budgets=[llmcost.Budget(0.001, action="downgrade")],
        downgrade={"gpt-4o": "gpt-4o-mini"},
    )
    one_call(tracker)
    with pytest.warns(llmcost.BudgetWarning):
        call = one_call(tracker)
    assert call.model == "gpt-4o-mini"
    assert call.fallback_from == "gpt-4o"


def test_call_cost_hook(catalog: pricing.Catalog) -> None:
    seen: list[llmcost.Record] = []
    tracker = llmcost.Tracker(
        writer=llmcost.MemoryWriter(), catalog=catalog, call_cost_usd=0.01, on_call_cost=seen.append
    )
    one_call(tracker, tokens=100)
    one_call(tracker, tokens=100000)
    assert [r.input_tokens for r in seen] == [100000]

    def broken(record: llmcost.Record) -> None:
        raise ValueError("hook bug")

    tracker.on_call_cost = broken
    with pytest.warns(llmcost.RecorderWarning, match="hook"):
        one_call(tracker, tokens=100000)
    assert tracker.stats.hook_errors == 1


def test_non_json_metadata_is_written_as_text(tracker: llmcost.Tracker) -> None:
    with pytest.warns(llmcost.RecorderWarning, match="metadata is not JSON"):
        one_call(tracker, metadata={"lock": threading.Lock(), "ok": 1})
    (rec,) = tracker.records
    assert rec.metadata is not None
    assert rec.metadata["ok"] == 1
    assert "lock" in rec.metadata["lock"]
    assert tracker.stats.bad_metadata == 1


def test_odd_response_and_impossible_usage_are_counted(tracker: llmcost.Tracker) -> None:
    def odd_calls() -> None:
        with tracker.trace(model="gpt-4o", provider="openai") as call:
            assert call.record(object()) is not None
        with tracker.trace(model="gpt-4o", provider="openai") as call:
            call.set_usage(10, 5, cache_read_input_tokens=50)  # a subset larger than its total

    with pytest.warns(llmcost.RecorderWarning) as caught:
        odd_calls()
    odd, impossible = tracker.records
    assert (odd.usage_source, odd.cost_status) == ("none", "no_usage")
    assert (impossible.cost_usd, impossible.input_tokens) == (None, 10)
    assert (tracker.stats.odd_response, tracker.stats.pricing_errors) == (1, 1)
    assert len(caught) == 2


def test_unknown_model_is_loud_not_zero(tracker: llmcost.Tracker) -> None:
    one_call(tracker, model="my-finetune-v9")
    (rec,) = tracker.records
    assert (rec.cost_usd, rec.cost_status) == (None, "unknown_model")
    assert tracker.stats.unknown_models == 1


def test_vllm_wall_time_times_gpus(tracker: llmcost.Tracker) -> None:
    with tracker.trace(model="meta-llama/Llama-3.1-8B", provider="vllm", gpus=4) as call:
        time.sleep(0.02)
        call.set_usage(10, 10)
    (rec,) = tracker.records
    assert rec.latency_ms is not None
    assert rec.gpu_seconds == pytest.approx(rec.latency_ms / 1000 * 4, rel=0.05)
    assert (rec.cost_status, rec.cost_usd) == ("free", 0.0)


def test_content_only_with_opt_in(catalog: pricing.Catalog) -> None:
    messages = [{"role": "user", "content": "secret plan"}]
    quiet = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog)
    loud = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, capture_content=True)
    for t in (quiet, loud):
        with t.trace(model="gpt-4o", provider="openai", messages=messages) as call:
            call.set_usage(1, 1)
    assert b"secret plan" not in b"".join(quiet.writer.lines)  # type: ignore[attr-defined]
    assert b"secret plan" in b"".join(loud.writer.lines)  # type: ignore[attr-defined]
    assert quiet.records[0].prompt_hash == loud.records[0].prompt_hash


def test_generic_stream_helper(tracker: llmcost.Tracker) -> None:
    chunks = ["a", "b", {"usage": {"prompt_tokens": 5, "completion_tokens": 2}}]
    assert list(tracker.stream(iter(chunks), model="gpt-4o", provider="openai", kind="generic")) == chunks

    def failing() -> Iterator[str]:
        yield "x"
        raise ConnectionError("cut")

    with pytest.raises(ConnectionError):
        list(tracker.stream(failing(), model="gpt-4o", provider="openai"))
    ok, failed = tracker.records
    assert (ok.status, ok.input_tokens, ok.ttft_ms is not None) == ("ok", 5, True)
    assert (failed.status, failed.error_type) == ("error", "ConnectionError")


@pytest.fixture
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector off: what is freed here is freed by reference counting alone."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_gc")
def test_a_stream_left_with_break_is_recorded_when_dropped(tracker: llmcost.Tracker) -> None:
    closed: list[bool] = []

    def chunks() -> Iterator[str]:
        try:
            yield from ("a", "b", "c")
        finally:
            closed.append(True)

    stream = tracker.stream(chunks(), model="gpt-4o", provider="openai")
    for _chunk in stream:
        break
    time.sleep(0.05)
    assert tracker.records == []  # still open: the loop may go on
    del stream
    (rec,) = tracker.records
    assert rec.status == "cancelled"
    assert rec.latency_ms is not None
    assert rec.latency_ms >= 50  # the time until it was dropped
    assert closed == [True]  # and the source was closed


@pytest.mark.usefixtures("no_gc")
def test_a_stream_never_iterated_is_recorded_when_dropped(tracker: llmcost.Tracker) -> None:
    stream = tracker.stream(iter(["a"]), model="gpt-4o", provider="openai")
    del stream
    (rec,) = tracker.records
    assert (rec.status, rec.ttft_ms) == ("cancelled", None)


@pytest.mark.usefixtures("no_gc")
def test_an_async_stream_left_with_break_is_recorded_when_dropped(tracker: llmcost.Tracker) -> None:
    async def chunks() -> AsyncIterator[str]:
        for c in ("a", "b"):
            yield c

    async def main() -> None:
        stream = tracker.stream(chunks(), model="gpt-4o", provider="openai")
        async for _chunk in stream:
            break
        del stream
        (rec,) = tracker.records
        assert rec.status == "cancelled"

    asyncio.run(main())


def test_module_level_defaults(tmp_path: Path) -> None:
    tracker = llmcost.configure(tmp_path, agent="cli")
    assert llmcost.get_tracker() is tracker
    with llmcost.track(model="gpt-4o", provider="openai") as call:
        call.set_usage(1, 1)
    tracker.close()
    (path,) = tmp_path.glob("llm_trace_*.jsonl")
    assert llmcost.decode_record(path.read_bytes()).agent == "cli"


def test_default_log_dir_is_the_monitors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLMCOST_LOG_DIR", str(tmp_path / "shared"))
    tracker = llmcost.Tracker()
    assert tracker.log_dir == llmcost.paths.log_dir() == tmp_path / "shared"


def test_line_has_every_field_in_place(tracker: llmcost.Tracker) -> None:
    """The hot path builds lines positionally: each value must land under its own key, in Record's order."""
    with (
        tracker.scope(workflow="wf"),
        tracker.trace(
            model="gpt-4o",
            provider="openai",
            messages=["m"],
            operation="responses",
            source="manual",
            server_address="api.example",
            stream=True,
            attempt=4,
            fallback_from="o3",
            agent="ag",
            session_id="se",
            user_id="us",
            tags=["tg"],
            metadata={"k": "v"},
        ) as call,
    ):
        call.set_usage(
            900,
            80,
            cache_read_input_tokens=100,
            cache_creation_input_tokens=50,
            reasoning_output_tokens=20,
            gpu_seconds=1.5,
            response_model="gpt-4o-2024-08-06",
        )
        call.response_id = "resp-1"
        call.mark_first_token()
        call.set_error(KeyError("k"))
    line = tracker.writer.lines[0]  # type: ignore[attr-defined]
    rec = llmcost.decode_record(line)
    assert llmcost.encode_record(rec) == line  # same key order as Record
    assert (rec.v, rec.id, rec.trace_id[16:], rec.parent_id) == (1, call.id, call.id, None)
    assert (rec.source, rec.operation, rec.provider, rec.server_address) == (
        "manual",
        "responses",
        "openai",
        "api.example",
    )
    assert (rec.request_model, rec.response_model, rec.response_id, rec.stream) == (
        "gpt-4o",
        "gpt-4o-2024-08-06",
        "resp-1",
        True,
    )
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_input_tokens) == (900, 80, 100)
    assert (rec.cache_creation_input_tokens, rec.reasoning_output_tokens, rec.gpu_seconds) == (50, 20, 1.5)
    assert (rec.usage_source, rec.cost_status, rec.status, rec.error_type) == (
        "provider",
        "priced",
        "error",
        "KeyError",
    )
    assert rec.price_ref is not None
    assert rec.price_ref.startswith(("2026", "20"))
    assert rec.ttft_ms is not None
    assert rec.latency_ms is not None
    assert rec.ttft_ms <= rec.latency_ms
    assert (rec.attempt, rec.fallback_from, rec.agent, rec.session_id, rec.user_id) == (4, "o3", "ag", "se", "us")
    assert (rec.workflow, rec.tags, rec.metadata, rec.http_status) == ("wf", ["t1", "tg"], {"k": "v"}, None)
    assert rec.prompt_hash is not None
    assert rec.start_ts is not None
    assert rec.start_ts <= rec.ts
