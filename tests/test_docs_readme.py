"""The README's recorder examples run as written and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
# The sections before the integrations need nothing but the package (the integrations test their own examples).
CORE = README.read_text().split("\n## Integrations\n")[0]
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", CORE, re.S) if not b.startswith("# needs")]


def test_the_readme_has_runnable_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS)
def test_example_runs(code: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "__readme_example__"})
    expected = [m.strip() for m in re.findall(r"print\(.*\)\s+# (.*)", code)]
    assert expected
    assert out.getvalue().split("\n")[: len(expected)] == expected
