"""Hostile values for how a call is billed (service tier, batch, tool counts, one-hour cache writes): the user's
call goes on, the line is written and readable, and what was refused is counted."""

from __future__ import annotations

import warnings

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
