"""One monitor for every agent: each record names the machine it was made on (``host``), every reader groups by it,
and the log directories of several machines read together count each call once, copies included."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import llmcost
from llmcost.cli import main as llmcost_main
from llmcost.engine import Engine, Follower, report_files
from llmcost.importers import ClaudeCode, Importer
from llmcost.log import Record, decode_record, encode_record
from llmcost.log._writer import reset_warnings
from pricing import format_decimal
from tests._agents import catalog as agents_catalog
from tests._otlp import chat_span, protobuf_of, request_of, sdk_tracer
from tests._traces import T0, day_file, rec, write
from tui._cli import main as top_main


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    reset_warnings()  # the recorder warns once per process: each test sees its own
    yield
    reset_warnings()


def read_dir(directory: Path) -> list[Record]:
    paths = sorted(directory.rglob("llm_trace_*.jsonl"))
    return [decode_record(line) for path in paths for line in path.read_bytes().splitlines()]


# -- the recorder, the importers and the OTLP receiver name the machine --------------------------------------------


def test_the_recorder_names_this_machine_on_every_line(tmp_path: Path) -> None:
    tracker = llmcost.Tracker(tmp_path)
    with tracker.trace("gpt-4o-mini", "openai") as call:
        call.set_usage(1000, 100)
    with tracker.trace("gpt-4o-mini", "openai") as call:
        call.set_failure("RateLimitError", "slow down", 429)  # the host shares its run with the HTTP status
    tracker.close()
    records = read_dir(tmp_path)
    assert [(r.host, r.http_status) for r in records] == [(socket.gethostname(), None), (socket.gethostname(), 429)]
    assert tracker.host == socket.gethostname()


def test_llmcost_host_or_the_tracker_names_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    def host_of(tracker: llmcost.Tracker) -> str | None:
        with tracker.trace("gpt-4o-mini", "openai") as call:
            call.set_usage(10, 1)
        line = tracker.writer.lines[-1]  # type: ignore[attr-defined]
        assert encode_record(decode_record(line)) == line  # host is the last key, in Record's order
        return decode_record(line).host

    monkeypatch.setenv("LLMCOST_HOST", "build-runner-7")
    assert host_of(llmcost.Tracker(writer=llmcost.MemoryWriter())) == "build-runner-7"
    assert host_of(llmcost.Tracker(writer=llmcost.MemoryWriter(), host="edge-1")) == "edge-1"
    nameless = llmcost.Tracker(writer=llmcost.MemoryWriter(), host="")
    assert host_of(nameless) is None
    assert b'"host":null,' in nameless.writer.lines[0]  # type: ignore[attr-defined]


def test_a_host_that_is_not_text_is_written_as_text_and_counted() -> None:
    with pytest.warns(llmcost.RecorderWarning, match="host name that is not text"):
        tracker = llmcost.Tracker(writer=llmcost.MemoryWriter(), host=4242)  # type: ignore[arg-type]
    with tracker.trace("gpt-4o-mini", "openai") as call:
        call.set_usage(10, 1)
    assert tracker.records[0].host == "4242"
    assert tracker.stats.bad_values == 1


def test_a_line_written_before_host_existed_reads_as_before() -> None:
    """(The pinned outputs of ``test_engine_outputs`` are of such lines: they did not change, but for new files.)"""
    logs = Path(__file__).parent / "fixtures" / "outputs" / "logs"
    old = (logs / "llm_trace_2026-03-02.jsonl").read_bytes().splitlines()[0]
    assert b'"host"' not in old
    record = decode_record(old)
    assert (record.host, record.id) == (None, "0000000000000001")


def test_imported_transcripts_name_this_machine(claude: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMCOST_HOST", "laptop-ann")
    with Importer(ClaudeCode(), [claude], tmp_path / "logs", catalog=agents_catalog()) as importer:
        importer.scan()
    with Importer(ClaudeCode(), [claude], tmp_path / "other", catalog=agents_catalog(), host="ci-9") as importer:
        importer.scan()
    assert {r.host for r in read_dir(tmp_path / "logs")} == {"laptop-ann"}
    assert {r.host for r in read_dir(tmp_path / "other")} == {"ci-9"}


def test_received_spans_take_their_host_from_the_resource() -> None:
    from llmcost import otel

    with sdk_tracer() as (tracer, spans):
        chat_span(tracer, {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 10})
        (theirs,) = spans.get_finished_spans()
    ours = [rec(host="gpu-box-2"), rec(host=None)]
    for body, hosts in ((protobuf_of(request_of(ours)), ["gpu-box-2", None]), (protobuf_of([theirs]), [None])):
        spans_in, result = otel.parse_traces(body, False)
        assert [r.host for r in otel.spans_to_records(spans_in, into=result).records] == hosts

    from opentelemetry.sdk.resources import Resource

    named = otel.record_to_span(rec(host=None), Resource({"service.name": "api", "host.name": "web-3"}))
    spans_in, result = otel.parse_traces(protobuf_of([named]), False)
    assert [r.host for r in otel.spans_to_records(spans_in, into=result).records] == ["web-3"]


# -- readers group by host -----------------------------------------------------------------------------------------


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two machines' log directories, and a third holding a copy of the first machine's logs."""
    a, b, copy = tmp_path / "a", tmp_path / "b", tmp_path / "copied"
    for day in range(2):
        t = T0 + day * 86400
        write(day_file(a, t), [rec(t + i, host="a", agent="planner", cost_usd=0.25) for i in range(40)])
        write(day_file(b, t), [rec(t + i, host="b", agent="planner", cost_usd=0.5) for i in range(10)])
        write(day_file(b, t), [rec(t + 50, agent="old", cost_usd=1.0)])  # a line written before host existed
    shutil.copytree(a, copy)
    return a, b, copy


EXPECTED = [("a", 80, "20"), ("b", 20, "10"), ("(none)", 2, "2")]  # (key, calls, cost) by host, costliest first


def test_report_groups_by_host_and_counts_copied_logs_once(
    fleet: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, copy = fleet
    assert llmcost_main(["report", str(a), "--dir", str(b), "--dir", str(copy), "--by", "host", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [(r["key"], r["calls"], r["cost_usd"]) for r in json.loads(out)] == EXPECTED
    assert "80 duplicate records (an id seen before) counted once" in err


@pytest.mark.parametrize(
    "processes", [1, pytest.param(2, marks=pytest.mark.skipif(sys.platform != "linux", reason="forks on Linux"))]
)
def test_the_report_scan_counts_copied_logs_once_in_any_number_of_processes(
    fleet: tuple[Path, Path, Path], processes: int
) -> None:
    a, b, copy = fleet
    for order in ([a, b, copy], [copy, b, a], [b, copy, a]):
        scan = report_files(order, "host", processes=processes)
        assert [(r.key, r.calls, format_decimal(r.cost_usd)) for r in scan.rows] == EXPECTED
        assert scan.duplicates == 80
        assert scan.processes == processes  # each copy is read right after its original: in the same process


def test_the_follower_counts_copied_logs_once(fleet: tuple[Path, Path, Path]) -> None:
    engine = Engine(clock=lambda: T0 + 86400 + 100)
    with Follower(list(fleet), all=True) as follower:
        for batch in follower.replay():
            engine.ingest(batch)
        assert follower.stats().duplicates == 80
    rows = engine.snapshot("host").rows
    assert [(r.key, r.calls, format_decimal(r.cost_usd)) for r in rows] == EXPECTED
    planner = engine.group_split("agent", "planner", "host")
    assert [(r.key, r.calls) for r in planner] == [("a", 80), ("b", 20)]


def test_the_monitor_reads_several_directories_once(
    fleet: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, copy = fleet
    code = top_main([str(a), str(b), "--dir", str(copy), "--all", "--once", "--json", "--group", "host"])
    data = json.loads(capsys.readouterr().out)
    assert code in (0, 1, 2)
    assert [(r["key"], r["calls"], r["cost_usd"]) for r in data["rows"]] == EXPECTED
    assert data["ingest"]["duplicates"] == 80
