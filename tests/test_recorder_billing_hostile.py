"""Hostile values for how a call is billed (service tier, batch, tool counts, one-hour cache writes): the user's
call goes on, the line is written and readable, and what was refused is counted."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import llmcost
import pricing

CATALOG = pricing.load_catalog(pricing.bundled_catalog_path(), overrides=False)


@pytest.fixture
def shipped() -> llmcost.Tracker:
    return llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=CATALOG)


class Unprintable:
    """A value whose ``repr`` (and truth value) raises, as an odd SDK or proxy object may."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")


@pytest.mark.parametrize(
    ("where", "option"),
    [
        ("trace", "service_tier"),
        ("trace", "batch"),
        ("trace", "attempt"),
        ("trace", "gpus"),
        ("set_usage", "service_tier"),
        ("set_usage", "batch"),
        ("set_usage", "cost_usd"),
    ],
)
def test_a_value_whose_repr_raises_is_counted_not_raised(shipped: llmcost.Tracker, where: str, option: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = {option: Unprintable()}
        with shipped.trace("gpt-4o", "openai", **(given if where == "trace" else {})) as call:
            call.set_usage(1000, 100, **(given if where == "set_usage" else {}))
    (rec,) = shipped.records
    assert (rec.input_tokens, rec.output_tokens) == (1000, 100)
    assert rec.service_tier is None
    assert shipped.stats.bad_values >= 1


def _anthropic_stream(start: dict[str, Any], delta: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield {"type": "message_start", "message": {"id": "msg_1", "model": "claude-haiku-4-5", "usage": start}}
    yield {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
    yield {"type": "message_delta", "usage": delta}


def test_cache_writes_named_only_by_lifetime_in_a_stream_delta_are_read_as_in_a_response(
    shipped: llmcost.Tracker,
) -> None:
    """A ``message_delta`` whose usage breaks the cache writes down by lifetime without their total: the writes are
    the sum of the breakdown, as when a whole response says the same (not a one-hour part of no writes, priced $0)."""
    start = {"input_tokens": 100, "output_tokens": 1}
    delta = {"output_tokens": 50, "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 500}}
    with shipped.trace("claude-haiku-4-5", "anthropic") as call:
        for _ in call.stream(_anthropic_stream(start, delta), kind="anthropic"):
            pass
    with shipped.trace("claude-haiku-4-5", "anthropic") as call:
        call.record({"id": "msg_2", "model": "claude-haiku-4-5", "usage": {**start, **delta}})
    streamed, whole = shipped.records
    counts = ("input_tokens", "cache_creation_input_tokens", "cache_creation_1h_input_tokens", "output_tokens")
    assert [getattr(streamed, name) for name in counts] == [620, 520, 500, 50]
    assert [getattr(whole, name) for name in counts] == [620, 520, 500, 50]
    assert streamed.cost_usd == whole.cost_usd
    assert streamed.cost_status == "priced"


@pytest.mark.parametrize(("writes", "fault"), [(None, 0), (200, 1)], ids=["no total", "a smaller total"])
def test_one_hour_writes_beyond_the_total_are_all_writes(
    shipped: llmcost.Tracker, writes: int | None, fault: int
) -> None:
    # The one-hour writes are a part of all cache writes: given alone (or with a smaller total, a contradiction that
    # is counted), they are writes all the same, priced at the one-hour rate, never as plain input.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with shipped.trace("claude-sonnet-4-5", "anthropic") as call:
            call.set_usage(2000, 100, cache_creation_input_tokens=writes, cache_creation_1h_input_tokens=500)
    (rec,) = shipped.records
    assert (rec.cache_creation_input_tokens, rec.cache_creation_1h_input_tokens) == (500, 500)
    usage = pricing.Usage(input_tokens=2000, output_tokens=100, cache_write_1h_tokens=500)
    assert rec.cost_usd == float(CATALOG.price(usage, "claude-sonnet-4-5", "anthropic").cost_usd)
    assert rec.cost_status == "priced"
    assert shipped.stats.bad_values == fault
