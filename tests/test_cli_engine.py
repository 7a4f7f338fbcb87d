"""``llmcost report``, ``alarms`` and ``export`` in-process, on real log files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from llmcost.cli import main
from tests._traces import T0, day_file, rec, write


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    calm = [
        rec(T0 + i * 30, agent="writer", request_model="gpt-4o", cost_usd=0.01, latency_ms=200.0 + i, user_id="ann")
        for i in range(10)
    ]
    loop = [
        rec(T0 + 600 + i * 0.3, agent="retry-bot", prompt_hash="same", cost_usd=0.002, status="error")
        for i in range(30)
    ]
    june = [rec(1748736000.0, agent="old", request_model="o3", cost_usd=1.0, input_tokens=1_000_000, output_tokens=0)]
    write(day_file(directory, T0), calm + loop)
    write(day_file(directory, 1748736000.0), june)
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", [["report"], ["report", "--json"], ["alarms", "--json"], ["export", "--csv"]])
def test_malformed_lines_and_duplicates_are_said_on_stderr(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = day_file(logs, T0)
    first = path.read_bytes().splitlines(keepends=True)[0]
    with open(path, "ab") as f:
        f.write(b"not json\n" + first + b'{"ts": 5, "id": "x"}\n')
    if command[0] == "export":
        command = [*command, str(tmp_path / "out.csv")]
    code, out, err = run(capsys, *command[:1], str(logs), *command[1:])
    assert code == 0
    assert "llmcost: skipped 2 malformed lines (llm_trace_2026-03-02.jsonl: 2)" in err.splitlines()
    assert "llmcost: 1 duplicate record (an id seen before) counted once" in err.splitlines()
    if "--json" in command:
        json.loads(out)  # stdout stays clean JSON


def test_a_clean_history_says_nothing_on_stderr(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", str(logs))
    assert (code, err) == (0, "")


def test_report_json_by_agent(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", str(logs), "--json")
    assert code == 0
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["writer"]["calls"] == 10
    assert rows["writer"]["cost_usd"] == "0.1"
    assert rows["retry-bot"]["errors"] == 30
    assert rows["writer"]["cost_per_1k_tokens"] == "0.009090909"  # $0.1 over 11,000 tokens
    assert 200 <= rows["writer"]["latency_p50_ms"] <= 215


def test_report_csv_by_day_with_a_period(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", str(logs), "--by", "day", "--csv", "--since", "2026-01-01")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["key"], r["calls"]) for r in rows] == [("2026-03-02", "40")]
    code, out, _ = run(capsys, "report", str(logs), "--by", "day", "--json", "--until", "2026-01-01")
    assert [r["key"] for r in json.loads(out)] == ["2025-06-01"]


def test_report_reprice_uses_the_rates_of_each_date(
    logs: Path, capsys: pytest.CaptureFixture[str], mini_catalog_path: Path, isolated_home: Path
) -> None:
    # the user override file makes the mini catalog's o3 windows the active ones
    override = isolated_home / ".llmcost" / "pricing.toml"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(mini_catalog_path.read_text())
    code, out, _ = run(capsys, "report", str(logs), "--by", "model", "--json", "--reprice")
    assert code == 0
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["o3"]["cost_usd"] == "10"  # $10 per million input tokens on 2025-06-01, not the later $2


def test_alarms_json(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "alarms", str(logs), "--json")
    assert code == 0
    events = json.loads(out)
    kinds = {(e["kind"], e["agent"]) for e in events}
    assert {
        ("burst", "retry-bot"),
        ("repeat", "retry-bot"),
        ("error_streak", "retry-bot"),
        ("call_cost", "old"),
    } <= kinds
    assert all({"kind", "severity", "agent", "started_at", "detected_at", "ended_at"} <= set(e) for e in events)
    assert all(e["ended_at"] is not None for e in events)  # long over
    burst = next(e for e in events if e["kind"] == "burst")
    assert burst["detected_at"] == rec(T0 + 600 + 19 * 0.3).ts
    code, out, _ = run(capsys, "alarms", str(logs), "--json", "--set", "burst_calls=50")
    assert "burst" not in {e["kind"] for e in json.loads(out)}


def test_export_csv_and_sqlite(
    logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    target = tmp_path / "calls.csv"
    assert run(capsys, "export", str(logs), "--csv", str(target))[0] == 0
    with target.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 41
    assert {r["agent"] for r in rows} == {"writer", "retry-bot", "old"}
    db = tmp_path / "calls.db"
    assert run(capsys, "export", str(logs), "--sqlite", str(db))[0] == 0
    con = sqlite3.connect(db)
    request.addfinalizer(con.close)
    assert con.execute(
        "SELECT agent, count(*), round(sum(cost_usd), 6) FROM calls GROUP BY agent ORDER BY agent"
    ).fetchall() == [
        ("old", 1, 1.0),
        ("retry-bot", 30, 0.06),
        ("writer", 10, 0.1),
    ]
    indexes = {row[1] for row in con.execute("PRAGMA index_list(calls)")}
    assert {"calls_ts", "calls_model", "calls_agent", "calls_user"} <= indexes
    plan = con.execute("EXPLAIN QUERY PLAN SELECT * FROM calls WHERE user_id = 'ann'").fetchall()
    assert "calls_user" in str(plan)


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "/no/such/dir"],
        ["report", "--by", "colour"],
        ["report", "--since", "yesterday-ish"],
        ["alarms", "--set", "loudness=3"],
        ["export"],
        ["frobnicate"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("llmcost")


def test_default_path_is_the_log_directory(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(day_file(isolated_home / ".llmcost" / "logs", T0), [rec(agent="home")])
    code, out, _ = run(capsys, "report", "--json")
    assert code == 0
    assert [r["key"] for r in json.loads(out)] == ["home"]
