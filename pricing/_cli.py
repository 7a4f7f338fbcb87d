"""Command line (filled in by the commands' own modules)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("not available yet", file=sys.stderr)
    return 2
