"""The compiled line scanner of ``llmcost report``: it takes a block only when it reads every line exactly as the
msgspec path does, and then its totals are the msgspec path's to the pico-dollar and the sketch bucket."""

from __future__ import annotations

import importlib.util
import json
import math
import random
import shutil
import sysconfig
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcost.engine import _scan
from llmcost.engine._follow import _Seen
from llmcost.engine._report import GROUP_KEYS
from llmcost.engine._scan import report_files
from llmcost.engine._sketch import _ZERO_BUCKET, bucket_of
from tests._traces import T0, day_file, ts

#: The scanner ``llmcost report`` uses: None when built without a C compiler or with LLMCOST_PURE_PYTHON set.
Scanner = _scan._Scanner

needs_scanner = pytest.mark.skipif(Scanner is None, reason="the compiled scanner is not built or not in use")


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "").split()
    return shutil.which(cc[0]) if cc else None


def test_the_install_builds_the_compiled_scanner_where_there_is_a_compiler() -> None:
    if _compiler() is None:
        pytest.skip("no C compiler: the pure-Python path is used")
    assert importlib.util.find_spec("llmcost.engine._cscan") is not None, (
        "a C compiler is here, yet llmcost.engine._cscan was not built"
    )


def line(**fields: Any) -> bytes:
    base: dict[str, Any] = {"v": 1, "ts": "2026-03-02T10:00:00.000Z", "id": "a1", "agent": "planner"}
    base.update({"input_tokens": 100, "output_tokens": 10, "cost_usd": 0.001, "latency_ms": 250.0, "status": "ok"})
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}, ensure_ascii=False).encode() + b"\n"


def rows(by: str, *blocks: bytes) -> dict[str | None, tuple[Any, ...]]:
    """Scan and commit each block (all must be taken); the totals by key."""
    assert Scanner is not None
    scanner = Scanner(GROUP_KEYS.index(by), 1000, 0)
    for block in blocks:
        assert scanner.scan(block, False) is not None, block
        scanner.commit(True)
    return {row[0]: row[1:] for row in scanner.rows()}


@needs_scanner
def test_sums_counts_and_sketch_buckets_of_a_block() -> None:
    block = b"".join(
        [
            line(id="1", input_tokens=1000, output_tokens=50, cache_read_input_tokens=800, cost_usd=0.5),
            line(id="2", status="error", attempt=1, cost_usd=0.25, reasoning_output_tokens=7, ttft_ms=90.0),
            line(id="3", agent="critic", cache_creation_input_tokens=30, latency_ms=None),
            line(id="4", agent=None, cost_usd=None, input_tokens=None, output_tokens=None, status="error"),
            b"   \n\n",  # blank lines are skipped
        ]
    )
    got = rows("agent", block)
    planner = got["planner"]
    assert planner[:10] == (2, 1, 1, 1100, 60, 800, 0, 7, 750_000_000_000, 0)
    assert planner[10] == {bucket_of(250.0): 2}
    assert planner[11] == {bucket_of(90.0): 1}
    assert got["critic"][:10] == (1, 0, 0, 100, 10, 0, 30, 0, 1_000_000_000, 0)
    assert got["critic"][10] == {}
    assert got[None][:10] == (1, 1, 0, 0, 0, 0, 0, 0, 0, 0)  # refused: costs 0, not unpriced


@needs_scanner
def test_a_stream_that_failed_without_usage_is_unpriced() -> None:
    no_usage = {"cost_usd": None, "input_tokens": None, "output_tokens": None}
    got = rows("agent", line(stream=True, status="error", **no_usage) + line(id="2", status="cancelled", **no_usage))
    assert got["planner"][8:10] == (0, 2)


@needs_scanner
@pytest.mark.parametrize(
    ("by", "fields", "key"),
    [
        ("model", {"response_model": "gpt-4o-2024-08-06", "request_model": "gpt-4o"}, "gpt-4o-2024-08-06"),
        ("model", {"response_model": None, "request_model": "gpt-4o"}, "gpt-4o"),
        ("model", {"response_model": "", "request_model": "gpt-4o"}, "gpt-4o"),
        ("model", {"response_model": "", "request_model": ""}, ""),
        ("model", {}, None),
        ("provider", {"provider": "anthropic"}, "anthropic"),
        ("user", {"user_id": "ann"}, "ann"),
        ("session", {"session_id": "s-ü"}, "s-ü"),
        ("workflow", {"workflow": None}, None),
        ("day", {"ts": "2026-03-02T23:59:59.999Z"}, "2026-03-02"),
        ("day", {"ts": "short"}, "short"),
        ("agent", {"agent": "日本語"}, "日本語"),
        ("day_model", {"response_model": None, "request_model": "gpt-4o"}, "2026-03-02\ngpt-4o"),
        ("day_model", {"response_model": "é", "ts": "2026-03-04T01:00:00.000Z"}, "2026-03-04\né"),
        ("day_model", {"response_model": "", "request_model": ""}, "2026-03-02\n"),
        ("day_model", {}, "2026-03-02"),
        ("day_model", {"ts": "odd", "request_model": "m"}, "odd\nm"),
    ],
)
def test_the_group_key_is_the_python_paths(by: str, fields: dict[str, Any], key: str | None) -> None:
    assert list(rows(by, line(**fields))) == [key]


@needs_scanner
def test_accepted_lines_read_as_msgspec_reads_them() -> None:
    odd = [
        b' { "ts" : "2026-03-02T10:00:00.000Z" ,\t"id":"x1", "cost_usd": 1E-3 , "agent":"a"}\r\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x2","agent":"a","agent":"b","cost_usd":0}\n',  # last wins
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x3","cost_usd":-0.0,"agent":"b","note":"\xff\xfe"}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x4","cost_usd":2,"tags":["a",{"b":[null,true,false]},-1.5e+3]}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x5","cost_usd":1,"metadata":{"n":123456789012345678901234567890}}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x6","cost_usd":1,"error_message":"a \\"quoted\\" \\\\ \\n line"}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x7","cost_usd":0.1,"latency_ms":0,"ttft_ms":-5}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x8","cost_usd":1,"attempt":-0,"gpu_seconds":1.5e200}\n',
    ]
    block = b"".join(odd)
    got = rows("agent", block)
    assert sum(totals[0] for totals in got.values()) == len(odd)
    slim = msgspec.json.Decoder(_scan._slim("agent"))
    records = slim.decode_lines(block)
    assert [r.agent for r in records] == ["a", "b", "b", None, None, None, None, None]
    for key, totals in got.items():
        mine = [r for r in records if r.agent == key]
        assert totals[0] == len(mine)
        assert totals[8] == sum(round(r.cost_usd * 1e12) for r in mine)
        latency = [bucket_of(r.latency_ms) for r in mine if r.latency_ms is not None]
        assert totals[10] == {b: latency.count(b) for b in set(latency)}


@needs_scanner
@pytest.mark.parametrize(
    "bad",
    [
        b"not json\n",
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x\\u0031","cost_usd":1}\n',  # an escape in a field read
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":"\\u00e9"}\n',  # \\u anywhere
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":"\\q"}\n',  # not an escape
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":"a\tb"}\n',  # a raw control character
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1e400}\n',  # out of range
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1e-400}\n',  # near the limits: the Python way
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"attempt":1.0}\n',  # a float for an int
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"input_tokens":1e2}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"input_tokens":9223372036854775808}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1e7}\n',  # pico-dollars past int64
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","input_tokens":5}\n',  # usage to price with the catalog
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","gpu_seconds":0.5}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1} {"ts":"x","id":"y"}\n',  # two objects
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,}\n',  # a trailing comma
        b'{"ts":"2026-03-02T10:00:00.000Z","cost_usd":1}\n',  # no id
        b'{"id":"x","cost_usd":1}\n',  # no ts
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"status":"maybe"}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"stream":null}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"agent":5}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x\xff","cost_usd":1}\n',  # invalid UTF-8 in a field read
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"\xed\xa0\x80","cost_usd":1}\n',  # a surrogate
        b'{"t\\u0073":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1}\n',  # an escaped key
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":' + b"[" * 70 + b"]" * 70 + b"}\n",
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":01}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1.}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":tru}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"agent":nul}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":{"a" 1}}\n',  # no colon
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":{"a":}}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":{"a":1 "b":2}}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":{,}}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":[1 2]}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":[1,]}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":-}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":-a}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":1.e5}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":1e}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":1e+}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"latency_ms":1.5e}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":.5}\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m":+1}\n',
        b'{"ts" "2026-03-02T10:00:00.000Z","id":"x","cost_usd":1}\n',  # no colon after a key
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1 "m":1}\n',  # no comma
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"m"\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,5:1}\n',  # a key that is not a string
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1,"stream":tru}\n',
        b'["ts","id"]\n',
        b'{"ts":"2026-03-02T10:00:00.000Z","id":"x","cost_usd":1}',  # no newline at the end
    ],
)
def test_a_line_it_cannot_read_exactly_sends_the_block_the_python_way(bad: bytes) -> None:
    assert Scanner is not None
    scanner = Scanner(0, 1000, 10)
    assert scanner.scan(line() + bad, False) is None
    assert scanner.commit(True) == (0, 0)  # nothing staged: nothing added
    assert scanner.rows() == []
    assert scanner.head() == []


@needs_scanner
@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"caf\xc3\xa9", "café"),  # two bytes
        (b"\xe0\xa4\x85", "अ"),  # E0: the second byte from A0
        (b"\xed\x9f\xbf", "\ud7ff"),  # ED: the second byte up to 9F (no surrogates)
        (b"\xe2\x82\xac", "€"),
        (b"\xf0\x9f\x98\x80", "😀"),  # F0: the second byte from 90
        (b"\xf4\x8f\xbf\xbf", "\U0010ffff"),  # F4: the second byte up to 8F
        (b"\xf3\xa0\x80\x81", "\U000e0001"),
    ],
)
def test_non_ascii_fields_read_as_python_decodes_them(raw: bytes, text: str) -> None:
    block = b'{"ts":"2026-03-02T10:00:00.000Z","id":"' + raw + b'","cost_usd":1,"agent":"' + raw + b'"}\n'
    assert Scanner is not None
    scanner = Scanner(0, 10, 1)
    assert scanner.scan(block, False) is not None
    scanner.commit(True)
    assert [row[0] for row in scanner.rows()] == [text]
    assert scanner.head() == [text]
    assert scanner.remembered() == [text]
    assert scanner.knows_any([text])


@needs_scanner
@pytest.mark.parametrize(
    "raw",
    [
        b"\x80",  # a lone continuation byte
        b"\xc0\xaf",  # overlong
        b"\xc1\xbf",
        b"\xe0\x80\x80",  # overlong three bytes
        b"\xed\xa0\x80",  # a surrogate
        b"\xf0\x80\x80\x80",  # overlong four bytes
        b"\xf4\x90\x80\x80",  # past U+10FFFF
        b"\xf5\x80\x80\x80",
        b"\xe2\x82",  # cut short
        b"\xe2\x28\xa1",  # a bad continuation
        b"\xf0\x9f\x98\x28",
    ],
)
def test_invalid_utf8_in_a_field_read_goes_the_python_way(raw: bytes) -> None:
    with pytest.raises(UnicodeDecodeError):
        raw.decode()
    assert Scanner is not None
    for field in (b"id", b"agent", b"ts"):
        fields = {b"ts": b"2026-03-02T10:00:00.000Z", b"id": b"x", b"agent": b"a"}
        fields[field] = raw
        block = b"{" + b",".join(b'"%s":"%s"' % kv for kv in fields.items()) + b',"cost_usd":1}\n'
        assert Scanner(0, 10, 0).scan(block, False) is None, (field, raw)


@needs_scanner
def test_empty_and_nested_values_are_skipped() -> None:
    block = line(metadata={}, tags=[], extra={"a": [[], {}, [1, {"b": None}]], "c": -0.5e-3}, v=-0)
    assert rows("agent", block)["planner"][0] == 1


@needs_scanner
def test_day_grouping_of_a_non_ascii_stamp_goes_the_python_way() -> None:
    assert Scanner is not None
    block = line(ts="2026-03-0é")
    assert Scanner(GROUP_KEYS.index("day"), 10, 0).scan(block, False) is None
    assert Scanner(GROUP_KEYS.index("day_model"), 10, 0).scan(block, False) is None
    long_model = line(request_model="m" * 600)
    assert Scanner(GROUP_KEYS.index("day_model"), 10, 0).scan(long_model, False) is None
    assert Scanner(GROUP_KEYS.index("model"), 10, 0).scan(long_model, False) is not None
    assert Scanner(0, 10, 0).scan(block, False) is not None


@needs_scanner
def test_the_earliest_and_latest_stamp() -> None:
    assert Scanner is not None
    stamps = [ts(T0 + 50), ts(T0), ts(T0 + 99.5), ts(T0 + 20)]
    block = b"".join(line(id=f"r{i}", ts=s) for i, s in enumerate(stamps))
    assert Scanner(0, 10, 0).scan(block, True) == (4, ts(T0), ts(T0 + 99.5))
    assert Scanner(0, 10, 0).scan(block, False) == (4, None, None)
    for odd in [
        "2026-03-02T10:00:00Z",
        "2026-02-29T10:00:00.000Z",
        "2026-03-02T24:00:00.000Z",
        "2026-13-01T00:00:00.000Z",
    ]:
        got = Scanner(0, 10, 0).scan(block + line(id="odd", ts=odd), True)
        assert got is not None, odd
        assert got[1:] == (None, None), odd  # read the slow way, record by record
    leap = Scanner(0, 10, 0).scan(line(ts="2024-02-29T10:00:00.000Z"), True)
    assert leap is not None
    assert leap[1] == "2024-02-29T10:00:00.000Z"


@needs_scanner
def test_a_block_scanned_but_not_committed_adds_nothing() -> None:
    assert Scanner is not None
    scanner = Scanner(0, 10, 10)
    assert scanner.scan(line(id="ghost", agent="ghost"), False) is not None
    assert scanner.scan(line(id="kept", agent="kept"), False) is not None
    scanner.commit(True)
    assert [row[0] for row in scanner.rows()] == ["kept"]
    assert scanner.head() == ["kept"]  # the ghost's id was never taken either
    assert scanner.scan(line(id="ghost", agent="ghost"), False) is not None
    assert scanner.commit(False) == (1, 0)  # outside the period: its id is remembered, its totals not added
    assert [row[0] for row in scanner.rows()] == ["kept"]
    assert scanner.knows_any(["ghost"])


@needs_scanner
def test_duplicate_ids_are_dropped_and_counted_within_and_across_blocks() -> None:
    assert Scanner is not None
    scanner = Scanner(0, 1000, 3)
    first = line(id="a") + line(id="b") + line(id="a") + line(id="é")
    assert scanner.scan(first, False) == (4, None, None)
    assert scanner.commit(True) == (3, 1)
    assert scanner.scan(line(id="b") + line(id="c"), False) is not None
    assert scanner.commit(True) == (1, 1)
    assert scanner.head() == ["a", "b", "é"]
    assert sorted(scanner.remembered()) == ["a", "b", "c", "é"]
    assert scanner.rows()[0][1] == 4


class _R:
    def __init__(self, id: str) -> None:
        self.id = id


@needs_scanner
@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(
        st.tuples(st.booleans(), st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "\ud800x"]), max_size=6)),
        max_size=12,
    ),
    cap=st.integers(1, 5),
)
def test_the_duplicate_check_is_the_followers(batches: list[tuple[bool, list[str]]], cap: int) -> None:
    """Blocks taken by the scanner (commit) and read the Python way (fresh) share one rule: _Seen's, with the same
    two generations of ``cap`` ids."""
    assert Scanner is not None
    seen = _Seen(cap)
    scanner = Scanner(0, cap, 5)
    head: list[str] = []
    for compiled, ids in batches:
        expected, dropped = seen.fresh([_R(i) for i in ids])
        if compiled and "\ud800x" not in ids:  # a lone surrogate cannot be on a line of valid UTF-8
            assert scanner.scan(b"".join(line(id=i) for i in ids), False) is not None
            assert scanner.commit(True) == (len(expected), dropped)
        else:
            kept, n = scanner.fresh([_R(i) for i in ids])
            assert ([r.id for r in kept], n) == ([r.id for r in expected], dropped)
        head += [r.id for r in expected][: 5 - len(head)]
        assert sorted(scanner.remembered()) == sorted(seen.current | seen.previous)
    assert scanner.head() == head


@needs_scanner
@pytest.mark.parametrize("by", ["session", "user"])
def test_thousands_of_groups_and_buckets_equal_the_msgspec_path(tmp_path: Path, by: str) -> None:
    """Past the first sizes of the group and sketch tables: both are rebuilt as they grow."""
    rng = random.Random(3)
    lines = [
        line(
            id=f"r{i}",
            ts=ts(T0 + i),
            session_id=f"s{rng.randrange(3000)}",
            user_id=rng.choice([None, f"u{rng.randrange(50)}"]),
            latency_ms=math.exp(rng.uniform(-8, 12)),
            ttft_ms=rng.choice([None, rng.uniform(0, 5000)]),
            cost_usd=rng.random() / 100,
        )
        for i in range(20_000)
    ]
    day_file(tmp_path, T0).write_bytes(b"".join(lines))
    compiled = _both_ways(tmp_path, by)
    assert compiled.compiled == 20_000
    assert len(compiled.rows) > 40


@needs_scanner
def test_a_scanner_is_initialised_once() -> None:
    assert Scanner is not None
    scanner = Scanner(0, 10, 0)
    with pytest.raises(RuntimeError, match="initialised once"):
        scanner.__init__(1, 10, 0)  # type: ignore[misc]
    with pytest.raises(ValueError, match="grouping code"):
        Scanner(8, 10, 0)
    bare = Scanner.__new__(Scanner)
    with pytest.raises(RuntimeError, match="__init__"):
        bare.scan(line(), False)


@needs_scanner
def test_sums_past_int64_are_exact() -> None:
    blocks = [b"".join(line(id=f"{b}-{i}", input_tokens=2**62, cost_usd=9e6) for i in range(4)) for b in range(2)]
    got = rows("agent", *blocks)
    assert got["planner"][3] == 8 * 2**62
    assert got["planner"][8] == 8 * round(9e6 * 1e12)


def _float_texts(rng: random.Random) -> list[str]:
    """Decimal texts of every shape: short, 17 digits, over 19 digits, exponents, and bucket edges (1.02 ** k)."""
    texts = ["0", "0.0", "-0.0", "0.001", "0.0010000000000000002", "0.0009999999999999998", "1e-3", "5E+2"]
    for k in range(-300, 600, 7):
        edge = 1.02**k
        texts += [repr(edge), repr(math.nextafter(edge, 0)), repr(math.nextafter(edge, math.inf))]
    for _ in range(300):
        value = math.exp(rng.uniform(-9, 12))
        texts += [repr(value), f"{value:.3f}", f"{value:.25f}", f"{value:.12e}", f"{value * 1e6:.0f}e-6"]
        texts.append(
            "".join(rng.choice("0123456789") for _ in range(rng.randint(18, 24))) + "e-" + str(rng.randint(0, 30))
        )
    return [t.lstrip("0") if t.startswith("0") and len(t) > 1 and t[1].isdigit() else t for t in texts]


@needs_scanner
def test_numbers_give_the_python_paths_pico_dollars_and_buckets() -> None:
    assert Scanner is not None
    for text in _float_texts(random.Random(7)):
        block = b'{"ts":"2026-03-02T10:00:00.000Z","id":"n","cost_usd":%s,"latency_ms":%s}\n' % (
            text.encode(),
            text.encode(),
        )
        value = msgspec.json.decode(text.encode(), type=float)
        scanner = Scanner(0, 10, 0)
        if abs(value) * 1e12 >= 9.2e18:
            assert scanner.scan(block, False) is None
            continue
        assert scanner.scan(block, False) is not None, text
        scanner.commit(True)
        ((_, *sums, latency, _ttft),) = scanner.rows()
        assert sums[8] == round(value * 1e12), text
        assert latency == {bucket_of(value): 1}, text
    assert bucket_of(0.001) == _ZERO_BUCKET


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)
_MAYBE_INT = st.one_of(st.none(), st.integers(-5, 10**6), st.integers(2**62, 2**64))
_MAYBE_FLOAT = st.one_of(
    st.none(),
    st.floats(-1.0, 1e4, allow_nan=False),
    st.sampled_from([0.0, 0.001, 1.02**100, 1e-9, 123456.78901234567]),
)


@st.composite
def _line(draw: st.DrawFn, t: float) -> bytes:
    if draw(st.integers(0, 40)) == 0:
        return draw(st.sampled_from([b"garbage\n", b"{}\n", b'{"ts":"x"}\n', b"\n", b'{"ts":"x","id":"\\u0041"}\n']))
    fields: dict[str, Any] = {
        "ts": ts(t) if draw(st.integers(0, 20)) else draw(_TEXT),
        "id": draw(st.sampled_from(["a", "b", "c", "d"])) + draw(st.text("0123456789abcdef", max_size=3)),
        "stream": draw(st.booleans()),
        "input_tokens": draw(_MAYBE_INT),
        "output_tokens": draw(_MAYBE_INT),
        "cache_read_input_tokens": draw(_MAYBE_INT),
        "reasoning_output_tokens": draw(_MAYBE_INT),
        "gpu_seconds": draw(st.one_of(st.none(), st.floats(0, 100))),
        "cost_usd": draw(st.one_of(_MAYBE_FLOAT, st.integers(0, 5))),
        "latency_ms": draw(_MAYBE_FLOAT),
        "ttft_ms": draw(_MAYBE_FLOAT),
        "status": draw(st.sampled_from(["ok", "ok", "error", "cancelled"])),
        "attempt": draw(st.integers(0, 3)),
        "agent": draw(st.one_of(st.none(), st.sampled_from(["planner", "writer", "é", ""]), _TEXT)),
        "request_model": draw(st.one_of(st.none(), st.sampled_from(["gpt-4o", ""]))),
        "response_model": draw(st.one_of(st.none(), st.sampled_from(["gpt-4o-2024-08-06", ""]))),
        "session_id": draw(st.one_of(st.none(), _TEXT)),
        "metadata": draw(st.one_of(st.none(), st.dictionaries(_TEXT, st.one_of(_TEXT, st.integers()), max_size=2))),
    }
    keep = {k: v for k, v in fields.items() if k in ("ts", "id") or draw(st.integers(0, 9))}
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :")]))
    return json.dumps(keep, separators=separators, ensure_ascii=draw(st.booleans())).encode() + b"\n"


@needs_scanner
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reports_equal_the_msgspec_paths(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("logs")
    lines = [data.draw(_line(T0 + i * 600)) for i in range(data.draw(st.integers(1, 60)))]
    day_file(directory, T0).write_bytes(b"".join(lines))
    _both_ways(directory, data.draw(st.sampled_from(GROUP_KEYS)))


def _both_ways(directory: Path, by: Any) -> _scan.Scan:
    """Report with the compiled scanner and without it; every row, sketch bucket and count must be equal."""
    compiled = report_files([directory], by, processes=1)
    original = _scan._Scanner
    _scan._Scanner = None  # type: ignore[assignment, misc]
    try:
        python = report_files([directory], by, processes=1)
    finally:
        _scan._Scanner = original
    assert [r.as_dict() for r in compiled.rows] == [r.as_dict() for r in python.rows]
    assert [(r.latency.counts, r.ttft.counts) for r in compiled.rows] == [
        (r.latency.counts, r.ttft.counts) for r in python.rows
    ]
    assert (compiled.records, compiled.duplicates, compiled.malformed) == (
        python.records,
        python.duplicates,
        python.malformed,
    )
    assert python.compiled == 0
    return compiled


@needs_scanner
def test_clean_history_is_read_by_the_compiled_scanner(tmp_path: Path) -> None:
    day_file(tmp_path, T0).write_bytes(b"".join(line(id=f"r{i}", ts=ts(T0 + i)) for i in range(5000)))
    scan = report_files([tmp_path], processes=1)
    assert scan.compiled == scan.records == 5000
    assert scan.rows[0].calls == 5000
    assert scan.rows[0].pico == 5000 * round(0.001 * 1e12)
