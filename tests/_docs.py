"""Running the Python examples of the docs as written: what they print, beside what their comments say."""

from __future__ import annotations

import contextlib
import io
import re

__all__ = ["expected_prints", "python_blocks", "run_example"]


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text, in order."""
    return re.findall(r"```python\n(.*?)```", text, re.S)


def expected_prints(code: str) -> list[str]:
    """What each ``print(...)  # text`` line of an example says it prints."""
    return [m.strip() for m in re.findall(r"print\(.*\)\s+# (.*)", code)]


def run_example(code: str, filename: str) -> list[str]:
    """Run an example in a fresh namespace; the lines it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, filename, "exec"), {"__name__": "__doc_example__"})
    return out.getvalue().splitlines()
