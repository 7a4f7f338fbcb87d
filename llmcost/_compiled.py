"""The optional compiled line scanner ``llmcost.engine._cscan``, or ``None`` where it was not built (no C compiler at
install) or where the environment asks for the pure-Python path with ``LLMCOST_PURE_PYTHON=1``."""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["PURE_PYTHON", "load"]

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
