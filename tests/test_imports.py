"""The core packages stay light: no UI, file-watching or HTTP library is imported with them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("textual", "watchfiles", "httpx")


@pytest.mark.parametrize("package", ["llmcost", "pricing"])
def test_core_import_is_light(package: str) -> None:
    code = f"import sys, {package}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{package} imported {out.stdout.strip()}"


@pytest.mark.parametrize("package", ["llmcost", "pricing", "tui"])
def test_public_api_is_sorted_and_complete(package: str) -> None:
    module = __import__(package)
    names = list(module.__all__)
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert len(set(names)) == len(names)
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == []
