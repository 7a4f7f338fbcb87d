"""Every call the recorder writes is one line its own readers accept (the rule of ``llmcost.log.Record``).

A line a reader rejects is a paid call that vanishes from every report, so whatever the caller hands over (names
that are not text, counts that are not whole numbers, metadata that is not JSON, cyclic or absurdly large), the call
still gets exactly one line: values the rule refuses are coerced, cut or made unknown, and counted in
``tracker.stats``.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import llmcost
import pricing
from llmcost.log import MAX_LINE
from llmcost.log._writer import reset_warnings


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


@pytest.fixture(scope="module")
def catalog(mini_catalog_path: Path) -> pricing.Catalog:
    return pricing.load_catalog(mini_catalog_path, overrides=False)


@pytest.fixture(scope="module")
def mini_catalog_path() -> Path:
    return Path(__file__).parent / "fixtures" / "mini_catalog.toml"


class Boom(Exception):
    """An error raised inside a traced block, with whatever status and message the test gives it."""

    def __init__(self, message: Any, status: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status

    def __str__(self) -> str:
        return self.message if isinstance(self.message, str) else repr(self.message)


class Opaque:
    """An object no JSON encoder knows."""

    def __repr__(self) -> str:
        return "<Opaque>"


def _cyclic() -> dict[str, Any]:
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    return loop


def _deep(depth: int) -> dict[str, Any]:
    top: dict[str, Any] = {}
    node = top
    for _ in range(depth):
        node["d"] = {}
        node = node["d"]
    return top


def _shared(levels: int) -> list[Any]:
    """A list whose items are the same list, ``levels`` times over: 2**levels leaves if walked naively."""
    node: list[Any] = ["leaf"]
    for _ in range(levels):
        node = [node, node]
    return node


# -- strategies ----------------------------------------------------------------------------------------------------

surrogates = st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
texts = st.one_of(st.text(max_size=20), surrogates, st.builds(lambda a, b: a + b, st.text(max_size=5), surrogates))
huge = st.builds(lambda n, c: c * n, st.sampled_from([5_000, 70_000, 1_100_000]), st.sampled_from(["a", "é", "\x00"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.binary(max_size=8),
    st.decimals(allow_nan=True),
    st.just(Opaque()),
)
names = st.one_of(st.none(), texts, scalars, huge)
keys = st.one_of(st.text(max_size=8), surrogates, st.integers(), st.none(), st.booleans(), st.tuples(st.integers()))
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
        st.sets(st.integers(), max_size=3),
        st.tuples(inner, inner),
    ),
    max_leaves=12,
)
metadata = st.one_of(
    st.none(),
    st.dictionaries(keys, json_like, max_size=5),
    st.builds(_cyclic),
    st.builds(_deep, st.sampled_from([31, 33, 200, 5_000])),
    st.builds(lambda text: {"blob": text}, huge),
    st.builds(lambda n: {"shared": _shared(n)}, st.sampled_from([10, 40])),
    st.just({i: "x" * 100 for i in range(2_000)}),
    scalars,
)
tags = st.one_of(st.none(), texts, st.lists(names, max_size=4), st.tuples(names), scalars)
counts = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=3),
    st.decimals(allow_nan=True),
)
errors = st.one_of(st.none(), st.builds(Boom, st.one_of(texts, huge, scalars), st.one_of(scalars, st.integers())))
#: Attribution and request details as a call is given them (each key optional).
ATTRIBUTION = {
    "agent": names,
    "session_id": names,
    "user_id": names,
    "workflow": names,
    "tags": tags,
    "metadata": metadata,
}
REQUEST = {
    "source": names,
    "operation": names,
    "server_address": names,
    "fallback_from": names,
    "attempt": counts,
    "gpus": counts,
}


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The recorder warns once about what it fixed; that is not under test here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _quietly(fn: Any) -> None:
    with quiet(), contextlib.suppress(Boom):
        fn()


def decoded(writer: llmcost.MemoryWriter, calls: Callable[[], None]) -> list[llmcost.Record]:
    """The records of the lines ``calls`` wrote (run quietly, a ``Boom`` let through), each line within the size
    limit and taken by the rule."""
    _quietly(calls)
    for line in writer.lines:
        assert len(line) <= MAX_LINE
    return [llmcost.decode_record(line) for line in writer.lines]


# -- the rule ------------------------------------------------------------------------------------------------------


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    model=names,
    provider=names,
    attribution=st.fixed_dictionaries({}, optional={**ATTRIBUTION, **REQUEST, "messages": json_like}),
    usage=st.lists(counts, min_size=6, max_size=6),
    extra=st.fixed_dictionaries(
        {}, optional={"gpu_seconds": counts, "cost_usd": counts, "response_model": names, "estimated": scalars}
    ),
    error=errors,
    capture=st.booleans(),
)
def test_every_call_writes_one_line_that_decodes(
    catalog: pricing.Catalog,
    model: Any,
    provider: Any,
    attribution: dict[str, Any],
    usage: list[Any],
    extra: dict[str, Any],
    error: Boom | None,
    capture: bool,
) -> None:
    writer = llmcost.MemoryWriter()
    tracker = llmcost.Tracker(writer=writer, catalog=catalog, capture_content=capture)

    def call() -> None:
        with tracker.trace(model, provider, **attribution) as call:
            call.set_usage(
                usage[0],
                usage[1],
                cache_read_input_tokens=usage[2],
                cache_creation_input_tokens=usage[3],
                cache_creation_1h_input_tokens=usage[4],
                reasoning_output_tokens=usage[5],
                **extra,
            )
            if error is not None:
                raise error

    _quietly(call)
    (line,) = writer.lines
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert len(line) <= MAX_LINE
    record = llmcost.decode_record(line)
    assert record.id
    assert tracker.stats.internal_errors == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(response=json_like, chunks=st.lists(json_like, max_size=4), model=names)
def test_odd_responses_and_streams_write_one_line_each(response: Any, chunks: list[Any], model: Any) -> None:
    writer = llmcost.MemoryWriter()
    tracker = llmcost.Tracker(writer=writer, catalog=pricing.load_catalog())

    def calls() -> None:
        with tracker.trace(model, "openai") as call:
            call.record(response)
            call.record({"model": model, "id": model, "usage": {"prompt_tokens": response, "completion_tokens": 3}})
        for _ in tracker.stream(iter(chunks), model=model, provider="anthropic", kind="anthropic"):
            pass

    assert len(decoded(writer, calls)) == 2


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    given=st.fixed_dictionaries({}, optional=ATTRIBUTION),
    request=st.fixed_dictionaries({}, optional={**REQUEST, "usage_hint": names, "stream": scalars}),
    status=names,
    kind=names,
    failure=st.none() | st.tuples(names, st.one_of(names, huge), st.one_of(scalars, st.integers())),
)
def test_integration_entry_points_write_one_line_that_decodes(
    given: dict[str, Any], request: dict[str, Any], status: Any, kind: Any, failure: tuple[Any, Any, Any] | None
) -> None:
    """What integrations call (begin, set_request, set_attribution, set_failure, stream, finish) keeps the rule."""
    writer = llmcost.MemoryWriter()
    tracker = llmcost.Tracker(writer=writer, catalog=pricing.load_catalog())

    def calls() -> None:
        call = tracker.begin("gpt-4o-mini", "openai", llmcost.Attribution(**given))
        call.set_request(**request)
        call.set_attribution(**given)
        call.set_usage(10, 2)
        if failure is not None:
            call.set_failure(*failure)
        call.finish(status)
        streamed = tracker.begin("gpt-4o-mini", "openai")
        streamed.set_request(**request)
        for _ in streamed.stream(iter([{"usage": {"prompt_tokens": 1, "completion_tokens": 1}}]), kind):
            pass

    assert len(decoded(writer, calls)) == 2
    assert tracker.stats.internal_errors == 0


# -- what is written in place of what the rule refuses -------------------------------------------------------------


@pytest.fixture
def tracker(catalog: pricing.Catalog) -> llmcost.Tracker:
    return llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog)


def only_record(tracker: llmcost.Tracker) -> llmcost.Record:
    (line,) = tracker.writer.lines  # type: ignore[attr-defined]
    assert len(line) <= MAX_LINE
    return llmcost.decode_record(line)


def test_names_that_are_not_text_are_written_as_text_and_counted(tracker: llmcost.Tracker) -> None:
    with pytest.warns(llmcost.RecorderWarning), tracker.trace(7, "openai", agent=7, user_id=1.5, tags=["a", 2]) as call:  # type: ignore[arg-type, list-item]
        call.set_usage(10, 2)
    rec = only_record(tracker)
    assert (rec.request_model, rec.agent, rec.user_id, rec.tags) == ("7", "7", "1.5", ["a", "2"])
    assert tracker.stats.bad_values == 4


def test_one_tag_given_as_a_string_is_one_tag(tracker: llmcost.Tracker) -> None:
    with tracker.trace("gpt-4o", "openai", tags="prod") as call:  # type: ignore[arg-type]
        call.set_usage(10, 2)
    assert only_record(tracker).tags == ["prod"]


def test_counts_that_are_not_whole_numbers_are_made_whole_or_unknown(tracker: llmcost.Tracker) -> None:
    with pytest.warns(llmcost.RecorderWarning), tracker.trace("gpt-4o", "openai", attempt=2.0) as call:  # type: ignore[arg-type]
        call.set_usage(100.0, True, cache_read_input_tokens=-3, reasoning_output_tokens=1.5)  # type: ignore[arg-type]
    rec = only_record(tracker)
    assert (rec.input_tokens, rec.output_tokens, rec.cache_read_input_tokens, rec.reasoning_output_tokens) == (
        100,
        None,
        None,
        None,
    )
    assert rec.attempt == 2
    assert tracker.stats.bad_values == 3  # 100.0 and 2.0 are whole numbers: taken as they are


def test_metadata_keys_that_are_not_text_become_text(tracker: llmcost.Tracker) -> None:
    with (
        pytest.warns(llmcost.RecorderWarning),
        tracker.trace("gpt-4o", "openai", metadata={1: "one", (2,): "two"}) as call,
    ):  # type: ignore[dict-item]
        call.set_usage(1, 1)
    assert only_record(tracker).metadata == {"1": "one", "(2,)": "two"}
    assert tracker.stats.bad_metadata == 1


def test_lone_surrogates_are_replaced_not_lost(tracker: llmcost.Tracker) -> None:
    with quiet(), tracker.trace("gpt-4o", "openai", agent="a\udc80b", metadata={"k\ud800": "v\udfff"}) as call:
        call.set_usage(1, 1)
        call.set_error(ValueError("bad \ud800 byte"))
    rec = only_record(tracker)
    assert rec.agent == "a\ufffdb"
    assert rec.metadata == {"k\ufffd": "v\ufffd"}
    assert rec.error_message == "bad \ufffd byte"


def test_cyclic_deep_and_unencodable_metadata_is_cut_where_it_fails(tracker: llmcost.Tracker) -> None:
    meta = {"loop": _cyclic(), "deep": _deep(100), "opaque": Opaque(), "fine": [1, "two", None]}
    with pytest.warns(llmcost.RecorderWarning), tracker.trace("gpt-4o", "openai", metadata=meta) as call:
        call.set_usage(1, 1)
    rec = only_record(tracker)
    assert rec.metadata is not None
    assert rec.metadata["fine"] == [1, "two", None]
    assert rec.metadata["opaque"] == "<Opaque>"
    assert rec.metadata["loop"]["name"] == "loop"
    assert isinstance(rec.metadata["loop"]["self"], str)  # the cycle, cut where it comes back
    depth, node = 0, rec.metadata["deep"]
    while isinstance(node, dict):
        depth, node = depth + 1, node["d"]
    assert depth < 32
    assert tracker.stats.bad_metadata == 1  # one call, counted once


@pytest.mark.parametrize(
    "where",
    ["agent", "model", "metadata", "tags", "error", "content", "response_model"],
)
def test_huge_values_are_cut_so_the_line_stays_under_the_limit(catalog: pricing.Catalog, where: str) -> None:
    tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), catalog=catalog, capture_content=where == "content")
    big = "x" * (MAX_LINE + 10)
    kw: dict[str, Any] = {
        "agent": {"agent": big},
        "metadata": {"metadata": {"a": big, "b": big}},
        "tags": {"tags": [big, big]},
        "content": {"messages": [{"role": "user", "content": big}]},
    }.get(where, {})
    with quiet(), tracker.trace(big if where == "model" else "gpt-4o", "openai", **kw) as call:
        call.set_usage(1, 1, response_model=big if where == "response_model" else None)
        if where == "error":
            call.set_error(RuntimeError(big))
    rec = only_record(tracker)
    assert len(tracker.writer.lines[0]) < 300_000  # type: ignore[attr-defined]
    if where == "agent":
        assert rec.agent is not None
        assert rec.agent.startswith("xxx")
        assert len(rec.agent) <= 4096
    if where == "metadata":
        assert rec.metadata is not None
        assert len(llmcost.encode_record(rec)) < 80_000


def test_set_usage_and_finish_never_raise(tracker: llmcost.Tracker) -> None:
    with pytest.warns(llmcost.RecorderWarning), tracker.trace("gpt-4o", "openai") as call:
        call.set_usage(10, 2, cost_usd="not a number", gpu_seconds=-1)
    rec = only_record(tracker)
    assert (rec.input_tokens, rec.gpu_seconds, rec.cost_status) == (10, None, "priced")
    assert rec.cost_usd is not None
    assert not math.isnan(rec.cost_usd)


def test_an_error_status_outside_http_is_unknown(tracker: llmcost.Tracker) -> None:
    with tracker.trace("gpt-4o", "openai") as call:
        call.set_error(Boom("odd", 999))
    assert only_record(tracker).http_status is None


def test_lines_written_to_a_file_decode(tmp_path: Path, catalog: pricing.Catalog) -> None:
    tracker = llmcost.Tracker(tmp_path, catalog=catalog)
    odd: list[dict[str, Any]] = [
        {"agent": 7},
        {"tags": [1, None]},
        {"metadata": _cyclic()},
        {"metadata": {"a": "\ud800"}},
        {"agent": "x" * (MAX_LINE + 1)},
        {"metadata": {"cost": Decimal("1.5"), "big": 2**80}},
    ]
    for kw in odd:
        with quiet(), tracker.trace("gpt-4o", "openai", **kw) as call:
            call.set_usage(1, 1)
    tracker.close()
    (path,) = tmp_path.glob("llm_trace_*.jsonl")
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(odd)
    for line in lines:
        assert len(line) < MAX_LINE
        llmcost.decode_record(line)
