"""``llmcost-top`` command line: ``--once`` (text and JSON) and its exit codes, usage errors, no Textual on that path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests._tui import TRAFFIC, append, call
from tui._cli import main

CALM = [
    "--set",
    "call_cost_usd=10",
    "--set",
    "spend_rate_agent_usd_per_hour=1000",
    "--set",
    "spend_rate_total_usd_per_hour=1000",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_once_json_quiet_logs_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    append(tmp_path, call("calm", 0.25), call("calm", 0.5), call("other", 0.125))
    code, out, _ = run(capsys, str(tmp_path), "--once", "--json", *CALM)
    data = json.loads(out)
    assert code == 0
    assert data["status"] == "ok"
    assert [(r["key"], r["calls"], r["cost_usd"]) for r in data["rows"]] == [("calm", 2, "0.75"), ("other", 1, "0.125")]
    assert data["totals"]["cost_today"] == "0.875"


def test_once_json_warning_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    append(tmp_path, call("spender", 0.85))
    code, out, _ = run(capsys, str(tmp_path), "--once", "--json", "--budget", "1", *CALM)  # 85 % of the day budget
    data = json.loads(out)
    assert code == 1
    assert data["status"] == "warning"
    # $0.85 in the last five minutes is $0.17 a minute: the $0.15 left go in less than a minute
    assert sorted((a["kind"], a["severity"]) for a in data["alarms"]) == [
        ("budget", "warning"),
        ("budget_eta", "warning"),
    ]
    (day,) = data["budgets"]
    assert (day["name"], day["spent_usd"], day["limit_usd"], day["usd_per_min"], day["reached"]) == (
        "day",
        "0.85",
        "1",
        "0.17",
        False,
    )
    assert day["eta"] is not None


def test_once_json_critical_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    loop = [call("looper", 0.001, at=now - 5 + i * 0.1, prompt_hash="abc", attempt=i) for i in range(30)]
    append(tmp_path, *loop)
    code, out, _ = run(capsys, str(tmp_path), "--once", "--json")
    data = json.loads(out)
    assert code == 2
    assert data["status"] == "critical"
    assert {a["kind"] for a in data["alarms"] if a["active"]} >= {"burst", "repeat"}


def test_once_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(TRAFFIC / "llm_trace_2026-01-15.jsonl"), "--once", "--all", "--group", "model")
    assert code == 0  # the fixed traffic is long over: no alarm is active now
    lines = out.splitlines()
    assert lines[0].startswith("today ")
    assert lines[2].split()[:2] == ["model", "calls"]
    assert any(line.startswith("house-model-x") for line in lines)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--json"], "--json needs --once"),
        (["--once", "/no/such/dir"], "no such file or directory: /no/such/dir"),
        (["--speed", "0"], "--speed must be a number more than 0 and at most 10,000, not 0"),
        (["--since", "yesterday"], "--since: not a date"),
        (["--replay", "/no/such/file.jsonl"], "no such file or directory"),
        (["--set", "nope=1", "--once"], "unknown alarm setting 'nope'"),
        (["--group", "day"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code, _, err = run(capsys, *argv)
    except SystemExit as exc:  # argparse's own errors
        code, err = int(exc.code or 0), capsys.readouterr().err
    assert code == 2
    assert err.startswith("llmcost-top: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_once_does_not_import_textual(tmp_path: Path) -> None:
    append(tmp_path, call("a", 0.01))
    code = (
        "import sys; from tui._cli import main; rc = main([sys.argv[1], '--once', '--json']); "
        "print('textual' in sys.modules, file=sys.stderr); sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "False"
    assert json.loads(done.stdout)["rows"][0]["key"] == "a"


def test_once_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--demo", "--once", "--json")
    data = json.loads(out)
    assert {"retry-bot", "local-coder", "analyst"} <= {r["key"] for r in data["rows"]}
    assert code in (1, 2)  # the demo's minute of history holds a retry loop
