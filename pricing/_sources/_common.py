"""Helpers the adapters share: reading the input, collecting warnings, building providers."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

from pricing._sources._doc import empty_document

__all__ = [
    "KNOWN_PROVIDERS",
    "Warnings",
    "add_model",
    "finish",
    "load_json",
    "new_provider",
    "overridden",
    "unique_names",
]

#: The rate each token rate falls back to when a table leaves it out (docs/catalog.md).
_PARENT = {
    "cache_read_mtok": "input_mtok",
    "cache_write_5m_mtok": "input_mtok",
    "cache_write_1h_mtok": "cache_write_5m_mtok",
    "reasoning_mtok": "output_mtok",
    # genai-prices' names for the same rates
    "cache_write_mtok": "input_mtok",
    "output_reasoning_mtok": "output_mtok",
}


def overridden(standard: dict[str, Any], stated: dict[str, Any]) -> dict[str, Any]:
    """A service tier's or batch's rate table: the standard rates with the stated ones over them, key by key.

    A standard rate that only repeats the rate it falls back to (reasoning at the output rate) is left out when the
    table states that rate: it follows it, as it does in the standard rates. Batch halves thinking tokens with the
    output, it does not keep them at the standard output price.
    """
    table = dict(stated)
    for key, value in standard.items():
        if key in table:
            continue
        parent = _PARENT.get(key)
        if parent is not None and parent in stated and standard.get(parent) == value:
            continue
        table[key] = value
    return table


#: Our provider ids: display name, hosts used for detection, pricing page (the default ``source`` of a window).
KNOWN_PROVIDERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "anthropic": ("Anthropic", ("api.anthropic.com",), "https://www.anthropic.com/pricing#api"),
    "bedrock": ("AWS Bedrock", ("bedrock-runtime",), "https://aws.amazon.com/bedrock/pricing/"),
    "deepseek": ("DeepSeek", ("api.deepseek.com",), "https://api-docs.deepseek.com/quick_start/pricing"),
    "google": (
        "Google Gemini",
        ("generativelanguage.googleapis.com",),
        "https://ai.google.dev/gemini-api/docs/pricing",
    ),
    "groq": ("Groq", ("api.groq.com",), "https://groq.com/pricing/"),
    "mistral": ("Mistral AI", ("api.mistral.ai",), "https://mistral.ai/pricing#api-pricing"),
    "openai": ("OpenAI", ("api.openai.com",), "https://openai.com/api/pricing/"),
    "openrouter": ("OpenRouter", ("openrouter.ai",), "https://openrouter.ai/models"),
    "together": ("Together AI", ("api.together.xyz",), "https://www.together.ai/pricing"),
    "xai": ("xAI", ("api.x.ai",), "https://docs.x.ai/docs/models"),
}


def new_provider(pid: str, name: str | None = None, hosts: list[str] | None = None) -> dict[str, Any]:
    """A provider table: our known name and hosts for ``pid``, else what the source says."""
    known = KNOWN_PROVIDERS.get(pid)
    prov: dict[str, Any] = {"id": pid, "name": known[0] if known else (name or pid)}
    found = list(known[1]) if known else (hosts or [])
    if found:
        prov["hosts"] = found
    return prov


def load_json(data: bytes | str | object) -> object:
    """Parsed JSON: bytes and text are decoded with exact ``Decimal`` numbers; anything else is taken as parsed."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    if isinstance(data, str):
        return json.loads(data, parse_float=Decimal)
    return data


class Warnings:
    """Warnings in source order; repeated kinds (an unmapped key on 300 models) are folded into one line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []
        self.grouped: dict[str, list[str]] = defaultdict(list)

    def add(self, text: str) -> None:
        self.lines.append(f"{self.source}: {text}")

    def group(self, kind: str, name: str) -> None:
        """Count ``name`` under ``kind``; reported once as ``kind (N models: a, b, c, ...)``."""
        if name not in self.grouped[kind]:
            self.grouped[kind].append(name)

    def result(self) -> list[str]:
        folded = []
        for kind in sorted(self.grouped):
            names = self.grouped[kind]
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            folded.append(f"{self.source}: {kind} ({len(names)} model{'s' if len(names) != 1 else ''}: {shown})")
        return [*self.lines, *folded]


def unique_names(model_id: str, names: list[str]) -> list[str]:
    """``names`` without duplicates (case-insensitive) and without the model's own id, in first-seen order."""
    seen = {model_id.lower()}
    kept = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept


def add_model(provider: dict[str, Any], model: dict[str, Any], warn: Warnings) -> bool:
    """Append ``model`` unless the provider already has one with that id (case-insensitive)."""
    ids = provider.setdefault("_ids", set())
    key = str(model["id"]).lower()
    if key in ids:
        warn.group("listed twice under one name, the first entry is kept", f"{provider['id']}/{model['id']}")
        return False
    ids.add(key)
    provider.setdefault("models", []).append(model)
    return True


def finish(providers: dict[str, dict[str, Any]], today: dt.date, warn: Warnings) -> tuple[dict[str, Any], list[str]]:
    """What an adapter returns: the catalog document versioned by ``today``, its providers sorted by id with their
    bookkeeping removed, and the warnings."""
    doc = empty_document(today)
    for pid in sorted(providers):
        prov = providers[pid]
        prov.pop("_ids", None)
        prov["models"] = sorted(prov.get("models", []), key=lambda m: str(m["id"]).lower())
        doc["providers"].append(prov)
    return doc, warn.result()
