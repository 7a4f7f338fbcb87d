"""Line splitting across arbitrary read boundaries, bad lines counted and never fatal."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

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
