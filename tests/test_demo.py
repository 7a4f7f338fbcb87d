"""``llmcost demo`` and ``llmcost.demo_traffic`` write real, parseable records, including a retry loop."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

import llmcost
from llmcost.cli import main


def read_all(directory: Path) -> list[llmcost.Record]:
    return [
        llmcost.decode_record(line)
        for path in sorted(directory.glob("llm_trace_*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def test_demo_command_writes_realistic_traffic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dir", str(tmp_path), "--duration", "40", "--rate", "4", "--seed", "3"]) == 0
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
        assert main(["demo", "--dir", str(tmp_path / name), "--duration", "10", "--seed", "9"]) == 0
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
