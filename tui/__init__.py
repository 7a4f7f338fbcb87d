"""``llmcost-top``: the live terminal monitor (Textual). It renders; ``llmcost.engine`` computes.

>>> from tui import make_app
>>> app = make_app(["/path/to/logs"])        # doctest: +SKIP
>>> app.run()                                # doctest: +SKIP

The names are loaded on first use, so ``llmcost-top --once`` runs without importing Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui._app import LlmcostTop, make_app

__all__ = ["LlmcostTop", "make_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tui import _app

        return getattr(_app, name)
    raise AttributeError(f"module 'tui' has no attribute {name!r}")
