"""``llmcost demo`` and ``llmcost.demo_traffic`` write real, parseable records, including a retry loop."""

from __future__ import annotations

import datetime as dt
import errno
import os
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

import llmcost
import llmcost.demo
from llmcost.cli import main
from llmcost.engine import history


def read_all(directory: Path) -> list[llmcost.Record]:
    return [
        llmcost.decode_record(line)
        for path in sorted(directory.glob("llm_trace_*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def test_demo_command_writes_realistic_traffic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["demo", "--dir", str(tmp_path), "--duration", "40", "--rate", "4", "--seed", "3", "--history", "0"]) == 0
    )
    records = read_all(tmp_path)
    assert f"wrote {len(records)} demo records" in capsys.readouterr().out
    assert len({r.id for r in records}) == len(records) > 100
    assert {"anthropic", "openai", "google", "ollama"} <= {r.provider for r in records}
    assert {r.cost_status for r in records if r.provider == "ollama"} == {"free"}
    priced = [r for r in records if r.cost_status == "priced"]
    assert all(r.cost_usd is not None and r.cost_usd > 0 for r in priced)
    loop = [r for r in records if r.agent == "retry-bot"]
    hashes = Counter(r.prompt_hash for r in loop)
    assert max(hashes.values()) >= 20
    assert {r.http_status for r in loop} >= {429, 500}
    assert max(r.attempt for r in loop) >= 20
    slow = [r for r in records if r.request_model == "o3" and r.status == "ok"]
    assert slow
    assert all(r.stream and r.ttft_ms is not None and r.ttft_ms >= 3000 for r in slow)


def test_demo_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert main(["demo", "--dir", str(tmp_path / name), "--duration", "10", "--seed", "9", "--history", "0"]) == 0
    a, b = read_all(tmp_path / "a"), read_all(tmp_path / "b")
    key = [(r.agent, r.request_model, r.input_tokens, r.status, r.prompt_hash) for r in a]
    assert key == [(r.agent, r.request_model, r.input_tokens, r.status, r.prompt_hash) for r in b]


def test_demo_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--rate", "0"]) == 2
    assert "error" in capsys.readouterr().err


def test_demo_traffic_runs_in_background_until_stopped(tmp_path: Path) -> None:
    with llmcost.demo_traffic(tmp_path, rate=50, seed=1, speed=4) as traffic:
        deadline = time.monotonic() + 5
        while traffic.written < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert not traffic.running
    assert len(read_all(tmp_path)) == traffic.written >= 20


# A fixed "now" (a Wednesday noon, UTC): the history never depends on the real clock or on the time of day.
NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.timezone.utc).timestamp()


def daily_spend(directory: Path, days: int = 30) -> list[tuple[dt.date, Decimal]]:
    found = history([str(directory)], NOW, days)
    return [(day, sum(models.values(), Decimal(0))) for day, models in found.days]


def test_write_history_gives_thirty_days_of_spend(tmp_path: Path) -> None:
    written = llmcost.demo.write_history(tmp_path, 30, now=NOW)
    spend = daily_spend(tmp_path)
    assert len(spend) == 30
    assert all(cost > 0 for _, cost in spend)
    assert spend[-1][0] == dt.date(2026, 6, 10)  # today (its morning) is part of it
    records = read_all(tmp_path)
    assert len(records) == written
    assert max(r.ts for r in records) < "2026-06-10T12:00"  # nothing from the future
    weekdays = [cost for day, cost in spend if day.weekday() < 5]
    weekends = [cost for day, cost in spend if day.weekday() >= 5]
    assert sum(weekends) / len(weekends) < sum(weekdays) / len(weekdays) / 2  # a weekly rhythm
    assert sum(cost for _, cost in spend[-7:]) > sum(cost for _, cost in spend[:7])  # use grows
    assert len({r.agent for r in records}) >= 4
    assert len({r.request_model for r in records}) >= 4
    assert any(r.status == "error" for r in records)


def test_write_history_never_writes_a_day_twice(tmp_path: Path) -> None:
    assert llmcost.demo.write_history(tmp_path, 30, now=NOW) > 0
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert llmcost.demo.write_history(tmp_path, 30, now=NOW) == 0
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    assert llmcost.demo.write_history(tmp_path, 32, now=NOW) > 0  # only the two older days are new
    assert len(list(tmp_path.iterdir())) == 32


def test_write_history_of_no_days_writes_nothing(tmp_path: Path) -> None:
    assert llmcost.demo.write_history(tmp_path, 0, now=NOW) == 0
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("days", "said"), [(1, "over the past day"), (3, "over the past 3 days")])
def test_demo_command_says_how_many_days_it_wrote(
    days: int, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time", lambda: NOW)  # noon: today has a morning of past traffic
    assert main(["demo", "--dir", str(tmp_path), "--duration", "5", "--history", str(days)]) == 0
    assert f"{said})" in capsys.readouterr().out


def test_demo_command_writes_history_first(tmp_path: Path) -> None:
    # The real clock here: the assertions hold on either side of midnight (the last minute may span two days).
    assert main(["demo", "--dir", str(tmp_path / "a"), "--duration", "10", "--history", "5"]) == 0
    assert len({r.ts[:10] for r in read_all(tmp_path / "a")}) >= 4
    assert main(["demo", "--dir", str(tmp_path / "b"), "--duration", "10", "--history", "0"]) == 0
    assert len({r.ts[:10] for r in read_all(tmp_path / "b")}) <= 2
    # Not asked for, no past: `llmcost demo` writes to the real log directory by default, where a month of sample
    # spend would mix with the user's own in every report.
    assert main(["demo", "--dir", str(tmp_path / "c"), "--duration", "10"]) == 0
    assert len({r.ts[:10] for r in read_all(tmp_path / "c")}) <= 2
    assert main(["demo", "--history", "-1"]) == 2


def test_demo_into_a_directory_it_cannot_write_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A read-only directory (or file system): the recorder drops what it cannot write and never raises, so the demo
    # said "wrote 215 demo records (and 545 over the past 3 days)" with nothing written, under a Python warning.
    real_open = os.open

    def refused(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
        if os.fspath(path).startswith(str(tmp_path)):
            raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refused)
    assert main(["demo", "--dir", str(tmp_path), "--history", "3"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"llmcost demo: error: --dir: cannot write to {tmp_path}: Read-only file system\n"
    assert list(tmp_path.iterdir()) == []
