"""Every reader of the logs applies one rule for a valid line, and no line can stop a reader.

The readers: the follower (live monitor, ``llmcost-top --once``), the fast scan of ``llmcost report`` (one process and
several), the former report over the follower's batches, ``llmcost alarms``, ``llmcost export`` (CSV and SQLite) and
the monitor's history screen. A corpus of hostile lines goes to each of them: they must all keep the same records,
count the same lines as malformed, and never raise.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from llmcost.cli import main as llmcost_main
from llmcost.engine import Engine, Follower, IngestStats, alarm_history, history, read_history, report, report_files
from llmcost.log import MAX_DEPTH, MAX_LINE, Record, encode_record
from pricing import Catalog, load_catalog
from tests._traces import T0, day_file, rec
from tui._cli import main as top_main

NOW = T0 + 3600
GOOD = 80


def _line(**fields: Any) -> bytes:
    """A valid line with some keys replaced by raw JSON text (``fields``: key -> JSON source)."""
    data = json.loads(encode_record(rec(T0 + 5)))
    text = json.dumps({k: v for k, v in data.items() if k not in fields})
    extra = "".join(f',"{k}":{v}' for k, v in fields.items())
    return (text[:-1] + extra + "}\n").encode()


DEEP = "[" * 1000 + "]" * 1000


def _nested(levels: int) -> str:
    """Arrays ``levels`` deep; inside a record's object the line nests ``levels + 1`` deep."""
    return "[" * levels + "]" * levels


# Lines no reader may keep (each is counted once as malformed).
HOSTILE: list[bytes] = [
    _line(cost_usd="1e300"),  # overflows pico-dollars
    _line(cost_usd="1e20"),
    _line(cost_usd="-0.5"),
    _line(cost_usd="1000000001"),
    _line(latency_ms="-3"),
    _line(ttft_ms="1e308"),
    _line(gpu_seconds="-1"),
    _line(input_tokens="-1"),
    _line(output_tokens="-7"),
    _line(cache_read_input_tokens=str(2**53 + 1)),
    _line(reasoning_output_tokens="1.5"),
    _line(input_tokens='"12"'),
    _line(attempt="true"),
    _line(attempt="-1"),
    _line(http_status="700"),
    _line(stream='"yes"'),
    _line(unknown_key=DEEP),  # nested too deep for the decoder, even where nobody reads
    _line(metadata='{"a":' * 1000 + "1" + "}" * 1000),
    _line(tags=DEEP),
    _line(unknown_key=_nested(MAX_DEPTH)),  # one level past the rule, the same on every Python
    _line(metadata='{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH),
    _line(unknown_key=_nested(100_000)),  # past any interpreter's own limit
    _line(ts='"2026-01-02T25:00:00.000Z"'),  # an hour that does not exist
    _line(ts='"2026-02-30T12:00:00.000Z"'),  # a day that does not exist
    _line(ts='"2026-03-02T12:00:00.-12Z"'),
    _line(ts='"2026-03-02T12:00:00.1_2Z"'),
    _line(ts='"2026-03-02T12:00:60.000Z"'),
    _line(ts='"0000-03-02T12:00:00.000Z"'),
    _line(ts='"9999-12-31T23:00:00.000-05:00"'),  # past the last year a date can have
    _line(ts='"1969-12-31T23:59:59.000Z"'),  # before the epoch
    _line(ts='"20260302T120000Z"'),  # not the extended ISO-8601 form (some Python versions read it)
    _line(ts='"2026-03-02 12:00:00.000Z"'),
    _line(ts='"yesterday"'),
    _line(ts='""'),
    _line(ts="5"),
    _line(ts="null"),
    _line(start_ts='"2026-03-02T24:00:00.000Z"'),
    _line(id="null"),
    _line(id="5"),
    _line(agent="5"),  # wrong type where a report by model does not look
    _line(user_id="[]"),
    _line(error_message='"\\ud800"'),  # a lone surrogate: not a string Python can keep
    _line(tags='"x"'),
    _line(metadata="[1]"),
    _line(v='"1"'),
    _line(batch='"yes"'),  # the billing fields have their types too
    _line(batch="null"),
    _line(service_tier="3"),
    _line(web_search_requests="-1"),
    _line(cache_creation_1h_input_tokens="1.5"),
    b'{"ts":"2026-03-02T12:00:00.000Z"}\n',  # no id
    b'{"id":"00000000000000aa"}\n',  # no time
    b"[]\n",
    b"1\n",
    b"null\n",
    b"not json at all\n",
    b'{"ts":"2026-03-02T12:00:00.000Z","id":"00000000000000ab","agent":"\xff\xfe"}\n',  # not UTF-8
    b'{"ts":"2026-03-02T12:00:00.000Z","id":"00000000000000ac","error_message":"\xc3\x28"}\n',
    b'{"ts":"2026-03-02T12:00:00.000Z","id":"00000000000000ad","cost_usd":0.1,"cost_usd":-1}\n',
    b"x" * (MAX_LINE + 1) + b"\n",
]

# Unusual lines every reader keeps.
ODD: list[bytes] = [
    _line(ts='"2026-03-02T12:00:07Z"'),  # no milliseconds
    _line(ts='"2026-03-02T12:00:08.123456Z"'),
    _line(ts='"2026-03-02T13:00:09.000+01:00"'),  # an offset: the same instant in UTC
    _line(ts='"2026-03-02T12:00:10"'),  # no zone: UTC
    _line(status='"unheard-of"'),
    _line(v="2", future_field='{"a":[1,2,{"b":null}]}'),
    _line(metadata='{"a":' * 30 + "1" + "}" * 30),
    _line(unknown_key=_nested(MAX_DEPTH - 1)),  # as deep as the rule allows
    _line(metadata='{"a":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)),
    _line(agent='"' + "[{" * 200 + '\\"[' * 100 + '"'),  # brackets in text are not nesting
    _line(latency_ms="-0.0", agent='""'),
    _line(service_tier='"priority"', batch="true", cache_creation_1h_input_tokens="0", web_search_requests="3"),
    _line(cost_usd="1e9", input_tokens=str(2**53)),
]


class Reading(NamedTuple):
    calls: int
    input_tokens: int
    pico: int
    malformed: int


@pytest.fixture
def catalog(mini_catalog_path: Path) -> Catalog:
    return load_catalog(mini_catalog_path, overrides=False)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    good = [encode_record(rec(T0 + i, input_tokens=100 + i, cost_usd=0.001 * (i + 1))) for i in range(GOOD)]
    lines = [x for pair in zip(good, HOSTILE + ODD) for x in pair] + good[len(HOSTILE + ODD) :]
    # Empty lines are no records and not malformed: every reader passes over them without a word (a writer that
    # finds a file ending mid-line ends that line, and may do so while another process is writing its own).
    lines[GOOD // 2 : GOOD // 2] = [b"\n", b"\n"]
    day_file(directory, T0).write_bytes(b"".join(lines))
    return directory


def _pico(cost: float | None) -> int:
    return 0 if cost is None else round(cost * 1e12)


def _of_records(records: list[Record], malformed: int) -> Reading:
    return Reading(
        len(records), sum(r.input_tokens or 0 for r in records), sum(_pico(r.cost_usd) for r in records), malformed
    )


def _of_rows(rows: Sequence[Any], malformed: int) -> Reading:
    """The reading of rows that count calls, input tokens and pico-dollars (report rows, history models)."""
    return Reading(sum(r.calls for r in rows), sum(r.input_tokens for r in rows), sum(r.pico for r in rows), malformed)


def _counted(batches: Iterator[list[Record]], into: list[Record]) -> Iterator[list[Record]]:
    for batch in batches:
        into.extend(batch)
        yield batch


def _follower(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    with Follower([logs], all=True) as follower:
        records = [r for batch in follower.replay() for r in batch]
        return _of_records(records, sum(follower.stats().malformed.values()))


def _scan(processes: int) -> Callable[[Path, Catalog, Path], Reading]:
    def read(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
        scan = report_files([logs], "model", catalog=catalog, processes=processes)
        return _of_rows(scan.rows, sum(scan.malformed.values()))

    return read


def _stats_of(stats: list[IngestStats]) -> int:
    return sum(stats[0].malformed.values())


def _report(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    stats: list[IngestStats] = []
    rows = report(read_history([logs], on_stats=stats.append), "user", catalog=catalog)
    return _of_rows(rows, _stats_of(stats))


def _alarms(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    stats: list[IngestStats] = []
    records: list[Record] = []
    alarm_history(_counted(read_history([logs], on_stats=stats.append), records), catalog=catalog)
    return _of_records(records, _stats_of(stats))


def _engine(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    """What the monitor and ``llmcost-top --once`` see."""
    engine = Engine(catalog=catalog, clock=lambda: NOW)
    with Follower([logs], all=True) as follower:
        engine.follower = follower
        for batch in follower.replay():
            engine.ingest(batch)
        snap = engine.snapshot("agent")
    pico = sum(int(r.cost_usd.scaleb(12)) for r in snap.rows)
    calls = sum(r.calls for r in snap.rows)
    inputs = sum(r.input_tokens for r in snap.rows)
    return Reading(calls, inputs, pico, sum(snap.ingest.malformed.values()))


def _export_csv(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    from llmcost.engine import export_csv

    stats: list[IngestStats] = []
    export_csv(read_history([logs], on_stats=stats.append), tmp / "out.csv")
    with open(tmp / "out.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return Reading(
        len(rows),
        sum(int(r["input_tokens"] or 0) for r in rows),
        sum(_pico(float(r["cost_usd"]) if r["cost_usd"] else None) for r in rows),
        _stats_of(stats),
    )


def _export_sqlite(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    from llmcost.engine import export_sqlite

    stats: list[IngestStats] = []
    export_sqlite(read_history([logs], on_stats=stats.append), tmp / "out.db")
    con = sqlite3.connect(tmp / "out.db")
    try:
        costs = [c for (c,) in con.execute("SELECT cost_usd FROM calls")]
        (tokens,) = con.execute("SELECT coalesce(sum(input_tokens), 0) FROM calls").fetchone()
    finally:
        con.close()
    return Reading(len(costs), tokens, sum(map(_pico, costs)), _stats_of(stats))


def _history(logs: Path, catalog: Catalog, tmp: Path) -> Reading:
    found = history([str(logs)], NOW)
    scan = report_files([logs], "day_model", catalog=catalog, processes=1)  # the malformed lines it skipped
    return _of_rows(found.models, sum(scan.malformed.values()))


READERS: dict[str, Callable[[Path, Catalog, Path], Reading]] = {
    "follower": _follower,
    "report scan, 1 process": _scan(1),
    "report scan, 2 processes": _scan(2),
    "report over the follower": _report,
    "alarms": _alarms,
    "engine (monitor, --once)": _engine,
    "export csv": _export_csv,
    "export sqlite": _export_sqlite,
    "history screen": _history,
}


def test_every_reader_keeps_the_same_records_and_counts_the_same_lines(
    logs: Path, catalog: Catalog, tmp_path: Path
) -> None:
    expected = Reading(
        GOOD + len(ODD),
        sum(100 + i for i in range(GOOD)) + len(ODD) * 1000 + 2**53 - 1000,
        sum(_pico(0.001 * (i + 1)) for i in range(GOOD)) + (len(ODD) - 1) * _pico(0.00021) + _pico(1e9),
        len(HOSTILE),
    )
    readings = {name: read(logs, catalog, tmp_path) for name, read in READERS.items()}
    assert readings == dict.fromkeys(READERS, expected)


@pytest.mark.parametrize("line", HOSTILE, ids=range(len(HOSTILE)))
def test_each_hostile_line_alone_is_malformed_for_every_reader(line: bytes, catalog: Catalog, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    good = encode_record(rec(T0, cost_usd=0.5))
    day_file(logs, T0).write_bytes(good + line + good.replace(b'"id":"', b'"id":"f'))
    expected = Reading(2, 2000, 2 * _pico(0.5), 1)
    readings = {name: read(logs, catalog, tmp_path) for name, read in READERS.items()}
    assert readings == dict.fromkeys(READERS, expected)


def test_a_day_is_the_utc_day_of_the_instant_for_every_reader(tmp_path: Path, catalog: Catalog) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = [
        _line(ts='"2026-03-03T00:30:00.000+01:00"', id='"00000000000000c1"'),  # 2026-03-02 in UTC
        _line(ts='"2026-03-02T23:59:59Z"', id='"00000000000000c2"'),
        _line(ts='"2026-03-02T12:00:00.000Z"', id='"00000000000000c3"'),
    ]
    day_file(logs, T0).write_bytes(b"".join(lines))
    for processes in (1, 2):
        scan = report_files([logs], "day", catalog=catalog, processes=processes)
        assert [(r.key, r.calls) for r in scan.rows] == [("2026-03-02", 3)]
    assert [(r.key, r.calls) for r in report(read_history([logs]), "day", catalog=catalog)] == [("2026-03-02", 3)]
    engine = Engine(catalog=catalog, clock=lambda: NOW)
    with Follower([logs], all=True) as follower:
        engine.ingest(follower.poll())
    assert list(engine.daily_costs(now=NOW)) == [dt.date(2026, 3, 2)]
    found = history([str(logs)], NOW)
    assert [(day, sum(m.values())) for day, m in found.days if m] == [(dt.date(2026, 3, 2), Decimal("0.00063"))]


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--json"],
        ["report", "--by", "day"],
        ["report", "--by", "session", "--csv"],
        ["report", "--reprice"],
        ["alarms", "--json"],
        ["export", "--csv", "{tmp}/out.csv"],
        ["export", "--sqlite", "{tmp}/out.db"],
    ],
)
def test_the_commands_say_what_they_skipped_and_never_fail(
    logs: Path, tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert llmcost_main([argv[0], str(logs), *argv[1:]]) == 0
    err = capsys.readouterr().err
    assert f"llmcost: skipped {len(HOSTILE)} malformed lines (llm_trace_2026-03-02.jsonl: {len(HOSTILE)})" in err
    assert "Traceback" not in err


def test_the_monitor_once_reads_past_every_hostile_line(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert top_main([str(logs), "--all", "--once", "--json", "--set", "call_cost_usd=0"]) == 0  # the per-call alarm off
    data = json.loads(capsys.readouterr().out)
    assert sum(r["calls"] for r in data["rows"]) == GOOD + len(ODD)
    assert sum(data["ingest"]["malformed"].values()) == len(HOSTILE)
