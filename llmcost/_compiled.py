"""The optional compiled modules, or ``None`` where they were not built (no C compiler at install) or where the
environment asks for the pure-Python paths with ``LLMCOST_PURE_PYTHON=1`` (same records and totals, slower).

- ``llmcost._ccall``, the recorder's hot path (a call's fields, with-block, ``set_usage`` and line): ``ccall`` here;
- ``llmcost.engine._cscan``, the line scanner of ``llmcost report`` (loaded by ``llmcost.engine._scan``).
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["PURE_PYTHON", "ccall", "load"]

PURE_PYTHON = os.environ.get("LLMCOST_PURE_PYTHON", "").strip() not in ("", "0")


def load(name: str) -> ModuleType | None:
    """The compiled module ``name``, or ``None``."""
    if PURE_PYTHON:
        return None
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


ccall = load("llmcost._ccall")
