"""The examples of docs/catalog.md run as written and print what their comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._docs import expected_prints, python_blocks, run_example

DOC = Path(__file__).parent.parent / "docs" / "catalog.md"
BLOCKS = python_blocks(DOC.read_text(encoding="utf-8"))


def test_there_are_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS)
def test_example_runs(code: str) -> None:
    expected = expected_prints(code)
    assert expected
    assert run_example(code, str(DOC))[: len(expected)] == expected
