"""The text of ``llmcost report`` is for people: a total row under the groups, money to the cent (or to four
significant digits under a dollar), grouped token counts, long times in seconds. JSON and CSV keep the exact figures
and no total row."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from llmcost.cli import main
from llmcost.cli._report import money, seconds_or_ms
from tests._traces import T0, day_file, rec, write
from tests.test_engine_outputs import LOGS


def cells(line: str) -> list[str]:
    """The cells of a table line: columns are two or more spaces apart, a cell holds at most single spaces."""
    return re.split(r"\s{2,}", line.strip())


def report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["report", str(LOGS), *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("by", ["agent", "day", "model"])
def test_the_total_row_adds_up_the_groups(by: str, capsys: pytest.CaptureFixture[str]) -> None:
    lines = report(capsys, "--by", by).splitlines()
    data = json.loads(report(capsys, "--by", by, "--json"))
    heads = cells(lines[0])
    body = [cells(line) for line in lines[1 : 1 + len(data)]]
    assert set(lines[1 + len(data)]) == {"-"}  # a rule between the groups and their total
    total = dict(zip(heads, cells(lines[2 + len(data)])))
    assert total[by] == "total"
    for column in ("calls", "errors", "input", "output"):
        assert int(total[column].replace(",", "")) == sum(
            int(row[heads.index(column)].replace(",", "")) for row in body
        )
    exact = sum(Decimal(r["cost_usd"]) for r in data)
    assert total["cost"] == money(exact) + "?"  # the fixture has calls without a price: the total is a lower bound
    assert all(total[column].endswith(("ms", " s")) for column in ("p50", "p95", "ttft p50"))


def test_human_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    lines = report(capsys, "--by", "agent").splitlines()
    heads = cells(lines[0])
    assert heads == ["agent", "calls", "errors", "input", "output", "cost", "$/1k tok", "p50", "p95", "ttft p50"]
    retry_bot = dict(zip(heads, cells(lines[1])))
    assert retry_bot == {
        "agent": "retry-bot",
        "calls": "100",
        "errors": "10",
        "input": "1,771,400",
        "output": "123,972",
        "cost": "$2.09?",
        "$/1k tok": "$0.001103?",
        "p50": "1.84 s",
        "p95": "10.7 s",
        "ttft p50": "768 ms",
    }
    total = dict(zip(heads, cells(lines[-2])))
    assert total["cost"] == "$9.37?"
    assert total["input"] == "7,394,458"


def test_columns_stay_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    lines = [line for line in report(capsys, "--by", "model").splitlines() if not line.startswith("?")]
    ends = {len(line) for line in lines}
    assert len(ends) == 1  # the last column is right-aligned: every line (and the rule) ends at the same place


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1234.5678", "$1,234.57"),
        ("1", "$1.00"),
        ("0.004512345", "$0.004512"),
        ("0.125", "$0.125"),
        ("0.99996", "$1.00"),
        ("0", "$0"),
        ("0.000000001234", "$0.000000001234"),
    ],
)
def test_money(value: str, text: str) -> None:
    assert money(Decimal(value)) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "-"), (0.4, "0 ms"), (835.2, "835 ms"), (999.6, "1.00 s"), (1234.0, "1.23 s"), (61_000, "61.0 s")],
)
def test_times(ms: float | None, text: str) -> None:
    assert seconds_or_ms(ms) == text


def test_json_and_csv_have_no_total_and_exact_figures(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(report(capsys, "--by", "agent", "--json"))
    assert "total" not in {r["key"] for r in data}
    assert data[0]["cost_usd"] == "2.09006175719"
    rows = list(csv.DictReader(io.StringIO(report(capsys, "--by", "agent", "--csv"))))
    assert [r["key"] for r in rows] == [r["key"] for r in data]
    assert rows[0]["input_tokens"] == "1771400"


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: two for a wide character (CJK), none for a combining mark."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_columns_stay_aligned_with_wide_and_combining_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A name in Japanese takes two columns a character, an accent typed as a combining mark none: the figures after
    # them, and the rule over the total, still line up with the header's.
    names = ["日本語のエージェント", "cafe\u0301", "plain"]
    write(day_file(tmp_path, T0), [rec(T0 + i, agent=name) for i, name in enumerate(names)])
    assert main(["report", str(tmp_path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("?")]
    assert {_columns(line) for line in lines} == {_columns(lines[0])}
