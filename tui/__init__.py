"""``llmcost-top``: the live terminal monitor (Textual). It renders; ``llmcost.engine`` computes."""

from __future__ import annotations

__all__: list[str] = []
