"""``pricing`` command entry point (``python -m pricing`` and the console script)."""

from __future__ import annotations


def run() -> None:
    """Run the ``pricing`` command line and exit with its code."""
    from pricing._cli import cli  # the parser and commands load only when the command runs

    cli()


if __name__ == "__main__":
    run()
