"""The fast one-shot report: the same rows as ``report()`` over the follower's batches, in one process or several."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from llmcost.engine import SCAN_KEYS, Follower
from llmcost.engine._follow import _Seen
from llmcost.engine._report import ReportRow, read_history, report
from llmcost.engine._scan import _split, report_files
from llmcost.engine._sketch import Sketch
from llmcost.log._lines import MAX_LINE
from llmcost.log._record import encode_record
from pricing import Catalog, load_catalog
from tests._traces import T0, day_file, rec


@pytest.fixture
def catalog(mini_catalog_path: Path) -> Catalog:
    return load_catalog(mini_catalog_path, overrides=False)


def _record(rng: random.Random, t: float) -> bytes:
    inp = rng.choice([None, 0, rng.randint(1, 50_000)])
    fields: dict[str, Any] = {
        "agent": rng.choice(["planner", "writer", None, "critic"]),
        "request_model": rng.choice(["gpt-4o", "gpt-4o-mini", "o3", "mystery-model"]),
        "response_model": rng.choice([None, None, "gpt-4o-2024-08-06"]),
        "provider": rng.choice(["openai", None]),
        "user_id": rng.choice(["ann", "bob", None]),
        "session_id": rng.choice(["s1", "s2", None]),
        "workflow": rng.choice(["nightly", None]),
        "status": "error" if rng.random() < 0.1 else "ok",
        "attempt": rng.choice([0, 0, 0, 1, 2]),
        "input_tokens": inp,
        "output_tokens": rng.choice([None, rng.randint(0, 4000)]),
        "cache_read_input_tokens": rng.choice([None, rng.randint(0, 1000)]),
        "cache_creation_input_tokens": rng.choice([None, None, rng.randint(0, 500)]),
        "reasoning_output_tokens": rng.choice([None, None, rng.randint(0, 900)]),
        "cost_usd": rng.choice([None, round(rng.random() / 30, 12), 0.0]),
        "latency_ms": rng.choice([None, 0.0, rng.uniform(0.0001, 0.002), rng.uniform(50, 20_000)]),
        "ttft_ms": rng.choice([None, rng.uniform(10, 900)]),
    }
    return encode_record(rec(t, **fields))


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Two days of varied records, with garbage, an over-long line, duplicates and an unfinished last line."""
    rng = random.Random(11)
    directory = tmp_path / "logs"
    directory.mkdir()
    for day in range(2):
        lines = [_record(rng, T0 + day * 86400 + i * 7.0) for i in range(1500)]
        lines[100] = b"not json at all\n"
        lines[200] = b'{"ts": "2026-03-02T12:00:00.000Z"}\n'  # no id
        lines[300] = b'{"ts": 5, "id": "x"}\n'  # wrong type
        lines[400] = b"x" * (MAX_LINE + 10) + b"\n"
        lines[900] = lines[899]  # a duplicate next to its original
        lines.append(lines[10])  # a duplicate far from it
        day_file(directory, T0 + day * 86400).write_bytes(b"".join(lines) + b'{"ts": "2026-03-0')
    return directory


def _old(paths: list[Path], by: Any, catalog: Catalog, **kw: Any) -> list[dict[str, object]]:
    return [row.as_dict() for row in report(read_history(paths, **kw), by, catalog=catalog)]


@pytest.mark.parametrize("by", SCAN_KEYS)
def test_same_rows_as_the_report_over_the_follower(logs: Path, catalog: Catalog, by: Any) -> None:
    scan = report_files([logs], by, catalog=catalog, processes=1)
    assert [row.as_dict() for row in scan.rows] == _old([logs], by, catalog)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="several processes only on Linux")
@pytest.mark.parametrize("by", ["agent", "model", "day"])
def test_two_processes_give_the_same_rows(logs: Path, catalog: Catalog, by: Any) -> None:
    scan = report_files([logs], by, catalog=catalog, processes=2)
    assert scan.processes == 2
    assert [row.as_dict() for row in scan.rows] == _old([logs], by, catalog)


@pytest.mark.parametrize("processes", [1, 2])
def test_malformed_lines_and_duplicates_counted_like_the_follower(logs: Path, catalog: Catalog, processes: int) -> None:
    with Follower([logs], all=True) as follower:
        records = sum(len(batch) for batch in follower.replay())
        stats = follower.stats()
    scan = report_files([logs], catalog=catalog, processes=processes)
    assert (scan.records, scan.duplicates, scan.malformed) == (records, stats.duplicates, stats.malformed)


def test_malformed_lines_are_counted_per_file(logs: Path, catalog: Catalog) -> None:
    scan = report_files([logs], catalog=catalog, processes=1)
    assert sorted(scan.malformed.values()) == [4, 4]  # garbage, no id, wrong type, over-long


def test_a_period_keeps_the_records_inside_it(logs: Path, catalog: Catalog) -> None:
    since = dt.datetime.fromtimestamp(T0 + 3600, dt.timezone.utc)
    until = dt.datetime.fromtimestamp(T0 + 86400 + 3600, dt.timezone.utc)
    scan = report_files([logs], "day", since=since, until=until, catalog=catalog, processes=2)
    assert [r.as_dict() for r in scan.rows] == _old([logs], "day", catalog, since=since, until=until)


def test_reprice_prices_every_record_again(logs: Path, catalog: Catalog) -> None:
    scan = report_files([logs], "model", catalog=catalog, reprice=True, processes=2)
    old = [row.as_dict() for row in report(read_history([logs]), "model", catalog=catalog, reprice=True)]
    assert [r.as_dict() for r in scan.rows] == old


def test_a_duplicate_across_the_cut_sends_the_history_through_one_process(tmp_path: Path, catalog: Catalog) -> None:
    rng = random.Random(3)
    lines = [_record(rng, T0 + i) for i in range(2000)]
    path = day_file(tmp_path, T0)
    path.write_bytes(b"".join(lines) * 2)  # the second half repeats the first: every id is on both sides
    scan = report_files([path], catalog=catalog, processes=2)
    assert (scan.processes, scan.records, scan.duplicates) == (1, 2000, 2000)
    assert [r.as_dict() for r in scan.rows] == _old([path], "agent", catalog)


def test_cuts_fall_right_after_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"".join(b"%d\n" % i * (i % 7 + 1) for i in range(5000)))
    with Follower([path], all=True) as follower:
        pieces = follower.history()
        parts = _split(pieces, 3)
        data = path.read_bytes()
        ranges = [(piece.start, piece.end) for part in parts for piece in part]
    assert len(parts) == 3
    assert ranges[0][0] == 0
    assert ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(data[start - 1 : start] == b"\n" for start, _ in ranges[1:])


def test_sketch_add_many_fills_the_buckets_of_add() -> None:
    rng = random.Random(5)
    values = [rng.choice([0.0, -1.0, 0.001, rng.uniform(0, 0.01), rng.lognormvariate(4, 3)]) for _ in range(5000)]
    one, many = Sketch(), Sketch()
    for v in values:
        one.add(v)
    many.add_many(values[:2500])
    many.add_many(values[2500:])
    assert (many.counts, many.total) == (one.counts, one.total)


def test_seen_drops_duplicates_inside_a_batch_and_across_batches() -> None:
    seen = _Seen(cap=10)
    a, b, c = rec(), rec(), rec()
    assert seen.fresh([a, b]) == ([a, b], 0)
    assert seen.fresh([c, c, a]) == ([c], 2)


@pytest.mark.parametrize("tail", [b"x" * (MAX_LINE + 5), b"x" * MAX_LINE, b'{"ts": "2026-03-0'])
def test_the_unfinished_last_line_counts_as_the_follower_counts_it(
    tmp_path: Path, catalog: Catalog, tail: bytes
) -> None:
    path = day_file(tmp_path, T0)
    path.write_bytes(encode_record(rec()) + tail)
    with Follower([path], all=True) as follower:
        records = sum(len(batch) for batch in follower.replay())
        malformed = follower.stats().malformed
    scan = report_files([path], catalog=catalog, processes=1)
    assert (scan.records, scan.malformed) == (records, malformed)


def test_a_duplicate_outside_the_period_still_hides_its_copy_inside(tmp_path: Path, catalog: Catalog) -> None:
    path = day_file(tmp_path, T0)
    before, inside = rec(T0 - 3600, id="same", agent="early"), rec(T0 + 60, id="same", agent="late")
    path.write_bytes(encode_record(before) + encode_record(inside) + encode_record(rec(T0 + 120)))
    since = dt.datetime.fromtimestamp(T0, dt.timezone.utc)
    scan = report_files([path], catalog=catalog, since=since, processes=1)
    assert [r.as_dict() for r in scan.rows] == _old([path], "agent", catalog, since=since)


def test_records_without_usage_or_cost_stay_on_the_fast_path(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    no_usage: dict[str, Any] = {"input_tokens": None, "output_tokens": None, "cost_usd": None}
    no_usage |= {"cost_status": "no_usage", "status": "error", "latency_ms": 90.0}
    lines = []
    for i in range(3000):
        kind = rng.choice(["priced", "priced", "refused", "broken_stream", "cancelled"])
        agent = rng.choice(["planner", "writer"])
        if kind == "priced":
            lines.append(encode_record(rec(T0 + i, agent=agent, cost_usd=round(rng.random() / 30, 12))))
        elif kind == "refused":
            lines.append(encode_record(rec(T0 + i, agent=agent, http_status=429, **no_usage)))
        elif kind == "broken_stream":
            lines.append(encode_record(rec(T0 + i, agent=agent, stream=True, **no_usage)))
        else:
            lines.append(encode_record(rec(T0 + i, agent=agent, **{**no_usage, "status": "cancelled"})))
    day_file(tmp_path, T0).write_bytes(b"".join(lines))
    old = _old([tmp_path], "agent", catalog)
    assert {row["unpriced_calls"] for row in old} != {0}  # broken and cancelled streams are unpriced

    def careful_path(*_: object) -> None:
        raise AssertionError("a block went the careful way")

    monkeypatch.setattr("llmcost.engine._scan._Tally.add_priced", careful_path)
    scan = report_files([tmp_path], "agent", catalog=catalog, processes=1)
    assert [row.as_dict() for row in scan.rows] == old


def test_a_record_with_usage_but_no_cost_is_priced(tmp_path: Path, catalog: Catalog) -> None:
    lines = [encode_record(rec(T0 + i, cost_usd=0.001)) for i in range(50)]
    lines.append(encode_record(rec(T0 + 60, request_model="gpt-4o", cost_usd=None, cost_status="no_usage")))
    day_file(tmp_path, T0).write_bytes(b"".join(lines))
    scan = report_files([tmp_path], "agent", catalog=catalog, processes=1)
    assert [row.as_dict() for row in scan.rows] == _old([tmp_path], "agent", catalog)
    assert scan.rows[0].unpriced_calls == 0


@pytest.mark.parametrize("processes", [1, 2])
def test_past_max_rows_the_cheaper_groups_add_into_one_other_row(
    tmp_path: Path, catalog: Catalog, processes: int
) -> None:
    rng = random.Random(8)
    lines = []
    for i in range(6000):
        fields: dict[str, Any] = {"agent": f"a{rng.randrange(300)}", "latency_ms": rng.uniform(50, 5000)}
        fields["cost_usd"] = rng.choice([round(rng.random() / 30, 12), round(rng.random() / 30, 12), None])
        fields["ttft_ms"] = rng.choice([None, rng.uniform(10, 900)])
        if fields["cost_usd"] is None and rng.random() < 0.5:  # refused: no usage, no cost
            fields |= {"input_tokens": None, "output_tokens": None, "status": "error", "http_status": 429}
        lines.append(encode_record(rec(T0 + i * 0.5, **fields)))  # the others are priced with the catalog
    day_file(tmp_path, T0).write_bytes(b"".join(lines))
    full = report_files([tmp_path], catalog=catalog, processes=processes, max_rows=None)
    capped = report_files([tmp_path], catalog=catalog, processes=processes, max_rows=50)
    assert (len(full.rows), len(capped.rows), capped.folded) == (300, 51, 250)
    assert capped.other is not None
    assert capped.other.key == "(other)"
    assert [r.as_dict() for r in capped.rows if r is not capped.other] == [r.as_dict() for r in full.rows[:50]]
    rest = ReportRow("(other)")
    for row in full.rows[50:]:
        rest.merge(row)
    assert capped.other.as_dict() == rest.as_dict()  # exact totals, and the percentiles of every call it holds
    assert (capped.records, capped.duplicates, capped.malformed) == (full.records, full.duplicates, full.malformed)


def test_the_report_says_when_it_folds_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llmcost.cli import main
    from llmcost.engine import MAX_ROWS

    groups = MAX_ROWS + 7
    lines = [encode_record(rec(T0 + i, session_id=f"s{i}", cost_usd=(i + 1) / 1e6)) for i in range(groups)]
    day_file(tmp_path, T0).write_bytes(b"".join(lines))
    assert main(["report", str(tmp_path), "--by", "session", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert len(rows) == MAX_ROWS + 1
    assert rows[0]["key"] == f"s{groups - 1}"  # the costliest first
    other = next(r for r in rows if r["key"] == "(other)")
    assert (other["calls"], sum(r["calls"] for r in rows)) == (7, groups)
    assert f"llmcost: 7 more groups added up in the (other) row (the {MAX_ROWS} costliest shown)" in err


def test_a_period_at_the_edges_of_the_dates(logs: Path, catalog: Catalog) -> None:
    since = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    until = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)
    scan = report_files([logs], "day", since=since, until=until, catalog=catalog, processes=1)
    assert [r.as_dict() for r in scan.rows] == _old([logs], "day", catalog, since=since, until=until)
    assert sum(r.calls for r in scan.rows) == scan.records
