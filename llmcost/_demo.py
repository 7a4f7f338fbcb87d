"""``llmcost demo``: realistic sample traffic written to the log directory."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``demo`` subcommand to the ``llmcost`` parser (sets ``func``)."""
