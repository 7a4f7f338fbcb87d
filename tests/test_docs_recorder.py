"""The examples of docs/recorder.md run as written and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "recorder.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("code", [b for b in BLOCKS if not b.startswith("# needs an API key")])
def test_example_runs(code: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})
    expected = [m.strip() for m in re.findall(r"print\(.*\)\s+# (.*)", code)]
    assert out.getvalue().split("\n")[: len(expected)] == expected
