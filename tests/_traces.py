"""Building wire-format records and log files for the engine tests."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from llmcost.log._record import Record, encode_record

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc).timestamp()
_ids = itertools.count(1)


def ts(seconds: float) -> str:
    """Epoch seconds as the recorder writes them."""
    ms = round(seconds * 1000)
    day = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return day.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def rec(t: float = T0, **fields: Any) -> Record:
    """A priced call of ``agent`` at epoch ``t`` (any wire field can be overridden)."""
    base: dict[str, Any] = {
        "ts": ts(t),
        "id": f"{next(_ids):016x}",
        "provider": "openai",
        "request_model": "gpt-4o-mini",
        "input_tokens": 1000,
        "output_tokens": 100,
        "usage_source": "provider",
        "cost_usd": 0.00021,
        "cost_status": "priced",
        "latency_ms": 400.0,
        "agent": "planner",
    }
    base.update(fields)
    return Record(**base)


def write(path: Path, records: list[Record], mode: str = "ab") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as f:
        for r in records:
            f.write(encode_record(r))
    return path


def day_file(directory: Path, seconds: float, index: int = 0) -> Path:
    day = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date().isoformat()
    return directory / (f"llm_trace_{day}.jsonl" if index == 0 else f"llm_trace_{day}.{index}.jsonl")
