"""Text outputs never show an unpriced call as free: a group with no price says ``unpriced``, a group with some
priced calls shows their sum marked ``?`` (a lower bound). JSON and CSV keep their raw figures and
``unpriced_calls``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from llmcost.cli import main
from tests._tui import append, call
from tui._cli import main as top

CALM = [
    "--set",
    "call_cost_usd=0",
    "--set",
    "spend_rate_agent_usd_per_hour=0",
    "--set",
    "spend_rate_total_usd_per_hour=0",
]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    mystery = {"request_model": "house-model-zz", "response_model": "house-model-zz", "cost_status": "unknown_model"}
    append(
        tmp_path,
        call("priced", 0.25),
        call("priced", 0.5),
        call("mixed", 0.125),
        call("mixed", None, **mystery),  # type: ignore[arg-type]
        call("dark", None, **mystery),  # type: ignore[arg-type]
    )
    return tmp_path


def table(out: str) -> dict[str, list[str]]:
    """The rows of a text table by their first cell."""
    return {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}


def test_report_by_model_shows_an_unknown_model_as_unpriced(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(logs), "--by", "model"]) == 0
    rows = table(capsys.readouterr().out)
    heads = rows["model"]
    cost, per_1k = heads.index("cost"), heads.index("$/1k")
    assert rows["gpt-4o"][cost] == "$0.875"
    assert rows["house-model-zz"][cost] == "unpriced"
    assert rows["house-model-zz"][per_1k] == "-"


def test_report_by_agent_marks_a_partly_priced_sum(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(logs), "--by", "agent"]) == 0
    out = capsys.readouterr().out
    rows = table(out)
    cost = rows["agent"].index("cost")
    assert rows["priced"][cost] == "$0.75"
    assert rows["mixed"][cost] == "$0.125?"  # the priced call's cost; the other one's is unknown
    assert rows["dark"][cost] == "unpriced"
    assert out.splitlines()[-1] == "? 2 calls have no price (unknown model or no usage): the sums leave them out"


def test_report_json_and_csv_keep_raw_values(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(logs), "--by", "agent", "--json"]) == 0
    data = {r["key"]: (r["cost_usd"], r["unpriced_calls"]) for r in json.loads(capsys.readouterr().out)}
    assert data == {"priced": ("0.75", 0), "mixed": ("0.125", 1), "dark": ("0", 1)}
    assert main(["report", str(logs), "--by", "agent", "--csv"]) == 0
    rows = {
        r["key"]: (r["cost_usd"], r["unpriced_calls"]) for r in csv.DictReader(io.StringIO(capsys.readouterr().out))
    }
    assert rows == {"priced": ("0.75", "0"), "mixed": ("0.125", "1"), "dark": ("0", "1")}


def test_once_text_shows_unpriced_groups(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert top([str(logs), "--once", *CALM]) == 0
    rows = table(capsys.readouterr().out)
    cost = rows["agent"].index("cost")
    assert rows["priced"][cost] == "$0.750"
    assert rows["mixed"][cost] == "$0.125?"
    assert rows["dark"][cost] == "unpriced"


def test_once_text_by_model(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert top([str(logs), "--once", "--group", "model", *CALM]) == 0
    rows = table(capsys.readouterr().out)
    cost = rows["model"].index("cost")
    assert rows["house-model-zz"][cost] == "unpriced"


def test_once_json_keeps_raw_values(logs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert top([str(logs), "--once", "--json", *CALM]) == 0
    rows = {r["key"]: (r["cost_usd"], r["unpriced_calls"]) for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows == {"priced": ("0.75", 0), "mixed": ("0.125", 1), "dark": ("0", 1)}
