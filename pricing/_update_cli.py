"""Subcommands of ``pricing`` that change or publish the catalog: update, versions, diff, rollback, serve."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to the ``pricing`` parser (each sets ``func``)."""
