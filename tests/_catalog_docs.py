"""A provider or a model of a catalog document (the plain data the source adapters and the merge write)."""

from __future__ import annotations

from typing import Any

__all__ = ["model", "provider"]


def provider(doc: dict[str, Any], provider_id: str) -> dict[str, Any]:
    """The one provider of that id."""
    (prov,) = [p for p in doc["providers"] if p["id"] == provider_id]
    result: dict[str, Any] = prov
    return result


def model(doc: dict[str, Any], provider_id: str, model_id: str) -> dict[str, Any]:
    """The one model of that id under that provider."""
    (found,) = [m for m in provider(doc, provider_id)["models"] if m["id"] == model_id]
    result: dict[str, Any] = found
    return result
