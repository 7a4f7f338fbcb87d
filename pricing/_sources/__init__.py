"""Adapters from public price data to the catalog schema (docs/catalog.md).

Each module has one pure function, ``convert(data, *, today) -> (document, warnings)``: ``data`` is the raw bytes or
text of the source, or the JSON already parsed (numbers as ``Decimal`` or ``float``); the document is a plain dict
in the catalog schema, with ``Decimal`` rates and ``datetime.date`` dates. Whatever cannot be mapped becomes a
warning; a single malformed entry is skipped with a warning and never stops the conversion. No I/O here: fetching is
``pricing update``'s job.

* :mod:`pricing._sources.genai_prices` — genai-prices v2 ``data.json`` (dated prices, tiers, match rules);
* :mod:`pricing._sources.litellm` — LiteLLM ``model_prices_and_context_window.json`` (USD per token);
* :mod:`pricing._sources.openrouter` — OpenRouter ``GET /api/v1/models`` (string prices, ``-1`` = dynamic).
"""

from __future__ import annotations

from pricing._sources._doc import dump

__all__ = ["dump"]
