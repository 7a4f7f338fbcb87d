"""``llmcost`` command entry point."""

from __future__ import annotations


def run() -> None:
    from llmcost.cli import exit_with, main

    exit_with(main)


if __name__ == "__main__":
    run()
