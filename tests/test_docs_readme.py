"""The README's recorder examples run as written and print what their comments say; its sample report is what
``llmcost report`` prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmcost.cli import main
from tests._docs import expected_prints, python_blocks, run_example
from tests.test_engine_outputs import LOGS

README = Path(__file__).parent.parent / "README.md"
# The sections before the integrations need nothing but the package (the integrations test their own examples).
CORE = README.read_text().split("\n## Integrations\n")[0]
BLOCKS = [b for b in python_blocks(CORE) if not b.startswith("# needs")]


def test_the_readme_has_runnable_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS)
def test_example_runs(code: str) -> None:
    expected = expected_prints(code)
    assert expected
    assert run_example(code, str(README))[: len(expected)] == expected


def test_the_report_example_prints_what_the_readme_shows(capsys: pytest.CaptureFixture[str]) -> None:
    # The README's sample report is the report of the pinned logs, the very text the command prints for them.
    shown = re.search(r"```console\n\$ llmcost report --by model\n(.*?)```", README.read_text(), re.S)
    assert shown is not None
    assert main(["report", str(LOGS), "--by", "model"]) == 0
    assert capsys.readouterr().out == shown.group(1)
