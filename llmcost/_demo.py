"""``llmcost demo``: realistic sample traffic written to the log directory."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``demo`` subcommand to the ``llmcost`` parser (sets ``func``)."""


def demo_traffic(*args: object, **kwargs: object) -> None:
    """Placeholder (filled below)."""
    raise NotImplementedError
