"""Line splitting across arbitrary read boundaries, bad lines counted and never fatal."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcost.log import MAX_DEPTH, canonical, decode_record, epoch, times_exist, too_deep
from llmcost.log._lines import LineSplitter, decode_block
from llmcost.log._record import encode_record, record_decoder
from tests._traces import rec

line = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"."))


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(st.lists(line, max_size=30), st.lists(st.integers(min_value=0), max_size=20), st.booleans())
def test_complete_lines_come_out_whole_whatever_the_chunks(lines: list[bytes], cuts: list[int], tail: bool) -> None:
    data = b"".join(x + b"\n" for x in lines) + (b"partial" if tail else b"")
    splitter = LineSplitter(cap=1 << 20)
    out = b""
    for chunk in _cut(data, cuts):
        block, dropped = splitter.feed(chunk)
        assert dropped == 0
        assert block == b"" or block.endswith(b"\n")
        out += block
    assert out.split(b"\n")[:-1] == lines
    assert splitter.partial == (b"partial" if tail else b"")


@given(
    st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=12),
    st.lists(st.integers(min_value=0), max_size=15),
)
def test_over_long_lines_are_dropped_and_counted(lengths: list[int], cuts: list[int]) -> None:
    cap = 50
    lines = [bytes([97 + i % 26]) * n for i, n in enumerate(lengths)]
    data = b"".join(x + b"\n" for x in lines)
    splitter = LineSplitter(cap=cap)
    out, dropped = b"", 0
    for chunk in _cut(data, cuts):
        # the follower never reads more than the cap at once; do the same here
        for i in range(0, len(chunk), cap):
            block, n = splitter.feed(chunk[i : i + cap])
            out += block
            dropped += n
    kept = [x for x in lines if len(x) <= cap]
    assert out.split(b"\n")[:-1] == kept
    assert dropped == len(lines) - len(kept)


def test_bad_lines_are_counted_and_good_ones_kept() -> None:
    good = [rec(), rec(), rec()]
    block = (
        encode_record(good[0])
        + b"not json\n"
        + b'{"ts": "2026-03-02T12:00:00.000Z", "id": "\xff\xfe"}\n'
        + encode_record(good[1])
        + b'{"ts": 5, "id": "x"}\n'
        + b"\n"
        + encode_record(good[2])
    )
    records, bad = decode_block(record_decoder(), block)
    assert [r.id for r in records] == [r.id for r in good]
    assert bad == 3


def test_a_newer_wire_version_keeps_known_fields() -> None:
    line = b'{"v":2,"ts":"2026-03-02T12:00:00.000Z","id":"00000000000000ab","agent":"a","cost_usd":0.5,"new_field":{"x":[1,2]}}\n'
    records, bad = decode_block(record_decoder(), line)
    assert bad == 0
    assert (records[0].v, records[0].agent, records[0].cost_usd) == (2, "a", 0.5)


_RECORDER_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", re.ASCII)


def _takes(ts: str) -> bool:
    try:
        epoch(ts)
    except ValueError:
        return False
    return True


def _mutated(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from([0, 1, 1969, 1970, 2024, 2026, 9998, 9999]))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 60)), draw(st.integers(0, 60))
    stamp = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{draw(st.integers(0, 999)):03d}Z"
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        at = draw(st.integers(min_value=0, max_value=len(stamp)))
        char = draw(st.sampled_from(["0", "1", "2", "3", "5", "6", "9", "-", ":", ".", "T", "Z", " ", "٣", "x", ""]))
        stamp = stamp[:at] + char + stamp[at + 1 :]
    return stamp


@given(st.lists(st.composite(_mutated)(), max_size=6))
def test_the_batch_check_of_times_is_the_rule_of_one_time(stamps: list[str]) -> None:
    """``canonical`` (one pass over a block's stamps) says yes exactly when each is in the recorder's form and
    ``epoch`` takes it; ``times_exist`` exactly when ``epoch`` takes each."""
    assert canonical(stamps) == all(_RECORDER_FORM.fullmatch(s) is not None and _takes(s) for s in stamps)
    assert times_exist(stamps) == all(map(_takes, stamps))


def test_the_batch_check_knows_every_kind_of_bad_time() -> None:
    good = "2026-03-02T12:00:00.000Z"
    for bad in [
        "2026-02-29T12:00:00.000Z",
        "2024-02-30T12:00:00.000Z",
        "2026-13-02T12:00:00.000Z",
        "2026-00-02T12:00:00.000Z",
        "2026-03-00T12:00:00.000Z",
        "2026-03-02T24:00:00.000Z",
        "2026-03-02T30:00:00.000Z",
        "2026-03-02T12:60:00.000Z",
        "2026-03-02T12:00:60.000Z",
        "0000-03-02T12:00:00.000Z",
        "1969-03-02T12:00:00.000Z",
        "9999-12-31T12:00:00.000Z",
        "2026-03-02T12:00:00.0٣0Z",
    ]:
        assert not canonical([good, bad]), bad
        assert not _takes(bad), bad
    assert canonical([good, "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "9999-12-30T23:59:59.999Z"])


def _nest(kinds: list[bool], leaf: str) -> object:
    value: object = leaf
    for is_object in reversed(kinds):
        value = {leaf: value} if is_object else [leaf, value]
    return value


@given(
    st.lists(st.booleans(), min_size=MAX_DEPTH - 8, max_size=MAX_DEPTH + 8),
    st.text(alphabet='[]{}"\\ab', max_size=12),
    st.integers(min_value=0, max_value=3),
)
def test_the_nesting_rule_counts_arrays_and_objects_never_text(kinds: list[bool], leaf: str, others: int) -> None:
    line = json.dumps(_nest(kinds, leaf)).encode()
    good = encode_record(rec(agent=leaf * 20, tags=[leaf]))
    block = good * others + line + b"\n" + good
    deep = len(kinds) > MAX_DEPTH
    assert too_deep(line) is deep
    assert too_deep(block) is deep
    assert too_deep(memoryview(bytearray(block))) is deep
    assert too_deep(line.decode()) is deep


def test_a_line_nested_past_the_rule_is_bad_whatever_the_interpreter_follows() -> None:
    record = rec()

    def line(levels: int) -> bytes:
        return encode_record(record)[:-2] + b',"later":' + b"[" * levels + b"]" * levels + b"}\n"

    assert decode_record(line(MAX_DEPTH - 1)) == record  # the record's braces and 63 arrays
    for levels in (MAX_DEPTH, 100_000):
        with pytest.raises(ValueError, match="nested more than 64 deep"):
            decode_record(line(levels))
        records, bad = decode_block(record_decoder(), encode_record(rec()) + line(levels) + encode_record(rec()))
        assert (len(records), bad) == (2, 1)
