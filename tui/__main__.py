"""``llmcost-top`` command entry point."""

from __future__ import annotations


def run() -> None:
    from llmcost.cli import exit_with
    from tui._cli import main

    exit_with(main)


if __name__ == "__main__":
    run()
