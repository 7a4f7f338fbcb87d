"""The README's recorder examples run as written and print what their comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._docs import expected_prints, python_blocks, run_example

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
