"""Exact, dated prices for LLM calls.

>>> import pricing
>>> catalog = pricing.load_catalog()
>>> cost = catalog.price(pricing.Usage(input_tokens=1000, output_tokens=200), "gpt-4o")
>>> cost.status, pricing.format_usd(cost.cost_usd)
('priced', '$0.0045')
"""

from __future__ import annotations

from pricing._catalog import Catalog, ModelNotFound, load_catalog
from pricing._dates import parse_timestamp
from pricing._format import format_decimal, format_table, format_tokens, format_usd, text_width
from pricing._load import CatalogError, bundled_catalog_path, validate_document
from pricing._model import (
    BUCKETS,
    STANDARD_TIERS,
    TOOLS,
    ImpossibleUsage,
    Model,
    Price,
    Provider,
    Rates,
    RateTable,
    RateWindow,
    Tool,
    ToolWindow,
    Usage,
)
from pricing._paths import catalog_dir, read_config
from pricing._plan import RatePlan
from pricing._version import package_version

__all__ = [
    "BUCKETS",
    "STANDARD_TIERS",
    "TOOLS",
    "Catalog",
    "CatalogError",
    "ImpossibleUsage",
    "Model",
    "ModelNotFound",
    "Price",
    "Provider",
    "RatePlan",
    "RateTable",
    "RateWindow",
    "Rates",
    "Tool",
    "ToolWindow",
    "Usage",
    "bundled_catalog_path",
    "catalog_dir",
    "format_decimal",
    "format_table",
    "format_tokens",
    "format_usd",
    "load_catalog",
    "package_version",
    "parse_timestamp",
    "price",
    "read_config",
    "text_width",
    "validate_document",
]


def price(
    usage: Usage,
    model: str,
    provider: str | None = None,
    *,
    at: object = None,
    tier: str | None = None,
    batch: bool = False,
) -> Price:
    """Price one call with the active catalog (loaded once, reloaded when its files change); see
    :meth:`Catalog.price`."""
    return load_catalog().price(usage, model, provider, at=at, tier=tier, batch=batch)
