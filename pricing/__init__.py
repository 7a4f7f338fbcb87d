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
from pricing._format import format_decimal, format_table, format_tokens, format_usd
from pricing._load import CatalogError, bundled_catalog_path, validate_document
from pricing._model import BUCKETS, ImpossibleUsage, Model, Price, Provider, Rates, RateWindow, Usage
from pricing._paths import catalog_dir
from pricing._version import package_version

__all__ = [
    "BUCKETS",
    "Catalog",
    "CatalogError",
    "ImpossibleUsage",
    "Model",
    "ModelNotFound",
    "Price",
    "Provider",
    "RateWindow",
    "Rates",
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
    "validate_document",
]


def price(usage: Usage, model: str, provider: str | None = None, *, at: object = None, batch: bool = False) -> Price:
    """Price one call with the active catalog (loaded once, reloaded when its files change)."""
    return load_catalog().price(usage, model, provider, at=at, batch=batch)
