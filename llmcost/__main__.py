"""``llmcost`` command entry point."""

from __future__ import annotations

import sys


def run() -> None:
    from llmcost.cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
