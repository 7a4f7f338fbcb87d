"""The examples of docs/recorder.md run as written and print what their comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._docs import expected_prints, python_blocks, run_example

DOC = Path(__file__).parent.parent / "docs" / "recorder.md"
BLOCKS = python_blocks(DOC.read_text())


@pytest.mark.parametrize("code", [b for b in BLOCKS if not b.startswith("# needs an API key")])
def test_example_runs(code: str) -> None:
    expected = expected_prints(code)
    assert run_example(code, str(DOC))[: len(expected)] == expected
