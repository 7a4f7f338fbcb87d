"""Name resolution: which model (and provider) a model name used in a call refers to.

The rules (docs/catalog.md): names match case-insensitively; a declared region prefix (``us.``) is stripped and
applies its multiplier; the full name is looked up among ids and aliases, then among declared prefixes (longest
first); then a first segment naming a provider (``openai/gpt-4o``) picks that provider and leading segments are
stripped; dated snapshot suffixes (``-2024-08-06``, ``-20250929``), ``-latest`` and Bedrock version tags are
stripped when the full name is not known. A provider that does not bill by tokens (local models, routers) keeps its
own rule for names it does not list.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

from pricing._model import Billing, Model, Provider

__all__ = ["SUFFIXES", "NameIndex", "Resolution"]

_ONE = Decimal(1)
#: Suffixes stripped, one at a time, when the full name is not known.
SUFFIXES = (
    re.compile(r"[-@]\d{4}-\d{2}-\d{2}$"),  # gpt-4o-2024-08-06
    re.compile(r"[-@]\d{8}$"),  # claude-sonnet-4-5-20250929, vertex @20250929
    re.compile(r"-\d{4}$"),  # mistral-large-2411 (only tried after the exact name failed)
    re.compile(r"-latest$"),
    re.compile(r"-v\d+(:\d+)?$"),  # bedrock anthropic.claude-...-v1:0
    re.compile(r":\d+$"),
)


class Resolution(NamedTuple):
    """What a name resolves to: the model (``None`` when no entry matches), the provider id, how it is billed
    (``None``: unknown) and the region multiplier of the name."""

    model: Model | None
    provider: str | None
    billing: Billing | None
    multiplier: Decimal


class NameIndex:
    """Every name the catalog answers to: model ids and aliases, model prefixes, provider names, region prefixes."""

    def __init__(self, providers: dict[str, Provider]) -> None:
        self.providers = providers  # shared with the catalog, filled as it is built
        self.models: list[Model] = []
        self.exact: dict[str, Model] = {}
        self.prefixes: list[tuple[str, Model]] = []  # longest first, once sorted by finish()
        self.provider_names: dict[str, str] = {}
        self.regions: list[tuple[str, str, Decimal]] = []

    # -- building -------------------------------------------------------------------------------------------------

    def add_provider(self, prov: Provider) -> None:
        """Index the provider's id, its declared name prefixes and its region prefixes."""
        for name in (prov.id, *prov.prefixes):
            self.provider_names[name.lower()] = prov.id
        for prefix, mult in prov.regions.items():
            self.regions.append((prefix, prov.id, mult))

    def add_model(self, model: Model) -> None:
        """Index the model's names and prefixes (the first model to declare a name keeps it)."""
        self.models.append(model)
        for name in model.names():
            self.exact.setdefault(name.lower(), model)
        for prefix in model.match_prefix:
            self.prefixes.append((prefix, model))

    def finish(self) -> None:
        """Call once every model is added: prefixes are tried longest first."""
        self.prefixes.sort(key=lambda item: -len(item[0]))

    def conflicts(self) -> list[str]:
        """Names that would match two models: duplicate names or prefixes, or a name captured by another model."""
        problems: list[str] = []
        owner: dict[str, Model] = {}
        for model in self.models:
            for name in model.names():
                other = owner.setdefault(name.lower(), model)
                if other is not model:
                    problems.append(f"{name!r} names both {other.key} and {model.key}")
        prefix_owner: dict[str, Model] = {}
        for prefix, model in self.prefixes:
            other = prefix_owner.setdefault(prefix, model)
            if other is not model:
                problems.append(f"prefix {prefix!r} is declared by both {other.key} and {model.key}")
        for model in self.models:
            for name in model.names():
                for prefix, other in self.prefixes:
                    if other is not model and name.lower().startswith(prefix) and name.lower() != prefix:
                        mine = [p for p in model.match_prefix if name.lower().startswith(p)]
                        if not mine or max(len(p) for p in mine) < len(prefix):
                            problems.append(f"{name!r} of {model.key} is captured by prefix {prefix!r} of {other.key}")
                        break
        return problems

    # -- looking up -----------------------------------------------------------------------------------------------

    def provider_id(self, name: str) -> str | None:
        """The provider an id or declared prefix names (case-insensitive), or ``None``."""
        return self.provider_names.get(name.strip().lower())

    def provider_for_host(self, url_or_host: str | None) -> str | None:
        """The provider whose declared host appears in a base URL (``http://localhost:11434/v1`` -> ``ollama``)."""
        if not url_or_host:
            return None
        text = url_or_host.lower()
        best: tuple[int, str] | None = None
        for prov in self.providers.values():
            for host in prov.hosts:
                if host.lower() in text and (best is None or len(host) > best[0]):
                    best = (len(host), prov.id)
        return best[1] if best else None

    def names(self) -> list[str]:
        """Every name a model is declared under (ids, aliases, ``provider/id`` keys), lower-case, sorted."""
        return sorted({n.lower() for m in self.models for n in (*m.names(), m.key)})

    def resolve(self, name: str, provider: str | None) -> Resolution:
        """Apply the rules of the module docstring to ``name``, given the caller's provider (id or prefix)."""
        prov_id = self.provider_names.get(provider.lower()) if provider else None
        prov = self.providers.get(prov_id) if prov_id else None
        text = name.strip().lower()
        multiplier = _ONE
        for prefix, region_provider, mult in self.regions:
            if text.startswith(prefix) and (prov is None or prov.id == region_provider):
                text, multiplier = text[len(prefix) :], mult
                prov = prov or self.providers[region_provider]
                break
        model = self._match(text)
        if model is None and "/" in text:
            head, _, rest = text.partition("/")
            hinted = self.provider_names.get(head)
            if hinted and prov is None:
                prov = self.providers[hinted]
            model = self._match_stripped(rest)
        # A self-hosted or router provider prices by its own rule, never by another provider's table.
        if prov is not None and prov.billing != "tokens" and (model is None or model.provider != prov.id):
            return Resolution(None, prov.id, prov.billing, multiplier)
        if model is None:
            return Resolution(None, prov.id if prov else None, None, multiplier)
        return Resolution(model, model.provider, model.billing, multiplier)

    def _match_stripped(self, text: str) -> Model | None:
        while True:
            model = self._match(text)
            if model is not None or "/" not in text:
                return model
            text = text.partition("/")[2]

    def _match(self, text: str) -> Model | None:
        model = self.exact.get(text) or self._by_prefix(text)
        if model is not None:
            return model
        for pattern in SUFFIXES:
            stripped = pattern.sub("", text)
            if stripped != text:
                model = self.exact.get(stripped) or self._by_prefix(stripped)
                if model is not None:
                    return model
        return None

    def _by_prefix(self, text: str) -> Model | None:
        for prefix, model in self.prefixes:  # longest first
            if text.startswith(prefix):
                return model
        return None
