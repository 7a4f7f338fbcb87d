"""``Tracker.add_sink``: every record's line is handed on after it is written, and a failing sink costs nothing."""

from __future__ import annotations

import pytest

import llmcost
from llmcost.log._writer import reset_warnings


@pytest.fixture
def tracker() -> llmcost.Tracker:
    return llmcost.Tracker(writer=llmcost.MemoryWriter())


def call(tracker: llmcost.Tracker, model: str = "gpt-4o-mini") -> None:
    with tracker.trace(model=model, provider="openai") as c:
        c.set_usage(input_tokens=10, output_tokens=2)


def test_sink_gets_the_line_that_was_written(tracker: llmcost.Tracker) -> None:
    seen: list[bytes] = []
    tracker.add_sink(seen.append)
    call(tracker)
    assert seen == tracker.writer.lines  # type: ignore[attr-defined]


def test_every_sink_gets_every_record(tracker: llmcost.Tracker) -> None:
    first: list[bytes] = []
    second: list[bytes] = []
    tracker.add_sink(first.append)
    tracker.add_sink(second.append)
    call(tracker)
    call(tracker)
    assert (len(first), len(second)) == (2, 2)


def test_removed_sink_gets_nothing_more(tracker: llmcost.Tracker) -> None:
    seen: list[bytes] = []
    tracker.add_sink(seen.append)
    call(tracker)
    tracker.remove_sink(seen.append)  # an equal bound method, not the same object
    call(tracker)
    assert len(seen) == 1


def test_failing_sink_is_counted_and_the_call_goes_on(tracker: llmcost.Tracker) -> None:
    reset_warnings()

    def broken(line: bytes) -> None:
        raise RuntimeError("collector gone")

    tracker.add_sink(broken)
    with pytest.warns(llmcost.RecorderWarning, match="sink raised RuntimeError"):
        call(tracker)
    call(tracker)
    assert tracker.stats.hook_errors == 2
    assert len(tracker.records) == 2


def test_no_sink_by_default(tracker: llmcost.Tracker) -> None:
    assert tracker.sinks == ()


def test_failing_sink_after_the_first_call_is_counted_with_its_message(tracker: llmcost.Tracker) -> None:
    """The first call of a tracker looks its rate plans up; later ones take the compiled path where it is built."""
    reset_warnings()
    call(tracker)

    def broken(line: bytes) -> None:
        raise ValueError("bad line")

    tracker.add_sink(broken)
    with pytest.warns(llmcost.RecorderWarning, match="sink raised ValueError: bad line"):
        call(tracker)
    assert tracker.stats.hook_errors == 1
    assert len(tracker.records) == 2


def test_a_sink_that_interrupts_passes_it_on_once_the_line_is_written(tracker: llmcost.Tracker) -> None:
    call(tracker)
    seen: list[bytes] = []

    def interrupt(line: bytes) -> None:
        raise KeyboardInterrupt

    tracker.add_sink(interrupt)
    tracker.add_sink(seen.append)  # after the one that interrupts: not reached
    with pytest.raises(KeyboardInterrupt):
        call(tracker)
    assert len(tracker.records) == 2
    assert seen == []
    assert tracker.stats.hook_errors == 0
