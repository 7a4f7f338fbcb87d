"""What the report and the monitor print stays the same byte for byte while the engine underneath changes.

``tests/fixtures/outputs`` holds three days of varied calls (errors, retries, streams, calls without usage, a bad line
and a duplicate per file) and what ``llmcost report`` (table, JSON, CSV, every grouping) and ``llmcost-top --once
--json`` (every grouping, a frozen clock, the test catalog) printed for them before the group sums were shared (the
report's text tables since mark sums that leave unpriced calls out with ``?``, and print rounded figures and a total
row).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from llmcost.cli import main
from llmcost.engine import GROUP_KEYS, REPORT_KEYS, Engine, Follower, GroupBy
from pricing import load_catalog
from tui._once import snapshot_json

OUTPUTS = Path(__file__).parent / "fixtures" / "outputs"
LOGS = OUTPUTS / "logs"
AT = dt.datetime(2026, 3, 4, 13, 0, tzinfo=dt.timezone.utc).timestamp()


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("by", REPORT_KEYS)
def test_report_prints_what_it_printed(by: str, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", str(LOGS), "--by", by] + ([] if fmt == "table" else [f"--{fmt}"])
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out == (OUTPUTS / f"report_{by}.{'txt' if fmt == 'table' else fmt}").read_text()
    assert err == (OUTPUTS / "report_stderr.txt").read_text()


@pytest.mark.parametrize("group", GROUP_KEYS)
def test_once_json_prints_what_it_printed(group: GroupBy, mini_catalog_path: Path) -> None:
    engine = Engine(catalog=load_catalog(mini_catalog_path, overrides=False), clock=lambda: AT)
    with Follower([LOGS], all=True) as follower:
        engine.follower = follower
        for batch in follower.replay():
            engine.ingest(batch)
        snap = engine.snapshot(group)
    text = json.dumps(snapshot_json(snap), indent=2) + "\n"
    assert text == (OUTPUTS / f"once_{group}.json").read_text()
