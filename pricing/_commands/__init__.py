"""The ``pricing`` subcommands: one module per command (``versions`` holds its small family: versions, diff, rollback).

Each module has ``register(sub)``, which adds its parser and sets ``func`` to the function that runs it. That function
takes the parsed arguments and returns the exit code: 0 done, 1 a problem found or an operation that failed (nothing
changed), 2 bad input (unknown model, impossible usage, bad date). Errors are one line on stderr:
``pricing: error: ...``.
"""

from __future__ import annotations

from pricing._commands import audit, compare, cost, listing, serve, show, update, validate, versions

__all__ = ["COMMANDS"]

#: The command modules, in the order ``pricing --help`` lists them.
COMMANDS = (show, cost, listing, compare, validate, audit, update, versions, serve)
